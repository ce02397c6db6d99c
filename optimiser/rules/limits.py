"""Limits across partnerships: the rows of the master problem, one named object each.

A partnership rule (``rules.group``) looks at one group at a time. A *limit* looks at several
chosen options together: no council twice in one function, every locked group exactly once,
a council's ``max_partnerships`` and ``max_hosted``, the run's ``--budget``. Each limit owns
one block of rows of the master problem ``max npv x  s.t.  lower <= A x <= upper`` and states
it through the hooks below; the engine (``optimiser.solve``) builds the PuLP MIP, the HiGHS
relaxation, its reduced costs and bounds and the greedy plan from these hooks alone, and
``evaluate`` prints each limit's sentences when a proposed grouping breaks it.

Hooks (``functions`` are the problem's function indices of a *block*, the functions solved
together; ``cand`` is a ``CandidateSet`` and ``idx`` indexes it):

``count(problem, functions) -> int``
    how many rows the limit has for the block (rows that no candidate enters are allowed);
``rows(problem, functions) -> (lower, upper)``
    the rows' bounds, with -inf / inf where a row is free;
``entries(problem, cand, idx, functions) -> (column, row, value)``
    the coefficients of candidates ``idx``: ``column`` is a position in ``idx`` (ascending),
    ``row`` one of the limit's own rows (0 .. count-1), ``value`` the coefficient;
``binding(problem, cand, idx, functions, column, row) -> bool per row``
    the rows a MIP over candidates ``idx`` must state (given their ``entries``): a row that no
    choice of those candidates can break is left out;
``couples(problem) -> bool``
    whether the limit ties functions (and independent parts of one function) together, so
    that they must be solved as one block;
``breaks(problem, groups) -> [(group position, sentence)]``
    for ``evaluate``: which proposed groups break the limit, and how, in words.

To add a limit: a new instance here, added to ``LIMITS`` (the engine then states its rows
everywhere), its check under the same name in ``optimiser/verify`` and a brute-force case.

This module imports no engine code: ``cand`` is anything with a ``CandidateSet``'s arrays
(``function``, ``members`` padded with -1, ``host``, ``one_off``, ``locked``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..problem import Problem

Entries = tuple[np.ndarray, np.ndarray, np.ndarray]  # (column, row, value)


@dataclass(frozen=True)
class ProposedGroup:
    """A group someone proposes, as ``evaluate`` scored it: council codes, host, one-off cost."""

    id: str
    function: str
    members: tuple[str, ...]
    host: str | None = None
    one_off: float | None = None
    annual: float | None = None  # its yearly net saving
    depth: str | None = None  # its depth's id


def no_entries() -> Entries:
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)


def _entered(column: np.ndarray, row: np.ndarray, count: int) -> np.ndarray:
    """Rows that at least one entry touches."""
    touched = np.zeros(count, dtype=bool)
    touched[row] = True
    return touched


def _more_functions_than(limit: np.ndarray, problem: Problem, cand, idx: np.ndarray, column: np.ndarray,
                         row: np.ndarray) -> np.ndarray:
    """Rows (one per council) whose entries span more functions than the council's limit:
    with no more, no plan can break the row (one option per function and council)."""
    if len(row) == 0:
        return np.zeros(len(limit), dtype=bool)
    functions = len(problem.functions)
    pairs = np.unique(row.astype(np.int64) * functions + cand.function[idx[column]])
    spanned = np.bincount(pairs // functions, minlength=len(limit))
    return (limit >= 0) & (spanned > limit)


class Limit:
    """A limit across partnerships: a block of rows of the master problem (see the module)."""

    name = ""
    summary = ""

    def count(self, problem: Problem, functions: Sequence[int]) -> int:
        raise NotImplementedError

    def rows(self, problem: Problem, functions: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def entries(self, problem: Problem, cand, idx: np.ndarray, functions: Sequence[int]) -> Entries:
        raise NotImplementedError

    def binding(self, problem: Problem, cand, idx: np.ndarray, functions: Sequence[int], column: np.ndarray,
                row: np.ndarray) -> np.ndarray:
        """By default every row that a candidate enters."""
        return _entered(column, row, self.count(problem, functions))

    def couples(self, problem: Problem) -> bool:
        return False

    def breaks(self, problem: Problem, groups: Sequence[ProposedGroup]) -> list[tuple[int, str]]:
        return []

    def __repr__(self) -> str:
        return f"<limit {self.name}: {self.summary}>"


class Packing(Limit):
    """sum of the options of function k that contain council i <= 1, for each (k, i) of the
    block; row ``local(k) * n + i``, where ``local(k)`` is k's position among ``functions``."""

    name = "packing"
    summary = "each council in at most one chosen option per function"

    def count(self, problem, functions):
        return len(functions) * len(problem.codes)

    def rows(self, problem, functions):
        count = self.count(problem, functions)
        return np.full(count, -np.inf), np.ones(count)

    def table(self, problem: Problem, cand, functions: Sequence[int]) -> np.ndarray:
        """Each candidate's packing rows, one line per candidate, padded with -1 (the row
        structure the divisibility cuts and the block's independent parts are read from)."""
        local = np.full(len(problem.functions), -1, dtype=np.int64)
        local[list(functions)] = np.arange(len(functions))
        return np.where(cand.members >= 0, local[cand.function][:, None] * len(problem.codes) + cand.members, -1)

    def entries(self, problem, cand, idx, functions):
        local = np.full(len(problem.functions), -1, dtype=np.int64)
        local[list(functions)] = np.arange(len(functions))
        members = cand.members[idx]
        valid = members >= 0
        column = np.broadcast_to(np.arange(len(idx))[:, None], members.shape)[valid]
        row = (local[cand.function[idx]][:, None] * len(problem.codes) + members)[valid]
        return column, row, np.ones(len(column))

    def breaks(self, problem, groups):
        found, seen = [], {}
        for position, group in enumerate(groups):
            for code in group.members:
                key = (group.function, code)
                if key in seen:
                    found.append((position, f"overlap: {code} is also in group '{seen[key]}' for '{group.function}'"))
                else:
                    seen[key] = group.id
        return found


