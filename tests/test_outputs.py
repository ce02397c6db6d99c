"""The files a solve writes for people: names beside codes, whole pounds, stable partnership ids,
the per-council roll-up and the data's attribution."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest

from optimiser import solve
from optimiser.io.instance import load_instance
from optimiser.io.model import load_model
from optimiser.plan import Plan, partnership_id
from optimiser.report.files import council_roll_up, plan_files
from optimiser.report.labels import Labels


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def hand_plan() -> Plan:
    """Two partnerships over three councils: A and B share legal (B hosts), B and C share ict (C hosts)."""
    def council(code, function, partnership, baseline, npv, annual, one_off, estimated=False, transfer=0.0):
        return {"code": code, "function": function, "partnership": partnership, "baseline": baseline,
                "baseline_estimated": estimated, "npv_share": npv, "annual_saving_share": annual,
                "one_off_share": one_off, "transfer": transfer}

    def partnership(pid, function, members, host, npv, annual, one_off):
        return {"id": pid, "function": function, "members": members, "host": host, "depth": "standardised",
                "platform": f"own:{host}", "annual_saving": annual, "one_off_cost": one_off, "npv": npv,
                "payback_years": one_off / annual}

    return Plan.from_dict({
        "instance": "tiny", "model": "m", "options": {},
        "solver": {"name": "highs", "status": "optimal", "objective": 1500.4, "bound": 1500.4, "gap": 0.0, "seconds": 0.1},
        "partnerships": [partnership("legal-x", "legal", ["A", "B"], "B", 1000.4, 300.6, 200.0),
                         partnership("ict-y", "ict", ["B", "C"], "C", 500.0, 100.0, 50.0)],
        "councils": [council("A", "legal", "legal-x", 100.0, 250.1, 75.15, 50.0, transfer=10.0),
                     council("B", "legal", "legal-x", 300.0, 750.3, 225.45, 150.0, transfer=-10.0),
                     council("B", "ict", "ict-y", 200.0, 250.0, 50.0, 25.0),
                     council("C", "ict", "ict-y", 200.0, 250.0, 50.0, 25.0),
                     council("A", "ict", None, 80.0, 0.0, 0.0, 0.0, estimated=True)],
        "totals": {"npv": 1500.4, "annual_saving": 400.6, "one_off_cost": 250.0, "baseline": 880.0},
    })


HAND_LABELS = Labels("tiny", "Three councils", "m", {"A": "Alpha & <Co>", "B": "Beta", "C": "Gamma"},
                     {"legal": "Legal services", "ict": "ICT"}, ("Contains test data.",), {"A": "district"})


def test_council_roll_up_by_hand():
    """A: legal only (250.1 NPV, 75.15 a year, 50 one-off), ict estimated and alone; B: both,
    hosting legal (750.3 + 250 = 1000.3 NPV); C: ict, hosting it."""
    found = {r.code: r for r in council_roll_up(hand_plan(), HAND_LABELS)}
    a, b, c = found["A"], found["B"], found["C"]
    assert a.functions == ("legal", "ict") and a.partnerships == ("legal-x",) and a.hosted == ()
    assert a.estimated == ("ict",) and a.baseline == 180.0 and a.transfer == 10.0
    assert (a.npv_share, a.annual_saving, a.one_off_cost) == (250.1, 75.15, 50.0)
    assert b.partnerships == ("legal-x", "ict-y") and b.hosted == ("legal-x",)
    assert b.npv_share == pytest.approx(1000.3) and b.annual_saving == pytest.approx(275.45) and b.one_off_cost == 175.0
    assert c.hosted == ("ict-y",) and c.npv_share == 250.0
    # every pound of the plan is someone's
    assert sum(r.npv_share for r in found.values()) == pytest.approx(hand_plan().totals.npv)


def test_readable_csvs_by_hand():
    files = plan_files(hand_plan(), HAND_LABELS)
    legal = rows(files["partnerships.csv"])[0]
    assert legal["member_names"] == "Alpha & <Co>; Beta" and legal["host_name"] == "Beta"
    assert legal["function_title"] == "Legal services" and legal["platform_name"] == "own system (Beta)"
    assert legal["platform"] == "own:B"  # the plan's field, as SPEC §4 has it, stays beside the words
    assert (legal["npv"], legal["annual_saving"], legal["one_off_cost"], legal["payback_years"]) == ("1000", "301", "200", "0.67")
    councils = {(r["code"], r["function"]): r for r in rows(files["councils.csv"])}
    assert councils[("A", "legal")]["name"] == "Alpha & <Co>" and councils[("A", "legal")]["npv_share"] == "250"
    assert councils[("A", "ict")]["partnership"] == "" and councils[("A", "ict")]["baseline_estimated"] == "true"
    summary = {r["code"]: r for r in rows(files["council_summary.csv"])}
    assert summary["B"]["partnerships"] == "legal-x ict-y" and summary["B"]["hosts"] == "legal-x"
    assert summary["B"]["npv_share"] == "1000" and summary["A"]["baseline_estimated_functions"] == "1"
    assert json.loads(files["plan.json"])["attribution"] == ["Contains test data."]
    assert "Contains test data." in files["README.txt"]


def test_partnership_id_is_function_and_member_hash():
    digest = hashlib.sha256(b"E07000200 E07000203").hexdigest()
    assert partnership_id("legal", ["E07000203", "E07000200"]) == f"legal-{digest[:6]}"
    assert partnership_id("legal", ["E07000203", "E07000200"], {f"legal-{digest[:6]}"}) == f"legal-{digest[:7]}"
    assert partnership_id("ict", ["E07000203", "E07000200"]) != partnership_id("legal", ["E07000203", "E07000200"])


@pytest.fixture(scope="module")
def suffolk():
    instance = load_instance("suffolk-2023")
    return instance, load_model("uk-central"), solve(instance, functions=["ict", "legal", "waste-collection"])


def test_ids_stable_across_runs_and_unique(suffolk):
    instance, _, plan = suffolk
    again = solve(instance, functions=["waste-collection", "legal", "ict"])
    assert sorted(p.id for p in plan.partnerships) == sorted(p.id for p in again.partnerships)
    ids = [p.id for p in plan.partnerships]
    assert len(set(ids)) == len(ids)
    for p in plan.partnerships:
        assert p.id == partnership_id(p.function, p.members)
        assert not p.id.startswith("P")


def test_solved_files_have_names_and_whole_pounds(suffolk):
    instance, model, plan = suffolk
    files = plan_files(plan, Labels.of(instance, model))
    names = dict(zip(instance.councils["code"], instance.councils["name"]))
    for row in rows(files["partnerships.csv"]):
        assert row["member_names"].split("; ") == [names[c] for c in row["members"].split()]
        for key in ("npv", "annual_saving", "one_off_cost", "expected_npv"):
            assert row[key].lstrip("-").isdigit(), (key, row[key])
    summary = rows(files["council_summary.csv"])
    assert {r["name"] for r in summary} == {names[c.code] for c in plan.councils}
    assert sum(int(r["npv_share"]) for r in summary) == pytest.approx(plan.totals.npv, abs=len(summary))
    for r in summary:
        joined = [p.id for p in plan.partnerships if r["code"] in p.members]
        assert sorted(r["partnerships"].split()) == sorted(joined)
        assert r["hosts"].split() == [p.id for p in plan.partnerships if p.host == r["code"]]
    for statement in instance.attribution:
        assert statement in files["README.txt"]


# ---------------------------------------------------------------- the terminal summary in words

def test_status_as_a_sentence():
    from optimiser.plan import SolverReport
    from optimiser.report.text import status_sentence

    assert status_sentence(SolverReport("highs", "optimal", 1.0, 1.0, 0.0, 1.0)) == "proven optimal"
    assert status_sentence(SolverReport("highs", "time_limit", 1.0, 1.012, 0.012, 1.0)) == \
        "within 1.2% of the best possible, stopped at the time limit"
    assert status_sentence(SolverReport("highs", "time_limit", 1.0, None, None, 1.0)) == "stopped at the time limit with no proven bound"
    assert "no plan satisfies" in status_sentence(SolverReport("highs", "infeasible", 0.0, None, None, 1.0))


def test_estimated_baselines_flagged_with_their_share():
    """The hand plan: A's ict baseline (80 of 880) is estimated: 1 of 5 rows, 9%."""
    from optimiser.report.text import estimated_line

    line = estimated_line(hand_plan())
    assert "1 of 5 council-functions estimated" in line and "(9%)" in line


