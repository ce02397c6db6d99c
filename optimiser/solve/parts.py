"""A block's independent parts, and each part's second phase: a better plan, reduced-cost
fixing and the final MIP.

Without limits that tie councils together, councils that share no option never interact:
each connected part of the "shares an option" graph is its own problem, with its own
portion of the LP bound. With a part's portion z and a plan worth L, an option whose reduced
cost is below -(z - L) cannot be in any plan worth L or more (weak duality on the part's
rows: npv x <= z + rc x), so the MIP over the remaining options has the same optimum.

Under a time limit a final MIP over (almost) every option of a large part is not started when
the time left would not see its root LP solved: it would end with neither a better plan nor a
better bound, and the part's plan so far stands with the part's LP bound. Where a limit ties
every function into one block, that time goes to larger windows instead (``improve.py``).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Callable

import numpy as np

from ..candidates.table import CandidateSet
from ..problem import Problem
from . import cuts as divisibility
from . import improve, stop
from .clock import no_time_for
from .mip import solve_mip
from .relaxation import PRICING_TOLERANCE, Relaxation
from .results import BlockBound, PartResult
from .rows import coupled

log = logging.getLogger(__name__)

INCUMBENT_SECONDS = 10.0  # for the MIP over the LP's columns that looks for a better plan
SMALL_MIP_COLUMNS = 2000  # a part with at most this many options gets its MIP whatever its time slice:
# such MIPs take well under a second, and no slice is too small for them
ALMOST_ALL = 0.9  # reduced-cost fixing that keeps this share of a part's options has fixed (almost) nothing
ROOT_SECONDS_PER_OPTION = 1e-4  # the root LP of a MIP over a large block's options takes about this much
# (East of England with headroom on every council: 17 s for 166,354 options, under load); a MIP
# stopped before its root LP is solved finds no better plan and proves no better bound
IMPROVE_FRACTION = 0.4  # of a part's time, at most this much goes to improving its plan window by window
TIED_IMPROVE_FRACTION = 0.7  # the same where a limit ties every function into one block: there the
# windows' small MIPs did better than one over the LP's columns (East of England, headroom on every council)


def split_parts(problem: Problem, cand: CandidateSet, relaxation: Relaxation, duals: np.ndarray, bound: float):
    """Yields each independent part of a block as (its options, its portion of the LP bound),
    the smallest part first.

    A part's portion is what its rows contribute to the dual objective y b (each row belongs to the
    part of the options entering it; a cut's rows lie in one part, since cuts are separated
    per cluster of the LP's support). With a limit that ties parts together the whole block is
    one part.
    """
    if coupled(problem):
        yield np.arange(len(cand)), bound
        return
    rows = relaxation.rows_of
    total = relaxation.packing_rows
    label = divisibility.row_labels(rows, total)
    used = np.unique(label[rows[:, 0]])
    renumber = np.full(total, -1, dtype=np.int64)
    renumber[used] = np.arange(len(used))
    part = renumber[label[rows[:, 0]]]  # of each option
    owner = relaxation.matrix.row_owner(part)  # of each row
    y = duals
    priced = np.flatnonzero(owner >= 0)
    portions = np.bincount(owner[priced], weights=y[priced] * relaxation.rhs[priced], minlength=len(used))
    for number, cut in enumerate(relaxation.cuts[: len(y) - relaxation.base_rows]):
        portions[owner[relaxation.packing_first + cut.anchor]] += y[relaxation.base_rows + number] * cut.rhs
    # the parts' bounds add up to the LP bound up to rounding, which goes to the largest part
    remainder = bound - portions.sum()
    if abs(remainder) > 1e-6 * max(1.0, abs(bound)):
        log.warning("LP bound and dual objective differ by %.6g; using the larger bound for every part", remainder)
        portions += max(0.0, remainder)
    order = np.argsort(np.bincount(part, minlength=len(portions)))
    portions[order[-1]] += remainder if abs(remainder) <= 1e-6 * max(1.0, abs(bound)) else 0.0
    by_part = np.argsort(part, kind="stable")
    starts = np.searchsorted(part[by_part], np.arange(len(portions) + 1))
    for number in order:
        columns = by_part[starts[number] : starts[number + 1]]
        if len(columns):
            yield columns, float(portions[number])


def solve_part(problem: Problem, cand: CandidateSet, columns: np.ndarray, rc: np.ndarray, in_lp: np.ndarray, bound: float,
               incumbent: np.ndarray, solver: str, remaining: Callable[[], float | None], cut_rows) -> PartResult:
    """The second phase of one part (options ``columns``, LP bound portion ``bound``): a better
    plan window by window and from the LP's columns, then reduced-cost fixing against the best
    plan and the final MIP. ``remaining()`` gives the seconds left of the part's time slice."""
    mine = np.zeros(len(cand), dtype=bool)
    mine[columns] = True
    current = incumbent[mine[incumbent]]
    lower = float(cand.value[current].sum())
    tolerance = 1e-9 * max(1.0, abs(bound))
    if bound - lower <= tolerance:
        return PartResult(current, "optimal", lower, max(lower, bound))
    if stop.requested():
        return PartResult(current, "time_limit", lower, bound)
    active = columns[in_lp[columns]]
    time_left = remaining()
    tied = coupled(problem)

    def by_windows(plan: np.ndarray, seconds: float | None, sizes) -> np.ndarray:
        """The plan improved window by window for at most ``seconds``."""
        def solve_window(idx: np.ndarray, start: np.ndarray, held: np.ndarray, limit: float) -> np.ndarray | None:
            result = solve_mip(problem, cand.take(idx), solver_name=solver, time_limit=limit, start=start,
                               held=cand.take(held) if tied else None, window=True)
            return None if result.values is None else result.chosen

        deadline = None if seconds is None else time.perf_counter() + seconds
        return improve.improve(problem, cand, active, plan, solve_window, deadline, target=bound - tolerance, sizes=sizes)

    fraction = TIED_IMPROVE_FRACTION if tied else IMPROVE_FRACTION
    if len(active) and (time_left is None or fraction * time_left >= improve.MIN_WINDOW_SECONDS):
        # windows of neighbouring councils find a plan near the bound far sooner than one MIP
        current = by_windows(current, None if time_left is None else fraction * time_left,
                             improve.TIED_WINDOW_COUNCILS if tied else (improve.WINDOW_COUNCILS,))
        lower = float(cand.value[current].sum())
        if bound - lower <= tolerance:
            return PartResult(current, "optimal", lower, max(lower, bound))
        time_left = remaining()
    small = len(columns) <= SMALL_MIP_COLUMNS
    if no_time_for(time_left, small):
        return PartResult(current, "time_limit", lower, bound)
    if not small and bound - lower > 1e-6 * max(1.0, abs(bound)) and len(active):
        # a short MIP over the LP's columns usually finds a better plan, which shrinks the
        # set of options that reduced-cost fixing must keep
        result = solve_mip(problem, cand.take(active), solver_name=solver,
                           time_limit=INCUMBENT_SECONDS if time_left is None else min(INCUMBENT_SECONDS, time_left / 2),
                           cuts=cut_rows(active), start=positions_of(current, active))
        if result.values is not None and result.objective > lower:
            current, lower = active[result.chosen], result.objective
        if bound - lower <= tolerance:
            return PartResult(current, "optimal", lower, max(lower, bound))
    # under a tie the windows, not a MIP over the whole problem again, use the time a final MIP
    # could not pay for
    larger_windows = (lambda plan, seconds: by_windows(plan, seconds, improve.LATE_TIED_WINDOW_COUNCILS)) if tied and len(active) else None
    return final_mip(problem, cand, columns, rc, bound, current, lower, solver, remaining(), cut_rows, larger_windows)


