"""Withdrawal (SPEC §5): hand-worked pairs and trios, bad inputs for every new column, key
and option, and ``optimiser withdraw`` from the command line.

The brute-force agreement over random tiny instances (both objectives, --robust, budgets,
locked groups, both solvers) is in tests/test_property.py (the 'risky' profile) and, for
``withdraw``, below.
"""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from cli_run import run
from optimiser.api import solve, withdraw
from optimiser.cli import main
from optimiser.errors import InputError
from optimiser.verify import verify

from randomized import Existing, Rules, brute_force, make_case

ROOT = Path(__file__).resolve().parent.parent
SUFFOLK = ROOT / "instances" / "suffolk-2023"


# ---------------------------------------------------------------- a hand-made instance

MODEL = """name = "hand"
tiers = ["district"]

[finance]
horizon_years = 5
discount_rate = 0.0

[rules]
max_size = 3
geography = ["contiguous"]
host_min_commitment = 0.0

[[depths]]
id = "one-team"
capture = 1.0
one_off = 0.5
common_platform = false

[[functions]]
id = "ict"
tiers = ["district"]
per_capita = 10.0
scale_exponent = 0.5
coordination = 0.0
migration = 0.0

[risk]
base = 0.1
uncommitted = 0.2
control_mismatch = 0.05
exit_year = 2
"""


