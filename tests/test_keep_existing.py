"""--keep-existing: every existing partnership's members stay together in its function (it may
grow and change depth, host and platform), the set-up cost its members paid sunk; locked
partnerships keep exactly their members. Against the brute force of tests/randomized.py on
random tiny cases, by hand on Suffolk, and through the verifier's ``keep_existing`` check.
"""

from __future__ import annotations

import copy
import json
import math
import random

import pytest

from randomized import add_existing, brute_force, check_plan, random_case, write_case
from test_cli import BABERGH, ENGLAND, MID_SUFFOLK, SUFFOLK, run
from test_cli_inputs import bad

from optimiser.api import solve
from optimiser.io.instance import load_instance
from optimiser.io.model import load_model
from optimiser.verify import verify

REL, ABS = 1e-6, 1e-6


@pytest.mark.parametrize("seed", [*range(40), *range(70_000, 70_020)], ids=lambda s: f"seed{s}")
def test_keep_existing_agrees_with_the_brute_force(tmp_path, seed):
    """Seeds from 70,000 draw withdrawal chances, the expected objective and --robust too."""
    rng = random.Random(seed)
    case = add_existing(random_case(rng, seed, n_range=(3, 7), withdrawal=seed >= 70_000), rng, count=rng.randint(1, 2))
    write_case(case, tmp_path)
    if not any(not p.locked for p in case.partnerships):
        pytest.skip("no existing partnership could be drawn")
    optimum = brute_force(case)
    method, solver = (("exact", "highs"), ("naive", "highs"))[seed % 2]
    plan = solve(case.instance_dir, case.model_path, case.options.run_options(method, solver))
    if optimum.objective is None:
        assert plan.status == "infeasible", f"seed {seed}: {case.options.describe()}"
        return
    assert plan.status == "optimal", f"seed {seed}"
    assert math.isclose(plan.objective, optimum.objective, rel_tol=REL, abs_tol=ABS), \
        f"seed {seed} ({case.options.describe()}): engine {plan.objective}, brute force\n{optimum.describe()}"
    assert not check_plan(case, plan.data), f"seed {seed}: {check_plan(case, plan.data)}"
    report = verify(case.instance_dir, plan.data, case.model_path)
    assert report.ok, f"seed {seed}: {report.problems}"


def test_suffolk_keeps_babergh_and_mid_suffolk_together_with_their_set_up_cost_sunk():
    plan = solve(SUFFOLK, functions="legal,ict", keep_existing=True)
    model = load_model("uk-central")
    standardised = next(d for d in model.depths if d.id == "standardised")
    baseline = {(c.code, c.function): c.baseline for c in plan.councils}
    for p in plan.partnerships:
        assert {BABERGH, MID_SUFFOLK} <= set(p.members)
        total = sum(baseline[(c, p.function)] for c in p.members)
        paid = baseline[(BABERGH, p.function)] + baseline[(MID_SUFFOLK, p.function)]
        if p.depth == "standardised":
            migration = model.function(p.function).migration * sum(
                baseline[(c, p.function)] for c in p.members if c != p.platform.removeprefix("own:"))
            assert math.isclose(p.one_off_cost, standardised.one_off * (total - paid) + migration, rel_tol=1e-9)
        depth = next(d for d in model.depths if d.id == p.depth)
        assert math.isclose(p.npv, p.annual_saving * model.ramped_annuity(depth) - p.one_off_cost, rel_tol=1e-9)
    assert verify(SUFFOLK, plan.data).ok


def test_the_plan_without_headroom_limits_keeps_the_set_up_cost_sunk_too():
    # the shipped councils have headrooms; here they bind, so the verifier prices the plan
    # without their limits, whose kept arrangement's set-up cost is sunk as well
    plan = solve(SUFFOLK, functions="waste-collection,ict", keep_existing=True)
    assert plan.finance["financing_gap"] > 0
    assert verify(SUFFOLK, plan.data).ok


def test_without_the_option_nothing_is_sunk():
    kept = solve(SUFFOLK, functions="legal", keep_existing=True)
    plain = solve(SUFFOLK, functions="legal")
    (p,) = kept.partnerships
    (q,) = plain.partnerships
    if set(p.members) == set(q.members) and p.depth == q.depth:
        assert p.one_off_cost < q.one_off_cost


def test_the_verifier_finds_a_split_arrangement(tmp_path):
    plan = solve(SUFFOLK, functions="legal", keep_existing=True).data
    broken = copy.deepcopy(plan)
    part = broken["partnerships"][0]
    part["members"] = [c for c in part["members"] if c != BABERGH]
    report = verify(SUFFOLK, broken)
    assert any(f.rule == "keep_existing" and "babergh-mid-suffolk-legal" in str(f) for f in report.findings), report.problems
    assert not any(f.rule == "keep_existing" for f in verify(SUFFOLK, plan).findings)


def test_bad_runs(tmp_path, capsys):
    bad(capsys, "solve", SUFFOLK, "--functions", "legal", "--keep-existing", "--exclude", "Babergh:legal", option="--exclude",
        value="keep-existing")
    bad(capsys, "solve", ENGLAND, "--area", "Babergh", "--functions", "legal", "--keep-existing", option="--area",
        value="babergh-mid-suffolk-legal")
    bad(capsys, "solve", SUFFOLK, "--functions", "legal", "--keep-existing", "--apart", "Babergh:Mid Suffolk", option="--apart")
    message = bad(capsys, "evaluate", SUFFOLK, SUFFOLK / "partnerships.csv", "--keep-existing", option="--keep-existing")
    assert "not an option of evaluate" in message


def test_solve_says_it_keeps_them(tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, stderr = run(capsys, "solve", SUFFOLK, "--functions", "legal", "--keep-existing", "--out", out)
    assert code == 0, stderr
    data = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert data["options"]["keep_existing"] is True
    assert verify(SUFFOLK, data).ok and load_instance(SUFFOLK)
