"""Invest to save (SPEC section 8) on whole runs: ramps, loans, the cash-flow table and the
headroom rows, checked against the exhaustive search of tests/randomized.py (the 'finance'
profile) and by the verifier, on every method and solver."""

from __future__ import annotations


import pytest

from randomized import brute_force, make_case
from test_property import METHODS, check_against_brute_force

FINANCE_SEEDS = range(70_000, 70_040)


pytestmark = pytest.mark.usefixtures("warnings_off")


@pytest.mark.parametrize("seed", FINANCE_SEEDS, ids=lambda s: f"finance{s}")
def test_optimal_with_ramps(tmp_path, seed):
    case = make_case(seed, tmp_path, "finance")
    optimum = brute_force(case)
    for method, solver in METHODS:
        check_against_brute_force(case, optimum, method, solver, "finance")


# ---------------------------------------------------------------- ramps: by hand and bad values

import json  # noqa: E402
import math  # noqa: E402
from pathlib import Path  # noqa: E402

from cli_run import run as run_cli
from optimiser.api import solve  # noqa: E402
from optimiser.cli import main  # noqa: E402
from optimiser.verify import verify  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PAIR_MODEL = """name = "pair"
tiers = ["district"]

[finance]
horizon_years = 4
discount_rate = 0.1

[rules]
max_size = 2
geography = ["none"]
host_min_commitment = 0.0

[[depths]]
id = "one"
capture = 1.0
one_off = 0.2
common_platform = false
{ramp}

[[functions]]
id = "f"
tiers = ["district"]
per_capita = 10.0
scale_exponent = 0.5
coordination = 0.0
migration = 0.0
"""


