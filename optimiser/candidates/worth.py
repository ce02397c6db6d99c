"""What each group of a function's enumeration is worth on its own (SPEC §6's v(G)).

The plan's stability (``analysis.shares``) compares every group the rules allow with its
members' shares. The candidates of a solve price every one of those groups already, so the
generator can record their worth as it goes instead of the groups being enumerated and
priced a second time; :func:`worth_of_groups` works it out afresh where no solve did.
"""

from __future__ import annotations

import numpy as np

from ..problem import Problem
from ..rules.group import MemberSets
from .enumerate import CHUNK, enumeration
from .evaluate import plain_worth


class GroupWorth:
    """Every group of one function's enumeration worth more than 0 on its own, chunk by
    chunk in the enumeration's order: ``chunks`` holds (members (g, s), best NPV, positions
    in the enumeration); ``feasible`` counts the groups (of any worth) with some feasible host
    and depth."""

    def __init__(self):
        self.chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.feasible = 0
        self.groups = 0  # enumerated so far: the next chunk's first position
        # positions of the groups in the support of the solve's first proven LP over them, if any
        self.lp_support: np.ndarray | None = None
        # while the solve's candidates are made: each candidate's group's position, chunk by chunk
        self.candidate_positions: list[np.ndarray] = []

    def add(self, sets: np.ndarray, rows: np.ndarray, best: np.ndarray, feasible: int,
            candidates: np.ndarray | None = None) -> None:
        """One chunk of the enumeration (``sets``), with :func:`plain_worth`'s figures for it
        and (``candidates``) the row of each of the solve's candidates made from it."""
        if candidates is not None:
            self.candidate_positions.append(self.groups + candidates)
        members = sets[rows]
        if members.size == 0 or members.max() < np.iinfo(np.int16).max:
            members = members.astype(np.int16)  # a nation's councils fit: its groups in a quarter of the memory
        self.chunks.append((members, best, (self.groups + rows).astype(np.int64)))
        self.feasible += feasible
        self.groups += len(sets)


def worth_of_groups(problem: Problem, functions: list[int]) -> list[GroupWorth]:
    """:class:`GroupWorth` of each function k of ``functions`` (whose eligible councils and rules
    are the same: one enumeration), enumerated and priced afresh. Each chunk of groups is seen
    by every function in turn, so what does not depend on the function (the distances above
    all) is worked out once."""
    found = [GroupWorth() for _ in functions]
    for sets in enumeration(problem, functions[0], {}):
        for start in range(0, len(sets), CHUNK):
            chunk = sets[start : start + CHUNK]
            seen = None
            for worth, k in zip(found, functions):
                view = MemberSets(problem, k, chunk) if seen is None else seen.for_function(k)
                seen = view
                worth.add(chunk, *plain_worth(problem, k, chunk, view))
    return found
