"""The exact method: blocks, their two phases, and the time limit spent where it helps most.

Functions are solved apart unless a limit ties them together (a *block*), and within a
block, councils that share no option form independent *parts*. In a first phase each
block's LP relaxation is solved by column generation in HiGHS (every option priced against
the duals at once, the best added, warm-started), tightened by rounds of divisibility cuts
(``cuts.py``) and, paid in cash, cover cuts on the headroom rows (``covers.py``) while they lower the bound noticeably, and a plan is found by diving in the LP
(``bound.py``). In the second phase each part's plan is improved window by window
(``improve.py``) and by a short MIP over the LP's columns, and then *reduced-cost fixing*
leaves a MIP over few options with the same optimum (``parts.py``). The bound holds for any
plan x because c x = y A x + rc x <= y b + rc x = z + rc x when every reduced cost is <= 0
(LP optimal over all options) and the duals y have the rows' signs.

Under a time limit the bounds come first and the MIPs split what is left, the smallest
blocks and parts first; parts that reach the end of their time slice before their MIP
finishes get the time that others left over in a last pass. The plan returned is the best
found, with its proven gap. The blocks may be run elsewhere (worker processes,
``workers.py``) by a runner the caller passes in; by default they run here.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Callable

import numpy as np

from ..candidates.table import CandidateSet
from ..problem import Problem
from ..progress import ProgressEvent, report
from .bound import bound_block
from .clock import elapsed, seconds_to, time_slice
from .mip import solve_mip
from . import clock, stop
from .parts import revisit, solve_part
from .results import BlockBound, BlockResult, BlockRun, PartResult, Solution
from .rows import coupled

log = logging.getLogger(__name__)

CUT_FRACTION = 0.3  # of a block's slice of a time limit, at most this much goes to cuts

#: solves the blocks and returns their results:
#: run_blocks(problem, generator, blocks, solver, deadline, progress, started) -> BlockRun
BlockRunner = Callable[..., BlockRun]


def blocks(problem: Problem) -> list[list[int]]:
    """Groups of functions that can be solved apart: each function alone, unless a limit (a
    council's max_partnerships or max_hosted, or a budget) ties the functions together."""
    everything = list(range(len(problem.functions)))
    return [everything] if coupled(problem) else [[k] for k in everything]


def first_phase(problem: Problem, generator, block: list[int], deadline: float | None, blocks_to_come: float,
                progress=None, started: float | None = None) -> tuple[CandidateSet, BlockBound | BlockResult]:
    """A block's options, LP bound (with cuts) and first plan.

    ``generator`` makes each function's candidates (``function(k)``, the members' ``width``)
    and hears which of them were in the support of the block's first proven LP
    (``note_lp_support``).

    ``blocks_to_come`` counts the blocks whose first phase is still to run, this one
    included: cuts may take ``CUT_FRACTION`` of this block's even slice of the time left.
    """
    cand = CandidateSet.concat([generator.function(k) for k in block], generator.width)
    cut_deadline = None if deadline is None else (
        time.perf_counter() + CUT_FRACTION * max(0.0, deadline - time.perf_counter()) / max(1.0, blocks_to_come))
    state = bound_block(problem, cand, block, deadline, progress, cut_deadline, started)
    generator.note_lp_support(block, state.first_support if isinstance(state, BlockBound) else None)
    return cand, state


def combine(block: BlockBound, parts: list[PartResult]) -> BlockResult:
    """A block's result from its parts' results."""
    objective = sum(part.objective for part in parts)
    proven = sum(part.bound for part in parts)
    status = "optimal" if all(part.status == "optimal" for part in parts) else "time_limit"
    chosen = np.concatenate([part.chosen for part in parts]) if parts else np.zeros(0, dtype=np.int64)
    stats = {**block.stats, "components": len(parts), "kept_columns": sum(part.kept for part in parts)}
    return BlockResult(chosen, status, objective, min(block.bound, max(proven, objective)), stats, tuple(parts))


def finish_block(problem: Problem, block: BlockBound, solver: str, deadline: float | None, progress=None,
                 end: float | None = None, started: float | None = None) -> BlockResult:
    """Second phase for one block: reduced-cost fixing and a MIP for each open part.

    ``deadline`` ends this block's slice of the time; ``end`` the run's (default: the same).
    """
    end = deadline if end is None else end
    cand, bound = block.cand, block.bound
    if block.incumbent is None:
        # no quick plan places every locked group: the MIP over all options decides
        result = solve_mip(problem, cand, solver_name=solver, time_limit=seconds_to(deadline, 0.5),
                           cuts=block.cut_rows(np.arange(len(cand))))
        if result.status == "infeasible" or result.values is None:
            return BlockResult(np.zeros(0, dtype=np.int64), result.status, 0.0, bound, block.stats)
        report(progress, ProgressEvent("mip", function=block.label, incumbent=result.objective, bound=min(bound, result.bound),
                                       done=len(cand), total=len(cand), elapsed=elapsed(started)))
        return BlockResult(result.chosen, result.status, result.objective, min(bound, result.bound), block.stats)
    parts = []
    owner = np.full(len(cand), -1, dtype=np.int64)  # each option's part, for the progress of the plan
    for number, (columns, _) in enumerate(block.parts):
        owner[columns] = number
    placed = block.incumbent[owner[block.incumbent] >= 0]  # (every option is in a part; this only keeps bincount safe)
    first_plan = np.bincount(owner[placed], weights=cand.value[placed], minlength=len(block.parts))
    plan_so_far, bound_so_far = float(first_plan.sum()), bound
    for number, (columns, part_bound) in enumerate(block.parts):
        # under a time limit each part gets an even slice of what is left, the easy ones first
        until = time_slice(deadline, len(block.parts) - number, end)
        part = solve_part(problem, cand, columns, block.rc, block.in_lp, part_bound, block.incumbent, solver,
                          lambda: None if until is None else until - clock.now(), block.cut_rows)
        if part.status != "optimal":
            part = dataclasses.replace(part, columns=columns, lp_bound=part_bound)
        parts.append(part)
        plan_so_far += part.objective - first_plan[number]
        bound_so_far += min(part.bound, part_bound) - part_bound
        report(progress, ProgressEvent("mip", function=block.label, part=number + 1, parts=len(block.parts),
                                       bound=min(bound, max(bound_so_far, plan_so_far)), incumbent=plan_so_far,
                                       elapsed=elapsed(started)))
    result = combine(block, parts)
    log.info("%s: LP bound %.2f, plan %.2f over %d independent parts, %d of %d options kept", block.label, bound, result.objective,
             result.stats["components"], result.stats["kept_columns"], len(cand))
    report(progress, ProgressEvent("mip", function=block.label, done=result.stats["kept_columns"], total=len(cand),
                                   incumbent=result.objective, bound=result.bound, elapsed=elapsed(started)))
    return result


def second_phase(problem: Problem, bounded: list[tuple[int, CandidateSet, BlockBound | BlockResult]], solver: str,
                 deadline: float | None, progress=None, started: float | None = None):
    """Yields (block number, the block's chosen options, its BlockResult) for each block
    after its first phase, the smallest first: a block that finishes early leaves its time
    to the larger ones after it."""
    order = sorted(bounded, key=lambda item: len(item[1]))
    results = {}
    for number, (block, cand, state) in enumerate(order):
        if isinstance(state, BlockBound):
            until = time_slice(deadline, len(order) - number, deadline)
            results[block] = finish_block(problem, state, solver, until, progress, deadline, started)
        else:
            results[block] = state
    if deadline is not None:
        use_time_left(problem, {block: state for block, _, state in order}, results, solver, deadline, progress, started)
    for block, cand, _ in order:
        yield block, cand.take(results[block].chosen), results[block]


def use_time_left(problem: Problem, states: dict, results: dict, solver: str, deadline: float, progress=None,
                  started: float | None = None) -> None:
    """Gives the time that blocks finishing early left over to the parts that stopped at the
    end of their slice of it, the smallest first. ``results`` (block number -> BlockResult)
    is the caller's table of results so far: a block whose part is revisited gets a new
    result in it."""
    waiting = [(len(part.columns), block, number) for block, result in results.items() if isinstance(states[block], BlockBound)
               for number, part in enumerate(result.parts) if part.status != "optimal" and part.columns is not None]
    waiting.sort()
    for count, (_, block, number) in enumerate(waiting):
        seconds = time_slice(deadline, len(waiting) - count, deadline) - clock.now()
        if seconds <= 0 or stop.requested():
            break
        parts = list(results[block].parts)
        parts[number] = revisit(problem, states[block], parts[number], solver, seconds)
        results[block] = combine(states[block], parts)
        report(progress, ProgressEvent("mip", function=states[block].label, part=number + 1, parts=len(parts),
                                       bound=results[block].bound, incumbent=results[block].objective, elapsed=elapsed(started)))


def solve_blocks_here(problem: Problem, generator, all_blocks: list[list[int]], solver: str, deadline: float | None,
                      progress=None, started: float | None = None) -> BlockRun:
    """Every block's result, solved in this process: every first phase, then the second."""
    bounded = []
    for number, block in enumerate(all_blocks):
        cand, state = first_phase(problem, generator, block, deadline, len(all_blocks) - number, progress, started)
        if isinstance(state, BlockResult) and state.status == "infeasible":
            return BlockRun({number: (cand.take(state.chosen), state)})  # the whole run is infeasible
        bounded.append((number, cand, state))
    return BlockRun({number: (chosen, result) for number, chosen, result in second_phase(problem, bounded, solver, deadline,
                                                                                       progress, started)})


def solve_exact(problem: Problem, generator, solver: str, time_limit: float | None, progress=None,
                run_blocks: BlockRunner | None = None) -> tuple[CandidateSet, Solution]:
    """Solves every block; returns the options that matter for the plan and the solution.

    Two phases, so that a time limit is spent where it helps most: first every block's LP
    bound and a plan (quick, and what makes the reported gap honest and small), then the
    MIPs of the parts still open, each block taking an even slice of the time left.
    ``run_blocks`` runs the blocks (``workers.solve_blocks`` spreads them over worker
    processes); by default :func:`solve_blocks_here`.
    """
    started = time.perf_counter()
    deadline = None if time_limit is None else started + time_limit
    all_blocks = blocks(problem)
    report(progress, ProgressEvent("solve", total=len(all_blocks), elapsed=0.0))
    run = (run_blocks or solve_blocks_here)(problem, generator, all_blocks, solver, deadline, progress, started)
    finished = run.results
    stats: dict = {"method": "exact", "blocks": [], "jobs": run.jobs}
    if run.worker_peak_mb is not None:
        stats["worker_peak_mb"] = list(run.worker_peak_mb)
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
