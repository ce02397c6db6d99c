"""The master MIP handed to HiGHS as arrays, without building it in PuLP.

PuLP states a model one Python expression per row and then copies it into HiGHS term by
term: on the MIP over every option of a large block (166,354 options, 866 rows) that takes
longer than HiGHS is given, and it runs outside any time limit. Here the rows of
:func:`optimiser.solve.rows.mip_rows` go to HiGHS as one row-wise sparse matrix.

Two more things only the direct route allows. A plan already in hand is handed to HiGHS as a
start (a MIP never ends worse than the plan it was given, and HiGHS's heuristics search
around it). And presolve, which HiGHS runs to the end whatever its time limit, is left out
when the slice is short for the model's size (:func:`use_presolve`). Where a limit ties the
options together, HiGHS gives more of its effort to heuristics.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np

from ..errors import SolveError
from ..highs import new_highs
from . import stop
from .rows import MipRows

log = logging.getLogger(__name__)

#: HiGHS's presolve of these models (set packing with knapsack rows) costs about this many
#: seconds per million nonzeros when it runs, and it does not look at the time limit: a
#: slice shorter than PRESOLVE_SHARE_LIMIT times that estimate runs without presolve
PRESOLVE_SECONDS_PER_MILLION = 50.0  # East of England's MIP over the LP's columns: 6.8 s for 0.15m
PRESOLVE_SHARE_LIMIT = 4.0
PRESOLVE_ALWAYS_NONZEROS = 20_000  # below this many nonzeros presolve takes well under a second
#: HiGHS's share of its effort that goes to primal heuristics (its default 0.05) where a limit
#: (headroom, a budget, a council's partnership or host limit) ties the options together: there
#: its default finds a worse plan in a minute (Kent's final MIP with the shipped headrooms:
#: £183.64m at 0.05, £184.26m at 0.2, £184.28m at 0.5, the bounds within 0.06% of each other;
#: benchmarks/README.md)
TIED_HEURISTIC_EFFORT = 0.5


@dataclass(frozen=True)
class HighsOutcome:
    """What HiGHS ended with: status optimal / time_limit / no_solution / infeasible, the
    column values (None without a plan) and the proven bound (NaN when HiGHS gives none)."""

    status: str
    values: np.ndarray | None
    bound: float
    presolve: bool


def use_presolve(nonzeros: int, time_limit: float | None) -> bool:
    """Whether HiGHS should presolve a MIP with ``nonzeros`` nonzeros given ``time_limit``
    seconds (None: no limit)."""
    if time_limit is None or nonzeros <= PRESOLVE_ALWAYS_NONZEROS:
        return True
    return time_limit >= PRESOLVE_SHARE_LIMIT * PRESOLVE_SECONDS_PER_MILLION * nonzeros / 1e6


def row_matrix(rows: MipRows) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rows as HiGHS takes them: row starts, column indices, values, lower and upper bounds."""
    lengths = np.array([len(cols) for cols in rows.columns], dtype=np.int64)
    starts = np.r_[0, np.cumsum(lengths)[:-1]] if len(lengths) else np.zeros(0, dtype=np.int64)
    index = np.concatenate(rows.columns).astype(np.int32) if len(lengths) else np.zeros(0, dtype=np.int32)
    value = np.concatenate(rows.values).astype(float) if len(lengths) else np.zeros(0)
    rhs = np.asarray(rows.rhs, dtype=float)
    senses = np.asarray(rows.senses)
    lower = np.where(senses == "<=", -np.inf, rhs)
    upper = np.where(senses == ">=", np.inf, rhs)
    return starts.astype(np.int32), index, value, lower, upper


def solve_highs(objective: np.ndarray, rows: MipRows, time_limit: float | None, gap: float,
                start: np.ndarray | None = None, tied: bool = False) -> HighsOutcome:
    """Maximises ``objective`` over binary columns subject to ``rows``.

    ``start`` (positions of the columns set to 1 in a plan that satisfies the rows) is handed
    to HiGHS as its first plan; ``tied`` says that rows other than packing rows tie the
    columns together, where HiGHS spends more of its time on heuristics."""
    import highspy

    started = time.perf_counter()
    n = len(objective)
    starts, index, value, lower, upper = row_matrix(rows)
    presolve = use_presolve(len(index), time_limit)
    if n == 0:  # HiGHS calls a model without columns empty rather than solve it
        fits = bool(np.all((lower <= 1e-9) & (upper >= -1e-9)))
        return HighsOutcome("optimal", np.zeros(0), 0.0, presolve) if fits else HighsOutcome("infeasible", None, math.nan, presolve)
    h = new_highs()
    stop.listen(h)
    h.setOptionValue("mip_rel_gap", gap)
    h.setOptionValue("presolve", "on" if presolve else "off")
    if tied:
        h.setOptionValue("mip_heuristic_effort", TIED_HEURISTIC_EFFORT)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    inf = highspy.kHighsInf
    h.addVars(n, np.zeros(n), np.ones(n))
    if n:
        h.changeColsCost(n, np.arange(n, dtype=np.int32), np.asarray(objective, dtype=float))
        h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger))
    if len(starts):
        h.addRows(len(starts), np.where(np.isfinite(lower), lower, -inf), np.where(np.isfinite(upper), upper, inf),
                  len(index), starts, index, value)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    if start is not None and n:
        # with a plan in hand, HiGHS's feasibility jump only looks for a first plan, and on
        # large models it runs for many seconds without looking at the time limit
        h.setOptionValue("mip_heuristic_run_feasibility_jump", False)
        plan = np.zeros(n)
        plan[np.asarray(start, dtype=np.int64)] = 1.0
        h.setSolution(n, np.arange(n, dtype=np.int32), plan)
    built = time.perf_counter()
    h.run()
    outcome = read_outcome(h, n, presolve)
    log.debug("highs MIP: %d columns, %d rows, %d nonzeros, limit %s s, presolve %s: built in %.2fs, solved in %.2fs (%s)",
              n, len(starts), len(index), "none" if time_limit is None else f"{time_limit:.1f}", "on" if presolve else "off",
              built - started, time.perf_counter() - built, outcome.status)
    return outcome


def read_outcome(h, n: int, presolve: bool) -> HighsOutcome:
    """HiGHS's status, plan and bound (the objective's sense is HiGHS's own: maximise)."""
    import highspy

    status = h.getModelStatus()
    info = h.getInfo()
    S = highspy.HighsModelStatus
    bound = info.mip_dual_bound if math.isfinite(info.mip_dual_bound) else math.nan
    has_solution = info.primal_solution_status == 2
    values = np.asarray(h.getSolution().col_value, dtype=float)[:n] if has_solution else None
    if status == S.kOptimal:
        return HighsOutcome("optimal", values, bound, presolve)
    if status in (S.kInfeasible, S.kUnboundedOrInfeasible):
        return HighsOutcome("infeasible", None, math.nan, presolve)
    if status in (S.kTimeLimit, S.kIterationLimit, S.kInterrupt, S.kSolutionLimit):
        return HighsOutcome("time_limit" if has_solution else "no_solution", values, bound if math.isfinite(bound) else math.inf,
                            presolve)
    raise SolveError(f"HiGHS stopped with status {h.modelStatusToString(status)}")
