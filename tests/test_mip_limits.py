"""The master MIP handed to HiGHS directly, and what a part's MIPs are given under a time limit.

The direct route is checked against brute force on random tiny MIPs (with and without a
plan to start from); the time a part's MIPs are given, and the final MIP that is not worth
starting, are checked with the solver replaced by a recorder (no wall clock)."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest

from optimiser.solve import highs_mip, parts
from optimiser.solve.highs_mip import solve_highs, use_presolve
from optimiser.solve.mip import MipResult
from optimiser.solve.rows import MipRows


def random_mip(rng: random.Random, n: int) -> tuple[np.ndarray, MipRows]:
    """Set packing over ``n`` binary columns with a knapsack row, an equality and a >= row."""
    columns, values, senses, rhs = [], [], [], []
    for _ in range(rng.randint(1, 5) if n else 0):
        cols = np.array(sorted(rng.sample(range(n), rng.randint(1, n))))
        columns.append(cols)
        values.append(np.ones(len(cols)))
        senses.append("<=")
        rhs.append(1.0)
    weights = np.array([rng.uniform(0.0, 5.0) for _ in range(n)])
    columns.append(np.arange(n))
    values.append(weights)
    senses.append("<=")
    rhs.append(rng.uniform(0.0, weights.sum()))
    if rng.random() < 0.3 and n:
        columns.append(np.array([rng.randrange(n)]))
        values.append(np.ones(1))
        senses.append(rng.choice(["==", ">="]))
        rhs.append(float(rng.randint(0, 1)))
    objective = np.array([rng.uniform(-1.0, 10.0) for _ in range(n)])
    return objective, MipRows(tuple(columns), tuple(values), tuple(senses), tuple(rhs))


def feasible(x: np.ndarray, rows: MipRows) -> bool:
    for cols, vals, sense, right in zip(rows.columns, rows.values, rows.senses, rows.rhs):
        lhs = float(vals @ x[cols])
        if (sense == "<=" and lhs > right + 1e-9) or (sense == ">=" and lhs < right - 1e-9) or (
                sense == "==" and abs(lhs - right) > 1e-9):
            return False
    return True


def brute_force(objective: np.ndarray, rows: MipRows) -> tuple[float, list[np.ndarray]]:
    """The optimum and every feasible plan (as 0/1 vectors)."""
    plans = [np.array(bits, dtype=float) for bits in itertools.product((0, 1), repeat=len(objective))]
    plans = [x for x in plans if feasible(x, rows)]
    return max((float(objective @ x) for x in plans), default=-math.inf), plans


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("seed", range(40))
def test_direct_highs_equals_brute_force_with_or_without_a_start(seed, tied):
    rng = random.Random(seed)
    objective, rows = random_mip(rng, rng.randint(0, 9))
    best, plans = brute_force(objective, rows)
    start = None
    if plans and seed % 2:
        start = np.flatnonzero(rng.choice(plans) > 0.5)
    outcome = solve_highs(objective, rows, None if seed % 3 else 30.0, 1e-9, start, tied=tied)
    if not plans:
        assert outcome.status == "infeasible" and outcome.values is None
        return
    assert outcome.status == "optimal"
    x = np.round(outcome.values)
    assert feasible(x, rows)
    assert float(objective @ x) == pytest.approx(best, abs=1e-6)
    assert outcome.bound >= best - 1e-6  # the bound is in the maximisation's own sense


def test_highs_spends_more_on_heuristics_only_where_a_limit_ties_the_options(monkeypatch):
    import highspy

    efforts = []
    original = highspy.Highs.setOptionValue

    def recording(self, name, value):
        if name == "mip_heuristic_effort":
            efforts.append(value)
        return original(self, name, value)

    monkeypatch.setattr(highspy.Highs, "setOptionValue", recording)
    objective, rows = random_mip(random.Random(1), 6)
    solve_highs(objective, rows, None, 1e-9)
    assert efforts == []
    solve_highs(objective, rows, None, 1e-9, tied=True)
    assert efforts == [highs_mip.TIED_HEURISTIC_EFFORT]


def test_rows_reach_highs_with_their_senses():
    rows = MipRows((np.array([0, 2]), np.array([1]), np.array([2])), (np.array([1.0, 2.0]), np.ones(1), np.ones(1)),
                   ("<=", ">=", "=="), (3.0, 1.0, 1.0))
    starts, index, value, lower, upper = highs_mip.row_matrix(rows)
    assert starts.tolist() == [0, 2, 3] and index.tolist() == [0, 2, 1, 2] and value.tolist() == [1.0, 2.0, 1.0, 1.0]
    assert lower.tolist() == [-math.inf, 1.0, 1.0] and upper.tolist() == [3.0, math.inf, 1.0]


def test_presolve_runs_without_a_limit_and_on_small_models_and_not_in_a_short_slice_of_a_large_one():
    large = 10 * highs_mip.PRESOLVE_ALWAYS_NONZEROS
    estimate = highs_mip.PRESOLVE_SECONDS_PER_MILLION * large / 1e6
    assert use_presolve(large, None)
    assert use_presolve(highs_mip.PRESOLVE_ALWAYS_NONZEROS, 0.1)
    assert not use_presolve(large, estimate)  # presolve alone would take the whole slice
    assert use_presolve(large, highs_mip.PRESOLVE_SHARE_LIMIT * estimate)


@pytest.mark.parametrize("seed", range(20))
def test_positions_of_a_plan_among_options(seed):
    rng = random.Random(seed)
    options = np.array(rng.sample(range(50), rng.randint(0, 20)), dtype=np.int64)
    plan = np.array(rng.sample(range(50), rng.randint(0, 5)), dtype=np.int64)
    found = parts.positions_of(plan, options)
    if set(plan.tolist()) <= set(options.tolist()):
        assert found is not None and options[found].tolist() == plan.tolist()
    else:
        assert found is None


def large_part() -> int:
    """Options enough that half the time their root LP needs is more than the least any large
    MIP is started with (so that the rule tested, not that least, decides)."""
    from optimiser.solve import clock

    return max(3 * parts.SMALL_MIP_COLUMNS, int(4 * clock.MIN_MIP_SECONDS / parts.ROOT_SECONDS_PER_OPTION))


class Options:
    """Just enough of a CandidateSet for final_mip: values, locks and take()."""

    def __init__(self, n: int):
        self.value = np.ones(n)
        self.locked = np.full(n, -1)

    def __len__(self) -> int:
        return len(self.value)

    def take(self, idx):
        return Options(len(idx))


def final_mip_calls(monkeypatch, n: int, rc: np.ndarray, time_left: float | None):
    """final_mip over a part of ``n`` options (plan: option 0, worth 1; LP bound 10), with the
    MIP replaced by a recorder that returns the plan of options 0 and 1."""
    calls = []

    def solve_mip(problem, cand, *, solver_name, time_limit, cuts=(), start=None):
        calls.append({"columns": len(cand), "time_limit": time_limit, "start": start})
        values = np.zeros(len(cand))
        values[:2] = 1.0
        return MipResult("time_limit", values, 2.0, 9.0)

    monkeypatch.setattr(parts, "solve_mip", solve_mip)
    result = parts.final_mip(None, Options(n), np.arange(n), rc, 10.0, np.array([0]), 1.0, "highs", time_left, lambda idx: [])
    return calls, result


def test_the_final_mip_is_given_the_time_left_of_the_slice_and_the_plan_as_its_start(monkeypatch):
    n = 100
    calls, result = final_mip_calls(monkeypatch, n, np.zeros(n), 7.25)
    assert [call["time_limit"] for call in calls] == [7.25]
    assert calls[0]["start"].tolist() == [0]
    assert result.objective == 2.0 and result.bound == 9.0 and result.kept == n


def test_a_final_mip_over_almost_every_option_without_time_for_its_root_is_skipped(monkeypatch):
    n = large_part()
    short = 0.5 * parts.ROOT_SECONDS_PER_OPTION * n
    calls, result = final_mip_calls(monkeypatch, n, np.zeros(n), short)
    assert calls == []
    # the plan in hand stands, with the LP bound: nothing better was proven
    assert result.chosen.tolist() == [0] and result.objective == 1.0 and result.bound == 10.0
    assert result.status == "time_limit" and result.kept == n
    # with the time its root needs, it runs
    calls, result = final_mip_calls(monkeypatch, n, np.zeros(n), 2 * parts.ROOT_SECONDS_PER_OPTION * n)
    assert len(calls) == 1 and result.objective == 2.0


def test_a_final_mip_that_fixing_made_small_runs_in_a_short_slice(monkeypatch):
    n = large_part()
    rc = np.full(n, -100.0)  # every option but the plan's is fixed at zero
    rc[0] = 0.0
    short = 0.5 * parts.ROOT_SECONDS_PER_OPTION * n
    calls, _ = final_mip_calls(monkeypatch, n, rc, short)
    assert [call["columns"] for call in calls] == [1]
    calls, _ = final_mip_calls(monkeypatch, n, np.zeros(n), None)  # no limit: always
    assert len(calls) == 1 and calls[0]["time_limit"] is None
