"""The naive method, the reference: every option of every function in one MIP."""

from __future__ import annotations

import time

import numpy as np

from ..candidates.table import CandidateSet
from ..problem import Problem
from .mip import MipResult, solve_mip
from .results import Solution


def solution_of(result: MipResult, seconds: float, stats: dict) -> Solution:
    """The Solution a MIP's result amounts to, with the seconds it took."""
    if result.status == "infeasible":
        return Solution(np.zeros(0, dtype=np.int64), "infeasible", 0.0, 0.0, seconds, stats)
    if result.values is None:
        return Solution(np.zeros(0, dtype=np.int64), "time_limit", 0.0, result.bound, seconds, stats)
    status = "optimal" if result.status == "optimal" else "time_limit"
    return Solution(result.chosen, status, result.objective, result.bound, seconds, stats)


def solve_naive(problem: Problem, cand: CandidateSet, solver: str, time_limit: float | None,
                started: float | None = None) -> Solution:
    """The MIP over every option of ``cand``; ``seconds`` counts from ``started`` (default: now)."""
    started = time.perf_counter() if started is None else started
    result = solve_mip(problem, cand, solver_name=solver, time_limit=time_limit)
    return solution_of(result, time.perf_counter() - started, {"method": "naive", "columns": len(cand)})
