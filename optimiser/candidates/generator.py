"""Every candidate of a run, function by function."""

from __future__ import annotations

import logging

import numpy as np

from ..problem import Problem
from ..progress import ProgressEvent, report
from .enumerate import CHUNK, enumeration
from .evaluate import evaluate_sets_by_row
from .locked import locked_candidates
from .table import CandidateSet
from .worth import GroupWorth

log = logging.getLogger(__name__)


class CandidateGenerator:
    """Candidates function by function, sharing enumerations between functions whose
    eligible councils and rules are the same.

    Sets that contain a member of a locked group of the same function are left out: those
    councils are committed for that function already; the locked group's own options are
    included (and, for an existing group kept under --keep-existing, those of every set that
    grows from it).

    With ``record_worth``, pricing a function whose enumeration is every group the rules
    allow (no council committed by a locked group) also records what each group is worth on
    its own, in ``worth`` (function index -> :class:`GroupWorth`): SPEC §6's stability needs
    it for every group, and the arithmetic is done here already.
    """

    def __init__(self, problem: Problem, progress=None, *, record_worth: bool = False):
        self.problem = problem
        self.progress = progress
        self.record_worth = record_worth
        self.worth: dict[int, GroupWorth] = {}
        self._counts: dict[int, int] = {}  # candidates of each function made so far
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

    def note_lp_support(self, block: list[int], support: np.ndarray | None) -> None:
        """Records, for the functions of ``block`` whose worth is recorded, which of their
        groups were in the support of the block's first LP proven optimal (``support``:
        indices into the block's candidates, the functions' candidates one after another as
        :meth:`function` made them), or None when no LP was proven."""
        offset = 0
        for k in block:
            count, worth = self._counts[k], self.worth.get(k)
            if worth is not None:
                if support is not None:
                    # every candidate of a function whose worth is recorded comes from its enumeration
                    positions = np.concatenate(worth.candidate_positions + [np.zeros(0, dtype=np.int64)])
                    mine = support[(support >= offset) & (support < offset + count)] - offset
                    worth.lp_support = np.unique(positions[mine])
                worth.candidate_positions = []  # needed no more, and as long as the candidates
            offset += count

    def function(self, k: int) -> CandidateSet:
        """Every candidate option of function k (locked groups' options first)."""
        parts = list(self._locked[k])
        levels = self.sets(k)
        n_sets = sum(len(s) for s in levels)
        priced = 0
        worth = GroupWorth() if self.record_worth and not self.committed[k].any() else None
        for sets in levels:
            for start in range(0, len(sets), CHUNK):
                if priced:  # pricing many groups (the expected objective) can take minutes: say how far it is
                    report(self.progress, ProgressEvent("candidates", function=self.problem.functions[k].id, done=priced,
                                                        total=n_sets, detail="pricing"))
                chunk = sets[start : start + CHUNK]
                found = [] if worth is not None else None
                rows, options = evaluate_sets_by_row(self.problem, k, chunk, worth=found)
                parts.append(options)
                if worth is not None:
                    worth.add(chunk, *found[0], candidates=rows)
                priced += len(chunk)
        if worth is not None:
            self.worth[k] = worth
        result = CandidateSet.concat(parts, self.width)
        self._counts[k] = len(result)
        log.info("candidates for %s: %d groups allowed, %d options with positive NPV", self.problem.functions[k].id, n_sets, len(result))
        report(self.progress, ProgressEvent("candidates", function=self.problem.functions[k].id, done=n_sets, total=len(result)))
        return result


def generate(problem: Problem, progress=None) -> CandidateSet:
    """Every candidate option of every function, with locked groups' options included."""
    generator = CandidateGenerator(problem, progress)
    return CandidateSet.concat([generator.function(k) for k in range(len(problem.functions))], generator.width)
