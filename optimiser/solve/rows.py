"""The master problem's rows, as the limits registry (``optimiser.rules.limits``) states them.

Every limit owns a run of consecutive rows; :class:`RowLayout` places them one after another
for a block's functions. The PuLP MIP (:func:`mip_rows`), the HiGHS relaxation
(:class:`Matrix`: its columns, every option's reduced cost), the relaxation's bounds and the
greedy plan all read the rows from here, so a new limit reaches every one of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..candidates.table import CandidateSet
from ..problem import Problem
from ..rules import LIMITS
from ..rules.limits import Limit


def coupled(problem: Problem) -> bool:
    """Whether a limit of the run (a budget, or a limit of a council in the run) ties
    partnerships of different functions, or of different parts of one function, together."""
    return any(limit.couples(problem) for limit in LIMITS)


@dataclass(frozen=True, eq=False)
class RowLayout:
    """The rows of the master problem over a block's ``functions``: each limit's rows in turn.

    ``lower`` and ``upper`` bound every row (-inf / inf where free); ``first[l]`` is the first
    row of ``limits[l]``.
    """

    functions: tuple[int, ...]
    limits: tuple[Limit, ...]
    first: tuple[int, ...]
    lower: np.ndarray
    upper: np.ndarray

    @classmethod
    def of(cls, problem: Problem, functions: Sequence[int], limits: Sequence[Limit] = LIMITS) -> "RowLayout":
        functions = tuple(int(k) for k in functions)
        first, lower, upper, count = [], [], [], 0
        for limit in limits:
            low, high = limit.rows(problem, functions)
            first.append(count)
            lower.append(np.asarray(low, dtype=float))
            upper.append(np.asarray(high, dtype=float))
            count += len(low)
        return cls(functions, tuple(limits), tuple(first), np.concatenate(lower), np.concatenate(upper))

    def __len__(self) -> int:
        return len(self.lower)

    def first_row(self, limit: Limit) -> int:
        return self.first[self.limits.index(limit)]

    @property
    def rhs(self) -> np.ndarray:
        """The right-hand side that prices each row in the dual objective y b: the finite
        bound of the row (its upper one if both are), 0 where the row is free."""
        return np.where(np.isfinite(self.upper), self.upper, np.where(np.isfinite(self.lower), self.lower, 0.0))

    def entries(self, problem: Problem, cand: CandidateSet, idx: np.ndarray):
        """Yields (limit, its first row, (column, row, value)) for candidates ``idx``, with
        ``row`` counted within the limit and ``column`` a position in ``idx``."""
        for limit, first in zip(self.limits, self.first):
            yield limit, first, limit.entries(problem, cand, idx, self.functions)


@dataclass(frozen=True, eq=False)
class LimitEntries:
    """One limit's coefficients on every option of a block, sorted by option.

    Option ``j``'s entries are ``[starts[j], starts[j + 1])``; ``value`` is None where every
    coefficient is 1 (most limits), which saves a multiplication per entry when pricing."""

    limit: Limit
    column: np.ndarray  # option, ascending (intp: np.bincount takes it as it is)
    row: np.ndarray  # row of the layout
    value: np.ndarray | None
    starts: np.ndarray


@dataclass(frozen=True, eq=False)
class Matrix:
    """The rows' coefficients on every option of a block, built once and kept for pricing.

    Reduced costs are wanted for every option (up to some 350 thousand, with up to eight
    members) in each round of column generation, so they are one weighted ``np.bincount``
    per limit, not a loop."""

    layout: RowLayout
    limits: tuple[LimitEntries, ...]
    options: int

    @classmethod
    def of(cls, layout: RowLayout, problem: Problem, cand: CandidateSet) -> "Matrix":
        found = []
        for limit, first, (column, row, value) in layout.entries(problem, cand, np.arange(len(cand))):
            column = np.asarray(column, dtype=np.intp)
            if len(column) > 1 and (np.diff(column) < 0).any():  # hooks give ascending columns; be sure
                order = np.argsort(column, kind="stable")
                column, row, value = column[order], row[order], value[order]
            unit = bool(np.all(value == 1.0))
            starts = np.r_[0, np.cumsum(np.bincount(column, minlength=len(cand)))]
            found.append(LimitEntries(limit, column, np.asarray(row, dtype=np.intp) + first, None if unit else np.asarray(value, float), starts))
        return cls(layout, tuple(found), len(cand))

    def entries_of(self, limit: Limit) -> LimitEntries:
        return self.limits[self.layout.limits.index(limit)]

    def priced(self, duals: np.ndarray) -> np.ndarray:
        """``A^T y`` for every option: what the duals ``y`` charge it over the layout's rows."""
        total = np.zeros(self.options)
        for entries in self.limits:
            if len(entries.column) == 0:
                continue
            weights = duals[entries.row]
            if entries.value is not None:
                weights = weights * entries.value
            total += np.bincount(entries.column, weights=weights, minlength=self.options)
        return total

    def columns(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The entries of options ``idx`` as (position in ``idx``, row, value), sorted by
        position and, within one, by the layout's order of limits."""
        positions, rows, values = [], [], []
        for entries in self.limits:
            lo, hi = entries.starts[idx], entries.starts[idx + 1]
            lengths = hi - lo
            total = int(lengths.sum())
            if total == 0:
                continue
            take = np.repeat(lo - np.r_[0, np.cumsum(lengths)[:-1]], lengths) + np.arange(total)
            positions.append(np.repeat(np.arange(len(idx)), lengths))
            rows.append(entries.row[take])
            values.append(np.ones(total) if entries.value is None else entries.value[take])
        if not positions:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp), np.zeros(0)
        position, row, value = np.concatenate(positions), np.concatenate(rows), np.concatenate(values)
        order = np.argsort(position, kind="stable")
        return position[order], row[order], value[order]

    def row_owner(self, owner_of_option: np.ndarray) -> np.ndarray:
        """For each row, ``owner_of_option`` of an option that enters it (-1: none does)."""
        owner = np.full(len(self.layout), -1, dtype=np.int64)
        for entries in self.limits:
            owner[entries.row] = owner_of_option[entries.column]
        return owner


