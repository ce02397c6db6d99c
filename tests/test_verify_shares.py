"""The verifier's checks of SPEC section 6: shares, core excesses, transfers and stability.

* a Suffolk plan under each share rule, with the engine's ``with_shares``, verifies;
* tampering with one share, excess, transfer, npv_share, blocking count, largest surplus,
  its members or the LP bound is reported under the right check's name;
* plans from before SPEC section 6 still verify, and a non-proportional rule needs shares;
* on random tiny instances (tests/randomized.py) the engine and the verifier agree under all
  three rules, and the verifier's own figures agree with a third, brute-force count written
  from the case's plain values (itertools, no numpy, no verifier code).
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import itertools
import json
import random
import subprocess
import sys
import warnings

import pulp
import pytest

from randomized import Rules, make_case

from optimiser.analysis.shares import with_shares
from optimiser.api import solve
from optimiser.io.instance import load_instance
from optimiser.io.model import load_model
from optimiser.problem import load_run, prepare
from optimiser.verify import verify

verify_package = importlib.import_module("optimiser.verify")  # the package (optimiser.verify is also the function)
from optimiser.verify import allocation, checks, games, lp, stability  # noqa: E402
from optimiser.verify.context import build_context  # noqa: E402

RULES = ("proportional", "shapley", "nucleolus")
SUFFOLK = "instances/suffolk-2023"


pytestmark = pytest.mark.usefixtures("warnings_off")


def shared(instance, model, options, rule: str) -> dict:
    """The plan.json of a solved run with SPEC section 6 added under ``rule``."""
    instance, model, options = load_run(instance, model, options)
    plan = solve(instance, model, options)
    problem = prepare(instance, model, dataclasses.replace(options, shares=rule))
    plan = with_shares(problem, dataclasses.replace(plan, options=problem.options))
    return json.loads(plan.to_json())


def problems(report) -> list[str]:
    return [str(f) for f in report.findings]


def rules_of(report) -> set[str]:
    return {f.rule for f in report.findings}


# ---------------------------------------------------------------- Suffolk under each rule


@pytest.fixture(scope="module")
def suffolk():
    instance = load_instance(SUFFOLK)
    model = load_model(instance.model_ref, near=instance.folder)
    plans = {rule: shared(instance, model, {}, rule) for rule in RULES}
    return instance, model, plans


@pytest.mark.parametrize("rule", RULES)
def test_suffolk_plan_with_shares_verifies(suffolk, rule):
    instance, model, plans = suffolk
    plan = plans[rule]
    assert plan["options"]["shares"] == rule
    assert all(p.get("shares") and p.get("core_excess") for p in plan["partnerships"])
    assert set(plan["stability"]) == set(model.function_ids)
    report = verify(instance, plan, model)
    assert not problems(report), problems(report)


def test_groups_checked_counts_only_allowed_groups(suffolk):
    instance, model, plans = suffolk
    report = verify(instance, plans["shapley"], model)
    assert not problems(report), problems(report)


def _member_row(plan: dict) -> dict:
    return next(r for r in plan["councils"] if r["partnership"] is not None)


def _blocked_function(plan: dict) -> str:
    return next(f for f, s in plan["stability"].items() if s["blocking_groups"] > 0)


def tamper_share(plan):
    part = max(plan["partnerships"], key=lambda p: len(p["members"]))
    part["shares"]["shapley"][part["members"][0]] += 1000.0


def tamper_excess(plan):
    plan["partnerships"][0]["core_excess"]["nucleolus"] += 1000.0


def tamper_transfer(plan):
    _member_row(plan)["transfer"] += 1000.0


def tamper_npv_share(plan):
    _member_row(plan)["npv_share"] += 1000.0


def tamper_count(plan):
    plan["stability"][_blocked_function(plan)]["blocking_groups"] += 1


def tamper_surplus(plan):
    plan["stability"][_blocked_function(plan)]["largest_surplus"] *= 1.01


def tamper_members(plan):
    entry = plan["stability"][_blocked_function(plan)]
    entry["largest_surplus_members"] = sorted(plan["partnerships"][0]["members"])


def tamper_rule(plan):
    plan["stability"][_blocked_function(plan)]["rule"] = "proportional"


def tamper_objective(plan):
    plan["stability"][_blocked_function(plan)]["objective"] += 1000.0


@pytest.mark.parametrize("tamper,check", [
    (tamper_share, "shares"),
    (tamper_excess, "core_excess"),
    (tamper_transfer, "transfer"),
    (tamper_npv_share, "councils"),
    (tamper_count, "stability"),
    (tamper_surplus, "stability"),
    (tamper_members, "stability"),
    (tamper_rule, "stability"),
    (tamper_objective, "stability"),
], ids=lambda x: getattr(x, "__name__", x))
def test_tampering_is_reported_by_the_right_check(suffolk, tamper, check):
    instance, model, plans = suffolk
    plan = copy.deepcopy(plans["nucleolus"])
    tamper(plan)
    report = verify(instance, plan, model)
    assert rules_of(report) == {check}, report.problems


def test_a_proportional_plan_transfers_nothing(suffolk):
    instance, model, plans = suffolk
    plan = copy.deepcopy(plans["proportional"])
    tamper_transfer(plan)
    report = verify(instance, plan, model)
    assert rules_of(report) == {"transfer"} and any("shares are proportional" in p for p in report.problems)


def test_largest_surplus_members_are_sorted_codes(suffolk):
    instance, model, plans = suffolk
    plan = copy.deepcopy(plans["shapley"])
    entry = plan["stability"][_blocked_function(plan)]
    entry["largest_surplus_members"] = entry["largest_surplus_members"][::-1]
    report = verify(instance, plan, model)
    assert rules_of(report) == {"stability"} and any("are not sorted" in p for p in report.problems)


def test_the_shares_check_names_the_member_and_rule(suffolk):
    instance, model, plans = suffolk
    plan = copy.deepcopy(plans["shapley"])
    tamper_share(plan)
    part = max(plan["partnerships"], key=lambda p: len(p["members"]))
    found = [f for f in verify(instance, plan, model).findings if f.rule == "shares"]
    assert len(found) == 1 and f"shares.shapley.{part['members'][0]}" in found[0].message


def test_blocking_count_within_a_group_of_the_largest_passes_when_tied(suffolk):
    """Another group with (within a penny) the same surplus may be named instead."""
    instance, model, plans = suffolk
    plan = plans["shapley"]
    ctx = build_context(instance, plan, model, 1e-6)
    fid = _blocked_function(plan)
    from optimiser.verify.checks_shares import plan_shares

    found = stability.blocking(games.games_of(ctx).table(fid), plan_shares(ctx, fid))
    assert list(found.largest_members) == plan["stability"][fid]["largest_surplus_members"]
    assert found.surely == plan["stability"][fid]["blocking_groups"]


# ---------------------------------------------------------------- old plans and missing keys


def _strip_section_6(plan: dict) -> dict:
    plan = copy.deepcopy(plan)
    plan.pop("stability", None)
    plan["options"].pop("shares", None)
    for part in plan["partnerships"]:
        part.pop("shares", None)
        part.pop("core_excess", None)
    for row in plan["councils"]:
        row.pop("transfer", None)
    return plan


def test_a_plan_from_before_section_6_still_verifies(suffolk):
    instance, model, plans = suffolk
    report = verify(instance, _strip_section_6(plans["proportional"]), model)
    assert report.ok, report.problems


def test_a_proportional_plan_with_null_shares_verifies(suffolk):
    instance, model, plans = suffolk
    plan = copy.deepcopy(plans["proportional"])
    for part in plan["partnerships"]:
        part["shares"] = part["core_excess"] = None
    plan["stability"] = {}
    assert not problems(verify(instance, plan, model))


def test_a_non_proportional_rule_needs_shares_and_transfers(suffolk):
    instance, model, plans = suffolk
    plan = _strip_section_6(plans["nucleolus"])
    plan["options"]["shares"] = "nucleolus"
    report = verify(instance, plan, model)
    rules = rules_of(report)
    assert {"shares", "transfer"} <= rules
    assert sum(f.rule == "shares" for f in report.findings) == len(plan["partnerships"])


def test_old_plan_with_non_proportional_npv_share_is_wrong(suffolk):
    instance, model, plans = suffolk
    plan = _strip_section_6(plans["shapley"])  # npv_share still the Shapley split, options say proportional
    changed = any(abs(r["npv_share"] - p["npv_share"]) > 1 for r, p in zip(plan["councils"], plans["proportional"]["councils"]))
    assert changed
    assert "councils" in rules_of(verify(instance, plan, model))


def test_missing_keys_are_reported(suffolk):
    instance, model, plans = suffolk
    plan = copy.deepcopy(plans["shapley"])
    del plan["partnerships"][0]["shares"]["nucleolus"]
    del plan["partnerships"][1]["core_excess"]
    fid = next(iter(plan["stability"]))
    del plan["stability"][fid]["largest_surplus"]
    plan["stability"]["no-such-function"] = {}
    found = {(f.rule, f.where) for f in verify(instance, plan, model).findings}
    assert ("shares", f"partnership {plan['partnerships'][0]['id']!r} ({plan['partnerships'][0]['function']})") in found
    assert any(rule == "core_excess" for rule, _ in found)
    assert ("stability", f"stability.{fid}") in found
    assert ("stability", "stability.no-such-function") in found


# ---------------------------------------------------------------- the LP bound


def test_lp_bound_when_given_is_solved_again(suffolk):
    instance, model, plans = suffolk
    plan = copy.deepcopy(plans["shapley"])
    ctx = build_context(instance, plan, model, 1e-6)
    fid = _blocked_function(plan)
    bound = stability.lp_bound(games.games_of(ctx).table(fid), [])
    entry = plan["stability"][fid]
    assert bound >= entry["objective"] - 0.01  # the relaxation bounds the plan (no locked groups in Suffolk)
    entry["lp_bound"] = bound
    entry["cost_of_stability"] = max(0.0, bound - entry["objective"])
    assert not problems(verify(instance, plan, model))
    entry["cost_of_stability"] += 1000.0
    assert rules_of(verify(instance, plan, model)) == {"stability"}
    entry["cost_of_stability"] -= 1000.0
    entry["lp_bound"] += 1000.0
    entry["cost_of_stability"] += 1000.0
    report = verify(instance, plan, model)
    assert rules_of(report) == {"stability"} and any("lp_bound is" in p for p in report.problems)


# ---------------------------------------------------------------- the verifier's pieces


def test_subgroup_rules_are_every_partnership_rule_but_those_of_worth():
    # v(T) is the best §3 NPV T may earn: npv and robust judge what a partnership is worth, not whether it may form
    partnership_rules = set(checks.RULE_CHECKS) & set(checks.PARTNERSHIP_CHECKS)
    assert set(games.SET_RULES + games.HOST_RULES + games.DEPTH_RULES) | {"npv", "robust"} == partnership_rules


def test_section_6_checks_are_named_and_not_rules():
    for name in ("shares", "core_excess", "transfer", "stability"):
        assert name in verify_package.CHECKS and name not in verify_package.RULE_CHECKS
    assert list(verify_package.CHECKS)[-3:] == ["councils", "totals", "solver"]


def test_vectorised_values_agree_with_the_rule_checks(suffolk):
    """Every grown set's best NPV (numpy) is the best option of the rule checks and figures."""
    instance, model, plans = suffolk
    ctx = build_context(instance, plans["shapley"], model, 1e-6)
    for fid in ("revenues-benefits", "waste-collection", "ict"):
        table = games.games_of(ctx).table(fid)
        for level in table.levels:
            for g in range(len(level.members)):
                members = table.members_of(level.members[g])
                best = games.best_option(ctx, fid, members)
                assert (best is not None) == bool(level.allowed[g]), (fid, members)
                if best is not None:
                    assert abs(best.npv - level.value[g]) <= 1e-6 * max(1.0, abs(best.npv)), (fid, members)


