"""The verifier's own shares of SPEC section 6, recomputed by a second, separate route.

The engine (``optimiser.economics.allocation``) sums Shapley's formula over subgroups with
numpy and finds the prenucleolus with HiGHS, reading from the LP duals which excesses to fix.
This file shares none of that: Shapley is the average marginal contribution over all n!
orders in which the members could arrive, in plain floats; the prenucleolus is the same
sequence of LPs (Maschler, Peleg and Shapley) written with PuLP and solved by CBC, each
candidate coalition's "tight in every optimal split" proved by an auxiliary LP of its own
instead of read off duals, each stage's level recovered to full precision from the rows
active at CBC's answer (CBC reports eight significant digits), and the rank tests exact
integer elimination. It imports only ``pulp``, ``highspy``, ``itertools``, ``math`` and
``warnings``. Pass ``solver=pulp.HiGHS(msg=False)`` for speed once the HiGHS banner is spent
(HiGHS >= 1.16 prints one to stdout the first time a solver is made;
:func:`optimiser.verify.lp.highs` spends it): the same LPs are then written to HiGHS directly.
The default CBC is made with PuLP's deprecation warning for ``PULP_CBC_CMD`` silenced.

A game on n members is a sequence of 2**n values indexed by bitmask (bit i set: member i is in
the subgroup); the last value is v(S).
"""

from __future__ import annotations

import itertools
import math
import warnings

import pulp

RULES = ("proportional", "shapley", "nucleolus")

# The game is scaled to values of at most 1, and CBC reports solutions to 8 significant digits.
_ROUNDING = 1e-7  # how far, relative to its size, a reported level may be from the true one
_NEAR = 1e-6  # an excess this close to a stage's level is worth testing
_SLACK = 1e-6  # an auxiliary LP that cannot open more slack than this proves the coalition tight


def _size(values) -> int:
    n = len(values).bit_length() - 1
    if len(values) < 2 or 2 ** n != len(values):
        raise ValueError(f"a game of n >= 1 players needs 2**n values, one per subgroup; got {len(values)}")
    return n


def _members(mask: int, n: int) -> list[int]:
    return [i for i in range(n) if mask >> i & 1]


def proportional_shares(values, weights) -> list[float]:
    """v(S) in proportion to the weights (baselines); equal shares when every weight is 0."""
    n = _size(values)
    weights = [float(w) for w in weights]
    total = sum(weights)
    if total == 0:
        return [float(values[-1]) / n for _ in range(n)]
    return [float(values[-1]) * w / total for w in weights]


def shapley_shares(values) -> list[float]:
    """Each member's marginal contribution v(before + i) - v(before), averaged over all n! orders."""
    n = _size(values)
    values = [float(a) for a in values]
    totals = [0.0] * n
    for order in itertools.permutations(range(n)):
        before = 0
        for i in order:
            totals[i] += values[before | 1 << i] - values[before]
            before |= 1 << i
    return [t / math.factorial(n) for t in totals]


def largest_excess(values, x) -> float:
    """max over proper non-empty T of v(T) - sum of x_i over T (0 when there is no such T)."""
    n = _size(values)
    return max((float(values[t]) - sum(x[i] for i in _members(t, n)) for t in range(1, 2 ** n - 1)),
               default=0.0)


