"""Tests of the independent plan verifier (optimiser.verify).

A tiny instance is written to tmp_path; a correct plan for it is built with the savings
arithmetic written out by hand here (SPEC section 3), checked to pass, and then broken one
way at a time, each time checking that the problem is reported and names its culprit.
"""

from __future__ import annotations

import copy
import json
import math

import tomllib

import pytest

from optimiser.errors import InputError
from optimiser.io.instance import load_instance
from optimiser.io.model import parse_model
from optimiser.verify import VerifyReport, haversine_km, verify

MODEL_TOML = """
name = "tiny"
title = "A tiny model for tests"
tiers = ["county", "district"]

[finance]
horizon_years = 10
discount_rate = 0.035

[rules]
max_size = 3
geography = ["contiguous", "within_km:80", "same_nation"]
host_min_commitment = 0.5

[[depths]]
id = "shared-management"
capture = 0.3
one_off = 0.1
min_commitment = 0.0
common_platform = false

[[depths]]
id = "standardised"
capture = 1.0
one_off = 0.5
min_commitment = 0.6
common_platform = true

[[functions]]
id = "rb"
tiers = ["district"]
per_capita = 16.0
scale_exponent = 0.8
coordination = 0.02
migration = 0.3

[[functions]]
id = "ict"
tiers = ["county", "district"]
per_capita = 20.0
scale_exponent = 0.85
coordination = 0.01
migration = 0.35
geography = ["within_km:40", "same_region"]
"""

COUNCILS_CSV = """code,name,tier,nation,region,county,population,lat,lon,commitment,max_partnerships,max_hosted
A,Aford,district,england,R1,CTY,100000,52.0,1.0,1.0,,
B,Bton,district,england,R1,CTY,150000,52.1,1.1,0.8,,
C,Cby,district,england,R1,CTY,80000,52.2,1.0,0.4,,
D,Dham,district,england,R2,,120000,53.5,1.0,1.0,,
E,Eshire,county,england,R1,,455000,52.1,1.05,1.0,2,1
"""

ADJACENCY_CSV = "a,b\nA,B\nB,C\nC,D\nE,A\nE,B\nE,C\n"
SPEND_CSV = "code,function,baseline\nA,rb,1600000\nB,rb,2000000\nE,ict,9000000\n"
PLATFORMS_CSV = "code,function,platform\nA,rb,vendor-a\nB,rb,vendor-b\nC,rb,vendor-a\n"
PARTNERSHIPS_CSV = "id,function,code,host,locked\nL1,ict,A,false,true\nL1,ict,E,true,true\n"

INSTANCE_TOML = """
name = "tiny-instance"
model = "../tiny.toml"

[tables]
councils = "councils.csv"
adjacency = "adjacency.csv"
spend = "spend.csv"
platforms = "platforms.csv"
partnerships = "partnerships.csv"
"""

# The fixture's data again, as plain Python, for the hand computations below.
POP = {"A": 100000, "B": 150000, "C": 80000, "D": 120000, "E": 455000}
LATLON = {"A": (52.0, 1.0), "B": (52.1, 1.1), "C": (52.2, 1.0), "D": (53.5, 1.0), "E": (52.1, 1.05)}
SPEND = {("A", "rb"): 1_600_000.0, ("B", "rb"): 2_000_000.0, ("E", "ict"): 9_000_000.0}
PLATFORM = {("A", "rb"): "vendor-a", ("B", "rb"): "vendor-b", ("C", "rb"): "vendor-a"}
FUNCTIONS = {
    "rb": dict(per_capita=16.0, beta=0.8, coordination=0.02, migration=0.3, tiers=("district",)),
    "ict": dict(per_capita=20.0, beta=0.85, coordination=0.01, migration=0.35, tiers=("county", "district")),
}
DEPTHS = {
    "shared-management": dict(capture=0.3, one_off=0.1, common_platform=False),
    "standardised": dict(capture=1.0, one_off=0.5, common_platform=True),
}
TIER = {"A": "district", "B": "district", "C": "district", "D": "district", "E": "county"}
ANNUITY = sum(1.035 ** -t for t in range(1, 11))