def hand_instance(folder: Path, councils: list[tuple], edges: list[tuple[str, str]], model: str = MODEL) -> Path:
    """An instance of councils (code, population, baseline, commitment, control, withdrawal)
    at one point (no coordination cost), with the given borders."""
    folder.mkdir(parents=True)
    (folder / "model.toml").write_text(model, encoding="utf-8")
    (folder / "instance.toml").write_text('name = "hand"\nmodel = "model.toml"\n\n[tables]\ncouncils = "councils.csv"\n'
                                          'adjacency = "adjacency.csv"\nspend = "spend.csv"\n', encoding="utf-8")
    rows = ["code,name,tier,nation,region,population,lat,lon,commitment,control,withdrawal"]
    rows += [f"{c},Council {c},district,england,R,{pop},52.0,0.0,{commit},{control},{own}"
             for c, pop, _, commit, control, own in councils]
    (folder / "councils.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "adjacency.csv").write_text("a,b\n" + "".join(f"{a},{b}\n" for a, b in edges), encoding="utf-8")
    (folder / "spend.csv").write_text("code,function,baseline\n" + "".join(f"{c},ict,{b}\n" for c, _, b, *_ in councils),
                                      encoding="utf-8")
    return folder


def test_a_pair_by_hand(tmp_path):
    # A and B, 100,000 people each: r = 1 - sqrt(200,000) / (2 sqrt(100,000)) = 1 - 1/sqrt(2)
    folder = hand_instance(tmp_path / "pair", [("A", 100_000, 1e6, 1.0, "Red", ""), ("B", 100_000, 3e6, 0.5, "Blue", "")],
                           [("A", "B")])
    plan = solve(folder)
    (p,) = plan.partnerships
    rate = 1 - 1 / math.sqrt(2)
    annual = rate * 4e6  # capture 1, B = 4m, no coordination
    one_off = 0.5 * 4e6
    assert p.annual_saving == pytest.approx(annual)
    assert p.npv == pytest.approx(5 * annual - one_off)  # five years undiscounted
    # chances: 0.1 + 0.2 (1 - commitment), plus 0.05 as Red and Blue differ
    assert dict(p.withdrawal) == pytest.approx({"A": 0.15, "B": 0.25})
    # whoever leaves (end of year 2), a pair ends: 2 years of saving against the one-off cost
    after = 2 * annual - one_off
    both_stay = 0.85 * 0.75
    assert p.expected_npv == pytest.approx(both_stay * p.npv + (1 - both_stay) * after)
    assert p.worst_withdrawal_npv == pytest.approx(after)
    assert p.worst_withdrawal == "A"  # a tie: the smallest code
    assert p.robust is (after > 0)
    assert plan.totals.expected_npv == pytest.approx(p.expected_npv)
    assert verify(folder, plan.data, folder / "model.toml").ok


def test_a_trio_in_a_line_by_hand(tmp_path):
    # A - B - C in a line: without B the others do not touch, so B's leaving ends it
    people = 100_000
    folder = hand_instance(tmp_path / "trio", [("A", people, 1e6, 1.0, "", 0.1), ("B", people, 1e6, 1.0, "", 0.2),
                                                ("C", people, 1e6, 1.0, "", 0.3)], [("A", "B"), ("B", "C")])
    plan = solve(folder, robust=True)
    (p,) = plan.partnerships
    trio_rate = 1 - math.sqrt(3 * people) / (3 * math.sqrt(people))
    pair_rate = 1 - math.sqrt(2 * people) / (2 * math.sqrt(people))
    annual, one_off = trio_rate * 3e6, 0.5 * 3e6
    pair_saving = pair_rate * 2e6
    assert set(p.members) == {"A", "B", "C"}
    assert dict(p.withdrawal) == pytest.approx({"A": 0.1, "B": 0.2, "C": 0.3})  # own figures, no raise
    npv = {  # survivors -> NPV(S -> T): years 1-2 as a trio, years 3-5 as the survivors
        "ABC": 5 * annual - one_off,
        "AB": 2 * annual + 3 * pair_saving - one_off,
        "BC": 2 * annual + 3 * pair_saving - one_off,
        "AC": 2 * annual - one_off,  # not contiguous: it ends
    }
    for single in ("A", "B", "C", ""):
        npv[single] = 2 * annual - one_off
    chance = {"A": 0.1, "B": 0.2, "C": 0.3}
    expected = 0.0
    for stay, value in npv.items():
        weight = math.prod(1 - chance[c] if c in stay else chance[c] for c in "ABC")
        expected += weight * value
    assert p.expected_npv == pytest.approx(expected)
    assert p.worst_withdrawal == "B"
    assert p.worst_withdrawal_npv == pytest.approx(npv["AC"])
    assert p.robust and plan.options.robust
    assert verify(folder, plan.data, folder / "model.toml").ok


def _trio(tmp_path) -> tuple[Path, dict]:
    folder = hand_instance(tmp_path / "trio", [("A", 100_000, 1e6, 1.0, "", 0.1), ("B", 100_000, 1e6, 1.0, "", 0.2),
                                                ("C", 100_000, 1e6, 1.0, "", 0.3)], [("A", "B"), ("B", "C")])
    return folder, solve(folder, robust=True, objective="expected").data


@pytest.mark.parametrize("change,fragments", [
    (lambda p: p["partnerships"][0]["withdrawal"].update(B=0.25), ["withdrawal of B is 0.25, expected 0.2"]),
    (lambda p: p["partnerships"][0]["withdrawal"].pop("C"), ["withdrawal has no chance for member C"]),
    (lambda p: p["partnerships"][0].update(expected_npv=p["partnerships"][0]["expected_npv"] + 10), ["expected_npv is"]),
    (lambda p: p["partnerships"][0].update(worst_withdrawal="A"), ["worst_withdrawal is 'A', expected B"]),
    (lambda p: p["partnerships"][0].update(worst_withdrawal_npv=0.0), ["worst_withdrawal_npv is 0.00"]),
    (lambda p: p["partnerships"][0].update(robust=False), ["robust is false, expected true"]),
    (lambda p: p["partnerships"][0].pop("robust"), ["missing key 'robust'"]),
    (lambda p: p["totals"].update(expected_npv=1.0), ["totals", "expected_npv is 1.00"]),
    (lambda p: p["solver"].update(objective=p["totals"]["npv"]), ["objective is", "total expected_npv"]),
])
def test_verify_recomputes_the_withdrawal_figures(tmp_path, change, fragments):
    folder, data = _trio(tmp_path)
    assert verify(folder, data, folder / "model.toml").ok
    change(data)
    report = verify(folder, data, folder / "model.toml")
    assert not report.ok
    assert any(all(f in problem for f in fragments) for problem in report.problems), report.problems


def test_verify_rejects_a_partnership_that_is_not_robust_under_robust(tmp_path):
    # leavers go after year 1: one year of saving does not repay the pair's one-off cost
    model = MODEL.replace("exit_year = 2", "exit_year = 1")
    folder = hand_instance(tmp_path / "pair", [("A", 100_000, 1e6, 1.0, "", ""), ("B", 100_000, 3e6, 1.0, "", "")],
                           [("A", "B")], model)
    plan = solve(folder)
    (p,) = plan.partnerships
    assert not p.robust and p.worst_withdrawal_npv < 0
    assert verify(folder, plan.data, folder / "model.toml").ok
    assert solve(folder, robust=True).partnerships == ()  # nothing robust to choose
    data = json.loads(json.dumps(plan.data))
    data["options"]["robust"] = True
    report = verify(folder, data, folder / "model.toml")
    assert [f.rule for f in report.findings] == ["robust"]
    assert "if A leaves" in report.problems[0] and "not positive" in report.problems[0]


def test_evaluate_gives_the_withdrawal_figures_and_the_robust_rule(tmp_path):
    from optimiser.api import evaluate

    model = MODEL.replace("exit_year = 2", "exit_year = 1")
    folder = hand_instance(tmp_path / "pair", [("A", 100_000, 1e6, 1.0, "Red", ""), ("B", 100_000, 3e6, 0.5, "Blue", "")],
                           [("A", "B")], model)
    (p,) = solve(folder).partnerships
    (row,) = evaluate(folder, [("G1", "ict", ["A", "B"])]).groups
    for key in ("expected_npv", "worst_withdrawal", "worst_withdrawal_npv", "robust"):
        assert row[key] == pytest.approx(getattr(p, key)), key
    assert row["withdrawal"] == pytest.approx({"A": 0.15, "B": 0.25})
    assert row["breaks"] == []
    (row,) = evaluate(folder, [("G1", "ict", ["A", "B"])], robust=True).groups
    assert row["breaks"] == [f"robust: if A leaves, the NPV is {p.worst_withdrawal_npv:,.0f} pounds, not positive"]
    (row,) = evaluate(folder, [("G1", "ict", ["A", "B"])], objective="expected").groups
    assert row["expected_npv"] == pytest.approx(p.expected_npv) and row["breaks"] == []


def test_the_host_who_leaves_is_replaced_by_the_cheapest_host(tmp_path):
    # three councils in a triangle, B far east of A and C: if the host leaves, the survivor
    # with the least coordination cost leads (ties: the smallest code)
    model = MODEL.replace("coordination = 0.0", "coordination = 0.05")
    folder = hand_instance(tmp_path / "tri", [("A", 100_000, 1e6, 1.0, "", ""), ("B", 100_000, 1e6, 1.0, "", ""),
                                               ("C", 100_000, 1e6, 1.0, "", "")],
                           [("A", "B"), ("B", "C"), ("A", "C")], model)
    councils = (folder / "councils.csv").read_text().replace("C,Council C,district,england,R,100000,52.0,0.0",
                                                              "C,Council C,district,england,R,100000,52.0,0.2")
    (folder / "councils.csv").write_text(councils)
    plan = solve(folder)
    (p,) = plan.partnerships
    # A and B share a point, C is 13.7 km east: A or B host the trio at half C's cost (A first)
    assert p.host == "A"
    report = withdraw(folder, plan, "A")
    (exit_,) = report.exits
    # B and C cost the same as each other's host: the smallest code leads
    assert exit_.continues and exit_.host_after == "B"
    assert withdraw(folder, plan, "C").exits[0].host_after == "A"  # the host stays


# ---------------------------------------------------------------- withdraw against brute force


def solved_case(tmp_path, profile: str, seed: int):
    """A random tiny case of ``profile`` and its solved plan; the test is skipped where a locked
    group breaks a rule or the plan has no partnership to leave."""
    logging.getLogger("optimiser").setLevel(logging.ERROR)
    case = make_case(seed, tmp_path, profile)
    try:
        brute_force(case)
    except ValueError:
        pytest.skip("a locked group breaks a rule (tested elsewhere)")
    plan = solve(case.instance_dir, case.model_path, case.options.run_options())
    if not plan.partnerships:
        pytest.skip("no partnership to leave")
    return case, plan


@pytest.mark.parametrize("seed", range(70_000, 70_040), ids=lambda s: f"risky{s}")
def test_withdraw_agrees_with_brute_force(tmp_path, seed):
    case, plan = solved_case(tmp_path, "risky", seed)
    rules = Rules(case)
    code = random.Random(seed).choice(sorted({c for p in plan.partnerships for c in p.members}))
    report = withdraw(case.instance_dir, plan, code, case.model_path)
    assert {e.id for e in report.exits} == {p.id for p in plan.partnerships if code in p.members}
    for e in report.exits:
        p = next(q for q in plan.partnerships if q.id == e.id)
        f = rules.model.function(p.function)
        option = next(o for o in rules.options(f, tuple(sorted(p.members, key=rules.index.get)))
                      if (o.host, o.depth, o.platform) == (p.host, p.depth, p.platform))
        stay = set(p.members) - {code}
        npv_after, leader = rules.after_leaving(f, tuple(p.members), option, stay)
        assert e.npv_after == pytest.approx(npv_after, rel=1e-9, abs=1e-6)
        assert e.continues == (leader is not None)
        assert e.host_after == leader
        base = {c: rules.baseline(f, c) for c in p.members}
        before, after = sum(base.values()), sum(base[c] for c in stay)
        for c in stay:
            want = (base[c] / before if before else 1 / len(p.members)) * p.npv - (base[c] / after if after else 1 / len(stay)) * npv_after
            assert e.losses[c] == pytest.approx(want, rel=1e-9, abs=1e-6)
        assert e.exit_fee == pytest.approx(max(0.0, sum(e.losses.values())), abs=1e-6)
    locked = [x for x in case.partnerships if x.locked and code in x.members and any(
        p.function == x.function and set(p.members) == set(x.members) for p in plan.partnerships)]
    if locked:  # a council cannot leave a locked commitment: no repaired plan
        assert report.repaired is None and report.committed
        return
    # the repaired plan: the brute-force optimum with the council out and every other partnership locked
    kept = [Existing(f"kept-{p.id}", p.function, tuple(p.members), None, True) for p in plan.partnerships if code not in p.members]
    excluded = tuple(case.options.exclude) + tuple((code, e.function) for e in report.exits)
    repaired_case = replace(case, partnerships=[x for x in case.partnerships if not x.locked] + kept,
                            options=replace(case.options, exclude=excluded))
    optimum = brute_force(repaired_case)
    assert report.repaired.objective == pytest.approx(optimum.objective, rel=1e-6, abs=1e-6)
    assert verify(case.instance_dir, report.repaired.data, case.model_path).ok


# ---------------------------------------------------------------- bad inputs




@pytest.fixture
def inst(tmp_path) -> Path:
    folder = tmp_path / "inst"
    shutil.copytree(SUFFOLK, folder)
    return folder


def one_line(stderr: str, *fragments: str) -> None:
    message = stderr.strip()
    assert message and "\n" not in message and "Traceback" not in message, stderr
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


@pytest.mark.parametrize("value", ["1", "1.0", "-0.1", "often", "nan"])
def test_bad_withdrawal_column(inst, tmp_path, capsys, value):
    path = inst / "councils.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[0] += ",withdrawal"
    lines = [lines[0]] + [line + ("," + value if n == 3 else ",") for n, line in enumerate(lines[1:], start=2)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = run(capsys, "solve", inst, "--functions", "ict", "--out", tmp_path / "out")
    assert code == 2
    one_line(err, "councils.csv", "line 3", "'withdrawal'")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("table,fragments", [
    ("[risk]\nbase = 1.5\n", ("risk.base", "<= 1")),
    ("[risk]\nbase = -0.1\n", ("risk.base", ">= 0")),
    ("[risk]\nuncommitted = \"high\"\n", ("risk.uncommitted", "number")),
    ("[risk]\ncross_tier = true\n", ("risk.cross_tier", "number")),
    ("[risk]\ncontrol_missmatch = 0.1\n", ("risk.control_missmatch", "unknown key", "control_mismatch")),
    ("[risk]\nexit_year = 0\n", ("risk.exit_year", ">= 1")),
    ("[risk]\nexit_year = 10\n", ("risk.exit_year", "<= 9")),
    ("[risk]\nexit_year = 2.5\n", ("risk.exit_year", "whole number")),
    ("risk = 0.1\n", ("risk", "table")),
])
def test_bad_risk_table(inst, tmp_path, capsys, table, fragments):
    model = tmp_path / "model.toml"
    text = (ROOT / "models" / "uk-central.toml").read_text(encoding="utf-8")
    if "[risk]" in text:  # replace the shipped table with the broken one
        head, _, rest = text.partition("[risk]")
        tail = rest[rest.find("\n[") + 1:] if "\n[" in rest else ""
        text = head + tail
    if table.startswith("risk ="):
        text = table + text
    else:
        text += "\n" + table
    model.write_text(text, encoding="utf-8")
    code, _, err = run(capsys, "solve", inst, "--model", model, "--functions", "ict", "--out", tmp_path / "out")
    assert code == 2
    one_line(err, str(model), *fragments)


@pytest.mark.parametrize("argv,fragments", [
    (["--objective", "likely"], ("--objective", "'likely'", "npv or expected")),
    (["--lock", "legal:Babergh"], ("--lock", "FUNCTION:COUNCIL+COUNCIL")),
    (["--lock", "nothing:Babergh+Ipswich"], ("--lock", "no function 'nothing'")),
    (["--lock", "legal:Babergh+Atlantis"], ("--lock", "Atlantis")),
])
def test_bad_withdrawal_options(capsys, tmp_path, argv, fragments):
    code, _, err = run(capsys, "solve", "suffolk-2023", *argv, "--out", tmp_path / "out")
    assert code == 2
    one_line(err, *fragments)


def test_robust_from_the_library_must_be_a_flag():
    with pytest.raises(InputError, match="--robust"):
        solve("suffolk-2023", functions="ict", robust="perhaps")


# ---------------------------------------------------------------- optimiser withdraw


@pytest.fixture(scope="module")
def suffolk_plan(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("plan")
    assert main(["solve", "suffolk-2023", "--functions", "legal,ict,management-team", "--quiet", "--out", str(out)]) == 0
    return out / "plan.json"


def test_withdraw_reports_and_writes(capsys, tmp_path, suffolk_plan):
    code, out, err = run(capsys, "withdraw", "suffolk-2023", suffolk_plan, "Babergh", "--out", tmp_path / "w")
    assert code == 0, err
    assert "If Babergh (E07000200) leaves at the end of year" in out
    assert "exit fee that keeps the others whole" in out
    data = json.loads((tmp_path / "w" / "withdrawal.json").read_text())
    (report,) = data["reports"]
    assert report["council"] == "E07000200" and report["partnerships"]
    repaired = tmp_path / "w" / "repaired-E07000200" / "plan.json"
    assert run(capsys, "verify", "suffolk-2023", repaired)[0] == 0
    kept = json.loads(repaired.read_text())["options"]["lock"]
    assert kept and all("E07000200" not in entry for entry in kept)


def test_withdraw_a_council_in_no_partnership(capsys, suffolk_plan):
    code, out, err = run(capsys, "withdraw", "suffolk-2023", suffolk_plan, "Suffolk")
    assert code == 0, err
    assert "nothing to report" in out


def test_withdraw_a_council_not_in_the_plan(capsys, suffolk_plan):
    code, _, err = run(capsys, "withdraw", "suffolk-2023", suffolk_plan, "Atlantis")
    assert code == 2
    one_line(err, "Atlantis")


def test_withdraw_a_council_outside_the_run(capsys, tmp_path):
    assert main(["solve", "suffolk-2023", "--functions", "ict", "--area", "Babergh;Ipswich", "--quiet", "--out", str(tmp_path)]) == 0
    code, _, err = run(capsys, "withdraw", "suffolk-2023", tmp_path / "plan.json", "West Suffolk")
    assert code == 2
    one_line(err, "West Suffolk", "E07000245", "outside the plan's area (Babergh; Ipswich)")


def test_withdraw_a_council_of_none_of_the_plans_functions(capsys, tmp_path):
    # revenues and benefits is a district function: the county takes no part in it
    assert main(["solve", "suffolk-2023", "--functions", "revenues-benefits", "--quiet", "--out", str(tmp_path)]) == 0
    code, _, err = run(capsys, "withdraw", "suffolk-2023", tmp_path / "plan.json", "Suffolk")
    assert code == 2
    one_line(err, "E10000029", "none of the plan's functions")


def test_withdraw_a_plan_of_another_instance(capsys, suffolk_plan):
    code, _, err = run(capsys, "withdraw", "england-2023", suffolk_plan, "Babergh")
    assert code == 2
    one_line(err, "suffolk-2023", "england-2023")


def test_withdraw_a_file_that_is_not_a_plan(capsys, tmp_path):
    (tmp_path / "plan.json").write_text("{}")
    code, _, err = run(capsys, "withdraw", "suffolk-2023", tmp_path / "plan.json", "Babergh")
    assert code == 2
    one_line(err, "plan.json")


# ---------------------------------------------------------------- evaluate --shares


def test_evaluate_splits_each_group_by_every_rule(tmp_path):
    """A trio in a line: v(AB) and v(BC) are the pairs' own NPVs, v(AC) = 0 (not contiguous);
    the Shapley split is worked out here over the six orders of arrival."""
    import itertools

    from optimiser.api import evaluate

    folder = hand_instance(tmp_path / "trio", [("A", 100_000, 1e6, 1.0, "", ""), ("B", 150_000, 2e6, 1.0, "", ""),
                                                ("C", 100_000, 1e6, 1.0, "", "")], [("A", "B"), ("B", "C")])
    pairs = {frozenset(g): r["npv"] for g, r in zip(("AB", "BC"), evaluate(folder, [("p", "ict", ["A", "B"]), ("q", "ict", ["B", "C"])]).groups)}
    result = evaluate(folder, [("t", "ict", ["A", "B", "C"])], shares="shapley")
    (row,) = result.groups
    value = {frozenset(): 0.0, frozenset("ABC"): row["npv"], **pairs}

    def v(group) -> float:
        return value.get(frozenset(group), 0.0)

    shapley = {c: 0.0 for c in "ABC"}
    for order in itertools.permutations("ABC"):
        for n, c in enumerate(order):
            shapley[c] += (v(order[: n + 1]) - v(order[:n])) / 6
    assert row["shares"]["shapley"] == pytest.approx(shapley)
    assert row["npv_share"] == pytest.approx(shapley)
    proportional = {"A": row["npv"] / 4, "B": row["npv"] / 2, "C": row["npv"] / 4}
    assert row["shares"]["proportional"] == pytest.approx(proportional)
    assert row["transfer"] == pytest.approx({c: shapley[c] - proportional[c] for c in "ABC"})
    # the largest excess of the Shapley split: the best-off subgroup's value less its members' shares
    excess = max(v(g) - sum(shapley[c] for c in g) for n in (1, 2) for g in itertools.combinations("ABC", n))
    assert row["core_excess"]["shapley"] == pytest.approx(excess)
    assert sum(row["shares"]["nucleolus"].values()) == pytest.approx(row["npv"])
    assert result.rule == "shapley" and "t,ict" in result.to_csv()


def test_evaluate_takes_shares_on_the_command_line(capsys, tmp_path):
    folder = hand_instance(tmp_path / "pair", [("A", 100_000, 1e6, 1.0, "", ""), ("B", 100_000, 3e6, 1.0, "", "")], [("A", "B")])
    (tmp_path / "groups.csv").write_text("id,function,code\ng,ict,A\ng,ict,B\n")
    code, out, err = run(capsys, "evaluate", str(folder), str(tmp_path / "groups.csv"), "--shares", "nucleolus")
    assert code == 0, err
    assert "nucleolus shares: Council A" in out
    code, out, err = run(capsys, "evaluate", str(folder), str(tmp_path / "groups.csv"), "--shares", "fair")
    assert code == 2 and "--shares" in err and len(err.strip().splitlines()) == 1