def prenucleolus_shares(values, solver=None) -> list[float]:
    """The split of v(S) that lexicographically minimises the sorted excesses of every proper
    non-empty subgroup, with no floor at v({i}).

    Stage k minimises the largest excess of the coalitions still free, given the levels already
    fixed. A coalition then gets its excess fixed at the stage's level only when an auxiliary LP
    shows that no optimal split of the stage gives it any slack, so the next stage searches
    exactly the optimal splits of this one. Every stage fixes at least one coalition (some are
    tight in every optimum: those with a positive dual), and once the fixed coalitions span all
    n directions the split is unique.
    """
    n = _size(values)
    if n == 1:
        return [float(values[-1])]
    solver = solver or _quiet_cbc()
    scale = max(1.0, max(abs(float(a)) for a in values))
    v = [float(a) / scale for a in values]
    grand = 2 ** n - 1
    # Only coalitions outside the span of those fixed before them become equalities: the rest
    # are implied, and rounded levels could make them clash with the others.
    fixed = {}  # mask -> its excess level
    equalities = []
    free = set(range(1, grand))
    pivots = []
    _independent([1] * n, pivots)
    while len(pivots) < n:
        level, x = _solve(n, v, fixed, equalities, free, solver)
        exact = _vertex_level(n, v, fixed, equalities, free, level, x)
        room = 0.0 if exact is not None else _ROUNDING * max(1.0, abs(level))
        level = level if exact is None else exact
        near = [t for t in sorted(free) if v[t] - sum(x[i] for i in _members(t, n)) >= level - _NEAR]
        loose = set()
        for t in near:
            if t in loose:
                continue
            slack, other = _solve(n, v, fixed, equalities, free, solver, level=level + room, target=t)
            if slack > _SLACK:
                loose.add(t)
                # the split that opened t's slack shows every coalition it leaves slack is loose too
                loose.update(u for u in near if level - v[u] + sum(other[i] for i in _members(u, n)) > _SLACK)
                continue
            fixed[t] = level
            free.discard(t)
            if _independent([t >> i & 1 for i in range(n)], pivots):
                equalities.append(t)
        if len(near) == len(loose):
            raise RuntimeError("no coalition was tight in every optimum of a nucleolus stage")
    # n independent equalities, efficiency first: x(T) = v(T) - its level
    matrix = [[1.0] * n] + [[float(t >> i & 1) for i in range(n)] for t in equalities]
    rhs = [v[grand]] + [v[t] - fixed[t] for t in equalities]
    return [a * scale + 0.0 for a in _gauss(matrix, rhs)]


