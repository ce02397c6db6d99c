"""The master problem: choose candidate options that maximise total NPV.

Rows of the model (all over the chosen columns x_j in {0, 1}):

* packing: for each function and council, at most one chosen option contains it;
* locked: each locked group's options sum to exactly 1;
* joins: a council with ``max_partnerships`` m joins at most m partnerships in all;
* hosts: a council with ``max_hosted`` h hosts at most h partnerships;
* budget: total one-off cost of the chosen options is at most ``--budget``.

Two methods solve it, with the same rows:

``naive``
    every candidate into one MIP (PuLP, HiGHS or CBC): the reference.
``exact``
    functions are solved apart unless a limit ties them together (a *block*), and within a
    block, councils that share no candidate form independent *parts*. In a first phase each
    block's LP relaxation is solved by column generation in HiGHS (every candidate priced
    against the duals at once, the best added, warm-started), tightened by rounds of
    divisibility cuts (``cuts.py``) while they lower the bound noticeably, and a plan is
    found by diving in the LP. On a part larger than one window the plan is then improved
    window by window (``improve.py``: small MIPs over neighbouring councils), and a short
    MIP over the LP's columns may improve it further. Then *reduced-cost fixing*: with a
    part's LP bound z and a plan worth L, an option whose reduced cost is below -(z - L)
    cannot be in any plan worth L or more, so the MIP over the remaining options (PuLP,
    with the cuts as extra rows) has the same optimum. The bound holds for any
    plan x because c x = y A x + rc x <= y b + rc x = z + rc x when every reduced cost is
    <= 0 (LP optimal over all candidates) and the duals y have the rows' signs. Under a
    time limit the bounds come first and the MIPs share what is left, the smallest blocks
    and parts first; parts that reach the end of their share before their MIP finishes get
    the time that others left over in a last pass. The plan returned is the best found, with
    its proven gap. Blocks are shared among worker processes when there are several blocks
    and cores (``parallel.py``).
"""

from __future__ import annotations

import logging
import math
import re
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pulp

from . import cuts as divisibility
from . import improve
from ..candidates.table import CandidateSet
from ..errors import SolveError
from .backends import new_highs, silence_banner
from ..problem import Problem

log = logging.getLogger(__name__)

MIP_REL_GAP = 1e-9
PRICING_TOLERANCE = 1e-6  # reduced cost treated as zero, relative to the LP bound
INCUMBENT_SECONDS = 10.0  # for the MIP over the LP's columns that looks for a better plan
SEPARATION_SECONDS = 5.0  # per round of divisibility cuts, for all its separation MIPs
MAX_CUT_ROUNDS = 30
CUT_SHARE = 0.3  # of a block's share of a time limit, at most this much goes to cuts
CUT_STALL = 1e-3  # stop adding cuts once a round lowers the LP bound by less than this share
# (later rounds cost seconds each for a few parts per million; the MIP does better with the time)
MIN_MIP_SECONDS = 2.0  # below this much time left, the MIP of a large part is not started
SMALL_MIP_COLUMNS = 2000  # a part with at most this many options gets its MIP whatever its share:
# such MIPs take well under a second, and no share is too small for them
IMPROVE_SHARE = 0.4  # of a part's time, at most this much goes to improving its plan window by window


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
    """(bound - objective) / |objective|; infinite when nothing bounds the plan."""
    if not math.isfinite(bound):
        return math.inf
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