def distance_km(a: str, b: str) -> float:
    """Haversine, written out again here so the test does not trust the verifier's."""
    (lat1, lon1), (lat2, lon2) = LATLON[a], LATLON[b]
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def baseline(code: str, fid: str) -> float:
    return SPEND.get((code, fid), FUNCTIONS[fid]["per_capita"] * POP[code])


def yearly(fid, members, host, depth) -> float:
    """A(S) of SPEC section 3."""
    f, d = FUNCTIONS[fid], DEPTHS[depth]
    b = {m: baseline(m, fid) for m in members}
    r = 1 - sum(POP[m] for m in members) ** f["beta"] / sum(POP[m] ** f["beta"] for m in members)
    return d["capture"] * r * sum(b.values()) - f["coordination"] * sum(b[m] * distance_km(m, host) / 100 for m in members)


COMMITMENT = {"A": 1.0, "B": 0.8, "C": 0.4, "D": 1.0, "E": 1.0}
MIN_COMMITMENT = {"shared-management": 0.0, "standardised": 0.6}
EXIT_YEAR = 3  # the model has no [risk]: min(3, horizon - 1)


def may_continue(fid, stay, host, depth) -> bool:
    """The fixture's rules for survivors under a host: at most 3, contiguous, within_km 80
    (40 and one region for ict), host commitment 0.5, the depth's member commitment."""
    edges = {frozenset(line.split(",")) for line in ADJACENCY_CSV.split()[1:]}
    seen, todo = {stay[0]}, [stay[0]]
    while todo:
        here = todo.pop()
        for other in stay:
            if other not in seen and frozenset((here, other)) in edges:
                seen.add(other)
                todo.append(other)
    km = 40 if fid == "ict" else 80
    regions = {"D": "R2"}
    return (len(stay) <= 3 and len(seen) == len(stay) and all(distance_km(m, host) <= km for m in stay)
            and COMMITMENT[host] >= 0.5 and all(COMMITMENT[m] >= MIN_COMMITMENT[depth] for m in stay)
            and (fid != "ict" or len({regions.get(m, "R1") for m in stay}) == 1))


def one_leaves(fid, members, host, depth, A, O, code) -> float:
    """NPV(S -> S without code) of SPEC section 5: A(S) to the exit year, then the survivors'
    own saving if they may go on (under the host, or the stayer that saves most)."""
    stay = [m for m in members if m != code]
    later = 0.0
    if len(stay) >= 2:
        hosts = [host] if host in stay else sorted(stay)
        savings = [yearly(fid, stay, h, depth) for h in hosts if may_continue(fid, stay, h, depth)]
        later = max(savings, default=0.0)
    before = sum(1.035 ** -t for t in range(1, EXIT_YEAR + 1))
    return A * before + later * (ANNUITY - before) - O


def partnership(pid, fid, members, host, depth, platform=None) -> dict:
    """A plan entry with its figures computed from the formulas of SPEC sections 3 and 5
    (nobody is likely to leave: E(S) is the NPV)."""
    f, d = FUNCTIONS[fid], DEPTHS[depth]
    b = {m: baseline(m, fid) for m in members}
    B = sum(b.values())
    A = yearly(fid, members, host, depth)
    M = f["migration"] * sum(b[m] for m in members if PLATFORM.get((m, fid), f"own:{m}") != platform) if d["common_platform"] else 0.0
    O = d["one_off"] * B + M
    npv = A * ANNUITY - O
    after = {m: one_leaves(fid, members, host, depth, A, O, m) for m in members}
    worst = min(sorted(members), key=after.get)
    return {
        "id": pid, "function": fid, "members": list(members), "host": host, "depth": depth,
        "platform": platform if d["common_platform"] else None,
        "annual_saving": A, "one_off_cost": O, "npv": npv, "payback_years": O / A if A > 0 else None,
        "withdrawal": {m: 0.0 for m in members}, "expected_npv": npv,
        "worst_withdrawal": worst, "worst_withdrawal_npv": after[worst], "robust": after[worst] > 0,
    }


