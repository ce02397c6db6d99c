"""The headroom limit of SPEC §8: in no year may a council's share of its partnerships' net
cash fall below minus its headroom (the ``headroom`` column of councils.csv)."""

from __future__ import annotations

import numpy as np

from ..economics.finance import option_cash
from ..problem import Problem
from .limits import Limit, no_entries


def member_shares(problem: Problem, cand, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For options ``idx``: members (len(idx), slots), padded with -1; each member's share of
    its partnership; and the partnership's net cash in years 0..T, (len(idx), T + 1): its
    A ramp_t - D_t, and -O in year 0 without a loan (SPEC §8). A member's net cash in year t
    is its share times the partnership's."""
    members = cand.members[idx]
    valid = members >= 0
    k = cand.function[idx]
    b = np.where(valid, problem.baseline[k[:, None], np.where(valid, members, 0)], 0.0)
    total = b.sum(axis=1, keepdims=True)
    size = valid.sum(axis=1, keepdims=True)
    # shares follow baselines; a group with no baseline at all splits evenly (as the plan does)
    share = np.where(total > 0, b / np.where(total > 0, total, 1.0), valid / np.maximum(size, 1))
    cash = option_cash(cand.annual[idx], cand.one_off[idx], problem.ramp_table[cand.depth[idx]], problem.loan,
                       problem.model.horizon_years)
    return members, share, cash


class Headroom(Limit):
    """For each council i with a headroom and each year t = 0..T: the council's share of its
    partnerships' net cash is at least -headroom[i], stated as sum of -share x cash <= headroom
    (row ``i (T + 1) + t``; free for a council without a headroom)."""

    name = "headroom"
    summary = "every council's net cash in every year is at least minus its headroom"

    def years(self, problem: Problem) -> int:
        return problem.model.horizon_years + 1

    def count(self, problem, functions):
        return len(problem.codes) * self.years(problem)

    def rows(self, problem, functions):
        upper = np.repeat(problem.headroom.astype(float), self.years(problem))
        return np.full(len(upper), -np.inf), upper

    def entries(self, problem, cand, idx, functions):
        if len(idx) == 0 or not problem.headroom_active:
            return no_entries()
        members, share, cash = member_shares(problem, cand, idx)
        limited = (members >= 0) & np.isfinite(problem.headroom[np.where(members >= 0, members, 0)])
        years = self.years(problem)
        found = []
        for year in range(years):
            cost = share * -cash[:, year : year + 1]  # what the year takes from each member
            column, slot = np.nonzero(limited & (cost != 0.0))
            council = members[column, slot].astype(np.int64)
            # a row on which no option takes money (only gives) holds for any x >= 0: left out,
            # which keeps the LP small (with savings from year 1, only year 0 takes money)
            taking = np.zeros(len(problem.codes), dtype=bool)
            taking[council[cost[column, slot] > 0.0]] = True
            keep = taking[council]
            found.append((column[keep], council[keep] * years + year, cost[column[keep], slot[keep]]))
        column, row, value = (np.concatenate(parts) for parts in zip(*found))
        order = np.argsort(column, kind="stable")
        return column[order], row[order], value[order]

    def binding(self, problem, cand, idx, functions, column, row):
        """Rows that some choice can break: a council is in at most one option per function,
        so the most a year can take from it is the sum over functions of the largest cost."""
        count = self.count(problem, functions)
        if len(row) == 0:
            return np.zeros(count, dtype=bool)
        column, row, value = self.entries(problem, cand, idx, functions)
        functions_total = len(problem.functions)
        pair, where = np.unique(row * functions_total + cand.function[idx[column]], return_inverse=True)
        largest = np.zeros(len(pair))
        np.maximum.at(largest, where, np.maximum(value, 0.0))
        most = np.bincount(pair // functions_total, weights=largest, minlength=count)
        _, upper = self.rows(problem, functions)
        # a row within rounding of its bound is stated too: stating a row is always exact
        return most > upper - 1e-9 * np.maximum(1.0, np.abs(np.where(np.isfinite(upper), upper, 0.0)))

    def couples(self, problem):
        """A council's rows tie together its partnerships of different functions."""
        limited = np.isfinite(problem.headroom) & problem.in_area
        return bool((problem.eligible[:, limited].sum(axis=0) >= 2).any())

    def breaks(self, problem, groups):
        if not problem.headroom_active:
            return []
        index = {c: i for i, c in enumerate(problem.codes)}
        depth_of = {d.id: n for n, d in enumerate(problem.model.depths)}
        function_of = {f.id: k for k, f in enumerate(problem.functions)}
        cash: dict[str, np.ndarray] = {}
        joined: dict[str, list[int]] = {}
        for position, group in enumerate(groups):
            if group.annual is None or group.depth not in depth_of or group.function not in function_of:
                continue
            flows = option_cash([group.annual], [group.one_off or 0.0], problem.ramp_table[[depth_of[group.depth]]],
                                problem.loan, problem.model.horizon_years)[0]
            b = np.array([problem.baseline[function_of[group.function], index[c]] for c in group.members])
            shares = b / b.sum() if b.sum() > 0 else np.full(len(b), 1.0 / len(b))
            for code, share in zip(group.members, shares):
                cash[code] = cash.get(code, 0.0) + share * flows
                joined.setdefault(code, []).append(position)
        found = []
        for code, yearly in cash.items():
            limit = problem.headroom[index[code]]
            year = int(np.argmin(yearly))
            if np.isfinite(limit) and yearly[year] < -limit - 1e-6 * max(1.0, limit):
                sentence = (f"headroom: {code}'s net cash in year {year} would be {yearly[year]:,.0f} pounds, "
                            f"beyond its headroom of {limit:,.0f} pounds")
                found += [(position, sentence) for position in joined[code]]
        return found


HEADROOM = Headroom()
