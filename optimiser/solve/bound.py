"""A block's first phase: its LP bound by column generation, tightened by divisibility cuts
(and cover cuts on the headroom rows), a first plan, and its independent parts."""

from __future__ import annotations

import logging
import time
from typing import Sequence

import numpy as np

from ..candidates.table import CandidateSet
from ..errors import SolveError
from ..problem import Problem
from ..progress import ProgressEvent, report
from .clock import elapsed, seconds_to
from .covers import CoverCut
from .heuristics import greedy, initial_columns
from . import stop
from .parts import split_parts
from .relaxation import PRICING_TOLERANCE, Relaxation
from .results import BlockBound, BlockResult

log = logging.getLogger(__name__)

MAX_CUT_ROUNDS = 30
SUPPORT_TOLERANCE = 1e-9  # an LP column's value above which it is in the solution's support
CUT_STALL = 1e-3  # stop adding cuts once a round lowers the LP bound by less than this fraction
# (later rounds cost seconds each for a few parts per million; the MIP does better with the time)


def _nothing(status: str, bound: float, stats: dict) -> BlockResult:
    return BlockResult(np.zeros(0, dtype=np.int64), status, 0.0, bound, stats)


def bound_block(problem: Problem, cand: CandidateSet, functions: Sequence[int], deadline: float | None, progress=None,
                cut_deadline: float | None = None, started: float | None = None) -> BlockBound | BlockResult:
    """First phase for one block: column generation for the LP bound, then a plan by diving.

    Each time the LP is optimal over every option, cover cuts on the headroom rows
    (``covers.py``) and divisibility cuts tighten it (rounds of
    cuts, re-pricing after each) until none is found, the bound stalls, or ``cut_deadline``
    passes. ``started`` (a ``time.perf_counter()`` instant) is when the run began, for the
    progress events' ``elapsed``.

    Returns a finished result when nothing is left to decide (no options, infeasible, or out
    of time before the LP bound was proven).
    """
    label = ",".join(problem.functions[k].id for k in functions)
    if len(cand) == 0:
        report(progress, ProgressEvent("bound", function=label, bound=0.0, incumbent=0.0, detail="proven", elapsed=elapsed(started)))
        return _nothing("optimal", 0.0, {"candidates": 0})
    relaxation = Relaxation(problem, cand, functions)
    relaxation.add(initial_columns(problem, cand, functions))
    in_lp = np.zeros(len(cand), dtype=bool)
    in_lp[relaxation.columns] = True
    rounds = cut_rounds = 0
    last_duals = last_rc = None  # of the last optimal restricted LP: a Lagrangian bound
    proven = None  # the last LP optimal over every option: (bound, values, duals, rc, columns)
    first_support = None  # the options in the first such LP's support
    current = False  # whether HiGHS holds the proven LP's solution (for diving)
    while True:
        rounds += 1
        status, bound, values, duals = relaxation.solve(seconds_to(deadline, 0.5))
        current = False
        if status == "infeasible":
            return _nothing("infeasible", 0.0, {"candidates": len(cand)})
        if status != "optimal":
            break
        rc = relaxation.reduced_costs(duals)
        last_duals, last_rc = duals, rc
        tolerance = PRICING_TOLERANCE * max(1.0, abs(bound))
        pricing_in = np.flatnonzero((rc > tolerance) & ~in_lp)
        report(progress, ProgressEvent("bound", function=label, done=len(relaxation.columns), bound=bound,
                                       detail=f"round {rounds}", elapsed=elapsed(started)))
        log.debug("%s pricing round %d: LP %.2f over %d columns, %d price in, %d cuts", label, rounds, bound,
                  len(relaxation.columns), len(pricing_in), len(relaxation.cuts))
        out_of_time = (deadline is not None and time.perf_counter() > deadline) or stop.requested()
        if len(pricing_in) == 0:
            # optimal over every option: a proven bound; then try to tighten it with cuts
            stalled = proven is not None and proven[0] - bound < CUT_STALL * max(1.0, abs(bound))
            proven, current = (bound, values, duals, rc, relaxation.columns.copy()), True
            if first_support is None:
                first_support = relaxation.columns[values > SUPPORT_TOLERANCE]
            cut_time_over = cut_deadline is not None and time.perf_counter() > cut_deadline
            if stalled or out_of_time or cut_time_over or cut_rounds >= MAX_CUT_ROUNDS:
                break
            new_cuts = relaxation.separate_covers(values)
            try:
                new_cuts += relaxation.separate(values, cut_deadline)
            except SolveError as exc:
                # cuts only tighten a bound that is already proven: the run goes on without them
                log.warning("%s: no more divisibility cuts (%s)", label, exc)
                if not new_cuts:
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
    stats = {"candidates": len(cand), "pricing_rounds": rounds, "lp_columns": len(relaxation.columns), "cut_rounds": cut_rounds}
    if proven is None:
        # out of time (or stopped) before the LP bound was proven: the best quick plan among the
        # columns at hand, bounded through the last duals of an optimal restricted LP (which are
        # y >= 0), or through y = 0 (every option's whole NPV) when no LP was solved
        active = relaxation.columns
        upper = relaxation.lagrangian_bound(np.zeros(len(relaxation.layout)), cand.value)
        if last_duals is not None:
            upper = min(upper, relaxation.lagrangian_bound(last_duals, last_rc))
        plan = greedy(problem, cand, active[np.argsort(-cand.value[active], kind="stable")])
        value = 0.0 if plan is None else float(cand.value[plan].sum())
        report(progress, ProgressEvent("bound", function=label, bound=upper, incumbent=value, detail="proven", elapsed=elapsed(started)))
        if plan is None:
            return _nothing("time_limit", upper, stats)
        return BlockResult(plan, "time_limit", value, upper, stats)

    bound, values, duals, rc, active = proven
    lp_values = np.zeros(len(cand))
    lp_values[active] = values
    incumbent = greedy(problem, cand, active[np.lexsort((-cand.value[active], -lp_values[active]))])
    dived = relaxation.dive(values, deadline) if current else None
    if dived is not None and (incumbent is None or cand.value[dived].sum() > cand.value[incumbent].sum()):
        incumbent = dived
    cut_count = len(duals) - relaxation.base_rows
    cover_cuts = sum(isinstance(cut, CoverCut) for cut in relaxation.cuts[:cut_count])
    stats.update(lp_bound=bound, cuts=cut_count, cover_cuts=cover_cuts, components=0, kept_columns=0)
    parts = tuple(split_parts(problem, cand, relaxation, duals, bound)) if incumbent is not None else ((np.arange(len(cand)), bound),)

    def cut_rows(idx: np.ndarray) -> list[tuple[np.ndarray, float]]:
        return relaxation.cut_rows(idx, cut_count)

    report(progress, ProgressEvent("bound", function=label, bound=bound, detail="proven", elapsed=elapsed(started),
                                   incumbent=None if incumbent is None else float(cand.value[incumbent].sum())))

    return BlockBound(cand, label, bound, rc, in_lp, incumbent, parts, stats, cut_rows, first_support)
