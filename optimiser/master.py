"""The master problem: choose candidate options that maximise total NPV.

Rows of the model (all over the chosen columns x_j in {0, 1}):

* packing: for each function and council, at most one chosen option contains it;
* locked: each locked group's options sum to exactly 1;
* joins: a council with ``max_partnerships`` m joins at most m partnerships in all;
* hosts: a council with ``max_hosted`` h hosts at most h partnerships;
* budget: total one-off cost of the chosen options is at most ``--budget``.

Two methods solve it, with the same rows:

``naive``
    every candidate into one MIP: the reference.
``exact``
    column generation on the LP relaxation (price every candidate against the duals,
    vectorised), then *reduced-cost fixing*: with LP bound z and a feasible plan worth L,
    an option whose reduced cost is below -(z - L) cannot be in any plan worth L or more,
    so the MIP over the remaining options has the same optimum. The bound holds for any
    plan x because c x = y A x + rc x <= y b + rc x = z + rc x when every reduced cost is
    <= 0 (LP optimal over all candidates) and the duals y have the rows' signs.
"""

from __future__ import annotations

import logging
import math
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pulp

from .candidates import CandidateSet
from .errors import SolveError
from .problem import Problem

log = logging.getLogger(__name__)

MIP_REL_GAP = 1e-9
PRICING_TOLERANCE = 1e-6  # pounds of reduced cost treated as zero


@dataclass
class Solution:
    """What the master problem chose, and how sure the solver is."""

    chosen: np.ndarray  # indices into the CandidateSet
    status: str  # optimal | time_limit | infeasible
    objective: float
    bound: float
    seconds: float
    stats: dict = field(default_factory=dict)

    @property
    def gap(self) -> float:
        if self.status == "infeasible":
            return math.inf
        return relative_gap(self.objective, self.bound)


def relative_gap(objective: float, bound: float) -> float:
    difference = max(0.0, bound - objective)
    if difference <= 1e-9 * max(1.0, abs(bound)):
        return 0.0
    return difference / max(abs(objective), 1e-9)


# ---------------------------------------------------------------- building the PuLP model


@dataclass
class _Rows:
    """The rows of a master problem over some candidate columns, as column index lists."""

    keys: list[tuple]
    columns: list[np.ndarray]
    coefficients: list[np.ndarray | None]
    senses: list[str]  # "<=" or "=="
    rhs: list[float]