def build_plan(partnerships: list[dict], options: dict | None = None, eligible=None) -> dict:
    """A whole plan around the given partnerships: council rows, totals and solver figures."""
    options = {"area": [], "functions": [], "budget": None, "exclude": [], "apart": [], "solver": "highs",
               "time_limit": None, "method": "exact", "max_size": None, **(options or {})}
    rows = []
    for fid, f in FUNCTIONS.items():
        for code in "ABCDE":
            if TIER[code] not in f["tiers"] or (eligible is not None and (code, fid) not in eligible):
                continue
            p = next((p for p in partnerships if p["function"] == fid and code in p["members"]), None)
            share = 0.0
            if p is not None:
                share = p["npv"] * baseline(code, fid) / sum(baseline(m, fid) for m in p["members"])
            rows.append({"code": code, "function": fid, "partnership": p["id"] if p else None,
                         "baseline": baseline(code, fid), "baseline_estimated": (code, fid) not in SPEND,
                         "npv_share": share})
    npv = sum(p["npv"] for p in partnerships)
    return {
        "instance": "tiny-instance", "model": "tiny", "options": options,
        "solver": {"name": "highs", "status": "optimal", "objective": npv, "bound": npv, "gap": 0.0, "seconds": 0.1},
        "partnerships": partnerships,
        "councils": rows,
        "totals": {"npv": npv, "annual_saving": sum(p["annual_saving"] for p in partnerships),
                   "one_off_cost": sum(p["one_off_cost"] for p in partnerships),
                   "baseline": sum(r["baseline"] for r in rows),
                   "expected_npv": sum(p.get("expected_npv", p["npv"]) for p in partnerships)},
    }


def good_partnerships() -> list[dict]:
    return [
        partnership("P1", "rb", ["A", "B"], "B", "standardised", "vendor-a"),
        partnership("P2", "ict", ["A", "E"], "E", "shared-management"),
    ]


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "tiny.toml").write_text(MODEL_TOML)
    inst = tmp_path / "tiny-instance"
    inst.mkdir()
    (inst / "instance.toml").write_text(INSTANCE_TOML)
    (inst / "councils.csv").write_text(COUNCILS_CSV)
    (inst / "adjacency.csv").write_text(ADJACENCY_CSV)
    (inst / "spend.csv").write_text(SPEND_CSV)
    (inst / "platforms.csv").write_text(PLATFORMS_CSV)
    (inst / "partnerships.csv").write_text(PARTNERSHIPS_CSV)
    return inst


@pytest.fixture
def instance(folder):
    return load_instance(folder)


@pytest.fixture
def model(tmp_path, folder):
    return parse_model(tomllib.loads(MODEL_TOML), "tiny.toml", tmp_path / "tiny.toml")


@pytest.fixture
def plan():
    return build_plan(good_partnerships())


def reported(report: VerifyReport, *words: str) -> list[str]:
    """The problems that mention every one of ``words``."""
    return [p for p in report.problems if all(w in p for w in words)]


def assert_reported(report: VerifyReport, *words: str) -> None:
    assert not report.ok
    assert reported(report, *words), f"no problem mentions {words}; problems: {report.problems}"


# ---------------------------------------------------------------- the correct plan