def test_cbc_is_quiet_about_its_deprecation():
    game = [0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 3.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = allocation.prenucleolus_shares(game)
    assert [round(v, 9) for v in x] == [1.0, 1.0, 1.0]


def test_highs_banner_never_reaches_stdout():
    code = ("from optimiser.verify import allocation, lp\n"
            "x = allocation.prenucleolus_shares([0, 0, 0, 1, 0, 1, 1, 3], lp.highs())\n"
            "import sys; sys.stderr.write(repr([round(v, 9) for v in x]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == ""
    assert done.stderr.strip().endswith("[1.0, 1.0, 1.0]")


# ---------------------------------------------------------------- random tiny instances


CASES = [(seed, "default") for seed in range(40)] + [(seed, "wide") for seed in range(60_000, 60_006)]


def brute_groups(case):
    """Every allowed group of every run function of the case with its best NPV, by the
    case's own plain rules (tests/randomized.Rules): {function id: {members: best NPV}}."""
    rules = Rules(case)
    out = {}
    for f in rules.functions:
        codes = rules.eligible_codes(f)
        found = {}
        for size in range(2, rules.max_size(f) + 1):
            for members in itertools.combinations(codes, size):
                if rules.set_breaks(f, members):
                    continue
                options = rules.options(f, members)
                if options:
                    found[tuple(sorted(members))] = max(o.npv for o in options)
        out[f.id] = found
    return out


def brute_lp(groups: dict, locked: list) -> float:
    """The LP relaxation of one function's set packing, written out with CBC."""
    problem = pulp.LpProblem("brute", pulp.LpMaximize)
    x = {g: problem.add_variable(f"g{k}", lowBound=0, upBound=1) for k, g in enumerate(groups) if groups[g] > 0 or g in locked}
    problem.setObjective(pulp.lpSum(groups[g] * v for g, v in x.items()))
    for code in {c for g in x for c in g}:
        problem += pulp.lpSum(v for g, v in x.items() if code in g) <= 1
    for g in locked:
        problem += x[g] == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        problem.solve(pulp.PULP_CBC_CMD(msg=False))
    return pulp.value(problem.objective) or 0.0


@pytest.mark.parametrize("seed,profile", CASES, ids=[f"{p}{s}" for s, p in CASES])
def test_engine_and_verifier_agree_on_random_instances(tmp_path, seed, profile):
    case = make_case(seed, tmp_path, profile)
    solver = "cbc" if seed % 2 else "highs"  # the plan from either solver; shares and stability follow it
    instance, model, options = load_run(case.instance_dir, case.model_path, case.options.run_options("exact", solver))
    plan = solve(instance, model, options)
    brute = None
    for rule in RULES:
        problem = prepare(instance, model, dataclasses.replace(options, shares=rule))
        data = json.loads(with_shares(problem, dataclasses.replace(plan, options=problem.options)).to_json())
        report = verify(instance, data, model)
        assert not problems(report), f"seed {seed}, {rule}: {problems(report)}"
        if data["solver"]["status"] == "infeasible":
            return
        ctx = build_context(instance, data, model, 1e-6)
        if brute is None:
            brute = brute_groups(case)
            for fid, groups in brute.items():
                # the verifier's enumeration: the same groups, the same best NPVs
                table = games.games_of(ctx).table(fid)
                mine = {table.members_of(level.members[g]): float(level.value[g])
                        for level in table.levels for g in range(len(level.members)) if level.allowed[g]}
                assert mine.keys() == groups.keys(), f"seed {seed} {fid}"
                for members, npv in groups.items():
                    assert abs(mine[members] - npv) <= 1e-6 * max(1.0, abs(npv)), (seed, fid, members)
                # and its v(T): the brute-force best NPV, or 0
                for part in ctx.parts:
                    if part.function == fid:
                        for size in range(2, len(part.members)):
                            for sub in itertools.combinations(sorted(part.members), size):
                                want = max(0.0, groups.get(sub, 0.0))
                                assert abs(games.games_of(ctx).value(fid, sub) - want) <= 1e-6 * max(1.0, want), (seed, fid, sub)
                # the LP bound, against a packing LP written out here
                locked = [tuple(sorted(m)) for f, m in ctx.locked_sets if f == fid]
                from optimiser.verify.checks_shares import locked_values

                values = locked_values(ctx, fid)
                if values is not None and len(set(c for g in locked for c in g)) == sum(map(len, locked)):
                    mine = stability.lp_bound(table, values)
                    want = brute_lp({**groups}, locked)
                    assert abs(mine - want) <= 1e-6 * max(1.0, abs(want)), (seed, fid, mine, want)
        # the blocking groups, by brute force against the plan's shares
        for fid, groups in brute.items():
            share = {r["code"]: r["npv_share"] for r in data["councils"] if r["function"] == fid}
            block = {g: v - sum(share.get(c, 0.0) for c in g) for g, v in groups.items() if v > 0}
            block = {g: s for g, s in block.items() if s > 1e-6 * max(1.0, abs(groups[g]))}
            entry = data["stability"][fid]
            assert entry["blocking_groups"] == len(block), (seed, rule, fid)
            if block:
                assert abs(entry["largest_surplus"] - max(block.values())) <= 0.01, (seed, rule, fid)
                assert block[tuple(entry["largest_surplus_members"])] >= max(block.values()) - 0.01
            else:
                assert entry["largest_surplus"] == 0 and entry["largest_surplus_members"] == []


@pytest.mark.parametrize("seed", range(4))
def test_prenucleolus_written_to_highs_directly_matches_pulp_and_cbc(seed):
    """The nucleolus LPs written to HiGHS directly give the split PuLP and CBC give."""
    rng = random.Random(seed)
    solver = lp.highs()
    for _ in range(15):
        n = rng.randint(2, 6)
        game = [0.0] * 2**n
        for mask in range(1, 2**n):
            size = bin(mask).count("1")
            if size >= 2:
                game[mask] = round(max(0.0, rng.gauss(size, 1.5)) * 1e6, 2)
        direct = allocation.prenucleolus_shares(game, solver)
        through_pulp = allocation.prenucleolus_shares(game)
        assert sum(direct) == pytest.approx(game[-1], rel=1e-9, abs=1e-6)
        assert direct == pytest.approx(through_pulp, rel=1e-6, abs=1e-3), (seed, game)
