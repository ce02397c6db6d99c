"""The LP relaxation of a block's master problem, by column generation in HiGHS.

HiGHS holds the LP between rounds, so adding columns re-solves from the last basis. The rows
are every limit's rows for the block's functions (``rows.RowLayout``; free where a council
has no limit) and the cuts added as the LP is tightened (divisibility cuts, ``cuts.py``; cover
cuts on the headroom rows, ``covers.py``). Every
option's reduced cost is priced from the duals at once (``rows.Matrix``).
"""

from __future__ import annotations

import math
import time
from typing import Sequence

import numpy as np

from ..candidates.table import CandidateSet
from ..errors import SolveError
from ..problem import Problem
from ..rules import LIMITS
from ..rules.limits import PACKING
from . import covers
from . import cuts as divisibility
from . import stop
from ..highs import new_highs
from .rows import Matrix, RowLayout

PRICING_TOLERANCE = 1e-6  # reduced cost treated as zero, relative to the LP bound
SEPARATION_SECONDS = 5.0  # per round of divisibility cuts, for all its separation MIPs

#: The LP's rows limit by limit, in the order HiGHS has always been given them. Any order is
#: valid; this one keeps the simplex's path through these very degenerate LPs (and so the
#: columns priced in, and the run's timings) what they were. Limits not named come last.
ROW_ORDER = ("packing", "max_partnerships", "max_hosted", "locked", "keep_existing", "budget")


def row_order() -> tuple:
    by_name = {limit.name: limit for limit in LIMITS}
    return (*(by_name[name] for name in ROW_ORDER if name in by_name), *(l for l in LIMITS if l.name not in ROW_ORDER))


def cut_coefficients(terms: tuple[np.ndarray, np.ndarray], idx: np.ndarray) -> np.ndarray:
    """A cut's coefficient on each option of ``idx``, from its sparse (options, values)."""
    touched, coefficient = terms
    if len(touched) == 0:
        return np.zeros(len(idx))
    at = np.minimum(np.searchsorted(touched, idx), len(touched) - 1)
    return np.where(touched[at] == idx, coefficient[at], 0.0)


