"""What every group is worth on its own (SPEC §6's v(G)), as the solve's candidate generation
records it for the plan's stability: the same figures as pricing the groups afresh, and as a
brute force over the rules, under every profile; the plan's stability from a solve equal to
that worked out afresh."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pytest

from randomized import make_case, write_case
from test_verify_shares import brute_groups

from optimiser.analysis.shares import with_shares
from optimiser.api import solve
from optimiser.candidates import CandidateGenerator
from optimiser.candidates.worth import GroupWorth, worth_of_groups
from optimiser.problem import load_run, prepare

CASES = [(seed, profile) for profile, seeds in (("default", range(12)), ("coupled", range(100, 112)),
                                                ("risky", range(200, 210)), ("finance", range(300, 312)),
                                                ("wide", range(400, 403)))
         for seed in seeds]


def same_stability(found, want) -> bool:
    """Every figure of two plans' stability the same; the LP bounds (and so the costs of
    stability) to within the LP's rounding, as LPs started from different columns end at
    the same optimum by different pivots."""
    approximate = ("lp_bound", "cost_of_stability")
    if len(found) != len(want):
        return False
    for a, b in zip(found, want):
        if dataclasses.replace(a, lp_bound=None, cost_of_stability=None) != dataclasses.replace(b, lp_bound=None, cost_of_stability=None):
            return False
        for name in approximate:
            x, y = getattr(a, name), getattr(b, name)
            if (x is None) != (y is None) or (x is not None and abs(x - y) > 1e-9 * max(1.0, abs(a.lp_bound))):
                return False
    return True


def _problem(case):
    instance, model, options = load_run(case.instance_dir, case.model_path, case.options.run_options())
    return prepare(instance, model, options)


def _recorded(problem) -> dict[int, GroupWorth]:
    generator = CandidateGenerator(problem, record_worth=True)
    for k in range(len(problem.functions)):
        generator.function(k)
    return generator.worth


def _flat(worth: GroupWorth) -> dict[tuple, float]:
    return {tuple(int(c) for c in members[g]): float(value[g])
            for members, value, _ in worth.chunks for g in range(len(value))}


@pytest.mark.parametrize("seed,profile", CASES, ids=[f"{p}{s}" for s, p in CASES])
def test_recorded_worth_is_the_worth_priced_afresh_and_by_brute_force(tmp_path, seed, profile):
    logging.getLogger("optimiser").setLevel(logging.ERROR)
    case = make_case(seed, tmp_path, profile)
    problem = _problem(case)
    try:
        recorded = _recorded(problem)
    except ValueError:
        pytest.skip("a locked group breaks a rule (tested elsewhere)")
    brute = brute_groups(case)
    for k, function in enumerate(problem.functions):
        committed = any(group.function_index == k for group in problem.locked)
        # a function with councils committed to a locked group enumerates fewer groups than
        # stability asks about: nothing is recorded for it, and it is priced afresh instead
        assert (k in recorded) == (not committed), (seed, function.id)
        fresh = worth_of_groups(problem, [k])[0]
        if k in recorded:
            worth = recorded[k]
            assert worth.feasible == fresh.feasible and worth.groups == fresh.groups
            assert len(worth.chunks) == len(fresh.chunks)
            for (m1, v1, p1), (m2, v2, p2) in zip(worth.chunks, fresh.chunks):
                assert np.array_equal(m1, m2) and np.array_equal(v1, v2) and np.array_equal(p1, p2)
        # the groups worth more than 0 and their worth, against the rules written out by hand
        want = {tuple(sorted(problem.codes.index(c) for c in members)): npv
                for members, npv in brute[function.id].items() if npv > 0}
        found = _flat(fresh)
        assert found.keys() == want.keys(), (seed, function.id)
        for members, npv in want.items():
            assert found[members] == pytest.approx(npv, rel=1e-9, abs=1e-6)
        assert fresh.feasible == len(brute[function.id]), (seed, function.id)


@pytest.mark.parametrize("seed,profile", [(s, p) for s, p in CASES if s % 3 == 0])
def test_a_solves_stability_is_the_stability_worked_out_afresh(tmp_path, seed, profile):
    logging.getLogger("optimiser").setLevel(logging.ERROR)
    case = make_case(seed, tmp_path, profile)
    instance, model, options = load_run(case.instance_dir, case.model_path, case.options.run_options())
    try:
        plan = solve(instance, model, dataclasses.replace(options, shares="nucleolus"))
    except ValueError:
        pytest.skip("a locked group breaks a rule (tested elsewhere)")
    if plan.status == "infeasible":
        pytest.skip("nothing to be stable")
    again = with_shares(prepare(instance, model, plan.options), plan)
    assert same_stability(plan.stability, again.stability)


def _only(worth: GroupWorth, positions: np.ndarray) -> GroupWorth:
    """``worth`` cut down to the groups at ``positions``."""
    cut = GroupWorth()
    for members, value, at in worth.chunks:
        keep = np.isin(at, positions)
        cut.chunks.append((members[keep], value[keep], at[keep]))
    return cut


@pytest.mark.parametrize("seed", range(500, 520))
def test_the_solves_lp_support_is_the_support_of_the_packing_lp(tmp_path, seed):
    """Where a function is solved alone for NPV, the solve's first proven LP is the function's
    packing LP: the groups recorded as its support reach the whole LP's bound on their own (a
    support mapped to the wrong groups would fall short)."""
    from optimiser.analysis.shares import packing_lp_bound
    from optimiser.solve import solve_master
    from optimiser.solve.exact import blocks

    logging.getLogger("optimiser").setLevel(logging.ERROR)
    case = make_case(seed, tmp_path, "default", budget=False)
    # without the limits that tie functions together, every function is solved alone
    case.councils = [dataclasses.replace(c, max_partnerships=None, max_hosted=None) for c in case.councils]
    write_case(case, tmp_path)
    problem = _problem(case)
    generator = CandidateGenerator(problem, record_worth=True)
    try:
        solve_master(problem, generator)
    except ValueError:
        pytest.skip("a locked group breaks a rule (tested elsewhere)")
    if problem.headroom_active or len(blocks(problem)) < len(problem.functions):
        pytest.skip("limits across functions: the solve's LP is not the function's packing LP")
    assert generator.worth.keys() == set(range(len(problem.functions))) - {g.function_index for g in problem.locked}
    for k, worth in generator.worth.items():
        if not any(len(value) for _, value, _ in worth.chunks):
            continue  # nothing to pack: no LP was solved
        assert worth.lp_support is not None  # no time limit: every LP is proven
        whole, _ = packing_lp_bound(problem, k, worth, [])
        alone, _ = packing_lp_bound(problem, k, _only(worth, worth.lp_support), [])
        assert alone == pytest.approx(whole, rel=1e-6, abs=1e-3), (seed, problem.functions[k].id)