def _quiet_cbc():
    """CBC through PuLP, without the warning PuLP 3.3 gives whenever a PULP_CBC_CMD is made."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return pulp.PULP_CBC_CMD(msg=False)


def _vertex_level(n, v, fixed, equalities, free, level, x):
    """The stage's level to full precision, or None when it cannot be pinned down.

    CBC reports eight significant digits. The rows that hold with equality at its answer
    (efficiency, the equalities, and free coalitions whose excess is the level) determine the
    level, so solving them recovers it exactly; the result must agree with CBC and leave every
    free excess at most the level.
    """
    def excess(t, split):
        return v[t] - sum(split[i] for i in _members(t, n))

    close = _ROUNDING * max(1.0, abs(level))
    active = sorted((t for t in free if excess(t, x) >= level - close), key=lambda t: -excess(t, x))
    def row(mask, with_level):
        return [mask >> i & 1 for i in range(n)] + [with_level]

    candidates = ([(row(2 ** n - 1, 0), v[-1])] + [(row(t, 0), v[t] - fixed[t]) for t in equalities]
                  + [(row(t, 1), v[t]) for t in active])
    # CBC may leave a free x_i non-basic, on an optimal edge rather than a vertex; the level is
    # still fixed by the active rows (the dual writes the objective as their combination), so
    # x_i = CBC's value makes the system square without moving it
    pins = [(row(1 << i, 0), x[i]) for i in range(n)]
    rows, rhs, pivots = [], [], []
    for coefficients, value in candidates + pins:
        if len(rows) <= n and _independent(coefficients, pivots):
            rows.append([float(a) for a in coefficients])
            rhs.append(value)
    if len(rows) < n + 1:
        return None
    *split, exact = _gauss(rows, rhs)
    if abs(exact - level) > 10 * close or any(excess(t, split) > exact + close for t in free):
        return None
    return exact


def _solve(n, v, fixed, equalities, free, solver, level=None, target=None):
    """The stage LP (min eps: x(T) + eps >= v(T) for free T), or with ``target`` the auxiliary
    LP (max the slack level - e(target) with every free excess at most ``level``).

    Returns the optimum and the split.
    """
    if isinstance(solver, pulp.HiGHS):
        return _solve_highs(n, v, fixed, equalities, free, level, target)
    sense = pulp.LpMinimize if target is None else pulp.LpMaximize
    problem = pulp.LpProblem("prenucleolus", sense)
    x = [problem.add_variable(f"x{i}", lowBound=None, upBound=None) for i in range(n)]

    def total(mask):
        return pulp.lpSum(x[i] for i in _members(mask, n))

    problem += total(2 ** n - 1) == v[-1]
    for t in equalities:
        problem += total(t) == v[t] - fixed[t]
    if target is None:
        eps = problem.add_variable("eps", lowBound=None, upBound=None)
        problem.setObjective(eps)
        for t in free:
            problem += total(t) + eps >= v[t]
    else:
        for t in free:
            problem += total(t) >= v[t] - level
        problem.setObjective(total(target) + (level - v[target]))
    status = problem.solve(solver)
    if pulp.LpStatus[status] != "Optimal":
        raise RuntimeError(f"the nucleolus LP ended {pulp.LpStatus[status]}")
    return pulp.value(problem.objective), [xi.value() or 0.0 for xi in x]


_HIGHS = []  # one HiGHS object, cleared between LPs: making one costs more than these LPs


def _solve_highs(n, v, fixed, equalities, free, level, target):
    """:func:`_solve`'s LP, the same rows, written to HiGHS directly (PuLP's modelling of a
    few dozen rows costs several times HiGHS's solving them)."""
    import highspy

    if not _HIGHS:
        _HIGHS.append(highspy.Highs())
        _HIGHS[0].setOptionValue("output_flag", False)
    lp = _HIGHS[0]
    lp.clearModel()
    inf = highspy.kHighsInf
    stage = target is None
    width = n + 1 if stage else n  # the stage LP's last column is eps
    frees = sorted(free)
    masks = [2 ** n - 1, *equalities, *frees]
    lower = [v[-1]] + [v[t] - fixed[t] for t in equalities] + [v[t] if stage else v[t] - level for t in frees]
    upper = lower[:1 + len(equalities)] + [inf] * len(frees)
    starts, index = [], []
    for row, mask in enumerate(masks):
        starts.append(len(index))
        index.extend(_members(mask, n))
        if stage and row > len(equalities):
            index.append(n)
    lp.addVars(width, [-inf] * width, [inf] * width)
    cost = [0.0] * n + [1.0] if stage else [float(target >> i & 1) for i in range(n)]
    lp.changeColsCost(width, list(range(width)), cost)
    lp.changeObjectiveSense(highspy.ObjSense.kMinimize if stage else highspy.ObjSense.kMaximize)
    lp.addRows(len(masks), lower, upper, len(index), starts, index, [1.0] * len(index))
    lp.run()
    status = lp.modelStatusToString(lp.getModelStatus())
    if status != "Optimal":
        raise RuntimeError(f"the nucleolus LP ended {status}")
    objective = lp.getInfo().objective_function_value + (0.0 if stage else level - v[target])
    return objective, [float(a) for a in lp.getSolution().col_value[:n]]


def _independent(row: list[int], pivots: list[list[int]]) -> bool:
    """Add the integer row to the echelon ``pivots`` if it is outside their span (exact)."""
    row = list(row)
    for pivot in pivots:
        col = next(c for c, a in enumerate(pivot) if a)
        if row[col]:
            row = [pivot[col] * r - row[col] * p for r, p in zip(row, pivot)]
            common = math.gcd(*row)
            if common > 1:
                row = [r // common for r in row]
    if any(row):
        pivots.append(row)
        return True
    return False


def _gauss(matrix: list[list[float]], rhs: list[float]) -> list[float]:
    """Solve a square non-singular system by elimination with partial pivoting."""
    n = len(matrix)
    a = [row[:] + [b] for row, b in zip(matrix, rhs)]
    for col in range(n):
        best = max(range(col, n), key=lambda r: abs(a[r][col]))
        a[col], a[best] = a[best], a[col]
        for r in range(col + 1, n):
            factor = a[r][col] / a[col][col]
            a[r] = [p - factor * q for p, q in zip(a[r], a[col])]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (a[r][n] - sum(a[r][c] * x[c] for c in range(r + 1, n))) / a[r][r]
    return x


def shares_and_excesses(values, weights, solver=None) -> tuple[dict, dict]:
    """Every rule's split of v(S) and its largest excess, each keyed by rule name."""
    shares = {"proportional": proportional_shares(values, weights), "shapley": shapley_shares(values),
              "nucleolus": prenucleolus_shares(values, solver)}
    return shares, {rule: largest_excess(values, x) for rule, x in shares.items()}