def test_hand_computed_pounds_of_two_councils():
    """P1 written out term by term, so the fixture's helper is itself checked."""
    bA, bB = 1_600_000.0, 2_000_000.0
    r = 1 - (100000 + 150000) ** 0.8 / (100000 ** 0.8 + 150000 ** 0.8)
    annual = 1.0 * r * (bA + bB) - 0.02 * (bA * distance_km("A", "B") / 100 + bB * 0.0)
    one_off = 0.5 * (bA + bB) + 0.3 * bB  # B moves from vendor-b to vendor-a
    npv = annual * ANNUITY - one_off
    p1 = good_partnerships()[0]
    assert p1["annual_saving"] == pytest.approx(annual, rel=1e-12)
    assert p1["one_off_cost"] == pytest.approx(one_off, rel=1e-12)
    assert p1["npv"] == pytest.approx(npv, rel=1e-12)
    # the same figures from a pocket calculator: r = 0.12663, d(A, B) = 13.054 km
    assert r == pytest.approx(0.12663, abs=1e-5)
    assert distance_km("A", "B") == pytest.approx(13.054, abs=0.001)
    assert annual == pytest.approx(451_689.33, abs=0.01)
    assert npv == pytest.approx(1_356_521.91, abs=0.01)


def test_haversine_matches_known_distance():
    # London (51.5074, -0.1278) to Paris (48.8566, 2.3522): about 343.5 km
    assert haversine_km(51.5074, -0.1278, 48.8566, 2.3522) == pytest.approx(343.5, abs=0.5)
    assert haversine_km(*LATLON["A"], *LATLON["D"]) == pytest.approx(distance_km("A", "D"), rel=1e-12)


def test_correct_plan_passes(instance, model, plan):
    report = verify(instance, plan, model)
    assert report.problems == []
    assert report.ok
    assert report.checked["partnerships"] == 2
    assert report.checked["council_rows"] == 9  # rb: A-D, ict: A-E
    assert report.checked["eligible_pairs"] == 9
    assert report.checked["locked_groups"] == 1


def test_plan_and_instance_from_files_and_model_from_plan(folder, plan, tmp_path):
    path = tmp_path / "out" / "plan.json"
    path.parent.mkdir()
    plan["model"] = "../tiny.toml"  # resolved like load_model(name, near=instance folder)
    path.write_text(json.dumps(plan))
    report = verify(folder, path)
    assert report.ok, report.problems
    assert verify(folder, path.parent).ok  # the folder holding plan.json


def test_plan_with_other_model_name_is_reported(instance, model, plan):
    plan["model"] = "uk-central"
    assert_reported(verify(instance, plan, model), "model", "uk-central", "tiny")


