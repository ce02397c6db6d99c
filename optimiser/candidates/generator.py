"""Every candidate of a run, function by function."""

from __future__ import annotations

import logging

import numpy as np

from ..problem import Problem
from ..progress import ProgressEvent, report
from .enumerate import CHUNK, enumerate_sets
from .evaluate import evaluate_sets
from .locked import locked_candidates
from .table import CandidateSet

log = logging.getLogger(__name__)


def enumeration(problem: Problem, k: int, memo: dict, committed: np.ndarray | None = None) -> list[np.ndarray]:
    """The member sets of function k (:func:`enumerate_sets`) over its eligible councils not
    ``committed`` (an (n,) mask), shared through ``memo`` by functions whose eligible councils
    and rules are the same."""
    committed = np.zeros(len(problem.codes), dtype=bool) if committed is None else committed
    key = (problem.eligible[k].tobytes(), committed.tobytes(), problem.functions[k].geography, int(problem.max_size[k]))
    if key not in memo:
        memo[key] = enumerate_sets(problem, k, np.flatnonzero(problem.eligible[k] & ~committed))
    return memo[key]


class CandidateGenerator:
    """Candidates function by function, sharing enumerations between functions whose
    eligible councils and rules are the same.

    Sets that contain a member of a locked group of the same function are left out: those
    councils are committed for that function already; the locked group's own options are
    included (and, for an existing group kept under --keep-existing, those of every set that
    grows from it).
    """

    def __init__(self, problem: Problem, progress=None):
        self.problem = problem
        self.progress = progress
        self.width = max(int(problem.max_size.max()), max((len(g.members) for g in problem.locked), default=2))
        self.committed = np.zeros_like(problem.eligible)
        for group in problem.locked:
            self.committed[group.function_index, group.members] = True
        self._sets: dict[tuple, list[np.ndarray]] = {}
        # evaluated up front, so a locked group that breaks a rule fails before any work
        # (a kept existing group grows only by councils committed to no other group)
        free = problem.eligible & ~self.committed
        self._locked = {k: locked_candidates(problem, k, free) for k in range(len(problem.functions))}

    def sets(self, k: int) -> list[np.ndarray]:
        return enumeration(self.problem, k, self._sets, self.committed[k])

    def function(self, k: int) -> CandidateSet:
        """Every candidate option of function k (locked groups' options first)."""
        parts = list(self._locked[k])
        levels = self.sets(k)
        n_sets = sum(len(s) for s in levels)
        priced = 0
        for sets in levels:
            for start in range(0, len(sets), CHUNK):
                if priced:  # pricing many groups (the expected objective) can take minutes: say how far it is
                    report(self.progress, ProgressEvent("candidates", function=self.problem.functions[k].id, done=priced,
                                                        total=n_sets, detail="pricing"))
                chunk = sets[start : start + CHUNK]
                parts.append(evaluate_sets(self.problem, k, chunk))
                priced += len(chunk)
        result = CandidateSet.concat(parts, self.width)
        log.info("candidates for %s: %d groups allowed, %d options with positive NPV", self.problem.functions[k].id, n_sets, len(result))
        report(self.progress, ProgressEvent("candidates", function=self.problem.functions[k].id, done=n_sets, total=len(result)))
        return result


def generate(problem: Problem, progress=None) -> CandidateSet:
    """Every candidate option of every function, with locked groups' options included."""
    generator = CandidateGenerator(problem, progress)
    return CandidateSet.concat([generator.function(k) for k in range(len(problem.functions))], generator.width)
