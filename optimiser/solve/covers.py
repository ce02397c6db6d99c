"""Cover cuts on the headroom rows (SPEC §8): valid inequalities for a council's multiple-choice
knapsack.

Paid in cash, council i's year-0 row reads sum_S w_S x_S <= H (w_S its share of S's one-off
cost) and, by the packing rows, at most one option per function holds i. Give some functions
f a threshold t_f and call i's option of f *heavy* when w_S >= t_f. If the k + 1 smallest
thresholds add up to more than H, no plan has k + 1 heavy options of i: their weights alone
would break the row, and every other weight on it is >= 0. So

    sum_f sum_{S of f, i in S, w_S >= t_f} x_S  <=  k

holds for every plan. The LP point breaks it where i's options of some functions C sit
mostly on heavy options whose thresholds add up past H; with k = |C| - 1 the thresholds
are then *lifted*: each is lowered as far as the condition allows and functions outside C
join with the lowest threshold it allows, which only adds terms to the left side. A cut
holds only rows on which every coefficient is >= 0 (a year in which some option gives the
council money back is left alone), and the thresholds must pass H by a margin, so that no
plan within the verifier's tolerance of the row is cut off.

A cut's coefficient on any option follows from the option's function and weight on the
row, so every option of the block is priced with the cut's dual (``Relaxation``), and the
LP bound and reduced-cost fixing stay proven over all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rules import HEADROOM

VIOLATION = 1e-3  # a cut is added when the LP point breaks it by more than this
MARGIN = 2e-6  # the thresholds pass the headroom by this fraction of it (at least 1 pound) at least
SEARCH_NODES = 20000  # per row and round: the search for the most violated cover stops here


@dataclass
class CoverCut:
    """sum over the heavy options of the layout's headroom row ``row`` <= rhs: option S is
    heavy when its weight on the row is >= ``threshold[its function]`` (functions missing from
    ``threshold`` have no heavy options)."""

    row: int
    threshold: dict[int, float]
    rhs: float
    options: np.ndarray  # the heavy options, ascending
    anchor: int  # a packing row of the council (the block part that owns the cut)


def valid(thresholds, k: int, need: float) -> bool:
    """Whether no k + 1 of the thresholds add up to ``need`` or less."""
    finite = np.sort(np.fromiter(thresholds, dtype=float))
    return len(finite) <= k or float(finite[: k + 1].sum()) > need


@dataclass
class KnapsackRow:
    """One headroom row that a cover can cut: its options, their weights and functions (sorted
    by function, then weight), and the right-hand side that the thresholds must pass."""

    row: int
    options: np.ndarray
    weight: np.ndarray
    function: np.ndarray
    need: float
    council: int

    def lift(self, threshold: dict[int, float], k: int) -> dict[int, float]:
        """The thresholds lowered as far as the cut stays valid, C's first, then the others'."""
        threshold = dict(threshold)
        for f in [*threshold, *(g for g in np.unique(self.function).tolist() if g not in threshold)]:
            weights = np.unique(self.weight[self.function == f])
            others = [t for g, t in threshold.items() if g != f]
            low, high = 0, len(weights)  # the smallest weight that keeps the cut valid, by bisection
            while low < high:
                middle = (low + high) // 2
                if valid([*others, weights[middle]], k, self.need):
                    high = middle
                else:
                    low = middle + 1
            if low < len(weights):
                threshold[f] = float(weights[low])
        return threshold

    def heavy(self, threshold: dict[int, float]) -> np.ndarray:
        limit = np.array([threshold.get(int(f), np.inf) for f in self.function])
        return np.sort(self.options[self.weight >= limit])

    def most_violated(self, x: np.ndarray) -> tuple[dict[int, float], int] | None:
        """Thresholds over some functions C whose cover (k = |C| - 1) the LP point ``x`` breaks
        most, found by a depth-first search over one threshold (or none) per function."""
        items = []  # per function: (threshold, 1 - the LP's weight on options at least as heavy)
        for f in np.unique(self.function):
            mine = self.function == f
            on = x[self.options[mine]] > 1e-9
            if not on.any():
                continue
            weight, value = self.weight[mine][on], x[self.options[mine]][on]
            order = np.argsort(-weight, kind="stable")
            at_least = np.cumsum(value[order])
            levels = [(float(weight[order][j]), max(0.0, 1.0 - float(at_least[j]))) for j in range(len(order))
                      if j == len(order) - 1 or weight[order][j + 1] < weight[order][j]]
            items.append((int(f), sorted((l for l in levels if l[1] < 1.0 - VIOLATION), key=lambda l: (l[1], -l[0]))))
        items = [item for item in items if item[1]]
        items.sort(key=lambda item: -max(t for t, _ in item[1]))
        reach = np.r_[np.cumsum([max(t for t, _ in levels) for _, levels in items][::-1])[::-1], 0.0]
        best: list = [1.0 - VIOLATION, None]
        nodes = 0

        def search(j: int, cost: float, weight: float, chosen: tuple) -> None:
            nonlocal nodes
            nodes += 1
            if weight > self.need:
                if cost < best[0]:
                    best[0], best[1] = cost, chosen
                return
            if j == len(items) or nodes > SEARCH_NODES or weight + reach[j] <= self.need:
                return
            f, levels = items[j]
            for t, c in levels:
                if cost + c < best[0]:
                    search(j + 1, cost + c, weight + t, (*chosen, (f, t)))
            search(j + 1, cost, weight, chosen)

        search(0, 0.0, 0.0, ())
        if best[1] is None:
            return None
        return dict(best[1]), len(best[1]) - 1


def knapsack_rows(relaxation) -> list[KnapsackRow]:
    """The headroom rows of a relaxation's block that a cover can cut: a finite headroom,
    every coefficient > 0, and more weight in the heaviest option of each function than the
    headroom."""
    layout, matrix = relaxation.layout, relaxation.matrix
    if HEADROOM not in layout.limits:
        return []
    entries = matrix.entries_of(HEADROOM)
    if len(entries.column) == 0:
        return []
    first, years = layout.first_row(HEADROOM), HEADROOM.years(relaxation.problem)
    value = np.ones(len(entries.column)) if entries.value is None else entries.value
    function = relaxation.cand.function[entries.column]
    order = np.lexsort((value, function, entries.row))
    column, row, value, function = entries.column[order], entries.row[order], value[order], function[order]
    starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    found = []
    for start, end in zip(starts, np.r_[starts[1:], len(row)]):
        upper = float(layout.upper[row[start]])
        weight, of = value[start:end], function[start:end]
        if not np.isfinite(upper) or (weight <= 0).any():
            continue
        need = upper + MARGIN * max(1.0, abs(upper))
        last = np.r_[of[1:] != of[:-1], True]  # the heaviest option of each function (sorted by weight)
        if weight[last].sum() <= need:
            continue
        found.append(KnapsackRow(int(row[start]), column[start:end].astype(np.int64), weight, of, need,
                                 (int(row[start]) - first) // years))
    return found


def separate(relaxation, rows: list[KnapsackRow], x: np.ndarray, seen: set) -> list[CoverCut]:
    """Lifted cover cuts that the LP point ``x`` (a value for every option of the block) breaks,
    at most one per row; ``seen`` holds the cuts already added (row, thresholds), and grows."""
    local = {k: n for n, k in enumerate(relaxation.layout.functions)}
    councils = len(relaxation.problem.codes)
    cuts = []
    for knapsack in rows:
        found = knapsack.most_violated(x)
        if found is None:
            continue
        threshold = knapsack.lift(*found)
        k = found[1]
        key = (knapsack.row, tuple(sorted(threshold.items())))
        options = knapsack.heavy(threshold)
        if key in seen or float(x[options].sum()) - k <= VIOLATION:
            continue
        seen.add(key)
        anchor = local[int(relaxation.cand.function[options[0]])] * councils + knapsack.council
        cuts.append(CoverCut(knapsack.row, threshold, float(k), options, anchor))
    return cuts
