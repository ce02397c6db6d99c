"""Splitting one partnership's value between its members: the share rules of SPEC section 6.

A partnership S of n members is a cooperative game. ``values`` holds it as a float array of
length 2**n indexed by bitmask (bit i set: member i is in the subgroup), so ``values[0]`` is
the empty group and ``values[-1]`` is v(S). The SPEC makes v(T) = 0 for |T| < 2, but every
function here accepts any values. Functions that take ``values`` also accept a stack of games
of the same size, shape (..., 2**n), and then return one result per game.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..errors import SolveError
from ..problem import SHARE_RULES, check_share_rule
from ..highs import new_highs

RULES = SHARE_RULES
check_rule = check_share_rule
STABLE_TOLERANCE = 1e-6  # SPEC section 6: stable when the largest excess is at most this times |v(S)|

# A positive dual of a basic optimal solution is a ratio of minors of the stage LP's 0/1
# matrix, so it is at least 1 / (largest determinant of a 0/1 matrix of order n + 1): 1/144
# for n = 8. Anything below this threshold is rounding, anything above it is real.
_DUAL_TOL = 1e-6
_SPAN_TOL = 1e-7  # a 0/1 vector outside a span of 0/1 vectors is far further than this from it


def game_size(values) -> int:
    """The number of players n of a game given by 2**n values (the last axis)."""
    length = np.shape(values)[-1]
    n = length.bit_length() - 1
    if length < 2 or 1 << n != length:
        raise ValueError(f"a game of n >= 1 players needs 2**n values, one per subgroup; got {length}")
    return n


@lru_cache(maxsize=None)
def membership(n: int) -> np.ndarray:
    """(2**n, n) 0/1 float matrix: row m says which players are in the subgroup with mask m."""
    bits = (np.arange(1 << n)[:, None] >> np.arange(n)) & 1
    return _frozen(bits.astype(float))


@lru_cache(maxsize=None)
def subgroup_masks(n: int) -> np.ndarray:
    """The masks of every proper non-empty subgroup T of the n players, 1 .. 2**n - 2 in order."""
    return _frozen(np.arange(1, (1 << n) - 1))


@lru_cache(maxsize=None)
def _shapley_tables(n: int):
    """Per player i: the masks T without i, the masks T with i, and |T|!(n-|T|-1)!/n!."""
    masks = np.arange(1 << n)
    sizes = membership(n).sum(axis=1).astype(int)
    without = np.stack([masks[(masks >> i) & 1 == 0] for i in range(n)])
    with_i = without | (1 << np.arange(n))[:, None]
    by_size = np.array([math.factorial(t) * math.factorial(n - t - 1) / math.factorial(n) for t in range(n)])
    return _frozen(without), _frozen(with_i), _frozen(by_size[sizes[without]])


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)  # cached tables are shared between callers
    return array


def proportional(values, weights) -> np.ndarray:
    """v(S) split in proportion to ``weights`` (the baselines b_i: SPEC section 3's default rule).

    When every weight is 0 the split is equal.
    """
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    n = game_size(values)
    if weights.shape[-1] != n:
        raise ValueError(f"{weights.shape[-1]} weights for a game of {n} players")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("weights must be finite and not negative")
    total = weights.sum(axis=-1, keepdims=True)
    none = total == 0
    fraction = np.where(none, 1.0 / n, weights / np.where(none, 1.0, total))
    return fraction * values[..., -1:]


def shapley(values) -> np.ndarray:
    """The Shapley value: phi_i = sum over T in S without i of |T|!(n-|T|-1)!/n! (v(T+i) - v(T)).

    This is SPEC section 6's formula term for term, summed over all 2**(n-1) subgroups at once.
    """
    values = np.asarray(values, dtype=float)
    without, with_i, weight = _shapley_tables(game_size(values))
    return ((values[..., with_i] - values[..., without]) * weight).sum(axis=-1)


def excesses(values, x) -> np.ndarray:
    """e(T) = v(T) - sum of x_i over i in T for every proper non-empty T, in mask order 1 .. 2**n - 2."""
    values = np.asarray(values, dtype=float)
    n = game_size(values)
    masks = subgroup_masks(n)
    return values[..., masks] - np.asarray(x, dtype=float) @ membership(n)[masks].T


def core_excess(values, x):
    """The largest excess over proper non-empty subgroups: what the best-placed subgroup would
    gain by leaving with its own value (0 for a game of one player, which has no subgroup)."""
    e = excesses(values, x)
    return e.max(axis=-1) if e.shape[-1] else np.zeros(e.shape[:-1])


def is_stable(values, x, tolerance: float = STABLE_TOLERANCE):
    """Whether the split x is stable within S: its core excess is at most ``tolerance`` * |v(S)|."""
    values = np.asarray(values, dtype=float)
    return core_excess(values, x) <= tolerance * np.abs(values[..., -1])


def nucleolus(values) -> np.ndarray:
    """The prenucleolus: the one split of v(S) (no floor at v({i})) that lexicographically
    minimises the excesses of every proper non-empty subgroup, sorted from the largest
    (SPEC section 6).

    Found by the sequence of LPs of Maschler, Peleg and Shapley, solved by HiGHS; see
    :func:`_prenucleolus` for why the answer is exact.
    """
    values = np.asarray(values, dtype=float)
    game_size(values)
    if values.ndim > 1:
        flat = values.reshape(-1, values.shape[-1])
        return np.stack([_prenucleolus(game) for game in flat]).reshape(values.shape[:-1] + (-1,))
    return _prenucleolus(values)


def _prenucleolus(values: np.ndarray) -> np.ndarray:
    import highspy  # on first use, as the solver backends do: importing the package stays light

    n = game_size(values)
    total = values[-1]
    if n == 1:
        return values[-1:].copy()
    if n == 2:
        surplus = total - values[1] - values[2]
        return np.array([values[1] + surplus / 2, values[2] + surplus / 2])
    # HiGHS's tolerances are absolute, so the LPs see the game in units of its largest value
    scale = max(1.0, float(np.abs(values).max()))
    v = values / scale
    masks = subgroup_masks(n)
    rows = membership(n)[masks]
    # One LP for every stage: min eps s.t. x(N) = v(N) (row 0) and x(T) + eps >= v(T) for every
    # proper subgroup T (row 1 + its index). A stage fixes rows as equalities x(T) = v(T) - level
    # (eps dropped from them) and frees rows that can no longer decide anything; HiGHS
    # re-solves from the last stage's basis.
    inf = highspy.kHighsInf
    lp = new_highs()
    lp.setOptionValue("solver", "simplex")  # a basic solution, whose duals _DUAL_TOL relies on
    lp.setOptionValue("presolve", "off")
    lp.addVars(n + 1, np.full(n + 1, -inf), np.full(n + 1, inf))
    lp.changeColCost(n, 1.0)
    matrix = np.vstack([np.r_[np.ones(n), 0.0], np.c_[rows, np.ones(len(masks))]])
    row_of, col_of = np.nonzero(matrix)
    starts = np.searchsorted(row_of, np.arange(len(matrix)))
    lp.addRows(len(matrix), np.r_[v[-1], v[masks]], np.r_[v[-1], np.full(len(masks), inf)], len(col_of),
               starts.astype(np.int32), col_of.astype(np.int32), matrix[row_of, col_of])

    def settle(index: int, lower: float, upper: float) -> None:
        lp.changeCoeff(index + 1, n, 0.0)
        lp.changeRowBounds(index + 1, lower, upper)

    # Fixed: linearly independent equalities x(T) = rhs (efficiency first), with an orthonormal
    # basis of their span; the excess of every subgroup in that span is the same for every
    # split still in play, so it cannot decide anything and leaves the free set.
    fixed, rhs = [np.ones(n)], [v[-1]]
    basis = np.full((n, 1), 1.0 / math.sqrt(n))
    free = np.ones(len(masks), dtype=bool)
    while len(fixed) < n:
        spanned = free & (np.linalg.norm(rows - (rows @ basis) @ basis.T, axis=1) <= _SPAN_TOL)
        for index in np.flatnonzero(spanned):
            settle(int(index), -inf, inf)
        free &= ~spanned
        lp.run()
        if lp.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise SolveError(f"HiGHS failed on a nucleolus stage: {lp.modelStatusToString(lp.getModelStatus())}")
        level = lp.getInfo().objective_function_value
        dual = np.asarray(lp.getSolution().row_dual)[1:]
        # Complementary slackness: a coalition whose row has a positive dual in an optimal dual
        # solution is tight in *every* optimal split, so fixing its excess at the level cuts off
        # no optimum; the next stage's feasible set is exactly this stage's optimal set (its
        # e(T) <= level is implied, the next level being no higher). The duals of the free rows
        # sum to 1 (the dual constraint of the level column), so at least one is positive, and
        # each is outside the span: the rank rises every stage, at most n - 1 stages in all.
        settled = np.flatnonzero(free & (dual > _DUAL_TOL))
        if not len(settled):
            raise SolveError("HiGHS returned no positive dual in a nucleolus stage")
        for index in settled:
            residual = rows[index] - basis @ (basis.T @ rows[index])
            length = float(np.linalg.norm(residual))
            if length > _SPAN_TOL:
                fixed.append(rows[index])
                rhs.append(v[masks[index]] - level)
                basis = np.c_[basis, residual / length]
                settle(int(index), rhs[-1], rhs[-1])
            else:
                settle(int(index), -inf, inf)
            free[index] = False
    # n independent equalities: the split is unique; solving them directly beats the LP's tolerance
    return np.linalg.solve(np.array(fixed), np.array(rhs)) * scale + 0.0  # no -0.0 in a plan


def all_shares(values, weights) -> dict[str, np.ndarray]:
    """Every rule's split of v(S), keyed by rule name in the order of :data:`RULES`."""
    return {"proportional": proportional(values, weights), "shapley": shapley(values),
            "nucleolus": nucleolus(values)}


def core_excesses(values, shares: dict[str, np.ndarray]) -> dict:
    """The core excess of each split in ``shares`` (as :func:`all_shares` returns), same keys."""
    return {rule: core_excess(values, x) for rule, x in shares.items()}
