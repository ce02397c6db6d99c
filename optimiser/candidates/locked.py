"""Locked existing partnerships: their options, after checking that each breaks no rule."""

from __future__ import annotations

from ..errors import InputError
from ..problem import Problem
from ..rules.group import rule_breaks
from .evaluate import evaluate_sets
from .table import CandidateSet


def locked_candidates(problem: Problem, k: int | None = None) -> list[CandidateSet]:
    """The options of every locked group (of function k only, if given)."""
    parts = []
    for index, group in enumerate(problem.locked):
        if k is not None and group.function_index != k:
            continue
        breaks = rule_breaks(problem, group.function_index, group.members)
        if breaks:
            label = f"locked partnership '{group.partnership.id}' for '{group.partnership.function}'"
            raise InputError(group.source or "partnerships.csv", f"{label} breaks a rule: {'; '.join(breaks)}", group.where)
        options = evaluate_sets(problem, group.function_index, group.members[None, :], require_positive=False)
        options.locked[:] = index
        parts.append(options)
    return parts