def _rows(problem: Problem, cand: CandidateSet) -> _Rows:
    n = len(problem.codes)
    keys, columns, coefs, senses, rhs = [], [], [], [], []
    j = np.repeat(np.arange(len(cand)), cand.members.shape[1])
    members = cand.members.ravel()
    valid = members >= 0
    j, members = j[valid], members[valid]
    row_key = cand.function[j].astype(np.int64) * n + members
    order = np.argsort(row_key, kind="stable")
    row_key, j_sorted, members_sorted = row_key[order], j[order], members[order]
    starts = np.flatnonzero(np.r_[True, row_key[1:] != row_key[:-1]])
    for start, stop in zip(starts, np.r_[starts[1:], len(row_key)]):
        key = int(row_key[start])
        keys.append(("pack", key // n, key % n))
        columns.append(j_sorted[start:stop])
        coefs.append(None)
        senses.append("<=")
        rhs.append(1.0)

    locked = np.flatnonzero(cand.locked >= 0)
    for index in range(len(problem.locked)):
        keys.append(("lock", index))
        columns.append(locked[cand.locked[locked] == index])
        coefs.append(None)
        senses.append("==")
        rhs.append(1.0)

    limited = np.flatnonzero(problem.max_partnerships >= 0)
    if len(limited):
        order = np.argsort(members, kind="stable")
        m_sorted, j_m = members[order], j[order]
        for i in limited:
            lo, hi = np.searchsorted(m_sorted, [i, i + 1])
            cols = j_m[lo:hi]
            # a row is needed only if the council could join more partnerships than allowed
            if len(np.unique(cand.function[cols])) > problem.max_partnerships[i]:
                keys.append(("joins", int(i)))
                columns.append(cols)
                coefs.append(None)
                senses.append("<=")
                rhs.append(float(problem.max_partnerships[i]))
    for i in np.flatnonzero(problem.max_hosted >= 0):
        cols = np.flatnonzero(cand.host == i)
        if len(np.unique(cand.function[cols])) > problem.max_hosted[i]:
            keys.append(("hosts", int(i)))
            columns.append(cols)
            coefs.append(None)
            senses.append("<=")
            rhs.append(float(problem.max_hosted[i]))
    if problem.options.budget is not None and len(cand):
        keys.append(("budget",))
        columns.append(np.arange(len(cand)))
        coefs.append(cand.one_off)
        senses.append("<=")
        rhs.append(float(problem.options.budget))
    return _Rows(keys, columns, coefs, senses, rhs)


def _solver(name: str, mip: bool, time_limit: float | None, log_path: str | None = None):
    if name == "highs":
        return pulp.HiGHS(mip=mip, msg=False, timeLimit=time_limit, gapRel=MIP_REL_GAP if mip else None, threads=1)
    if name == "cbc":
        return pulp.PULP_CBC_CMD(mip=mip, msg=False, timeLimit=time_limit, gapRel=MIP_REL_GAP if mip else None, logPath=log_path)
    raise SolveError(f"unknown solver {name}")


@dataclass
class _Result:
    status: str
    values: np.ndarray | None
    objective: float
    bound: float
    duals: dict[tuple, float] | None = None


def _solve(problem: Problem, cand: CandidateSet, *, relax: bool, solver: str, time_limit: float | None) -> _Result:
    """Builds the master over ``cand`` in PuLP and solves it (LP if ``relax``)."""
    rows = _rows(problem, cand)
    lp = pulp.LpProblem("partnerships", pulp.LpMaximize)
    category = pulp.LpContinuous if relax else pulp.LpBinary
    x = [pulp.LpVariable(f"x{j}", lowBound=0, upBound=1, cat=category) for j in range(len(cand))]
    lp += pulp.LpAffineExpression(zip(x, cand.npv.tolist())), "npv"
    constraints = []
    for r, (key, cols, coef, sense, rhs) in enumerate(zip(rows.keys, rows.columns, rows.coefficients, rows.senses, rows.rhs)):
        values = [1.0] * len(cols) if coef is None else coef[cols].tolist()
        expression = pulp.LpAffineExpression([(x[c], v) for c, v in zip(cols.tolist(), values)])
        constraint = expression <= rhs if sense == "<=" else expression == rhs
        lp += constraint, f"r{r}"
        constraints.append(lp.constraints[f"r{r}"])
    if time_limit is not None:
        time_limit = max(1.0, time_limit)
    with tempfile.TemporaryDirectory() as tmp:
        log_path = str(Path(tmp) / "cbc.log") if solver == "cbc" else None
        started = time.perf_counter()
        try:
            lp.solve(_solver(solver, not relax, time_limit, log_path))
        except pulp.PulpSolverError as exc:
            raise SolveError(f"{solver} failed: {exc}") from exc
        log.debug("%s %s: %d columns, %d rows, %.2fs", solver, "LP" if relax else "MIP", len(cand), len(rows.keys), time.perf_counter() - started)
        cbc_log = Path(log_path).read_text(errors="replace") if log_path and Path(log_path).exists() else ""

    values = np.array([v.varValue if v.varValue is not None else 0.0 for v in x]) if len(x) else np.zeros(0)
    status, bound = _status(lp, solver, relax, cbc_log)
    if status == "infeasible":
        return _Result("infeasible", None, -math.inf, -math.inf)
    if status == "no_solution":
        return _Result("time_limit", None, -math.inf, bound)
    objective = float(cand.npv @ values) if len(x) else 0.0
    if status == "optimal" or relax:
        bound = max(bound, objective) if not math.isnan(bound) else objective
    duals = None
    if relax:
        duals = {key: (c.pi or 0.0) for key, c in zip(rows.keys, constraints)}
    return _Result(status, values, objective, bound, duals)


def _status(lp: pulp.LpProblem, solver: str, relax: bool, cbc_log: str) -> tuple[str, float]:
    """Maps the solver's outcome to optimal / time_limit / no_solution / infeasible and a bound."""
    if solver == "highs":
        import highspy

        h = lp.solverModel
        status = h.getModelStatus()
        info = h.getInfo()
        S = highspy.HighsModelStatus
        if status == S.kOptimal:
            return "optimal", info.mip_dual_bound if not relax and math.isfinite(info.mip_dual_bound) else math.nan
        if status in (S.kInfeasible, S.kUnboundedOrInfeasible):
            return "infeasible", math.nan
        if status in (S.kTimeLimit, S.kIterationLimit, S.kInterrupt, S.kSolutionLimit):
            has_solution = info.primal_solution_status == 2
            bound = info.mip_dual_bound if not relax else math.inf
            return ("time_limit" if has_solution else "no_solution"), (bound if math.isfinite(bound) else math.inf)
        raise SolveError(f"HiGHS stopped with status {h.modelStatusToString(status)}")
    if lp.status == pulp.LpStatusInfeasible:
        return "infeasible", math.nan
    if lp.status == pulp.LpStatusOptimal and lp.sol_status == pulp.LpSolutionOptimal:
        return "optimal", math.nan
    # CBC stopped early: its log reports the best possible objective (of the minimised
    # problem PuLP hands it, so the sign flips for our maximisation)
    bound = math.inf
    match = re.search(r"best possible\s*(-?[\d.eE+-]+)", cbc_log) or re.search(r"Lower bound:\s*(-?[\d.eE+-]+)", cbc_log)
    if match:
        bound = -float(match.group(1))
    if lp.sol_status in (pulp.LpSolutionIntegerFeasible, pulp.LpSolutionOptimal):
        return "time_limit", bound
    if lp.status == pulp.LpStatusNotSolved:
        return "no_solution", bound
    raise SolveError(f"CBC stopped with status {pulp.LpStatus[lp.status]}")


# ---------------------------------------------------------------- methods


def solve_naive(problem: Problem, cand: CandidateSet, solver: str, time_limit: float | None) -> Solution:
    started = time.perf_counter()
    result = _solve(problem, cand, relax=False, solver=solver, time_limit=time_limit)
    return _solution(result, started, {"method": "naive", "columns": len(cand)})


def _solution(result: _Result, started: float, stats: dict) -> Solution:
    seconds = time.perf_counter() - started
    if result.status == "infeasible":
        return Solution(np.zeros(0, dtype=np.int64), "infeasible", 0.0, 0.0, seconds, stats)
    if result.values is None:
        return Solution(np.zeros(0, dtype=np.int64), "time_limit", 0.0, result.bound, seconds, stats)
    chosen = np.flatnonzero(result.values > 0.5)
    status = "optimal" if result.status == "optimal" else "time_limit"
    return Solution(chosen, status, result.objective, result.bound, seconds, stats)


def reduced_costs(problem: Problem, cand: CandidateSet, duals: dict[tuple, float]) -> np.ndarray:
    """NPV minus the priced rows of each candidate, for all candidates at once."""
    n = len(problem.codes)
    n_functions = len(problem.functions)
    pack = np.zeros(n_functions * n + 1)  # last entry prices the -1 padding at 0
    joins = np.zeros(n + 1)
    hosts = np.zeros(n)
    locked = np.zeros(len(problem.locked) + 1)
    budget = 0.0
    for key, value in duals.items():
        kind = key[0]
        if kind == "pack":
            pack[key[1] * n + key[2]] = value
        elif kind == "joins":
            joins[key[1]] = value
        elif kind == "hosts":
            hosts[key[1]] = value
        elif kind == "lock":
            locked[key[1]] = value
        elif kind == "budget":
            budget = value
    members = cand.members
    flat = np.where(members >= 0, cand.function[:, None].astype(np.int64) * n + members, n_functions * n)
    priced = pack[flat].sum(axis=1) + joins[np.where(members >= 0, members, n)].sum(axis=1)
    priced += hosts[cand.host] + budget * cand.one_off + locked[cand.locked]
    return cand.npv - priced


def _initial_columns(problem: Problem, cand: CandidateSet, per_council: int = 3) -> np.ndarray:
    """Locked options and, for each function and council, its best few candidates."""
    n = len(problem.codes)
    width = cand.members.shape[1]
    j = np.repeat(np.arange(len(cand)), width)
    members = cand.members.ravel()
    valid = members >= 0
    j, members = j[valid], members[valid]
    key = cand.function[j].astype(np.int64) * n + members
    order = np.lexsort((-cand.npv[j], key))
    key, j = key[order], j[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    rank = np.arange(len(key)) - np.repeat(first, np.diff(np.r_[first, len(key)]))
    chosen = np.unique(np.r_[j[rank < per_council], np.flatnonzero(cand.locked >= 0)])
    return chosen


def _best_per_row(problem: Problem, cand: CandidateSet, columns: np.ndarray, rc: np.ndarray, limit: int) -> np.ndarray:
    """Among ``columns`` (positive reduced cost), the best for each packing row, then the best overall."""
    n = len(problem.codes)
    width = cand.members.shape[1]
    order = columns[np.argsort(-rc[columns], kind="stable")]
    members = cand.members[order]
    key = np.where(members >= 0, cand.function[order, None].astype(np.int64) * n + members, -1).ravel()
    owner = np.repeat(order, width)
    valid = key >= 0
    _, first = np.unique(key[valid], return_index=True)
    picked = np.unique(owner[valid][first])
    if len(picked) < limit:
        extra = order[:limit]
        picked = np.unique(np.r_[picked, extra])
    return picked


def solve_exact(problem: Problem, cand: CandidateSet, solver: str, time_limit: float | None, progress=None) -> Solution:
    started = time.perf_counter()

    def remaining() -> float | None:
        if time_limit is None:
            return None
        return max(1.0, time_limit - (time.perf_counter() - started))

    stats: dict = {"method": "exact", "columns": len(cand)}
    if len(cand) == 0:
        return Solution(np.zeros(0, dtype=np.int64), "optimal", 0.0, 0.0, time.perf_counter() - started, stats)
    active = _initial_columns(problem, cand)
    iterations = 0
    while True:
        iterations += 1
        lp = _solve(problem, cand.take(active), relax=True, solver=solver, time_limit=remaining())
        if lp.status == "infeasible":
            return _solution(lp, started, stats)
        if lp.values is None:
            # no LP optimum within the time limit: fall back to the MIP on what we have
            break
        rc = reduced_costs(problem, cand, lp.duals)
        scale = max(1.0, abs(lp.objective))
        improving = np.flatnonzero(rc > PRICING_TOLERANCE * scale)
        improving = np.setdiff1d(improving, active, assume_unique=True)
        if progress:
            progress("pricing", iterations, len(active), lp.objective)
        log.info("pricing round %d: LP %.2f over %d columns, %d columns price in", iterations, lp.objective, len(active), len(improving))
        if len(improving) == 0:
            break
        if time_limit is not None and time.perf_counter() - started > time_limit:
            break
        add = _best_per_row(problem, cand, improving, rc, limit=max(2000, len(active) // 2))
        active = np.union1d(active, add)
    lp_bound = lp.objective if lp.values is not None else math.inf
    lp_optimal = lp.values is not None and len(improving) == 0
    stats.update(pricing_rounds=iterations, lp_bound=lp_bound, lp_columns=len(active))

    incumbent = _solve(problem, cand.take(active), relax=False, solver=solver, time_limit=remaining())
    if incumbent.status == "infeasible":
        return _solution(incumbent, started, stats)
    if not lp_optimal or incumbent.values is None:
        result = _Result("time_limit", incumbent.values, incumbent.objective, lp_bound)
        solution = _solution(result, started, stats)
        solution.chosen = active[solution.chosen]
        return solution

    lower = incumbent.objective
    slack = max(0.0, lp_bound - lower) + PRICING_TOLERANCE * max(1.0, abs(lp_bound)) + 1e-6
    keep = np.flatnonzero(rc >= -slack)
    keep = np.union1d(keep, np.flatnonzero(cand.locked >= 0))
    stats.update(incumbent=lower, kept_columns=len(keep))
    log.info("reduced-cost fixing: LP bound %.2f, plan %.2f, %d of %d columns can be in an optimal plan", lp_bound, lower, len(keep), len(cand))
    if progress:
        progress("fixing", len(keep), len(cand), lower)
    if incumbent.status == "optimal" and (lp_bound - lower) <= 1e-9 * max(1.0, abs(lp_bound)):
        solution = _solution(incumbent, started, stats)
        solution.chosen = active[solution.chosen]
        solution.bound = min(incumbent.bound, lp_bound) if math.isfinite(incumbent.bound) else lp_bound
        solution.bound = max(solution.bound, solution.objective)
        return solution
    if np.array_equal(keep, active) or (np.isin(keep, active).all() and incumbent.status == "optimal"):
        final, final_columns = incumbent, active
    else:
        final_columns = keep
        final = _solve(problem, cand.take(keep), relax=False, solver=solver, time_limit=remaining())
        if final.values is None or final.objective < lower - 1e-6 * max(1.0, abs(lower)):
            # the final MIP found nothing better within its time: keep the incumbent
            final = _Result("time_limit" if final.status != "optimal" else final.status, incumbent.values, lower, min(lp_bound, final.bound))
            final_columns = active
    solution = _solution(final, started, stats)
    solution.chosen = final_columns[solution.chosen]
    solution.bound = max(solution.objective, min(solution.bound, lp_bound))
    return solution


def solve_master(problem: Problem, cand: CandidateSet, progress=None) -> Solution:
    options = problem.options
    if options.method == "naive":
        return solve_naive(problem, cand, options.solver, options.time_limit)
    return solve_exact(problem, cand, options.solver, options.time_limit, progress)
