"""The view of member sets that the rules of one partnership read (``optimiser.rules.group``)."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ..problem import Problem


class MemberSets:
    """Member sets of one size for one function, with the arrays several rules read, each
    computed once: ``sets`` is (g, s) of council indices."""

    def __init__(self, problem: Problem, k: int, sets: np.ndarray):
        self.problem, self.k, self.sets = problem, k, sets
        self.function = problem.functions[k]
        self.masks: dict[str, np.ndarray] = {}  # host_mask and depth_mask, worked out once

    def for_function(self, k: int) -> "MemberSets":
        """The same sets seen by function k's rules, sharing what does not depend on the
        function (distances and commitments, if worked out already)."""
        other = MemberSets(self.problem, k, self.sets)
        for name in ("distances", "farthest", "commitment"):
            if name in self.__dict__:
                other.__dict__[name] = self.__dict__[name]
        return other

    @cached_property
    def distances(self) -> np.ndarray:
        """(g, host slot, member) km between each member and each possible host."""
        return self.problem.distance_km[self.sets[:, :, None], self.sets[:, None, :]]

    @cached_property
    def farthest(self) -> np.ndarray:
        """(g, host slot) km from each possible host to its farthest member."""
        distances = self.distances
        # slice by slice: numpy reduces a short last axis several times slower
        farthest = distances[:, :, 0].copy()
        for member in range(1, distances.shape[2]):
            np.maximum(farthest, distances[:, :, member], out=farthest)
        return farthest

    @cached_property
    def commitment(self) -> np.ndarray:
        return self.problem.commitment[self.sets]
