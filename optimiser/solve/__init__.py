"""The master problem: choose candidate options that maximise total NPV under every limit.

The rows come from the limits registry (``optimiser.rules.limits``: packing, locked,
max_partnerships, max_hosted, budget) through ``rows``. Two methods solve it, with the same
rows: ``naive`` puts every option into one MIP (``mip``), the reference; ``exact``
(``exact``) proves the same optimum far faster by LP bounds (``relaxation``, ``cuts``,
``bound``) and reduced-cost fixing per independent part (``parts``, ``improve``), under a
time limit (``clock``). ``results`` holds the frozen records the stages hand on;
``workers`` runs the exact method's blocks in worker processes when the caller passes
``workers.solve_blocks`` as ``run_blocks``. Silent HiGHS objects come from ``optimiser.highs``.

Words: a *block* is a set of functions solved together, a *part* an independent piece of a
block, an *option* one candidate (member set, depth, host, platform).
"""

from __future__ import annotations

import dataclasses
import time

from ..candidates.table import CandidateSet
from ..problem import Problem
from .exact import BlockRunner, solve_exact
from . import stop
from .naive import solve_naive
from .results import Solution, relative_gap


def solve_master(problem: Problem, generator, progress=None, run_blocks: BlockRunner | None = None) -> tuple[CandidateSet, Solution]:
    """Solves the run's master problem with its method; returns the options and the solution.

    ``progress`` receives :class:`optimiser.progress.ProgressEvent` s; ``run_blocks`` runs the
    exact method's blocks (e.g. ``optimiser.solve.workers.solve_blocks``; default: in this
    process, one after another).
    """
    options = problem.options
    if options.method == "naive":
        started = time.perf_counter()
        cand = CandidateSet.concat([generator.function(k) for k in range(len(problem.functions))], generator.width)
        cand, solution = cand, solve_naive(problem, cand, options.solver, options.time_limit, started)
    else:
        cand, solution = solve_exact(problem, generator, options.solver, options.time_limit, progress, run_blocks)
    if solution.status == "time_limit" and stop.requested():
        solution = dataclasses.replace(solution, status="interrupted")
    return cand, solution


__all__ = ["Solution", "relative_gap", "solve_master"]
