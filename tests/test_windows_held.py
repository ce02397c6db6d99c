"""Windows of a plan whose limits tie councils together (headroom, budgets, host and partnership
limits): the MIP of a window, with the rest of the plan held, against an exhaustive search over
the full problem's rows; and the exact method improving its plan window by window on coupled
cases, against the brute force of tests/randomized.py on both solvers."""

from __future__ import annotations

import importlib
import itertools

import numpy as np
import pytest

from optimiser.api import build
from optimiser.solve import heuristics, improve
from optimiser.solve.mip import solve_mip
from optimiser.solve.rows import RowLayout, coupled
from randomized import brute_force, make_case
from test_property import METHODS, check_against_brute_force

HELD_SEEDS = range(73_000, 73_040)
WINDOW_OPTIONS = 10  # options a window's MIP may choose among, so that every subset can be listed

pytestmark = pytest.mark.usefixtures("warnings_off")


def full_rows(problem, cand) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every row of the problem over every option of ``cand``, dense: (A, lower, upper)."""
    layout = RowLayout.of(problem, range(len(problem.functions)))
    matrix = np.zeros((len(layout), len(cand)))
    for _, first, (column, row, value) in layout.entries(problem, cand, np.arange(len(cand))):
        np.add.at(matrix, (row + first, column), value)
    return matrix, layout.lower, layout.upper


def fits(matrix, lower, upper, chosen: np.ndarray) -> bool:
    activity = matrix[:, chosen].sum(axis=1)
    slack = 1e-7 * np.maximum(1.0, np.abs(np.where(np.isfinite(upper), upper, 0.0)))
    return bool(np.all(activity <= upper + slack) and np.all(activity >= lower - slack))


def coupled_case(seed, folder):
    """A coupled case (headroom on councils, budgets, host limits) of 6 to 8 councils, and its
    problem and options."""
    case = make_case(seed, folder, "finance", coupled=True, n_range=(6, 8))
    problem, cand = build(case.instance_dir, case.model_path, case.options.run_options("exact", "highs"))
    return case, problem, cand


def case_with_a_plan(seed, folder, tries: int = 8):
    """The first of a few cases drawn from ``seed`` with three options or more and a plan
    (greedy, in a random order) to hold part of: (problem, cand, rng, plan), or None."""
    for attempt in range(tries):
        _, problem, cand = coupled_case(seed + 1000 * attempt, folder / str(attempt))
        rng = np.random.default_rng(seed + 1000 * attempt)
        if len(cand) < 3:
            continue
        plan = heuristics.greedy(problem, cand, rng.permutation(len(cand)))
        if plan is not None and len(plan):
            return problem, cand, rng, plan
    return None


@pytest.mark.parametrize("seed", HELD_SEEDS, ids=lambda s: f"held{s}")
def test_a_window_with_the_rest_of_the_plan_held_is_solved_exactly(tmp_path, seed):
    """The best choice among a window's options, the rest of a plan held, is the best subset
    of them that keeps every row of the whole problem together with the held options."""
    drawn = case_with_a_plan(seed, tmp_path)
    if drawn is None:
        pytest.skip("no case with a plan among those drawn")
    problem, cand, rng, plan = drawn
    order = rng.permutation(plan)
    cut = int(rng.integers(0, len(plan)))  # the plan's options held, the rest on offer in the window
    in_window = order[cut:][:WINDOW_OPTIONS]
    held = np.sort(np.r_[order[:cut], order[cut:][WINDOW_OPTIONS:]]).astype(np.int64)
    others = np.setdiff1d(np.arange(len(cand)), plan)
    extra = rng.choice(others, size=min(len(others), WINDOW_OPTIONS - len(in_window)), replace=False)
    idx = np.union1d(in_window, extra).astype(np.int64)
    matrix, lower, upper = full_rows(problem, cand)
    best = 0.0
    for size in range(len(idx) + 1):
        for subset in itertools.combinations(idx.tolist(), size):
            chosen = np.r_[held, np.array(subset, dtype=np.int64)]
            if fits(matrix, lower, upper, chosen):
                best = max(best, float(cand.value[list(subset)].sum()))
    start = np.searchsorted(idx, in_window)
    for solver in ("highs", "cbc"):
        result = solve_mip(problem, cand.take(idx), solver_name=solver, time_limit=None, held=cand.take(held),
                           start=start if solver == "highs" else None)
        assert result.status == "optimal", (seed, solver)
        assert result.objective == pytest.approx(best, rel=1e-9, abs=1e-6), (seed, solver)
        assert fits(matrix, lower, upper, np.r_[held, idx[result.chosen]]), (seed, solver)


def test_held_options_change_the_rows_of_a_tied_case(tmp_path):
    """The cases above are not all ones where holding part of the plan changes nothing: on
    some, the window's best choice alone breaks a row that the held options share."""
    changed = 0
    for seed in HELD_SEEDS:
        case, problem, cand = coupled_case(seed, tmp_path / str(seed))
        if not coupled(problem) or len(cand) < 3:
            continue
        rng = np.random.default_rng(seed)
        plan = heuristics.greedy(problem, cand, rng.permutation(len(cand)))
        if plan is None or len(plan) < 2:
            continue
        held, free = plan[: len(plan) // 2], np.setdiff1d(np.arange(len(cand)), plan[: len(plan) // 2])
        alone = solve_mip(problem, cand.take(free), solver_name="highs", time_limit=None)
        with_held = solve_mip(problem, cand.take(free), solver_name="highs", time_limit=None, held=cand.take(held))
        changed += alone.objective > with_held.objective + 1e-6
    assert changed > 0


@pytest.mark.parametrize("seed", range(71_000, 71_030), ids=lambda s: f"tied{s}")
def test_exact_with_small_tied_windows_equals_brute_force(tmp_path, monkeypatch, seed):
    """Windows of three and four councils, so that the coupled plans are improved window by
    window before the final MIP."""
    monkeypatch.setattr(improve, "TIED_WINDOW_COUNCILS", (3, 4))
    case = make_case(seed, tmp_path, "finance", coupled=True, n_range=(6, 8))
    optimum = brute_force(case)
    for method, solver in METHODS[:1] + METHODS[2:3]:
        check_against_brute_force(case, optimum, method, solver, "finance")


def test_the_tied_cases_are_improved_window_by_window(tmp_path, monkeypatch):
    """Some of the cases above do reach the windows, and some window does better than the plan."""
    from optimiser.api import solve

    monkeypatch.setattr(improve, "TIED_WINDOW_COUNCILS", (3, 4))
    solved, better = [], []
    original = improve.improve

    def counting(problem, cand, options, plan, solve_window, deadline, **keywords):
        def counted(idx, start, held, seconds):
            found = solve_window(idx, start, held, seconds)
            solved.append(len(idx))
            if found is not None and cand.value[idx[found]].sum() > cand.value[idx[start]].sum() + 1e-9:
                better.append(len(idx))
            return found
        return original(problem, cand, options, plan, counted, deadline, **keywords)

    monkeypatch.setattr(improve, "improve", counting)
    for seed in range(71_000, 71_030):
        case = make_case(seed, tmp_path / str(seed), "finance", coupled=True, n_range=(6, 8))
        solve(case.instance_dir, case.model_path, case.options.run_options("exact", "highs"))
    assert solved and better


def test_a_final_mip_that_cannot_pay_gives_its_time_to_larger_windows(tmp_path, monkeypatch):
    """With every final MIP made too costly to start, the coupled cases' time goes to larger
    windows: each plan is verified, worth no more than the brute-force optimum, and its
    proven bound is at least that optimum."""
    import dataclasses

    from optimiser.api import solve
    from optimiser.solve import parts
    from optimiser.verify import verify

    monkeypatch.setattr(parts, "SMALL_MIP_COLUMNS", 0)
    monkeypatch.setattr(parts, "ALMOST_ALL", 0.0)
    monkeypatch.setattr(parts, "ROOT_SECONDS_PER_OPTION", 1e6)
    monkeypatch.setattr(improve, "TIED_WINDOW_COUNCILS", (3,))
    monkeypatch.setattr(improve, "LATE_TIED_WINDOW_COUNCILS", (4, 5))
    late = []
    original = improve.improve

    def noting(problem, cand, options, plan, solve_window, deadline, **keywords):
        if tuple(keywords.get("sizes", ())) == (4, 5):
            late.append(len(options))
        return original(problem, cand, options, plan, solve_window, deadline, **keywords)

    monkeypatch.setattr(improve, "improve", noting)
    for seed in range(71_000, 71_020):
        case = make_case(seed, tmp_path / str(seed), "finance", coupled=True, n_range=(6, 8))
        optimum = brute_force(case)
        options = dataclasses.replace(case.options.run_options("exact", "highs"), time_limit=30.0)
        plan = solve(case.instance_dir, case.model_path, options)
        report = verify(case.instance_dir, plan.data, case.model_path)
        assert report.ok, (seed, report.problems)
        if optimum.objective is None:
            continue
        tolerance = 1e-6 * max(1.0, abs(optimum.objective))
        assert plan.objective <= optimum.objective + tolerance, seed
        assert plan.data["solver"]["bound"] >= optimum.objective - tolerance, seed
    assert late, "some final MIP gave its time to larger windows"


def test_only_the_master_mips_of_a_tied_problem_spend_more_on_heuristics(tmp_path, monkeypatch):
    mip = importlib.import_module("optimiser.solve.mip")
    _, problem, cand = coupled_case(5, tmp_path)
    assert coupled(problem)
    seen = []
    original = mip.solve_highs

    def recording(*args, tied: bool = False, **kwargs):
        seen.append(tied)
        return original(*args, tied=tied, **kwargs)

    monkeypatch.setattr(mip, "solve_highs", recording)
    solve_mip(problem, cand, solver_name="highs", time_limit=None)
    solve_mip(problem, cand, solver_name="highs", time_limit=None, window=True)
    assert seen == [True, False]