class Locked(Limit):
    """sum of the options of a locked group == 1, for each locked group of the block's functions."""

    name = "locked"
    summary = "every locked partnership in the plan, exactly once"
    grows = False  # which of ``problem.locked`` this limit holds: those kept exactly

    def groups(self, problem: Problem, functions: Sequence[int]) -> list[int]:
        """Indices into ``problem.locked`` of the block's groups this limit holds, in row order."""
        block = set(int(k) for k in functions)
        return [g for g, group in enumerate(problem.locked) if int(group.function_index) in block and group.grows == self.grows]

    def count(self, problem, functions):
        return len(self.groups(problem, functions))

    def rows(self, problem, functions):
        count = self.count(problem, functions)
        return np.ones(count), np.ones(count)

    def entries(self, problem, cand, idx, functions):
        groups = self.groups(problem, functions)
        if not groups:
            return no_entries()
        row_of = np.full(len(problem.locked) + 1, -1, dtype=np.int64)
        row_of[groups] = np.arange(len(groups))
        locked = cand.locked[idx]
        column = np.flatnonzero(locked >= 0)
        row = row_of[locked[column]]
        inside = row >= 0
        return column[inside], row[inside], np.ones(int(inside.sum()))


class KeepExisting(Locked):
    """--keep-existing: sum of the options that hold an existing group == 1, for each existing
    partnership of the block's functions that is not locked. Its options are every set that
    holds all its members (no other option holds any of them), so no member leaves it, and it
    may grow."""

    name = "keep_existing"
    summary = "under --keep-existing, every existing partnership's members together in one partnership"
    grows = True

    def breaks(self, problem, groups):
        if not problem.options.keep_existing:
            return []
        found = []
        for group in problem.locked:
            if not group.grows:
                continue
            fid, codes = problem.functions[group.function_index].id, {problem.codes[i] for i in group.members}
            holding = [position for position, g in enumerate(groups) if g.function == fid and codes & set(g.members)]
            if len(holding) != 1 or not codes <= set(groups[holding[0]].members):
                sentence = f"keep_existing: the members of existing partnership '{group.partnership.id}' are not kept together"
                found += [(position, sentence) for position in holding]
        return found