@dataclass(frozen=True, eq=False)
class MipRows:
    """The rows a MIP over some options must state: per row its options, coefficients,
    sense ("<=", ">=" or "==") and right-hand side."""

    columns: tuple[np.ndarray, ...]
    values: tuple[np.ndarray, ...]
    senses: tuple[str, ...]
    rhs: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.senses)


def mip_rows(problem: Problem, cand: CandidateSet, cuts: Sequence[tuple[np.ndarray, float]] = (),
             held: CandidateSet | None = None) -> MipRows:
    """The rows of the master MIP over the options ``cand``, limit by limit in registry order,
    each limit's rows in order, and then ``cuts`` (dense coefficients over ``cand``, right-hand
    side), as ``<=`` rows. Rows that no choice of these options can break are left out.

    ``held`` are options that stay in the plan whatever the MIP chooses (the rest of a plan,
    around a window of it): each row's bounds are what they leave. Their entries are read
    together with ``cand``'s, since a limit may state a row only for some sets of options
    (a headroom row on which one of them takes money)."""
    functions = tuple(range(len(problem.functions)))
    n = len(cand)
    if held is not None and len(held):
        everything = CandidateSet.concat([cand, held], max(cand.members.shape[1], held.members.shape[1]))
    else:
        everything, held = cand, None
    idx = np.arange(len(everything))
    columns, values, senses, rhs = [], [], [], []

    def add(cols: np.ndarray, vals: np.ndarray, sense: str, right: float) -> None:
        columns.append(cols)
        values.append(vals)
        senses.append(sense)
        rhs.append(float(right))

    for limit in LIMITS:
        column, row, value = limit.entries(problem, everything, idx, functions)
        lower, upper = limit.rows(problem, functions)
        if held is not None:
            # what the held options take of each row is no longer the MIP's to give; a row
            # that only they enter holds already (the plan they come from keeps every row)
            taken = column >= n
            used = np.bincount(row[taken], weights=value[taken], minlength=len(lower))
            lower, upper = lower - used, upper - used
            column, row, value = column[~taken], row[~taken], value[~taken]
        if len(column) == 0:
            continue
        if held is None:
            needed = limit.binding(problem, cand, idx, functions, column, row)
        else:
            # a limit's test of which rows can break reads its own bounds, not what is left of them
            needed = np.zeros(len(lower), dtype=bool)
            needed[row] = True
        order = np.lexsort((column, row))
        column, row, value = column[order], row[order], value[order]
        starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
        for start, stop in zip(starts.tolist(), np.r_[starts[1:], len(row)].tolist()):
            r = int(row[start])
            if not needed[r]:
                continue
            cols, vals = column[start:stop], value[start:stop]
            if lower[r] == upper[r]:
                add(cols, vals, "==", upper[r])
                continue
            if np.isfinite(upper[r]):
                add(cols, vals, "<=", upper[r])
            if np.isfinite(lower[r]):
                add(cols, vals, ">=", lower[r])
    for coefficient, right in cuts:
        cols = np.flatnonzero(coefficient)
        add(cols, coefficient[cols], "<=", right)
    return MipRows(tuple(columns), tuple(values), tuple(senses), tuple(rhs))
