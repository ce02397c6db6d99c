"""The plan repaired after a council leaves (SPEC §5, optimiser/analysis/repair.py) against
brute force on random tiny instances of every profile: exclusions, apart pairs, locked groups,
budgets, council limits, withdrawal objectives, ramps, loans and headroom.

The repair solves only the locked groups' options and the groups holding a former partner of
the leaver; the brute force solves the repaired run whole (the leaver out of the functions it
leaves, every other partnership locked). A repaired plan reported optimal must be the brute
force's optimum; one reported with a gap must be a plan of the repaired run (the verifier
says so) whose proven bound is at least the optimum.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import replace

import pytest

from optimiser.analysis.financing import plan_flows, shortfalls
from optimiser.api import withdraw
from optimiser.io.instance import load_instance
from optimiser.io.model import load_model
from optimiser.problem import prepare
from optimiser.verify import verify

from randomized import Existing, brute_force
from test_withdrawal import solved_case

PROFILES = ("default", "coupled", "risky", "finance")
TOLERANCE = 1e-6




def _repaired_optimum(case, plan, code: str, left: set[str]) -> float:
    """The brute force's optimum of the repaired run."""
    kept = [Existing(f"kept-{p.id}", p.function, tuple(p.members), None, True) for p in plan.partnerships if code not in p.members]
    excluded = tuple(case.options.exclude) + tuple((code, f) for f in sorted(left))
    repaired_case = replace(case, partnerships=[x for x in case.partnerships if not x.locked] + kept,
                            options=replace(case.options, exclude=excluded))
    return brute_force(repaired_case).objective


def _check(case, plan, code: str) -> str | None:
    report = withdraw(case.instance_dir, plan, code, case.model_path)
    if report.repaired is None:
        assert report.committed  # only a locked commitment leaves no repaired plan
        return None
    repaired = report.repaired
    optimum = _repaired_optimum(case, plan, code, {e.function for e in report.exits})
    slack = TOLERANCE * max(1.0, abs(optimum))
    assert verify(case.instance_dir, repaired.data, case.model_path).ok
    assert repaired.objective <= optimum + slack
    assert repaired.solver.bound >= optimum - slack
    if repaired.status == "optimal":
        assert repaired.objective == pytest.approx(optimum, rel=TOLERANCE, abs=TOLERANCE)
    return repaired.stats.get("method")


@pytest.mark.parametrize("profile,seed", [(p, s) for p in PROFILES for s in range(71_000, 71_015)],
                         ids=lambda v: str(v))
def test_repair_of_an_optimal_plan_is_the_optimum(tmp_path, profile, seed):
    case, plan = solved_case(tmp_path, profile, seed)
    code = random.Random(seed).choice(sorted({c for p in plan.partnerships for c in p.members}))
    method = _check(case, plan, code)
    if method is not None:
        # a proven plan is repaired to a proven plan, by the repair or by the full solve
        report = withdraw(case.instance_dir, plan, code, case.model_path)
        assert report.repaired.status == "optimal"


def _stopped_short(plan, dropped, bound: float):
    """``plan`` without the partnerships ``dropped``, as a run stopped at its time limit with
    the proven ``bound`` would report it."""
    kept = tuple(p for p in plan.partnerships if p.id not in dropped)
    objective = sum((p.expected_npv if plan.options.objective == "expected" else p.npv) for p in kept)
    solver = dataclasses.replace(plan.solver, status="time_limit", objective=objective, bound=bound)
    return dataclasses.replace(plan, partnerships=kept, solver=solver)


@pytest.mark.parametrize("profile,seed", [(p, s) for p in PROFILES for s in range(72_000, 72_015)],
                         ids=lambda v: str(v))
def test_repair_of_a_plan_stopped_short_is_a_plan_within_its_bound(tmp_path, profile, seed):
    # a plan short of the optimum (a partnership dropped), with the optimum as its proven
    # bound: the repair must give a plan of the repaired run whose bound holds
    case, plan = solved_case(tmp_path, profile, seed)
    rng = random.Random(seed)
    code = rng.choice(sorted({c for p in plan.partnerships for c in p.members}))
    locked = {(x.function, frozenset(x.members)) for x in case.partnerships if x.locked}
    others = [p.id for p in plan.partnerships if code not in p.members and (p.function, frozenset(p.members)) not in locked]
    if not others:
        pytest.skip("no partnership to drop beside the leaver's")
    dropped = {rng.choice(others)}
    short = _stopped_short(plan, dropped, plan.objective)
    problem = prepare(load_instance(case.instance_dir), load_model(case.model_path), plan.options)
    if shortfalls(problem, plan_flows(problem, short.partnerships)):
        pytest.skip("without that partnership the plan breaks a headroom (its savings kept it)")
    _check(case, short, code)


@pytest.mark.parametrize("seed", range(73_000, 73_012))
def test_an_uncoupled_run_is_repaired_without_a_full_solve(tmp_path, seed):
    # no budget, council limits or headroom: the repair settles it (a test of which path runs,
    # so that the agreement above covers the repair itself)
    case, plan = solved_case(tmp_path, "default", seed)
    if plan.options.budget is not None or any(c.max_partnerships is not None or c.max_hosted is not None or c.headroom is not None
                                              for c in case.councils):
        pytest.skip("a limit ties partnerships together")
    code = random.Random(seed).choice(sorted({c for p in plan.partnerships for c in p.members}))
    report = withdraw(case.instance_dir, plan, code, case.model_path)
    if report.repaired is None:
        pytest.skip("the leaver is committed to a locked partnership")
    assert report.repaired.stats["method"] == "repair"
