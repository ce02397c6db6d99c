"""Fix-and-optimise window by window, against brute force and inside the exact method."""

from __future__ import annotations

import random

import numpy as np
import pytest

from optimiser.solve import heuristics, improve
from optimiser.api import build, solve
from optimiser.problem import RunOptions
from optimiser.verify import verify
from test_exact import write_grid


@pytest.mark.parametrize("seed", range(30))
def test_windows_split_the_councils_into_small_groups(seed):
    rng = np.random.default_rng(seed)
    count = int(rng.integers(1, 200))
    x, y = rng.normal(size=count), rng.uniform(size=count)
    councils = np.sort(rng.choice(count, size=int(rng.integers(1, count + 1)), replace=False))
    size = int(rng.integers(1, 50))
    found = improve.windows(x, y, councils, size)
    assert np.array_equal(np.sort(np.concatenate(found)), councils)
    assert all(1 <= len(window) <= size for window in found)


def _best_packing(cand, idx: np.ndarray) -> np.ndarray:
    """The most valuable set of pairwise disjoint options among ``idx`` (per function), by enumeration."""
    rows = [frozenset((int(cand.function[j]), int(m)) for m in cand.members[j] if m >= 0) for j in idx]
    best_value, best = 0.0, []

    def extend(start, used, chosen, value):
        nonlocal best_value, best
        if value > best_value:
            best_value, best = value, list(chosen)
        for position in range(start, len(idx)):
            if not rows[position] & used:
                extend(position + 1, used | rows[position], chosen + [position], value + float(cand.npv[idx[position]]))

    extend(0, frozenset(), [], 0.0)
    return np.array(best, dtype=np.int64)


@pytest.mark.parametrize("seed", range(12))
def test_improve_never_loses_value_and_keeps_a_plan(tmp_path, seed):
    rng = random.Random(seed)
    folder = write_grid(tmp_path / "grid", rng, 4, limits=False, locked=False, max_size=3)
    problem, cand = build(folder, folder / "model.toml", RunOptions())
    cand = cand.take(np.flatnonzero(cand.npv > 0))
    options = np.array(sorted(rng.sample(range(len(cand)), min(len(cand), 60))), dtype=np.int64)
    plan = heuristics.greedy(problem, cand, np.array(rng.sample(range(len(cand)), len(cand)), dtype=np.int64))
    windows_seen = []

    def solve_window(idx, start, held, seconds):
        windows_seen.append(idx)
        # the window's start and the held options are the plan so far: no worse than the first
        so_far = np.r_[idx[start], held]
        assert len(np.intersect1d(idx[start], held)) == 0
        assert cand.npv[so_far].sum() >= cand.npv[plan].sum() - 1e-6
        if not windows_seen[1:]:
            assert sorted(so_far.tolist()) == sorted(plan.tolist())
        return _best_packing(cand, idx)

    better = improve.improve(problem, cand, options, plan, solve_window, None, sizes=(3,))
    assert windows_seen, "the grid is larger than one window"
    assert cand.npv[better].sum() >= cand.npv[plan].sum() - 1e-6
    assert set(better.tolist()) <= set(options.tolist()) | set(plan.tolist())
    rows = [(int(cand.function[j]), int(m)) for j in better for m in cand.members[j] if m >= 0]
    assert len(rows) == len(set(rows)), "no council is in two partnerships of one function"
    # the last window solved is optimal over its options given the rest of the plan
    last = windows_seen[-1]
    assert cand.npv[np.intersect1d(better, last)].sum() >= cand.npv[last[_best_packing(cand, last)]].sum() - 1e-6


# grids whose LP is fractional, so that the exact method has a plan to improve
@pytest.mark.parametrize("seed,side,locked", [(6, 5, False), (6, 5, True)])
def test_exact_with_small_windows_equals_naive(tmp_path, monkeypatch, seed, side, locked):
    """Windows of four councils, so that every part of these grids is improved window by window."""
    monkeypatch.setattr(improve, "WINDOW_COUNCILS", 4)
    windows_solved = []
    original = improve.improve

    def counting(problem, cand, options, plan, solve_window, deadline, **keywords):
        def counted(idx, start, held, seconds):
            windows_solved.append(len(idx))
            return solve_window(idx, start, held, seconds)
        return original(problem, cand, options, plan, counted, deadline, **keywords)

    monkeypatch.setattr(improve, "improve", counting)
    folder = write_grid(tmp_path / "grid", random.Random(seed), side, limits=False, locked=locked)
    model = folder / "model.toml"
    exact = solve(folder, model, RunOptions(method="exact"))
    assert windows_solved, "the exact method improved its plan window by window"
    naive = solve(folder, model, RunOptions(method="naive"))
    assert verify(folder, exact.data, model).ok
    assert exact.status == naive.status == "optimal"
    assert exact.objective == pytest.approx(naive.objective, rel=1e-6, abs=1e-6)