def test_bad_json_names_the_file(instance, model, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"instance": "tiny-instance", ')
    with pytest.raises(InputError, match="broken.json"):
        verify(instance, path, model)


def test_missing_plan_file_names_the_file(instance, model, tmp_path):
    with pytest.raises(InputError, match="nowhere.json"):
        verify(instance, tmp_path / "nowhere.json", model)


# ---------------------------------------------------------------- one mutation at a time


def test_wrong_npv(instance, model, plan):
    plan["partnerships"][0]["npv"] += 1000.0
    report = verify(instance, plan, model)
    assert_reported(report, "'P1'", "npv is", "expected")


def test_npv_within_a_penny_passes(instance, model, plan):
    plan["partnerships"][0]["npv"] += 0.004
    assert verify(instance, plan, model).ok


def test_wrong_annual_saving_and_payback(instance, model, plan):
    plan["partnerships"][1]["annual_saving"] *= 1.01
    plan["partnerships"][1]["payback_years"] += 0.5
    report = verify(instance, plan, model)
    assert_reported(report, "'P2'", "annual_saving")
    assert_reported(report, "'P2'", "payback_years")


def test_wrong_host_commitment(instance, model):
    # C has commitment 0.4, below the host minimum 0.5
    parts = good_partnerships() + [partnership("P3", "ict", ["B", "C"], "C", "shared-management")]
    assert parts[-1]["npv"] > 0
    report = verify(instance, build_plan(parts), model)
    assert_reported(report, "'P3'", "host C", "commitment 0.4")
    assert len(report.problems) == 1


def test_member_commitment_below_depth_minimum(instance, model):
    # standardised needs 0.6; C has 0.4
    parts = [partnership("P1", "rb", ["B", "C"], "B", "standardised", "vendor-a"), good_partnerships()[1]]
    report = verify(instance, build_plan(parts), model)
    assert_reported(report, "'P1'", "member C", "standardised")


def test_non_contiguous_members(instance, model):
    # A and C do not touch (A-B-C); E touches both but is not a member
    parts = [partnership("P1", "rb", ["A", "C"], "A", "shared-management"), good_partnerships()[1]]
    assert parts[0]["npv"] > 0
    report = verify(instance, build_plan(parts), model)
    assert_reported(report, "'P1'", "contiguous")
    assert len(report.problems) == 1


def test_member_in_two_partnerships_for_one_function(instance, model):
    parts = good_partnerships() + [partnership("P3", "rb", ["B", "C"], "B", "shared-management")]
    report = verify(instance, build_plan(parts), model)
    assert_reported(report, "council B", "'P1'", "'P3'", "rb")


def test_platform_for_a_depth_without_common_platform(instance, model, plan):
    plan["partnerships"][1]["platform"] = "own:E"
    report = verify(instance, plan, model)
    assert_reported(report, "'P2'", "platform", "shared-management")
    assert len(report.problems) == 1


def test_platform_not_a_members_platform(instance, model, plan):
    plan["partnerships"][0]["platform"] = "vendor-z"
    assert_reported(verify(instance, plan, model), "'P1'", "platform", "vendor-z", "vendor-a, vendor-b")


def test_own_platform_of_council_without_row_is_valid(instance, model):
    # nobody has a platforms.csv row for ict: A is on own:A and E on own:E
    locked = partnership("P2", "ict", ["A", "E"], "E", "standardised", "own:E")
    assert locked["one_off_cost"] == pytest.approx(0.5 * 11_000_000 + 0.35 * 2_000_000)
    assert verify(instance, build_plan([good_partnerships()[0], locked]), model).ok
    # B has a row (vendor-b), so own:B is no platform of P1's members
    parts = [partnership("P1", "rb", ["A", "B"], "B", "standardised", "own:B"), good_partnerships()[1]]
    assert verify(instance, build_plan(parts), model).problems == [
        "partnership 'P1' (rb): platform is 'own:B', but depth 'standardised' needs one of its members' platforms (vendor-a, vendor-b)"
    ]


def test_missing_council_row(instance, model, plan):
    plan["councils"] = [r for r in plan["councils"] if (r["code"], r["function"]) != ("C", "rb")]
    report = verify(instance, plan, model)
    assert_reported(report, "C / rb", "missing")
    assert len(report.problems) == 1


def test_row_for_ineligible_council(instance, model, plan):
    plan["councils"].append({"code": "E", "function": "rb", "partnership": None, "baseline": 7_280_000.0,
                             "baseline_estimated": True, "npv_share": 0.0})
    assert_reported(verify(instance, plan, model), "E / rb", "not eligible", "county")


def test_council_row_wrong_partnership_baseline_and_share(instance, model, plan):
    rows = {(r["code"], r["function"]): r for r in plan["councils"]}
    rows[("C", "rb")]["partnership"] = "P1"
    rows[("D", "ict")]["baseline"] += 10.0
    rows[("D", "ict")]["baseline_estimated"] = False
    rows[("A", "rb")]["npv_share"] *= 1.001
    report = verify(instance, plan, model)
    assert_reported(report, "C / rb", "partnership is 'P1'")
    assert_reported(report, "D / ict", "baseline is")
    assert_reported(report, "D / ict", "baseline_estimated")
    assert_reported(report, "A / rb", "npv_share")
    assert len(report.problems) == 4


def test_council_row_names_another_partnership(instance, model, plan):
    rows = {(r["code"], r["function"]): r for r in plan["councils"]}
    rows[("A", "rb")]["partnership"] = "P2"
    report = verify(instance, plan, model)
    assert_reported(report, "A / rb", "partnership is 'P2'", "'P1'")
    assert len(report.problems) == 1


def test_repeated_council_row(instance, model, plan):
    plan["councils"].append(dict(plan["councils"][2]))
    report = verify(instance, plan, model)
    assert_reported(report, f"{plan['councils'][2]['code']} / rb", "repeats councils[2]")
    assert len(report.problems) == 1


def test_optional_shares_are_checked_when_present(instance, model, plan):
    parts = {p["id"]: p for p in plan["partnerships"]}
    for row in plan["councils"]:
        p = parts.get(row["partnership"])
        w = baseline(row["code"], row["function"]) / sum(baseline(m, row["function"]) for m in p["members"]) if p else 0.0
        row["annual_saving_share"] = p["annual_saving"] * w if p else 0.0
        row["one_off_share"] = p["one_off_cost"] * w if p else 0.0
    assert verify(instance, plan, model).ok
    plan["councils"][0]["one_off_share"] += 100.0
    assert_reported(verify(instance, plan, model), "one_off_share")


def test_wrong_totals(instance, model, plan):
    plan["totals"]["annual_saving"] += 500.0
    plan["totals"]["baseline"] -= 1000.0
    report = verify(instance, plan, model)
    assert_reported(report, "totals", "annual_saving")
    assert_reported(report, "totals", "baseline")
    assert len(report.problems) == 2


def test_budget_exceeded(instance, model):
    parts = good_partnerships()
    spent = sum(p["one_off_cost"] for p in parts)
    plan = build_plan(parts, {"budget": spent - 1000.0})
    assert_reported(verify(instance, plan, model), "budget")
    assert verify(instance, build_plan(parts, {"budget": spent}), model).ok


def test_missing_locked_group(instance, model):
    plan = build_plan(good_partnerships()[:1])  # L1 (ict: A, E) left out
    report = verify(instance, plan, model)
    assert_reported(report, "locked partnership 'L1'", "missing")
    assert len(report.problems) == 1


def test_locked_group_changed_is_missing(instance, model):
    parts = [good_partnerships()[0], partnership("P2", "ict", ["A", "B", "E"], "E", "shared-management")]
    report = verify(instance, build_plan(parts), model)
    assert_reported(report, "locked partnership 'L1'", "missing", "'P2'")


def test_locked_group_may_have_negative_npv(folder, model):
    # the locked group L1 (ict: A, E) is kept whatever its NPV; an unlocked group is not
    negative = partnership("P2", "ict", ["A", "E"], "A", "standardised", "own:A")
    assert negative["npv"] < 0
    plan = build_plan([good_partnerships()[0], negative])
    assert verify(load_instance(folder), plan, model).ok
    (folder / "partnerships.csv").write_text("id,function,code,host,locked\nL1,ict,A,false,false\nL1,ict,E,true,false\n")
    report = verify(load_instance(folder), plan, model)
    assert_reported(report, "'P2'", "npv", "not positive")
    assert len(report.problems) == 1


def test_member_too_far_for_within_km(instance, model):
    # ict: within_km:40; C to D is about 145 km (same region is also broken: D is in R2)
    parts = good_partnerships() + [partnership("P3", "ict", ["C", "D"], "D", "shared-management")]
    assert parts[-1]["npv"] > 0
    report = verify(instance, build_plan(parts), model)
    assert_reported(report, "'P3'", "member C", "within_km:40")
    assert_reported(report, "'P3'", "region")


def test_too_many_members_for_max_size_option(instance, model):
    parts = [partnership("P1", "rb", ["A", "B", "C"], "B", "shared-management"), good_partnerships()[1]]
    assert verify(instance, build_plan(parts), model).ok
    report = verify(instance, build_plan(parts, {"max_size": 2}), model)
    assert_reported(report, "'P1'", "3 members", "maximum size 2")


def test_excluded_member(instance, model):
    eligible = {(c, f) for f in FUNCTIONS for c in "ABCDE"} - {("B", "rb")}
    report = verify(instance, build_plan(good_partnerships(), {"exclude": ["B:rb"]}, eligible), model)
    assert_reported(report, "'P1'", "member B", "--exclude B:rb")


def test_area_option(instance, model):
    # --area R1 drops D; the rows for D must go as well
    eligible = {(c, f) for f in FUNCTIONS for c in "ABCE"}
    assert verify(instance, build_plan(good_partnerships(), {"area": ["R1"]}, eligible), model).ok
    report = verify(instance, build_plan(good_partnerships(), {"area": ["R1"]}), model)
    assert_reported(report, "D / rb", "outside")


def test_apart_pair_together(instance, model):
    report = verify(instance, build_plan(good_partnerships(), {"apart": ["B:A"]}), model)
    assert_reported(report, "'P1'", "--apart B:A")


def test_function_not_in_run(instance, model):
    eligible = {(c, "ict") for c in "ABCDE"}
    report = verify(instance, build_plan(good_partnerships(), {"functions": ["ict"]}, eligible), model)
    assert_reported(report, "'P1'", "not one of the run's functions")


def test_max_hosted_exceeded(instance, model):
    parts = good_partnerships() + [partnership("P3", "ict", ["B", "C"], "B", "shared-management")]
    assert verify(instance, build_plan(parts), model).ok  # B hosts P1 and P3
    instance.councils.loc[instance.councils["code"] == "B", "max_hosted"] = 1
    assert_reported(verify(instance, build_plan(parts), model), "council B", "hosts 2", "max_hosted 1")


def test_max_partnerships_exceeded(instance, model):
    instance.councils.loc[instance.councils["code"] == "A", "max_partnerships"] = 1
    assert_reported(verify(instance, build_plan(good_partnerships()), model), "council A", "max_partnerships 1")


def test_bad_ids_members_host_and_depth(instance, model, plan):
    p1, p2 = plan["partnerships"]
    p2["id"] = "P1"
    p1["members"] = ["A", "B", "Z"]
    p1["host"] = "C"
    p1["depth"] = "merged"
    report = verify(instance, plan, model)
    assert_reported(report, "id 'P1' is used again")
    assert_reported(report, "member Z", "not a council")
    assert_reported(report, "host 'C'", "not one of its members")
    assert_reported(report, "depth 'merged'")


def test_missing_plan_keys_and_bad_status(instance, model, plan):
    del plan["totals"]
    plan["solver"]["status"] = "done"
    report = verify(instance, plan, model)
    assert_reported(report, "missing key 'totals'")
    assert_reported(report, "status", "'done'")


def test_solver_objective_bound_and_gap(instance, model, plan):
    npv = plan["totals"]["npv"]
    plan["solver"].update(status="time_limit", bound=npv * 1.1, gap=0.1)
    assert verify(instance, plan, model).ok
    plan["solver"]["gap"] = 0.05
    assert_reported(verify(instance, plan, model), "solver", "gap")
    plan["solver"].update(bound=npv - 100.0, gap=0.0)
    assert_reported(verify(instance, plan, model), "solver", "bound", "below")
    plan["solver"].update(bound=npv + 100.0, objective=npv + 100.0)
    report = verify(instance, plan, model)
    assert_reported(report, "solver", "objective is", "expected")
    assert len(report.problems) == 1


def test_infeasible_plan_has_no_partnerships(instance, model):
    plan = build_plan([])
    plan["solver"].update(status="infeasible", objective=None, bound=None, gap=None)
    report = verify(instance, plan, model)
    assert report.ok, report.problems  # no plan, so the locked group cannot be missing from it
    plan = build_plan(good_partnerships())
    plan["solver"]["status"] = "infeasible"
    assert_reported(verify(instance, plan, model), "infeasible", "2 partnership")


def test_all_problems_are_collected(instance, model, plan):
    plan["partnerships"][0]["npv"] += 1000.0
    plan["partnerships"][1]["platform"] = "vendor-a"
    plan["councils"].pop()
    plan["totals"]["one_off_cost"] = 0.0
    report = verify(instance, plan, model)
    assert reported(report, "'P1'", "npv")
    assert reported(report, "'P2'", "platform")
    assert reported(report, "missing")
    assert reported(report, "totals", "one_off_cost")


def test_plan_is_not_modified(instance, model, plan):
    before = copy.deepcopy(plan)
    verify(instance, plan, model)
    assert plan == before