def test_functions_without_partnership_say_why():
    from dataclasses import replace

    from optimiser.plan import CouncilShare, Stability
    from optimiser.report.text import idle_reasons

    plan = hand_plan()
    alone = CouncilShare("C", "highways", None, 50.0, False, 0.0, 0.0, 0.0)
    pair = [CouncilShare(c, "planning", None, 50.0, False, 0.0, 0.0, 0.0) for c in "AB"]
    unpaid = replace(plan, councils=plan.councils + (alone, *pair),
                     stability=(Stability("planning", "proportional", 1, 0, 0.0, (), 0.0, 0.0, 0.0),))
    assert idle_reasons(unpaid) == ["  no partnership for highways: only 1 council of the area takes part",
                                    "  no partnership for planning: no group of its 2 councils that the rules allow saves "
                                    "more than it costs over the horizon"]
    limited = replace(unpaid, stability=(Stability("planning", "proportional", 1, 1, 9.0, ("A", "B"), 9.0, 0.0, 9.0),),
                      options=replace(unpaid.options, budget=1.0))
    assert "ruled out by the budget of £1" in idle_reasons(limited)[1]


def test_summary_names_area_functions_budget(suffolk):
    from optimiser.report.labels import area_names
    from optimiser.report.text import plan_summary

    instance, model, _ = suffolk
    plan = solve(instance, area="Ipswich; Babergh", functions="legal", budget="750k")
    text = plan_summary(plan, instance, 5, model, area_names(instance, plan.options.area))
    assert "area: Ipswich; Babergh (2 councils)" in text
    assert "functions: Legal and democratic services" in text and "budget: £750k" in text
    assert "plan: proven optimal" in text and "baselines: every council's reported spend" in text
