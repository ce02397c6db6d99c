"""Divisibility cuts: valid inequalities that tighten the master's LP relaxation.

The LP relaxation of the master covers councils with fractions of large groups: on a
county of 7 councils with groups of at most 6 it can take seven different 6-groups at
1/6 each, so every council appears to sit in a 6-group, while any real plan leaves some
council in a smaller group. Take any set R of packing rows (councils of one function) and
a divisor k. Adding R's rows gives sum_S |S n R| x_S <= |R|; dividing by k and rounding
down (a Chvatal-Gomory step, valid because x >= 0 and integer plans give an integer left
side) gives

    sum_S floor(|S n R| / k) x_S  <=  floor(|R| / k),

which integer plans satisfy and the fractional tilings above violate whenever |R| is not
a multiple of k. With k = 2 and |R| = 3 these are the subset-row cuts of vehicle routing.

The most violated cut for a given k is found exactly by a small MIP over the LP's support
(one binary per council touched, one integer per fractional group), one connected cluster
of the support at a time, so every cut lies inside one independent part of the master.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from ..errors import SolveError
from ..highs import new_highs
from . import stop

log = logging.getLogger(__name__)

VIOLATION = 1e-3  # a cut is added when the LP point breaks it by more than this (in x units)


@dataclass
class Cut:
    """sum_S floor(|S n rows| / divisor) x_S <= rhs over the candidates S of a block."""

    rows: np.ndarray  # packing rows (function-local council rows) in R, sorted
    divisor: int
    rhs: float

    @property
    def anchor(self) -> int:
        """A packing row of the cut (the block part that owns it)."""
        return int(self.rows[0])


def coefficients(cut: Cut, rows_of: np.ndarray, total_rows: int) -> np.ndarray:
    """The cut's coefficient for each candidate, given each candidate's packing rows.

    ``rows_of`` holds one candidate per line, padded with -1.
    """
    inside = np.zeros(total_rows + 1, dtype=np.int64)
    inside[cut.rows] = 1
    counts = inside[np.where(rows_of >= 0, rows_of, total_rows)].sum(axis=1)
    return counts // cut.divisor


def row_labels(rows_of: np.ndarray, total_rows: int) -> np.ndarray:
    """For each packing row, the smallest row linked to it through candidates sharing rows.

    Label propagation: every row takes the smallest label of any candidate it is in, until
    nothing changes (a few rounds on these graphs). ``rows_of`` is padded with -1.
    """
    padded = np.where(rows_of >= 0, rows_of, rows_of[:, :1])
    label = np.arange(total_rows, dtype=np.int64)
    while True:
        smallest = label[padded].min(axis=1)
        before = label.copy()
        np.minimum.at(label, padded.ravel(), np.repeat(smallest, padded.shape[1]))
        label = label[label]  # follow chains of labels
        if np.array_equal(label, before):
            return label


def clusters(rows_of: np.ndarray, total_rows: int) -> list[np.ndarray]:
    """Groups of candidates (positions in ``rows_of``) linked by sharing a packing row."""
    if len(rows_of) == 0:
        return []
    of_candidate = row_labels(rows_of, total_rows)[rows_of[:, 0]]
    order = np.argsort(of_candidate, kind="stable")
    starts = np.flatnonzero(np.r_[True, of_candidate[order][1:] != of_candidate[order][:-1]])
    return np.split(order, starts[1:])


def most_violated(rows_of: np.ndarray, values: np.ndarray, divisor: int, time_limit: float) -> tuple[float, np.ndarray] | None:
    """The divisibility cut with divisor ``divisor`` that the LP point breaks most.

    ``rows_of`` and ``values`` describe the support (candidates with x > 0) of one cluster.
    Solves: maximise sum_S x_S z_S - w over binaries r (row in R), integers z_S <= |S n R|/k
    and w >= (|R| - k + 1)/k; the optimum is the largest violation. Returns the violation
    and R's rows, or None when the MIP finds nothing within its time.
    """
    import highspy

    used = np.unique(rows_of[rows_of >= 0])
    local = np.searchsorted(used, np.where(rows_of >= 0, rows_of, used[0]))
    n_rows, n_groups = len(used), len(rows_of)
    sizes = (rows_of >= 0).sum(axis=1)
    variables = n_rows + n_groups + 1
    mip = new_highs()
    stop.listen(mip)
    mip.setOptionValue("time_limit", max(0.05, time_limit))
    mip.setOptionValue("mip_rel_gap", 0.0)  # the most violated cut, not one nearly so
    mip.changeObjectiveSense(highspy.ObjSense.kMaximize)
    upper = np.r_[np.ones(n_rows), sizes // divisor, np.inf]
    mip.addVars(variables, np.zeros(variables), upper)
    mip.changeColsCost(variables, np.arange(variables, dtype=np.int32), np.r_[np.zeros(n_rows), values, -1.0])
    mip.changeColsIntegrality(variables, np.arange(variables, dtype=np.int32),
                              np.full(variables, highspy.HighsVarType.kInteger))
    # k z_S - sum_{rows of S} r <= 0, one line per group
    valid = rows_of >= 0
    in_line = np.c_[valid, np.ones(n_groups, dtype=bool)]
    index = np.c_[local, n_rows + np.arange(n_groups)][in_line]
    value = np.c_[np.full(valid.shape, -1.0), np.full(n_groups, float(divisor))][in_line]
    starts = np.r_[0, np.cumsum(sizes + 1)[:-1]]
    mip.addRows(n_groups, np.full(n_groups, -highspy.kHighsInf), np.zeros(n_groups), len(index),
                starts.astype(np.int32), index.astype(np.int32), value)
    # sum r - k w <= k - 1
    mip.addRow(-highspy.kHighsInf, divisor - 1.0, n_rows + 1, np.r_[np.arange(n_rows), variables - 1].astype(np.int32),
               np.r_[np.ones(n_rows), -float(divisor)])
    if mip.run() == highspy.HighsStatus.kError:
        raise SolveError(f"HiGHS failed on a cut separation MIP: {mip.modelStatusToString(mip.getModelStatus())}")
    solution = np.asarray(mip.getSolution().col_value)
    if len(solution) != variables:
        return None
    chosen = used[solution[:n_rows] > 0.5]
    # the violation of the cut as stated, whatever the MIP's tolerances
    inside = np.isin(rows_of, chosen) & valid
    violation = float(values @ (inside.sum(axis=1) // divisor)) - len(chosen) // divisor
    return violation, chosen


def separate(rows_of: np.ndarray, values: np.ndarray, total_rows: int, max_divisor: int,
             time_limit: float) -> list[Cut]:
    """Violated divisibility cuts for the LP point ``values`` (one per cluster and divisor).

    ``rows_of`` gives the packing rows of the LP's columns (padded with -1). The time limit
    is split among all the separation MIPs of this call.
    """
    support = np.flatnonzero(values > 1e-9)
    fractional = (values[support] < 1 - 1e-9)
    groups = [g for g in clusters(rows_of[support], total_rows) if fractional[g].any()]
    cuts = []
    jobs = [(g, k) for g in groups for k in range(2, max_divisor + 1)]
    deadline = time.perf_counter() + time_limit
    for number, (group, divisor) in enumerate(jobs):
        seconds = (deadline - time.perf_counter()) / (len(jobs) - number)
        if seconds <= 0 or stop.requested():
            break
        columns = support[group]
        found = most_violated(rows_of[columns], values[columns], divisor, seconds)
        if found is None:
            continue
        violation, chosen = found
        if violation > VIOLATION:
            cuts.append(Cut(chosen, divisor, float(len(chosen) // divisor)))
    return cuts