def final_mip(problem: Problem, cand: CandidateSet, columns: np.ndarray, rc: np.ndarray, bound: float, current: np.ndarray,
              lower: float, solver: str, time_left: float | None, cut_rows,
              instead: Callable[[np.ndarray, float], np.ndarray] | None = None) -> PartResult:
    """Reduced-cost fixing against the plan ``current`` (worth ``lower``) and the MIP over the
    options left, within ``time_left`` seconds (None: no limit). The result's ``kept`` counts
    the options fixing kept.

    When that MIP cannot pay (:func:`cannot_pay`), ``instead(plan, seconds)``, if given, may
    improve the plan in the time left; otherwise the plan in hand stands."""
    slack = (bound - lower) + PRICING_TOLERANCE * max(1.0, abs(bound)) + 1e-6
    keep = columns[(rc[columns] >= -slack) | (cand.locked[columns] >= 0)]
    kept = len(keep)
    if no_time_for(time_left, len(keep) <= SMALL_MIP_COLUMNS):
        return PartResult(current, "time_limit", lower, bound, kept=kept)
    if cannot_pay(kept, len(columns), time_left):
        if instead is not None and time_left >= improve.MIN_WINDOW_SECONDS:
            current = instead(current, time_left)
            lower = float(cand.value[current].sum())
            if bound - lower <= 1e-9 * max(1.0, abs(bound)):
                return PartResult(current, "optimal", lower, max(lower, bound), kept=kept)
        # the plan in hand stands, with the part's LP bound
        return PartResult(current, "time_limit", lower, bound, kept=kept)
    result = solve_mip(problem, cand.take(keep), solver_name=solver, time_limit=None if time_left is None else max(0.5, time_left),
                       cuts=cut_rows(keep), start=positions_of(current, keep))
    if result.status == "infeasible":  # cannot happen once the LP was feasible; keep the plan in hand
        return PartResult(current, "time_limit", lower, bound, kept=kept)
    if result.values is None or result.objective < lower:
        status = "optimal" if result.status == "optimal" else "time_limit"
        return PartResult(current, status, lower, lower if status == "optimal" else min(bound, result.bound), kept=kept)
    return PartResult(keep[result.chosen], result.status, result.objective, min(bound, max(result.bound, result.objective)), kept=kept)


