"""Partnerships every plan must hold: locked ones (their options, after checking that each
breaks no rule) and, under --keep-existing, existing ones with every partnership that grows
from them (their members and any others the rules allow beside them)."""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..problem import LockedGroup, Problem
from ..rules.group import feasible_sets, rule_breaks
from .enumerate import CHUNK, enumerate_supersets
from .evaluate import evaluate_sets
from .table import CandidateSet


def locked_candidates(problem: Problem, k: int | None = None, free: np.ndarray | None = None) -> list[CandidateSet]:
    """The options of every locked or kept group (of function k only, if given); a kept group
    may grow by the councils ``free`` (k, councils) allows (default: the eligible ones)."""
    parts = []
    for index, group in enumerate(problem.locked):
        if k is not None and group.function_index != k:
            continue
        breaks = rule_breaks(problem, group.function_index, group.members)
        if breaks:
            kind = "existing" if group.grows else "locked"
            label = f"{kind} partnership '{group.partnership.id}' for '{group.partnership.function}'"
            raise InputError(group.source or "partnerships.csv", f"{label} breaks a rule: {'; '.join(breaks)}", group.where)
        sets = [group.members[None, :]]
        if group.grows:
            pool = problem.eligible[group.function_index] if free is None else free[group.function_index]
            sets = grown_sets(problem, group, pool)
        for level in sets:
            for start in range(0, len(level), CHUNK):
                options = evaluate_sets(problem, group.function_index, level[start : start + CHUNK].astype(np.int32),
                                        require_positive=False, sunk=sunk_baseline(problem, group, len(level[start : start + CHUNK])))
                options.locked[:] = index
                parts.append(options)
    return parts


def sunk_baseline(problem: Problem, group: LockedGroup, count: int) -> np.ndarray | None:
    """The baseline whose set-up cost is sunk, for ``count`` sets that each hold ``group``."""
    if not len(group.sunk):
        return None
    return np.full(count, float(problem.spend[group.function_index][group.sunk].sum()))


def grown_sets(problem: Problem, group: LockedGroup, pool: np.ndarray) -> list[np.ndarray]:
    """The group itself and every set that holds it and passes every rule, the newcomers from
    ``pool`` (an (n,) mask), by size."""
    levels = []
    for level in enumerate_supersets(problem, group.function_index, group.members, pool):
        keep = feasible_sets(problem, group.function_index, level) if level.shape[1] > len(group.members) else np.ones(len(level), bool)
        if keep.any():
            levels.append(level[keep])
    return levels
