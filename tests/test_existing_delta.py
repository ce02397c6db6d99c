"""Every solve on an instance with partnerships.csv says what the plan does to each existing
arrangement (kept, changed, grown, split, dissolved) and what the arrangements are worth as
they are, against the plan (plan.json ``existing``); the verifier works it out again.
"""

from __future__ import annotations

import copy
import math
import random
from types import SimpleNamespace as P

import pytest

from randomized import Existing, Rules, random_case, write_case
from test_cli import BABERGH, MID_SUFFOLK, SUFFOLK, run

from optimiser.analysis.existing import outcome
from optimiser.api import solve
from optimiser.plan import Plan
from optimiser.verify import verify

A, B, C, D = "A", "B", "C", "D"


@pytest.mark.parametrize("parts, want", [
    ([P(id="P1", members=(A, B), host=A)], ("kept", ("P1",), (), ())),
    ([P(id="P1", members=(A, B), host=B)], ("changed", ("P1",), (), ())),
    ([P(id="P1", members=(C, A, B), host=C)], ("grown", ("P1",), (C,), ())),
    ([P(id="P1", members=(A, B, D), host=A), P(id="P2", members=(C,), host=C)], ("grown", ("P1",), (D,), ())),
    ([P(id="P1", members=(A, D), host=A), P(id="P2", members=(B, C), host=C)], ("dissolved", ("P1", "P2"), (), (A, B))),
    ([], ("dissolved", (), (), (A, B))),
])
def test_outcomes_of_a_pair_hosted_by_a(parts, want):
    assert outcome((A, B), A, parts) == want


def test_outcomes_of_a_trio():
    assert outcome((A, B, C), None, [P(id="P1", members=(A, B), host=A)]) == ("split", ("P1",), (), (C,))
    assert outcome((A, B, C), None, [P(id="P1", members=(C, B, A), host=C)])[0] == "kept"  # no host recorded
    assert outcome((A, B, C), None, [P(id="P1", members=(A, D), host=A), P(id="P2", members=(B, C), host=B)]) == \
        ("split", ("P1", "P2"), (), (A,))


def test_suffolk_plans_say_what_they_do_to_babergh_and_mid_suffolk(capsys):
    plan = solve(SUFFOLK, functions="ict,legal", exclude="Babergh:ict")
    today = plan.existing
    by_function = {a.function: a for a in today.arrangements}
    assert set(by_function) == {"ict", "legal"} and today.outside_run == 0
    assert by_function["ict"].status == "dissolved" and by_function["ict"].left == (BABERGH, MID_SUFFOLK)
    assert math.isclose(today.plan_npv, plan.totals.npv) and math.isclose(today.today_npv, sum(a.today_npv for a in today.arrangements))
    assert verify(SUFFOLK, plan.data).ok
    assert Plan.from_dict(plan.data).existing == today
    broken = copy.deepcopy(plan.data)
    broken["existing"]["arrangements"][0]["status"] = "kept"
    broken["existing"]["today_npv"] += 1000.0
    assert {f.rule for f in verify(SUFFOLK, broken).findings} == {"existing"}


def test_the_summary_names_what_the_plan_dissolves(tmp_path, capsys):
    code, stdout, stderr = run(capsys, "solve", SUFFOLK, "--functions", "ict", "--exclude", "Babergh:ict")
    assert code == 0, stderr
    assert "the plan dissolves babergh-mid-suffolk-ict (ict): Babergh, Mid Suffolk" in stdout
    code, stdout, stderr = run(capsys, "solve", SUFFOLK, "--functions", "ict", "--keep-existing")
    assert code == 0, stderr
    assert "babergh-mid-suffolk-ict (ict) grows: the plan adds" in stdout and "dissolves" not in stdout


def test_an_instance_without_arrangements_has_no_section(tmp_path):
    case = random_case(random.Random(3), 3)
    case.partnerships = []
    write_case(case, tmp_path)
    plan = solve(case.instance_dir, case.model_path)
    assert plan.existing is None and plan.data["existing"] is None


@pytest.mark.parametrize("seed", [*range(30), *range(70_080, 70_095)], ids=lambda s: f"seed{s}")
def test_todays_worth_agrees_with_the_brute_force(tmp_path, seed):
    """Each arrangement's worth as it is: the best over its recorded host (else any member),
    depths and platforms, the depth's set-up share not charged, among the options the rules
    allow (all of them when none is allowed); statuses by a plain reading of the plan."""
    rng = random.Random(seed)
    case = random_case(rng, seed, n_range=(3, 7), lock=False, withdrawal=seed >= 70_000)
    rules = Rules(case)
    f = rng.choice(rules.functions)
    members = tuple(rng.sample(case.codes, 2 if len(case.codes) < 4 else rng.randint(2, 3)))
    case.partnerships.append(Existing("today", f.id, members, rng.choice(members + (None,)), False))
    write_case(case, tmp_path)
    plan = solve(case.instance_dir, case.model_path, case.options.run_options())
    (mine,) = [a for a in plan.existing.arrangements if a.id == "today"] or [None]
    if mine is None:  # outside the run: partly outside its area, or none of its members takes part
        assert not all(rules.in_area(rules.by_code[c]) for c in members) or not any(rules.eligible(f, c) for c in members)
        return
    total = sum(rules.baseline(f, c) for c in members)
    share = {d.id: d.one_off * total for d in case.model.depths}
    allowed = [o.npv + share[o.depth] for o in rules.options(f, members) if mine.host is None or o.host == mine.host]
    if not allowed:  # no option passes: every host (the recorded one) and depth, rules aside
        loose = Rules(case)
        for c in loose.by_code.values():
            c.commitment = 1.0
        f_loose = type(f)(**{**f.__dict__, "host_min_commitment": 0.0, "geography": ("none",)})
        allowed = [o.npv + share[o.depth] for o in loose.options(f_loose, members) if mine.host is None or o.host == mine.host]
    assert math.isclose(mine.today_npv, max(allowed), rel_tol=1e-6, abs_tol=1e-6), (seed, mine)
    parts = [p for p in plan.partnerships if p.function == f.id]
    together = [p for p in parts if set(members) <= set(p.members)]
    touched = [p for p in parts if set(members) & set(p.members)]
    if together:
        assert mine.status in ("kept", "changed", "grown") and mine.partnerships == (together[0].id,)
    elif any(len(set(members) & set(p.members)) >= 2 for p in touched):
        assert mine.status == "split"
    else:
        assert mine.status == "dissolved"
    assert verify(case.instance_dir, plan.data, case.model_path).ok