def pair_instance(folder: Path, ramp: str = "", extra_columns: str = "", rows=("", "")) -> tuple[Path, Path]:
    """Two districts of 100 residents each: B = 2000, r = 1 - 200^0.5 / (2 x 100^0.5) =
    1 - sqrt(2) / 2, A = r B = 585.786..., O = 0.2 B = 400."""
    inst = folder / "pair"
    inst.mkdir(parents=True, exist_ok=True)
    model = folder / "pair.toml"
    model.write_text(PAIR_MODEL.format(ramp=ramp), encoding="utf-8")
    (inst / "instance.toml").write_text(f'name = "pair"\nmodel = "{model.as_posix()}"\n\n[tables]\ncouncils = "councils.csv"\n'
                                        'adjacency = "adjacency.csv"\n', encoding="utf-8")
    header = "code,name,tier,nation,region,population,lat,lon" + extra_columns
    lines = [header] + [f"A{i},A{i},district,england,R,100,52.0,{i * 0.1}{rows[i]}" for i in range(2)]
    (inst / "councils.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (inst / "adjacency.csv").write_text("a,b\nA0,A1\n", encoding="utf-8")
    return inst, model


def test_a_ramp_by_hand(tmp_path):
    inst, model = pair_instance(tmp_path, "ramp = [0.25, 0.5]")
    plan = solve(inst, model)
    annual = 2000 * (1 - math.sqrt(2) / 2)
    # years 1..4 realise 0.25, 0.5, 0.5, 0.5 of A, discounted at 10%
    ramped = 0.25 / 1.1 + 0.5 / 1.1**2 + 0.5 / 1.1**3 + 0.5 / 1.1**4
    (p,) = plan.partnerships
    assert p.npv == pytest.approx(annual * ramped - 400, rel=1e-12)
    # cumulative: 146.45 after year 1, then 292.89 a year: 400 is reached in year 2,
    # 1 + (400 - 146.45) / 292.89 = 1.866 years
    assert p.payback_years == pytest.approx(1 + (400 - 0.25 * annual) / (0.5 * annual), rel=1e-12)
    assert verify(inst, plan.data, model).ok


def test_a_ramp_that_never_pays_back_leaves_no_plan(tmp_path):
    inst, model = pair_instance(tmp_path, "ramp = [0.1, 0.0]")
    assert solve(inst, model).partnerships == ()


@pytest.mark.parametrize("ramp,why", [
    ("ramp = []", "non-empty list"),
    ("ramp = 0.5", "non-empty list"),
    ("ramp = [0.5, 1.5]", "value 2 is 1.5"),
    ("ramp = [-0.1]", "value 1 is -0.1"),
    ('ramp = ["half"]', "value 1 is 'half'"),
    ("ramp = [true]", "value 1 is True"),
])
def test_bad_ramps_exit_2_naming_the_model_file_and_key(tmp_path, capsys, ramp, why):
    inst, model = pair_instance(tmp_path, ramp)
    code = None
    try:
        code = main(["solve", str(inst), "--quiet"])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert str(model) in err and "depths[0].ramp" in err and why in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


# ---------------------------------------------------------------- loans and headroom, by hand

A_PAIR = 2000 * (1 - math.sqrt(2) / 2)  # the pair's yearly net saving, 585.79; O = 400




def test_an_eip_loan_by_hand(tmp_path):
    inst, model = pair_instance(tmp_path)
    plan = solve(inst, model, loan="0.1:2:eip")
    # principal 200 a year; interest 10% of 400, then of 200: payments 240, 220, 0, 0
    rows = {(r["level"], r["id"], r["year"]): r for r in plan.cashflow}
    assert [rows[("plan", "plan", t)]["debt_service"] for t in range(5)] == pytest.approx([0, 240, 220, 0, 0])
    assert [rows[("plan", "plan", t)]["one_off"] for t in range(5)] == [0, 0, 0, 0, 0]
    net = [0.0, A_PAIR - 240, A_PAIR - 220, A_PAIR, A_PAIR]
    assert [rows[("plan", "plan", t)]["net"] for t in range(5)] == pytest.approx(net, abs=0.006)
    # each district carries half
    assert [rows[("council", "A0", t)]["net"] for t in range(5)] == pytest.approx([x / 2 for x in net], abs=0.006)
    finance = plan.finance
    assert finance["loan"]["kind"] == "eip" and finance["borrowed"] == pytest.approx(400)
    assert finance["peak_debt_service"] == pytest.approx(240)
    assert finance["financed_npv"] == pytest.approx(sum(x / 1.1**t for t, x in enumerate(net)), rel=1e-12)
    assert finance["councils"]["A0"]["worst_year"] == 0 and finance["councils"]["A0"]["net_cash"] == 0
    assert verify(inst, plan, model).ok


def test_without_a_loan_year_0_pays_the_one_off_cost(tmp_path):
    inst, model = pair_instance(tmp_path)
    plan = solve(inst, model)
    rows = {(r["level"], r["id"], r["year"]): r for r in plan.cashflow}
    assert rows[("plan", "plan", 0)]["one_off"] == pytest.approx(400) and rows[("plan", "plan", 0)]["net"] == pytest.approx(-400)
    assert plan.finance["loan"] is None and plan.finance["borrowed"] == 0
    # without a loan financed NPV is the NPV: -O + A a
    assert plan.finance["financed_npv"] == pytest.approx(plan.totals.npv, rel=1e-12)
    assert plan.finance["councils"]["A1"] == {"name": "A1", "worst_year": 0, "net_cash": pytest.approx(-200),
                                              "headroom": None, "headroom_used": None, "binds": False,
                                              "financed_npv": pytest.approx(plan.totals.npv / 2, rel=1e-12)}


def test_headroom_below_the_share_of_the_one_off_cost_forbids_the_partnership(tmp_path):
    inst, model = pair_instance(tmp_path, extra_columns=",headroom", rows=(",150", ","))
    plan = solve(inst, model)
    # A0 would pay 200 in year 0 with only 150 of headroom: no partnership, and the plan
    # without headroom limits would leave A0 50 short
    assert plan.partnerships == ()
    assert plan.finance["financing_gap"] == pytest.approx(50) and plan.finance["shortfalls"] == {"A0": pytest.approx(50)}
    assert verify(inst, plan, model).ok
    tampered = plan.to_dict()
    tampered["finance"]["financing_gap"] = 0.0
    assert any("financing_gap" in p for p in verify(inst, tampered, model).problems)
    # the plan without the limits is the pair, and what it is said to be worth is checked too
    free = plan.finance["without_headroom"]
    assert [p["members"] for p in free["partnerships"]] == [["A0", "A1"]]
    tampered = plan.to_dict()
    tampered["finance"]["without_headroom"]["npv"] = free["npv"] + 1000.0
    assert any("without_headroom.npv" in p for p in verify(inst, tampered, model).problems)
    # and it must keep the run's other rules: the pair listed twice breaks the packing
    tampered = plan.to_dict()
    tampered["finance"]["without_headroom"]["partnerships"] *= 2
    found = verify(inst, tampered, model).findings
    assert any(f.rule == "packing" and f.where.startswith("finance.without_headroom: ") for f in found), found


def test_headroom_that_just_covers_the_worst_year(tmp_path):
    inst, model = pair_instance(tmp_path, extra_columns=",headroom", rows=(",200", ","))
    plan = solve(inst, model)
    assert len(plan.partnerships) == 1 and plan.finance["financing_gap"] == 0
    a0 = plan.finance["councils"]["A0"]
    # year 0 takes all 200 of A0's headroom, but the plan without limits fits it, so it does not bind
    assert a0["headroom_used"] == pytest.approx(1.0) and not a0["binds"] and plan.finance["shortfalls"] == {}
    assert verify(inst, plan, model).ok


def test_a_loan_makes_room_for_the_partnership(tmp_path):
    inst, model = pair_instance(tmp_path, extra_columns=",headroom", rows=(",0", ",0"))
    assert solve(inst, model).partnerships == ()
    # maturity: 40 of interest in year 1, 440 in year 2; the savings cover both
    plan = solve(inst, model, loan="0.1:2:maturity")
    assert len(plan.partnerships) == 1
    assert plan.finance["peak_debt_service"] == pytest.approx(440)
    assert verify(inst, plan, model).ok


def test_the_verifier_finds_a_plan_over_a_headroom(tmp_path):
    inst, model = pair_instance(tmp_path, extra_columns=",headroom", rows=(",200", ","))
    data = solve(inst, model).to_dict()
    (inst / "councils.csv").write_text((inst / "councils.csv").read_text().replace(",200\n", ",199\n"))
    findings = verify(inst, data, model).findings
    assert any(f.rule == "headroom" and f.where == "A0" and "year 0" in f.message for f in findings), findings


def test_evaluate_names_a_council_beyond_its_headroom(tmp_path, capsys):
    inst, model = pair_instance(tmp_path, extra_columns=",headroom", rows=(",150", ","))
    groups = tmp_path / "groups.csv"
    groups.write_text("id,function,code\ng1,f,A0\ng1,f,A1\n")
    code, out, err = run_cli(capsys, "evaluate", inst, groups, "--out", tmp_path / "ev")
    assert code == 1, err
    assert "headroom" in out and "A0" in out, out


@pytest.mark.parametrize("value,why", [("-1", "out of range"), ("lots", "is not a number"), ("inf", "not a finite number")])
def test_bad_headroom_values_exit_2_naming_the_file_line_and_column(tmp_path, capsys, value, why):
    inst, _ = pair_instance(tmp_path, extra_columns=",headroom", rows=(f",{value}", ","))
    code, out, err = run_cli(capsys, "solve", inst, "--quiet")
    assert code == 2 and "councils.csv" in err and "headroom" in err and "line 2" in err and why in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("loan,why", [
    ("0.1:5", "longer than the model's horizon of 4"),
    ("abc", "missing YEARS"),
    ("0.1:2:bullet", "unknown loan type"),
    ("4.5:2", "did you mean 0.045"),
    ("0.1:0", "below 1"),
])
def test_bad_loans_exit_2_naming_the_option(tmp_path, capsys, loan, why):
    inst, _ = pair_instance(tmp_path)
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, "solve", inst, "--loan", loan, "--quiet", "--out", out)
    assert code == 2 and err.count("--loan") >= 1 and why in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and not out.exists()