class _PerCouncil(Limit):
    """One row per council, with the council's limit as its right-hand side (-1: free)."""

    def limit(self, problem: Problem) -> np.ndarray:
        raise NotImplementedError

    def count(self, problem, functions):
        return len(problem.codes)

    def rows(self, problem, functions):
        limit = self.limit(problem)
        return np.full(len(limit), -np.inf), np.where(limit >= 0, limit, np.inf).astype(float)

    def binding(self, problem, cand, idx, functions, column, row):
        return _more_functions_than(self.limit(problem), problem, cand, idx, column, row)

    def couples(self, problem):
        in_run = problem.eligible.any(axis=0)
        return bool((self.limit(problem)[in_run] >= 0).any())


class MaxPartnerships(_PerCouncil):
    """sum of the chosen options that contain council i <= max_partnerships[i] (limited councils)."""

    name = "max_partnerships"
    summary = "a council joins at most max_partnerships partnerships"

    def limit(self, problem):
        return problem.max_partnerships

    def entries(self, problem, cand, idx, functions):
        members = cand.members[idx]
        limited = (members >= 0) & (problem.max_partnerships[np.where(members >= 0, members, 0)] >= 0)
        column = np.broadcast_to(np.arange(len(idx))[:, None], members.shape)[limited]
        return column, members[limited].astype(np.int64), np.ones(len(column))

    def breaks(self, problem, groups):
        found, joins = [], {}
        index = {c: i for i, c in enumerate(problem.codes)}
        for group in groups:
            for code in group.members:
                joins.setdefault(code, []).append(group.id)
        for code, ids in joins.items():
            limit = problem.max_partnerships[index[code]]
            if 0 <= limit < len(ids):
                found += [(position, f"max_partnerships: {code} is in {len(ids)} partnerships, at most {limit} allowed")
                          for position, group in enumerate(groups) if group.id in ids and code in group.members]
        return found


class MaxHosted(_PerCouncil):
    """sum of the chosen options hosted by council i <= max_hosted[i] (limited councils)."""

    name = "max_hosted"
    summary = "a council hosts at most max_hosted partnerships"

    def limit(self, problem):
        return problem.max_hosted

    def entries(self, problem, cand, idx, functions):
        hosts = cand.host[idx]
        column = np.flatnonzero(problem.max_hosted[hosts] >= 0)
        return column, hosts[column].astype(np.int64), np.ones(len(column))

    def breaks(self, problem, groups):
        found, hosted = [], {}
        index = {c: i for i, c in enumerate(problem.codes)}
        for group in groups:
            if group.host:
                hosted.setdefault(group.host, []).append(group.id)
        for code, ids in hosted.items():
            limit = problem.max_hosted[index[code]]
            if 0 <= limit < len(ids):
                found += [(position, f"max_hosted: {code} would host {len(ids)} partnerships, at most {limit} allowed")
                          for position, group in enumerate(groups) if group.id in ids and group.host == code]
        return found


class Budget(Limit):
    """sum of the chosen options' one-off costs <= --budget (one row, free without a budget)."""

    name = "budget"
    summary = "the one-off costs total at most --budget"

    def count(self, problem, functions):
        return 1

    def rows(self, problem, functions):
        budget = problem.options.budget
        return np.full(1, -np.inf), np.full(1, np.inf if budget is None else float(budget))

    def entries(self, problem, cand, idx, functions):
        if problem.options.budget is None or len(idx) == 0:
            return no_entries()
        return np.arange(len(idx)), np.zeros(len(idx), dtype=np.int64), np.asarray(cand.one_off[idx], dtype=float)

    def couples(self, problem):
        return problem.options.budget is not None

    def breaks(self, problem, groups):
        budget = problem.options.budget
        spent = sum(group.one_off or 0.0 for group in groups)
        if budget is None or spent <= budget:
            return []
        sentence = f"budget: the groups' one-off costs total {spent:,.0f}, above the budget of {budget:,.0f}"
        return [(position, sentence) for position in range(len(groups))]


PACKING = Packing()
LOCKED = Locked()
KEEP_EXISTING = KeepExisting()
MAX_PARTNERSHIPS = MaxPartnerships()
MAX_HOSTED = MaxHosted()
BUDGET = Budget()

__all__ = ["BUDGET", "KEEP_EXISTING", "LOCKED", "Limit", "MAX_HOSTED", "MAX_PARTNERSHIPS", "PACKING", "ProposedGroup",
           "no_entries"]