class Relaxation:
    """The LP relaxation of the master over a growing subset of a block's options."""

    def __init__(self, problem: Problem, cand: CandidateSet, functions: Sequence[int]):
        import highspy

        self.problem, self.cand = problem, cand
        self.layout = RowLayout.of(problem, functions, row_order())
        self.matrix = Matrix.of(self.layout, problem, cand)
        # each option's packing rows, padded with -1: the rows cuts and parts are read from
        self.rows_of = PACKING.table(problem, cand, self.layout.functions)
        self.packing_rows = PACKING.count(problem, self.layout.functions)
        self.packing_first = self.layout.first_row(PACKING)
        rows = len(self.layout)
        inf = highspy.kHighsInf
        lower = np.where(np.isfinite(self.layout.lower), self.layout.lower, -inf)
        upper = np.where(np.isfinite(self.layout.upper), self.layout.upper, inf)
        # the right-hand side that prices each row in the dual objective (free rows: 0)
        self.rhs = self.layout.rhs
        self.highs = new_highs()
        stop.listen(self.highs)
        self.highs.addRows(rows, lower, upper, 0, np.zeros(1, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
        self.highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.columns = np.zeros(0, dtype=np.int64)
        self.position = np.full(len(cand), -1, dtype=np.int64)  # of each option among the LP's columns
        self.base_rows = rows
        self.cuts: list[divisibility.Cut | covers.CoverCut] = []
        self.knapsacks = covers.knapsack_rows(self)  # the headroom rows cover cuts can tighten
        self.covers_seen: set = set()
        self.cut_terms: list[tuple[np.ndarray, np.ndarray]] = []  # per cut: options with a coefficient, and it

    def add(self, idx: np.ndarray) -> None:
        """Adds options ``idx`` as columns, with their coefficients on every row and cut."""
        col, row, val = self.matrix.columns(idx)
        if self.cut_terms:
            position = np.arange(len(idx))
            cols, rows, vals = [col], [row], [val]
            for number, terms in enumerate(self.cut_terms):
                dense = cut_coefficients(terms, idx)
                hit = dense != 0
                cols.append(position[hit])
                rows.append(np.full(int(hit.sum()), self.base_rows + number))
                vals.append(dense[hit])
            col, row, val = np.concatenate(cols), np.concatenate(rows), np.concatenate(vals)
            order = np.argsort(col, kind="stable")
            col, row, val = col[order], row[order], val[order]
        starts = np.searchsorted(col, np.arange(len(idx))).astype(np.int32)
        # no upper bound of 1: every column has packing rows with right-hand side 1, and without
        # the bound no column can sit at it, so the LP value is exactly the duals' objective
        # (which the bounds of the independent parts rely on)
        upper = np.full(len(idx), np.inf)
        self.highs.addCols(len(idx), self.cand.value[idx], np.zeros(len(idx)), upper, len(col), starts, row.astype(np.int32), val)
        self.position[idx] = len(self.columns) + np.arange(len(idx))
        self.columns = np.r_[self.columns, idx]

    def add_cuts(self, cuts: list[divisibility.Cut | covers.CoverCut]) -> None:
        """Adds cuts as rows, with their coefficients on the LP's columns (and kept for every
        option of the block, so that pricing charges every option for them)."""
        for cut in cuts:
            if isinstance(cut, covers.CoverCut):
                touched, coefficient = cut.options, np.ones(len(self.cand))
            else:
                coefficient = divisibility.coefficients(cut, self.rows_of, self.packing_rows)
                touched = np.flatnonzero(coefficient)
            self.cuts.append(cut)
            self.cut_terms.append((touched, coefficient[touched].astype(float)))
            in_lp = self.position[touched]
            present = in_lp >= 0
            self.highs.addRow(-np.inf, cut.rhs, int(present.sum()), in_lp[present].astype(np.int32),
                              coefficient[touched][present].astype(float))
            self.rhs = np.r_[self.rhs, cut.rhs]

    def cut_rows(self, idx: np.ndarray, count: int) -> list[tuple[np.ndarray, float]]:
        """The first ``count`` cuts over options ``idx``: dense coefficients and right-hand side."""
        rows = []
        for terms, cut in zip(self.cut_terms[:count], self.cuts[:count]):
            dense = cut_coefficients(terms, idx)
            if dense.any():
                rows.append((dense, cut.rhs))
        return rows

    def separate(self, values: np.ndarray, deadline: float | None) -> list[divisibility.Cut]:
        """Divisibility cuts that the LP point (``values`` on the LP's columns) breaks."""
        seconds = SEPARATION_SECONDS if deadline is None else min(SEPARATION_SECONDS, max(0.0, deadline - time.perf_counter()) / 4)
        rows_of = self.rows_of[self.columns]
        return divisibility.separate(rows_of, values, self.packing_rows, int(self.cand.size.max(initial=2)), seconds)

    def separate_covers(self, values: np.ndarray) -> list[covers.CoverCut]:
        """Cover cuts on the headroom rows that the LP point (``values`` on the LP's columns) breaks."""
        if not self.knapsacks:
            return []
        x = np.zeros(len(self.cand))
        x[self.columns] = values
        return covers.separate(self, self.knapsacks, x, self.covers_seen)

    def solve(self, time_limit: float | None) -> tuple[str, float, np.ndarray, np.ndarray]:
        """Status ('optimal', 'infeasible' or 'time_limit'), objective, column values, row duals."""
        import highspy

        self.highs.setOptionValue("time_limit", float(time_limit) if time_limit else highspy.kHighsInf)
        outcome = self.highs.run()
        status = self.highs.getModelStatus()
        S = highspy.HighsModelStatus
        if outcome == highspy.HighsStatus.kError:
            raise SolveError(f"HiGHS failed on the LP relaxation: {self.highs.modelStatusToString(status)}")
        if status in (S.kInfeasible, S.kUnboundedOrInfeasible):
            return "infeasible", -math.inf, np.zeros(0), np.zeros(0)
        solution = self.highs.getSolution()
        values = np.asarray(solution.col_value)
        duals = np.asarray(solution.row_dual)
        if status != S.kOptimal:
            return "time_limit", math.nan, values, duals
        return "optimal", self.highs.getInfo().objective_function_value, values, duals

    def dive(self, values: np.ndarray, deadline: float | None) -> np.ndarray | None:
        """A plan by diving: fix the largest fractional column to 1, re-solve, repeat.

        Works on the LP's current columns only, so it is a heuristic; the LP's bounds are
        restored afterwards. Returns indices into the options, or None if it gave up.
        """
        import highspy

        position = np.arange(len(self.columns), dtype=np.int32)
        fixed: list[int] = []
        chosen = None
        try:
            while (deadline is None or time.perf_counter() < deadline) and not stop.requested():
                fractional = np.flatnonzero((values > 1e-6) & (values < 1 - 1e-6))
                if len(fractional) == 0:
                    chosen = self.columns[values > 0.5]
                    break
                pick = int(fractional[np.argmax(values[fractional] + 1e-12 * self.cand.value[self.columns[fractional]])])
                self.highs.changeColBounds(pick, 1.0, highspy.kHighsInf)
                fixed.append(pick)
                self.highs.run()
                if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                    break
                values = np.asarray(self.highs.getSolution().col_value)
        finally:
            if fixed:
                self.highs.changeColsBounds(len(position), position, np.zeros(len(position)), np.full(len(position), highspy.kHighsInf))
        return chosen

    def lagrangian_bound(self, duals: np.ndarray, rc: np.ndarray) -> float:
        """A bound on every plan from any duals y >= 0 (and free on locked rows).

        npv x = y A x + rc x <= y b + sum_j rc_j+ x_j, and splitting each rc_j+ equally among
        its packing rows, with each packing row in at most one chosen column, the last sum is
        at most the sum over packing rows of the largest portion. Valid mid-way through
        column generation, when the LP bound is not yet proven.
        """
        packing = self.matrix.entries_of(PACKING)
        portion = np.maximum(rc, 0.0) / np.maximum(np.diff(packing.starts), 1)
        best = np.zeros(len(self.layout))
        np.maximum.at(best, packing.row, portion[packing.column])
        return float(self.rhs[: len(duals)] @ duals + best.sum())

    def reduced_costs(self, duals: np.ndarray) -> np.ndarray:
        """NPV minus what the duals charge over every row and cut, for every option of the block."""
        priced = self.matrix.priced(duals)
        for number, (touched, coefficient) in enumerate(self.cut_terms[: len(duals) - self.base_rows]):
            priced[touched] += duals[self.base_rows + number] * coefficient
        return self.cand.value - priced
