"""Quick answers that the exact method starts from: the relaxation's first columns, and a
plan picked greedily, both read through the limits' rows."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..candidates.table import CandidateSet
from ..problem import Problem
from ..rules.limits import PACKING
from .rows import RowLayout


def initial_columns(problem: Problem, cand: CandidateSet, functions: Sequence[int], per_row: int = 2) -> np.ndarray:
    """Locked options and, for each packing row (a function and a council), its best few options."""
    column, row, _ = PACKING.entries(problem, cand, np.arange(len(cand)), functions)
    order = np.lexsort((-cand.value[column], row))
    row, column = row[order], column[order]
    first = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    rank = np.arange(len(row)) - np.repeat(first, np.diff(np.r_[first, len(row)]))
    return np.unique(np.r_[column[rank < per_row], np.flatnonzero(cand.locked >= 0)])


def greedy(problem: Problem, cand: CandidateSet, order: np.ndarray) -> np.ndarray | None:
    """A plan that takes the options ``order`` (indices into ``cand``) in turn when they fit
    every limit's rows; None if it leaves a row short of its lower bound (a locked group of
    ``cand`` unplaced).

    Options that enter a row with a lower bound (a locked group's) are tried first, so that
    every such row is filled before anything else takes its councils.
    """
    order = np.asarray(order, dtype=np.int64)
    functions = range(len(problem.functions))
    layout = RowLayout.of(problem, functions)
    columns, rows, values = [], [], []
    must = np.zeros(len(layout), dtype=bool)  # rows with a lower bound that some option of cand enters
    for limit, first, (column, row, value) in layout.entries(problem, cand, order):
        columns.append(column)
        rows.append(row + first)
        values.append(value)
        if (layout.lower[first : first + limit.count(problem, functions)] > 0).any():
            _, every_row, _ = limit.entries(problem, cand, np.arange(len(cand)), layout.functions)
            must[first + every_row] = True
    column, row, value = np.concatenate(columns), np.concatenate(rows), np.concatenate(values)
    by_option = np.argsort(column, kind="stable")
    column, row, value = column[by_option], row[by_option], value[by_option]
    starts = np.searchsorted(column, np.arange(len(order) + 1)).tolist()
    fills = np.zeros(len(order), dtype=bool)
    fills[column[must[row] & (layout.lower[row] > 0)]] = True
    level = np.zeros(len(layout))
    upper = layout.upper
    chosen = []
    for position in np.r_[np.flatnonzero(fills), np.flatnonzero(~fills)].tolist():
        r, v = row[starts[position] : starts[position + 1]], value[starts[position] : starts[position + 1]]
        if (level[r] + v > upper[r]).any():
            continue
        level[r] += v
        chosen.append(order[position])
    if (level[must] < layout.lower[must]).any():
        return None
    return np.array(chosen, dtype=np.int64)