def cannot_pay(kept: int, options: int, time_left: float | None) -> bool:
    """Whether a final MIP over ``kept`` of a part's ``options`` options is not worth starting
    with ``time_left`` seconds: fixing removed (almost) none, so it is the part's whole problem
    again, and the time would not see its root LP solved."""
    if time_left is None or kept <= SMALL_MIP_COLUMNS or kept < ALMOST_ALL * options:
        return False
    return time_left < ROOT_SECONDS_PER_OPTION * kept


def positions_of(plan: np.ndarray, options: np.ndarray) -> np.ndarray | None:
    """The positions in ``options`` of a plan's options, for a MIP's start; None when the plan
    has an option outside them."""
    if len(options) == 0:
        return None if len(plan) else np.zeros(0, dtype=np.int64)
    order = np.argsort(options, kind="stable")
    at = np.minimum(np.searchsorted(options, plan, sorter=order), len(options) - 1)
    found = order[at]
    return found if (options[found] == plan).all() else None


def revisit(problem: Problem, block: BlockBound, part: PartResult, solver: str, seconds: float) -> PartResult:
    """Another final MIP for a part that stopped at the end of its time slice, with ``seconds``
    more. The part keeps the count of options its first pass kept."""
    found = final_mip(problem, block.cand, part.columns, block.rc, part.lp_bound, part.chosen, part.objective, solver,
                      seconds, block.cut_rows)
    found = dataclasses.replace(found, kept=part.kept)
    if found.status != "optimal":
        # the bound proven before stays proven
        found = dataclasses.replace(found, columns=part.columns, lp_bound=part.lp_bound, bound=min(found.bound, part.bound))
    return found