def test_the_api_takes_a_loan(tmp_path):
    from optimiser.problem import RunOptions

    inst, model = pair_instance(tmp_path)
    assert RunOptions.create(loan="0.045:4").loan == "0.045:4:annuity"
    plan = solve(inst, model, RunOptions(loan="0.045:4"))
    assert plan.options.to_dict()["loan"] == "0.045:4:annuity" and plan.finance["loan"]["years"] == 4


def test_withdrawal_figures_follow_the_ramp(tmp_path):
    inst, model = pair_instance(tmp_path, "ramp = [0.25, 0.5]")
    model.write_text(model.read_text() + "\n[risk]\nbase = 0.1\nexit_year = 2\n", encoding="utf-8")
    plan = solve(inst, model)
    (p,) = plan.partnerships
    # either member leaving ends a pair after year 2: only years 1 and 2 save, at their ramp
    early = A_PAIR * (0.25 / 1.1 + 0.5 / 1.1**2)
    assert p.worst_withdrawal_npv == pytest.approx(early - 400, rel=1e-12)
    # both stay with chance 0.81; otherwise the pair ends after year 2
    assert p.expected_npv == pytest.approx(0.81 * p.npv + 0.19 * (early - 400), rel=1e-12)
    assert verify(inst, plan, model).ok


@pytest.mark.parametrize("change,fragment", [
    (lambda f, code: f["loan"].update(label="cheap"), "finance.loan.label is 'cheap'"),
    (lambda f, code: f["councils"][code].update(name="Elsewhere"), "name is 'Elsewhere'"),
    (lambda f, code: f["councils"][code].update(headroom=1.0), "headroom is 1.0"),
    (lambda f, code: f["councils"][code].update(headroom_used=0.5), "headroom_used is 0.5"),
])
def test_verify_checks_each_council_finance_row(change, fragment):
    plan = solve("suffolk-2023", functions="legal,ict", loan="0.045:10")
    data = json.loads(json.dumps(plan.data))
    code = next(c for c, row in data["finance"]["councils"].items() if row["headroom"])
    assert verify("suffolk-2023", data).ok
    change(data["finance"], code)
    report = verify("suffolk-2023", data)
    assert any(fragment in p for p in report.problems), report.problems