def _rows(problem: Problem, cand: CandidateSet, cuts: list[tuple[np.ndarray, float]] = ()) -> _Rows:
    n = len(problem.codes)
    keys, columns, coefs, senses, rhs = [], [], [], [], []
    j = np.repeat(np.arange(len(cand)), cand.members.shape[1])
    members = cand.members.ravel()
    valid = members >= 0
    j, members = j[valid], members[valid]
    row_key = cand.function[j].astype(np.int64) * n + members
    order = np.argsort(row_key, kind="stable")
    row_key, j_sorted = row_key[order], j[order]
    starts = np.flatnonzero(np.r_[True, row_key[1:] != row_key[:-1]]) if len(row_key) else np.zeros(0, dtype=np.int64)
    for start, stop in zip(starts, np.r_[starts[1:], len(row_key)]):
        key = int(row_key[start])
        keys.append(("pack", key // n, key % n))
        columns.append(j_sorted[start:stop])
        coefs.append(None)
        senses.append("<=")
        rhs.append(1.0)

    locked = np.flatnonzero(cand.locked >= 0)
    for index in np.unique(cand.locked[locked]).tolist():
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
    for number, (coefficient, right) in enumerate(cuts):
        keys.append(("cut", number))
        columns.append(np.flatnonzero(coefficient))
        coefs.append(coefficient)
        senses.append("<=")
        rhs.append(float(right))
    return _Rows(keys, columns, coefs, senses, rhs)


def _solver(name: str, time_limit: float | None, log_path: str | None = None):
    if name == "highs":
        silence_banner()
        return pulp.HiGHS(msg=False, timeLimit=time_limit, gapRel=MIP_REL_GAP)
    if name == "cbc":
        # CBC's preprocessing has been seen to discard the optimum of these set-packing models
        # and report a worse plan as optimal (a random instance with a budget row); it is off.
        # PuLP 3.3 marks its bundled CBC deprecated in favour of a separately installed one; the
        # bundled binary is the one every install has, so the notice is silenced here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, gapRel=MIP_REL_GAP, logPath=log_path, options=["preprocess off"])
    raise SolveError(f"unknown solver {name}")


@dataclass
class _Result:
    status: str  # optimal | time_limit | infeasible
    values: np.ndarray | None  # None when the solver found no plan
    objective: float
    bound: float


def _solve(problem: Problem, cand: CandidateSet, *, solver: str, time_limit: float | None,
           cuts: list[tuple[np.ndarray, float]] = ()) -> _Result:
    """Builds the master MIP over ``cand`` in PuLP and solves it.

    ``cuts`` are valid inequalities (coefficients over ``cand``, right-hand side) that every
    plan satisfies; they leave the optimum unchanged and help the solver prove it.
    """
    rows = _rows(problem, cand, cuts)
    lp = pulp.LpProblem("partnerships", pulp.LpMaximize)
    x = [lp.add_variable(f"x{j}", lowBound=0, upBound=1, cat=pulp.LpBinary) for j in range(len(cand))]
    lp += pulp.LpAffineExpression(zip(x, cand.npv.tolist())), "npv"
    for r, (cols, coef, sense, rhs) in enumerate(zip(rows.columns, rows.coefficients, rows.senses, rows.rhs)):
        values = [1.0] * len(cols) if coef is None else coef[cols].tolist()
        expression = pulp.LpAffineExpression([(x[c], v) for c, v in zip(cols.tolist(), values)])
        lp += (expression <= rhs if sense == "<=" else expression == rhs), f"r{r}"
    if time_limit is not None:
        time_limit = max(1.0, time_limit)
    with tempfile.TemporaryDirectory() as tmp:
        log_path = str(Path(tmp) / "cbc.log") if solver == "cbc" else None
        started = time.perf_counter()
        try:
            lp.solve(_solver(solver, time_limit, log_path))
        except pulp.PulpSolverError as exc:
            raise SolveError(f"{solver} failed: {exc}") from exc
        log.debug("%s MIP: %d columns, %d rows, %.2fs", solver, len(cand), len(rows.keys), time.perf_counter() - started)
        cbc_log = Path(log_path).read_text(errors="replace") if log_path and Path(log_path).exists() else ""

    status, bound = _status(lp, solver, cbc_log)
    if status == "infeasible":
        return _Result("infeasible", None, -math.inf, -math.inf)
    if status == "no_solution":
        return _Result("time_limit", None, -math.inf, bound)
    values = np.array([v.varValue if v.varValue is not None else 0.0 for v in x]) if len(x) else np.zeros(0)
    objective = float(cand.npv @ values) if len(x) else 0.0
    if status == "optimal":
        bound = max(bound, objective) if not math.isnan(bound) else objective
    return _Result(status, values, objective, bound)


def _status(lp: pulp.LpProblem, solver: str, cbc_log: str) -> tuple[str, float]:
    """Maps the solver's outcome to optimal / time_limit / no_solution / infeasible and a bound."""
    if solver == "highs":
        import highspy

        h = lp.solverModel
        status = h.getModelStatus()
        info = h.getInfo()
        S = highspy.HighsModelStatus
        # PuLP hands HiGHS the maximisation as a minimisation of -NPV: flip the bound back
        bound = -info.mip_dual_bound if math.isfinite(info.mip_dual_bound) else math.nan
        if status == S.kOptimal:
            return "optimal", bound
        if status in (S.kInfeasible, S.kUnboundedOrInfeasible):
            return "infeasible", math.nan
        if status in (S.kTimeLimit, S.kIterationLimit, S.kInterrupt, S.kSolutionLimit):
            has_solution = info.primal_solution_status == 2
            return ("time_limit" if has_solution else "no_solution"), (bound if math.isfinite(bound) else math.inf)
        raise SolveError(f"HiGHS stopped with status {h.modelStatusToString(status)}")
    if lp.status == pulp.LpStatusInfeasible:
        return "infeasible", math.nan
    if lp.status == pulp.LpStatusOptimal and lp.sol_status == pulp.LpSolutionOptimal:
        return "optimal", math.nan
    # CBC stopped early: its log reports the best possible objective of the minimisation
    # PuLP hands it, so the sign flips for our maximisation
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
    result = _solve(problem, cand, solver=solver, time_limit=time_limit)
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


# ---------------------------------------------------------------- the exact method


class Relaxation:
    """The LP relaxation of the master over a growing subset of a block's candidates.

    HiGHS holds the LP between rounds, so adding columns re-solves from the last basis.
    Rows: packing (per function of the block and council), joins, hosts (per council;
    free where unlimited), one per locked group of the block, and the budget.
    """

    def __init__(self, problem: Problem, cand: CandidateSet, functions: list[int]):
        import highspy

        self.problem, self.cand = problem, cand
        n = self.n = len(problem.codes)
        self.local = np.full(len(problem.functions), -1, dtype=np.int64)
        self.local[functions] = np.arange(len(functions))
        f = len(functions)
        self.joins_row, self.hosts_row = f * n, f * n + n
        self.locked_groups = [g for g, group in enumerate(problem.locked) if self.local[group.function_index] >= 0]
        self.locked_row = np.full(len(problem.locked) + 1, -1, dtype=np.int64)
        self.locked_row[self.locked_groups] = f * n + 2 * n + np.arange(len(self.locked_groups))
        self.budget_row = f * n + 2 * n + len(self.locked_groups)
        rows = self.budget_row + 1
        inf = highspy.kHighsInf
        upper = np.ones(rows)
        upper[self.joins_row : self.joins_row + n] = np.where(problem.max_partnerships >= 0, problem.max_partnerships, inf)
        upper[self.hosts_row : self.hosts_row + n] = np.where(problem.max_hosted >= 0, problem.max_hosted, inf)
        lower = np.full(rows, -inf)
        lower[self.locked_row[self.locked_groups]] = 1.0
        budget = problem.options.budget
        upper[self.budget_row] = inf if budget is None else budget
        # the right-hand side that prices each row in the dual objective (free rows: 0)
        self.rhs = np.where(np.isfinite(upper) & (upper < inf), upper, 0.0)
        self.highs = new_highs()
        self.highs.addRows(rows, lower, upper, 0, np.zeros(1, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
        self.highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.columns = np.zeros(0, dtype=np.int64)
        self.position = np.full(len(cand), -1, dtype=np.int64)  # of each candidate among the LP's columns
        # each candidate's packing rows, padded with -1, for the divisibility cuts
        self.rows_of = np.where(cand.members >= 0, self.local[cand.function][:, None] * n + cand.members, -1)
        self.base_rows = rows
        self.cuts: list[divisibility.Cut] = []
        self.cut_terms: list[tuple[np.ndarray, np.ndarray]] = []  # per cut: candidates with a coefficient, and it

    def _entries(self, idx: np.ndarray):
        """The matrix entries of candidates ``idx`` as (column position, row, value)."""
        cand, problem, n = self.cand, self.problem, self.n
        position = np.arange(len(idx))
        members = cand.members[idx]
        base = self.local[cand.function[idx]] * n
        col, row, val = [], [], []
        valid = members >= 0
        pos = np.broadcast_to(position[:, None], members.shape)
        col.append(pos[valid])
        row.append((base[:, None] + members)[valid])
        limited = valid & (problem.max_partnerships[np.where(valid, members, 0)] >= 0)
        col.append(pos[limited])
        row.append(self.joins_row + members[limited])
        hosts = cand.host[idx]
        limited_host = problem.max_hosted[hosts] >= 0
        col.append(position[limited_host])
        row.append(self.hosts_row + hosts[limited_host])
        locked = cand.locked[idx]
        col.append(position[locked >= 0])
        row.append(self.locked_row[locked[locked >= 0]])
        col = np.concatenate(col)
        row = np.concatenate(row)
        val = np.ones(len(col))
        if problem.options.budget is not None:
            col = np.r_[col, position]
            row = np.r_[row, np.full(len(idx), self.budget_row)]
            val = np.r_[val, cand.one_off[idx]]
        for number, terms in enumerate(self.cut_terms):
            dense = _cut_coefficients(terms, idx)
            hit = dense != 0
            col = np.r_[col, position[hit]]
            row = np.r_[row, np.full(int(hit.sum()), self.base_rows + number)]
            val = np.r_[val, dense[hit]]
        order = np.argsort(col, kind="stable")
        return col[order], row[order], val[order]

    def add(self, idx: np.ndarray) -> None:
        col, row, val = self._entries(idx)
        starts = np.searchsorted(col, np.arange(len(idx))).astype(np.int32)
        # no upper bound of 1: every column has packing rows with right-hand side 1, and without
        # the bound no column can sit at it, so the LP value is exactly the duals' objective
        # (which the bounds of the independent parts rely on)
        upper = np.full(len(idx), np.inf)
        self.highs.addCols(len(idx), self.cand.npv[idx], np.zeros(len(idx)), upper, len(col), starts, row.astype(np.int32), val)
        self.position[idx] = len(self.columns) + np.arange(len(idx))
        self.columns = np.r_[self.columns, idx]

    def add_cuts(self, cuts: list[divisibility.Cut]) -> None:
        """Adds divisibility cuts as rows, with their coefficients on the LP's columns."""
        for cut in cuts:
            coefficient = divisibility.coefficients(cut, self.rows_of, self.joins_row)
            touched = np.flatnonzero(coefficient)
            self.cuts.append(cut)
            self.cut_terms.append((touched, coefficient[touched].astype(float)))
            in_lp = self.position[touched]
            present = in_lp >= 0
            self.highs.addRow(-np.inf, cut.rhs, int(present.sum()), in_lp[present].astype(np.int32),
                              coefficient[touched][present].astype(float))
            self.rhs = np.r_[self.rhs, cut.rhs]

    def cut_rows(self, idx: np.ndarray, count: int) -> list[tuple[np.ndarray, float]]:
        """The first ``count`` cuts over candidates ``idx``: dense coefficients and right-hand side."""
        rows = []
        for terms, cut in zip(self.cut_terms[:count], self.cuts[:count]):
            dense = _cut_coefficients(terms, idx)
            if dense.any():
                rows.append((dense, cut.rhs))
        return rows

    def separate(self, values: np.ndarray, deadline: float | None) -> list[divisibility.Cut]:
        """Divisibility cuts that the LP point (``values`` on the LP's columns) breaks."""
        budget = SEPARATION_SECONDS if deadline is None else min(SEPARATION_SECONDS, max(0.0, deadline - time.perf_counter()) / 4)
        rows_of = self.rows_of[self.columns]
        return divisibility.separate(rows_of, values, self.joins_row, int(self.cand.size.max(initial=2)), budget)

    def solve(self, time_limit: float | None) -> tuple[str, float, np.ndarray, np.ndarray]:
        """Status ('optimal', 'infeasible' or 'time_limit'), objective, column values, row duals."""
        import highspy

        self.highs.setOptionValue("time_limit", float(time_limit) if time_limit else highspy.kHighsInf)
        outcome = self.highs.run()
        status = self.highs.getModelStatus()
        S = highspy.HighsModelStatus
        if outcome == highspy.HighsStatus.kError:
            raise SolveError(f"HiGHS failed on the LP relaxation: {self.highs.modelStatusToString(status)}")
        if status in (S.kInfeasible, S.kUnboundedOrInfeasible):
            return "infeasible", -math.inf, np.zeros(0), np.zeros(0)
        solution = self.highs.getSolution()
        values = np.asarray(solution.col_value)
        duals = np.asarray(solution.row_dual)
        if status != S.kOptimal:
            return "time_limit", math.nan, values, duals
        return "optimal", self.highs.getInfo().objective_function_value, values, duals

    def dive(self, values: np.ndarray, deadline: float | None) -> np.ndarray | None:
        """A plan by diving: fix the largest fractional column to 1, re-solve, repeat.

        Works on the LP's current columns only, so it is a heuristic; the LP's bounds are
        restored afterwards. Returns indices into the candidates, or None if it gave up.
        """
        import highspy

        position = np.arange(len(self.columns), dtype=np.int32)
        fixed: list[int] = []
        chosen = None
        try:
            while deadline is None or time.perf_counter() < deadline:
                fractional = np.flatnonzero((values > 1e-6) & (values < 1 - 1e-6))
                if len(fractional) == 0:
                    chosen = self.columns[values > 0.5]
                    break
                pick = int(fractional[np.argmax(values[fractional] + 1e-12 * self.cand.npv[self.columns[fractional]])])
                self.highs.changeColBounds(pick, 1.0, highspy.kHighsInf)
                fixed.append(pick)
                self.highs.run()
                if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                    break
                values = np.asarray(self.highs.getSolution().col_value)
        finally:
            if fixed:
                self.highs.changeColsBounds(len(position), position, np.zeros(len(position)), np.full(len(position), highspy.kHighsInf))
        return chosen

    def lagrangian_bound(self, duals: np.ndarray, rc: np.ndarray) -> float:
        """A bound on every plan from any duals y >= 0 (and free on locked rows).

        npv x = y A x + rc x <= y b + sum_j rc_j+ x_j, and sharing each rc_j+ equally among
        its members, with each (function, council) in at most one chosen column, the last sum
        is at most the sum over packing rows of the largest share. Valid mid-way through
        column generation, when the LP bound is not yet proven.
        """
        share = np.maximum(rc, 0.0) / self.cand.size
        rows = np.where(self.rows_of >= 0, self.rows_of, self.joins_row)
        best = np.zeros(self.joins_row + 1)
        np.maximum.at(best, rows.ravel(), np.repeat(share, rows.shape[1]))
        return float(self.rhs[: len(duals)] @ duals + best[: self.joins_row].sum())

    def reduced_costs(self, duals: np.ndarray) -> np.ndarray:
        """NPV minus the priced rows, for every candidate of the block at once."""
        cand = self.cand
        y = np.r_[duals, 0.0]  # the last entry prices padding
        pad = len(duals)
        members = cand.members
        valid = members >= 0
        pack = np.where(valid, self.rows_of, pad)
        joins = np.where(valid, self.joins_row + members, pad)
        priced = y[pack].sum(axis=1) + y[joins].sum(axis=1) + y[self.hosts_row + cand.host]
        priced += np.where(cand.locked >= 0, y[self.locked_row[cand.locked]], 0.0)
        priced += y[self.budget_row] * cand.one_off
        for number, (touched, coefficient) in enumerate(self.cut_terms[: len(duals) - self.base_rows]):
            priced[touched] += y[self.base_rows + number] * coefficient
        return cand.npv - priced


def _cut_coefficients(terms: tuple[np.ndarray, np.ndarray], idx: np.ndarray) -> np.ndarray:
    """A cut's coefficient on each candidate of ``idx``, from its sparse (candidates, values)."""
    touched, coefficient = terms
    if len(touched) == 0:
        return np.zeros(len(idx))
    at = np.minimum(np.searchsorted(touched, idx), len(touched) - 1)
    return np.where(touched[at] == idx, coefficient[at], 0.0)


def _initial_columns(cand: CandidateSet, n: int, per_council: int = 2) -> np.ndarray:
    """Locked options and, for each function and council, its best few candidates."""
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
    return np.unique(np.r_[j[rank < per_council], np.flatnonzero(cand.locked >= 0)])


def _greedy(problem: Problem, cand: CandidateSet, order: np.ndarray) -> np.ndarray | None:
    """A feasible plan picking candidates in ``order`` when they fit; None if a locked group can't be placed."""
    n = len(problem.codes)
    used = np.zeros(len(problem.functions) * n, dtype=bool)
    joins = problem.max_partnerships.copy()
    hosts = problem.max_hosted.copy()
    budget = problem.options.budget
    spent = 0.0
    placed = set()
    chosen = []
    locked_first = np.r_[order[cand.locked[order] >= 0], order[cand.locked[order] < 0]]
    for j in locked_first.tolist():
        if cand.locked[j] >= 0 and cand.locked[j] in placed:
            continue
        members = cand.members[j][cand.members[j] >= 0]
        rows = cand.function[j] * n + members
        if used[rows].any() or (joins[members] == 0).any() or hosts[cand.host[j]] == 0:
            continue
        if budget is not None and spent + cand.one_off[j] > budget:
            continue
        used[rows] = True
        joins[members] -= joins[members] > 0
        hosts[cand.host[j]] -= hosts[cand.host[j]] > 0
        spent += cand.one_off[j]
        if cand.locked[j] >= 0:
            placed.add(int(cand.locked[j]))
        chosen.append(j)
    needed = {int(g) for g in np.unique(cand.locked[cand.locked >= 0])}
    if needed - placed:
        return None
    return np.array(chosen, dtype=np.int64)


@dataclass
class _BlockResult:
    chosen: np.ndarray  # indices into the block's candidates
    status: str
    objective: float
    bound: float
    stats: dict
    parts: list = field(default_factory=list)  # its parts' _PartResults, when it was split into parts


@dataclass
class _BlockBound:
    """A block after its first phase: proven LP bound, a plan, and its independent parts."""

    cand: CandidateSet
    label: str
    bound: float
    rc: np.ndarray
    in_lp: np.ndarray
    incumbent: np.ndarray | None
    parts: list[tuple[np.ndarray, float]]
    stats: dict
    cut_rows: object  # candidates -> the proven LP's cuts over them, as extra rows of a MIP


def _bound_block(problem: Problem, cand: CandidateSet, functions: list[int], deadline: float | None, progress=None,
                 cut_deadline: float | None = None) -> _BlockBound | _BlockResult:
    """First phase for one block: column generation for the LP bound, then a plan by diving.

    Each time the LP is optimal over every candidate, divisibility cuts tighten it (rounds
    of cuts, re-pricing after each) until none is found, the bound stalls, or
    ``cut_deadline`` passes.

    Returns a finished result when nothing is left to decide (no candidates, infeasible, or
    out of time before the LP bound was proven).
    """
    label = ",".join(problem.functions[k].id for k in functions)
    stats = {"candidates": len(cand)}
    if len(cand) == 0:
        return _BlockResult(np.zeros(0, dtype=np.int64), "optimal", 0.0, 0.0, stats)
    relaxation = Relaxation(problem, cand, functions)
    relaxation.add(_initial_columns(cand, len(problem.codes)))
    in_lp = np.zeros(len(cand), dtype=bool)
    in_lp[relaxation.columns] = True
    rounds = cut_rounds = 0
    last_duals = last_rc = None  # of the last optimal restricted LP: a Lagrangian bound
    proven = None  # the last LP optimal over every candidate: (bound, values, duals, rc, columns)
    current = False  # whether HiGHS holds the proven LP's solution (for diving)
    while True:
        rounds += 1
        status, bound, values, duals = relaxation.solve(None if deadline is None else max(0.5, deadline - time.perf_counter()))
        current = False
        if status == "infeasible":
            return _BlockResult(np.zeros(0, dtype=np.int64), "infeasible", 0.0, 0.0, stats)
        if status != "optimal":
            break
        rc = relaxation.reduced_costs(duals)
        last_duals, last_rc = duals, rc
        tolerance = PRICING_TOLERANCE * max(1.0, abs(bound))
        pricing_in = np.flatnonzero((rc > tolerance) & ~in_lp)
        if progress:
            progress("pricing", label, rounds, len(relaxation.columns), bound)
        log.debug("%s pricing round %d: LP %.2f over %d columns, %d price in, %d cuts", label, rounds, bound,
                  len(relaxation.columns), len(pricing_in), len(relaxation.cuts))
        out_of_time = deadline is not None and time.perf_counter() > deadline
        if len(pricing_in) == 0:
            # optimal over every candidate: a proven bound; then try to tighten it with cuts
            stalled = proven is not None and proven[0] - bound < CUT_STALL * max(1.0, abs(bound))
            proven, current = (bound, values, duals, rc, relaxation.columns.copy()), True
            cut_time_over = cut_deadline is not None and time.perf_counter() > cut_deadline
            if stalled or out_of_time or cut_time_over or cut_rounds >= MAX_CUT_ROUNDS:
                break
            try:
                new_cuts = relaxation.separate(values, cut_deadline)
            except SolveError as exc:
                # cuts only tighten a bound that is already proven: the run goes on without them
                log.warning("%s: no more divisibility cuts (%s)", label, exc)
                break
            if not new_cuts:
                break
            relaxation.add_cuts(new_cuts)
            cut_rounds += 1
            continue
        if out_of_time:
            break
        batch = max(1000, len(relaxation.columns) // 2)
        if len(pricing_in) > batch:
            pricing_in = pricing_in[np.argpartition(-rc[pricing_in], batch)[:batch]]
        relaxation.add(pricing_in)
        in_lp[pricing_in] = True
    stats.update(pricing_rounds=rounds, lp_columns=len(relaxation.columns), cut_rounds=cut_rounds)
    if proven is None:
        # out of time before the LP bound was proven: the best quick plan among the columns at
        # hand, bounded through the last duals of an optimal restricted LP (which are y >= 0)
        active = relaxation.columns
        upper = relaxation.lagrangian_bound(last_duals, last_rc) if last_duals is not None else math.inf
        plan = _greedy(problem, cand, active[np.argsort(-cand.npv[active], kind="stable")])
        if plan is None:
            return _BlockResult(np.zeros(0, dtype=np.int64), "time_limit", 0.0, upper, stats)
        return _BlockResult(plan, "time_limit", float(cand.npv[plan].sum()), upper, stats)

    bound, values, duals, rc, active = proven
    lp_values = np.zeros(len(cand))
    lp_values[active] = values
    incumbent = _greedy(problem, cand, active[np.lexsort((-cand.npv[active], -lp_values[active]))])
    dived = relaxation.dive(values, deadline) if current else None
    if dived is not None and (incumbent is None or cand.npv[dived].sum() > cand.npv[incumbent].sum()):
        incumbent = dived
    cut_count = len(duals) - relaxation.base_rows
    stats.update(lp_bound=bound, cuts=cut_count, components=0, kept_columns=0)
    parts = list(_components(problem, cand, relaxation, duals, bound)) if incumbent is not None else [(np.arange(len(cand)), bound)]
    cut_rows = lambda idx: relaxation.cut_rows(idx, cut_count)  # noqa: E731
    return _BlockBound(cand, label, bound, rc, in_lp, incumbent, parts, stats, cut_rows)


def fair_share(deadline: float | None, shares: float, end: float | None) -> float | None:
    """The instant at which one of ``shares`` equal shares of the time to ``deadline`` ends,
    but never sooner than ``MIN_MIP_SECONDS`` from now (nor later than ``end``, the run's
    own deadline): a small part whose MIP would take a fraction of a second should not be
    left unsolved because many parts came after it. ``shares`` is at least 1."""
    if deadline is None:
        return None
    now = time.perf_counter()
    fair = now + max(0.0, deadline - now) / shares
    return min(end if end is not None else deadline, max(fair, now + MIN_MIP_SECONDS))


def _finish_block(problem: Problem, block: _BlockBound, solver: str, deadline: float | None, progress=None,
                  end: float | None = None) -> _BlockResult:
    """Second phase for one block: reduced-cost fixing and a MIP for each open part.

    ``deadline`` ends this block's share of the time; ``end`` the run's (default: the same).
    """
    end = deadline if end is None else end
    cand, stats, bound = block.cand, block.stats, block.bound
    if block.incumbent is None:
        # no quick plan places every locked group: the MIP over all options decides
        result = _solve(problem, cand, solver=solver, time_limit=None if deadline is None else max(0.5, deadline - time.perf_counter()),
                        cuts=block.cut_rows(np.arange(len(cand))))
        if result.status == "infeasible" or result.values is None:
            return _BlockResult(np.zeros(0, dtype=np.int64), result.status, 0.0, bound, stats)
        return _BlockResult(np.flatnonzero(result.values > 0.5), result.status, result.objective, min(bound, result.bound), stats)
    parts = []
    for number, (columns, part_bound) in enumerate(block.parts):
        # under a time limit each part gets a fair share of what is left, the easy ones first
        share = fair_share(deadline, len(block.parts) - number, end)
        part = _solve_component(problem, cand, columns, block.rc, block.in_lp, part_bound, block.incumbent, solver,
                                lambda: None if share is None else share - time.perf_counter(), stats, block.cut_rows)
        if part.status != "optimal":
            part.columns, part.lp_bound = columns, part_bound
        parts.append(part)
    result = _combine(block, parts)
    log.info("%s: LP bound %.2f, plan %.2f over %d independent parts, %d of %d options kept", block.label, bound, result.objective,
             stats["components"], stats["kept_columns"], len(cand))
    if progress:
        progress("fixing", block.label, stats["kept_columns"], len(cand), result.objective)
    return result


def _combine(block: _BlockBound, parts: list[_PartResult]) -> _BlockResult:
    """A block's result from its parts' results."""
    objective = sum(part.objective for part in parts)
    proven = sum(part.bound for part in parts)
    status = "optimal" if all(part.status == "optimal" for part in parts) else "time_limit"
    chosen = np.concatenate([part.chosen for part in parts]) if parts else np.zeros(0, dtype=np.int64)
    return _BlockResult(chosen, status, objective, min(block.bound, max(proven, objective)), block.stats, parts)


def _revisit(problem: Problem, block: _BlockBound, part: _PartResult, solver: str, seconds: float) -> _PartResult:
    """Another MIP for a part that stopped at its share of the time, with ``seconds`` more."""
    found = _final_mip(problem, block.cand, part.columns, block.rc, part.lp_bound, part.chosen, part.objective, solver,
                       seconds, block.cut_rows)
    if found.status != "optimal":
        found.columns, found.lp_bound = part.columns, part.lp_bound
        found.bound = min(found.bound, part.bound)  # the bound proven before stays proven
    return found


def _components(problem: Problem, cand: CandidateSet, relaxation: "Relaxation", duals: np.ndarray, bound: float):
    """Independent parts of a block with each part's share of the LP bound.

    Without limits that tie councils together, councils that share no candidate never
    interact: each connected part of the "shares a candidate" graph is its own problem, and
    its LP bound is its rows' share of the dual objective (packing and locked rows have
    right-hand side 1; a cut's share is its dual times its right-hand side).
    """
    if _coupled(problem):
        yield np.arange(len(cand)), bound
        return
    n = relaxation.n
    rows = relaxation.rows_of
    label = divisibility.row_labels(rows, relaxation.joins_row)
    used = np.unique(label[rows[:, 0]])
    renumber = np.full(relaxation.joins_row, -1, dtype=np.int64)
    renumber[used] = np.arange(len(used))
    touched = np.zeros(relaxation.joins_row, dtype=bool)
    touched[rows[rows >= 0]] = True
    label = np.where(touched, renumber[label], -1)
    part = label[rows[:, 0]]
    y = duals
    locked_share = np.zeros(label.max() + 1)
    for g in relaxation.locked_groups:
        first = problem.locked[g].members[0] + relaxation.local[problem.locked[g].function_index] * n
        locked_share[label[first]] += y[relaxation.locked_row[g]]
    # a cut's rows lie in one part (cuts are separated per cluster of the LP's support)
    for number, cut in enumerate(relaxation.cuts[: len(y) - relaxation.base_rows]):
        locked_share[label[cut.rows[0]]] += y[relaxation.base_rows + number] * cut.rhs
    pack_share = np.bincount(label[label >= 0], weights=y[: relaxation.joins_row][label >= 0], minlength=len(locked_share))
    shares = pack_share + locked_share
    # the parts' bounds add up to the LP bound up to rounding, which goes to the largest part
    remainder = bound - shares.sum()
    if abs(remainder) > 1e-6 * max(1.0, abs(bound)):
        log.warning("LP bound and dual objective differ by %.6g; using the larger bound for every part", remainder)
        shares += max(0.0, remainder)
    order = np.argsort(np.bincount(part, minlength=len(shares)))
    shares[order[-1]] += remainder if abs(remainder) <= 1e-6 * max(1.0, abs(bound)) else 0.0
    by_part = np.argsort(part, kind="stable")
    starts = np.searchsorted(part[by_part], np.arange(len(shares) + 1))
    for number in order:
        columns = by_part[starts[number] : starts[number + 1]]
        if len(columns):
            yield columns, float(shares[number])


@dataclass
class _PartResult:
    chosen: np.ndarray
    status: str
    objective: float
    bound: float
    columns: np.ndarray | None = None  # the part's options, kept while it may be revisited
    lp_bound: float = math.inf  # the part's share of the LP bound, for reduced-cost fixing


def _solve_component(problem, cand, columns, rc, in_lp, bound, incumbent, solver, remaining, stats, cut_rows) -> _PartResult:
    """Reduced-cost fixing and the final MIP for one independent part of a block.

    Any plan x of the part satisfies npv x <= bound + rc x (weak duality on the part's rows),
    so with a plan worth ``lower`` in hand, options with rc < -(bound - lower) are never
    in a better plan and can be left out of the MIP.
    """
    stats["components"] += 1
    mine = np.zeros(len(cand), dtype=bool)
    mine[columns] = True
    current = incumbent[mine[incumbent]]
    lower = float(cand.npv[current].sum())
    tolerance = 1e-9 * max(1.0, abs(bound))
    if bound - lower <= tolerance:
        return _PartResult(current, "optimal", lower, max(lower, bound))
    active = columns[in_lp[columns]]
    time_left = remaining()
    if not _coupled(problem) and len(active) and (time_left is None or IMPROVE_SHARE * time_left >= improve.MIN_WINDOW_SECONDS):
        # windows of neighbouring councils find a plan near the bound far sooner than one MIP
        def solve_window(idx: np.ndarray, seconds: float) -> np.ndarray | None:
            result = _solve(problem, cand.take(idx), solver=solver, time_limit=seconds)
            return None if result.values is None else np.flatnonzero(result.values > 0.5)

        deadline = None if time_left is None else time.perf_counter() + IMPROVE_SHARE * time_left
        current = improve.improve(problem, cand, active, current, solve_window, deadline, target=bound - tolerance)
        lower = float(cand.npv[current].sum())
        if bound - lower <= tolerance:
            return _PartResult(current, "optimal", lower, max(lower, bound))
        time_left = remaining()
    small = len(columns) <= SMALL_MIP_COLUMNS
    if _no_time_for(time_left, small):
        return _PartResult(current, "time_limit", lower, bound)
    if not small and bound - lower > 1e-6 * max(1.0, abs(bound)) and len(active):
        # a short MIP over the LP's columns usually finds a better plan, which shrinks the
        # set of options that reduced-cost fixing must keep
        result = _solve(problem, cand.take(active), solver=solver,
                        time_limit=INCUMBENT_SECONDS if time_left is None else min(INCUMBENT_SECONDS, time_left / 2),
                        cuts=cut_rows(active))
        if result.values is not None and result.objective > lower:
            current, lower = active[np.flatnonzero(result.values > 0.5)], result.objective
        if bound - lower <= tolerance:
            return _PartResult(current, "optimal", lower, max(lower, bound))
    return _final_mip(problem, cand, columns, rc, bound, current, lower, solver, remaining(), cut_rows, stats)


def _final_mip(problem, cand, columns, rc, bound, current, lower, solver, time_left, cut_rows, stats=None) -> _PartResult:
    """Reduced-cost fixing against the plan ``current`` (worth ``lower``) and the MIP over the
    options left, within ``time_left`` seconds (None: no limit)."""
    slack = (bound - lower) + PRICING_TOLERANCE * max(1.0, abs(bound)) + 1e-6
    keep = columns[(rc[columns] >= -slack) | (cand.locked[columns] >= 0)]
    if stats is not None:
        stats["kept_columns"] += len(keep)
    if _no_time_for(time_left, len(keep) <= SMALL_MIP_COLUMNS):
        return _PartResult(current, "time_limit", lower, bound)
    result = _solve(problem, cand.take(keep), solver=solver, time_limit=None if time_left is None else max(0.5, time_left),
                    cuts=cut_rows(keep))
    if result.status == "infeasible":  # cannot happen once the LP was feasible; keep the plan in hand
        return _PartResult(current, "time_limit", lower, bound)
    if result.values is None or result.objective < lower:
        status = "optimal" if result.status == "optimal" else "time_limit"
        return _PartResult(current, status, lower, lower if status == "optimal" else min(bound, result.bound))
    chosen = keep[np.flatnonzero(result.values > 0.5)]
    return _PartResult(chosen, result.status, result.objective, min(bound, max(result.bound, result.objective)))


def _no_time_for(time_left: float | None, small: bool) -> bool:
    """Whether a part's MIP must not start: its time is over, or (solvers overrun tiny limits
    on big models) the part is large and its time nearly over."""
    if time_left is None:
        return False
    return time_left <= 0 or (time_left < MIN_MIP_SECONDS and not small)


def blocks(problem: Problem) -> list[list[int]]:
    """Groups of functions that can be solved apart: each function alone, unless a council's
    max_partnerships or max_hosted, or a budget, ties the functions together."""
    everything = list(range(len(problem.functions)))
    return [everything] if _coupled(problem) else [[k] for k in everything]


def _coupled(problem: Problem) -> bool:
    """Whether a budget, or a limit of a council in the run, ties partnerships together."""
    in_run = problem.eligible.any(axis=0)
    return (problem.options.budget is not None or (problem.max_partnerships[in_run] >= 0).any()
            or (problem.max_hosted[in_run] >= 0).any())


def first_phase(problem: Problem, generator, block: list[int], deadline: float | None, blocks_to_come: float,
                progress=None) -> tuple[CandidateSet, "_BlockBound | _BlockResult"]:
    """A block's candidates, LP bound (with cuts) and first plan.

    ``blocks_to_come`` counts the blocks whose first phase is still to run, this one
    included: cuts may take ``CUT_SHARE`` of this block's fair part of the time left.
    """
    cand = CandidateSet.concat([generator.function(k) for k in block], generator.width)
    cut_deadline = None if deadline is None else (
        time.perf_counter() + CUT_SHARE * max(0.0, deadline - time.perf_counter()) / max(1.0, blocks_to_come))
    return cand, _bound_block(problem, cand, block, deadline, progress, cut_deadline)


def second_phase(problem: Problem, bounded: list[tuple[int, CandidateSet, "_BlockBound | _BlockResult"]], solver: str,
                 deadline: float | None, progress=None):
    """Yields (block number, the block's chosen candidates, its _BlockResult) for each block
    after its first phase, the smallest first: a block that finishes early leaves its time
    to the larger ones after it."""
    order = sorted(bounded, key=lambda item: len(item[1]))
    results = {}
    for number, (block, cand, state) in enumerate(order):
        if isinstance(state, _BlockBound):
            results[block] = _finish_block(problem, state, solver, fair_share(deadline, len(order) - number, deadline), progress, deadline)
        else:
            results[block] = state
    if deadline is not None:
        _use_time_left(problem, {block: state for block, _, state in order}, results, solver, deadline)
    for block, cand, _ in order:
        yield block, cand.take(results[block].chosen), results[block]


def _use_time_left(problem: Problem, states: dict, results: dict, solver: str, deadline: float) -> None:
    """Gives the time that blocks finishing early left over to the parts that stopped at their
    share of it, the smallest first, updating ``results`` in place."""
    waiting = [(len(part.columns), block, number) for block, result in results.items() if isinstance(states[block], _BlockBound)
               for number, part in enumerate(result.parts) if part.status != "optimal" and part.columns is not None]
    waiting.sort()
    for count, (_, block, number) in enumerate(waiting):
        share = fair_share(deadline, len(waiting) - count, deadline)
        seconds = share - time.perf_counter()
        if seconds <= 0:
            break
        parts = list(results[block].parts)
        parts[number] = _revisit(problem, states[block], parts[number], solver, seconds)
        results[block] = _combine(states[block], parts)


def solve_exact(problem: Problem, generator, solver: str, time_limit: float | None, progress=None) -> tuple[CandidateSet, Solution]:
    """Solves every block; returns the candidates that matter for the plan and the solution.

    Two phases, so that a time limit is spent where it helps most: first every block's LP
    bound and a plan (quick, and what makes the reported gap honest and small), then the
    MIPs of the parts still open, each block taking a fair share of the time left. With
    several blocks and cores, worker processes share the blocks (``parallel.py``).
    """
    from . import workers as parallel

    started = time.perf_counter()
    deadline = None if time_limit is None else started + time_limit
    stats: dict = {"method": "exact", "blocks": []}
    all_blocks = blocks(problem)
    jobs = parallel.worker_count(problem, all_blocks)
    stats["jobs"] = jobs
    if jobs > 1:
        finished, stats["worker_peak_mb"] = parallel.solve_blocks(problem, all_blocks, solver, deadline, jobs, progress)
    else:
        bounded = []
        for number, block in enumerate(all_blocks):
            cand, state = first_phase(problem, generator, block, deadline, len(all_blocks) - number, progress)
            if isinstance(state, _BlockResult) and state.status == "infeasible":
                finished = {number: (cand.take(state.chosen), state)}  # the whole run is infeasible
                break
            bounded.append((number, cand, state))
        else:
            finished = {number: (chosen, result) for number, chosen, result in second_phase(problem, bounded, solver, deadline, progress)}
    if any(result.status == "infeasible" for _, result in finished.values()):
        return CandidateSet.empty(generator.width), Solution(np.zeros(0, dtype=np.int64), "infeasible", 0.0, 0.0,
                                                             time.perf_counter() - started, stats)
    kept_parts, statuses = [], []
    objective = bound = 0.0
    for number, block in enumerate(all_blocks):
        chosen, result = finished[number]
        stats["blocks"].append({"functions": [problem.functions[k].id for k in block], **result.stats})
        statuses.append(result.status)
        kept_parts.append(chosen)
        objective += result.objective
        bound += result.bound
    status = "optimal" if all(s == "optimal" for s in statuses) else "time_limit"
    kept = CandidateSet.concat(kept_parts, generator.width)
    return kept, Solution(np.arange(len(kept)), status, objective, max(bound, objective), time.perf_counter() - started, stats)


def solve_master(problem: Problem, generator, progress=None) -> tuple[CandidateSet, Solution]:
    """Solves the run's master problem with its method; returns candidates and the solution."""
    options = problem.options
    if options.method == "naive":
        started = time.perf_counter()
        cand = CandidateSet.concat([generator.function(k) for k in range(len(problem.functions))], generator.width)
        solution = solve_naive(problem, cand, options.solver, options.time_limit)
        solution.seconds = time.perf_counter() - started
        return cand, solution
    return solve_exact(problem, generator, options.solver, options.time_limit, progress)
