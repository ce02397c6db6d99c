"""The ``optimiser`` command line: solve, verify, evaluate, instances (SPEC §3–4).

Solves are kept small: the 6-council ``suffolk-2023``, or ``england-2023`` cut down with
``--area Suffolk`` and a few functions. Most runs call ``optimiser.cli.main`` in-process;
a few go through ``python -m optimiser`` to check what a user sees.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cli_run import run
from optimiser.io.model import load_model

#: uk-central's ramps by depth (SPEC section 8)
RAMPS = {d.id: d.ramp for d in load_model("uk-central").depths}


def ramped_payback(annual: float, one_off: float, ramp) -> float:
    """Years until the yearly savings annual x ramp_t add up to one_off, the last year
    interpolated (O / A without a ramp)."""
    paid, year = 0.0, 1
    while True:
        saving = annual * ramp[min(year, len(ramp)) - 1]
        if paid + saving >= one_off:
            return year - 1 + (one_off - paid) / saving
        paid, year = paid + saving, year + 1

ROOT = Path(__file__).resolve().parent.parent
SUFFOLK = ROOT / "instances" / "suffolk-2023"
ENGLAND = ROOT / "instances" / "england-2023"

BABERGH, IPSWICH, MID_SUFFOLK, EAST_SUFFOLK, WEST_SUFFOLK, SUFFOLK_CC = (
    "E07000200", "E07000202", "E07000203", "E07000244", "E07000245", "E10000029",
)
DISTRICTS = {BABERGH, IPSWICH, MID_SUFFOLK, EAST_SUFFOLK, WEST_SUFFOLK}
FAST = ("--functions", "revenues-benefits,ict")


def cli(*argv, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "optimiser", *map(str, argv)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)




def solve(capsys, tmp_path: Path, *argv, name: str = "out") -> dict:
    """Solves in-process with --out and --quiet; checks exit 0 and returns plan.json."""
    out = tmp_path / name
    code, stdout, stderr = run(capsys, "solve", *argv, "--quiet", "--out", out)
    assert code == 0, stderr
    assert stdout == ""
    return json.loads((out / "plan.json").read_text(encoding="utf-8"))


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def close(a: float, b: float, rel: float = 1e-6) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1.0)


# ---------------------------------------------------------------- solve and its outputs


@pytest.fixture(scope="module")
def suffolk_run(tmp_path_factory):
    """``optimiser solve suffolk-2023 --out DIR`` (every function), run once for the module."""
    out = tmp_path_factory.mktemp("suffolk") / "plan"
    result = cli("solve", "suffolk-2023", "--out", out)
    return result, out


def test_solve_exits_0_and_says_verified(suffolk_run):
    result, out = suffolk_run
    assert result.returncode == 0, result.stderr
    assert "verified" in result.stdout and "FAILED" not in result.stdout
    assert "optimal" in result.stdout
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["README.txt", "cashflow.csv", "council_summary.csv", "councils.csv", "partnerships.csv",
                                                     "plan.geojson", "plan.json"]


def test_plan_json_shape(suffolk_run):
    _, out = suffolk_run
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert plan["instance"] == "suffolk-2023" and plan["model"] == "uk-central"
    assert set(plan) >= {"instance", "model", "options", "solver", "partnerships", "councils", "totals"}
    solver = plan["solver"]
    assert solver["name"] == "highs" and solver["status"] == "optimal"
    assert solver["gap"] <= 1e-6
    assert close(solver["objective"], plan["totals"]["npv"])
    assert solver["bound"] >= solver["objective"] - 1.0
    for p in plan["partnerships"]:
        assert set(p) >= {"id", "function", "members", "host", "depth", "platform", "annual_saving",
                          "one_off_cost", "npv", "payback_years"}
        assert len(p["members"]) >= 2 and p["host"] in p["members"]
        assert p["npv"] > 0
        assert close(p["payback_years"], ramped_payback(p["annual_saving"], p["one_off_cost"], RAMPS[p["depth"]]))
    ids = [p["id"] for p in plan["partnerships"]]
    assert len(ids) == len(set(ids))
    assert close(plan["totals"]["npv"], sum(p["npv"] for p in plan["partnerships"]))
    assert close(plan["totals"]["one_off_cost"], sum(p["one_off_cost"] for p in plan["partnerships"]))
    assert close(plan["totals"]["annual_saving"], sum(p["annual_saving"] for p in plan["partnerships"]))
    assert close(plan["totals"]["baseline"], sum(c["baseline"] for c in plan["councils"]))


def test_plan_councils_rows(suffolk_run):
    """A row for every eligible (council, function) pair: 12 district functions x 5 + 10 county functions."""
    _, out = suffolk_run
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    rows = plan["councils"]
    keys = [(r["code"], r["function"]) for r in rows]
    assert len(keys) == len(set(keys)) == 70
    members = {(c, p["function"]): p["id"] for p in plan["partnerships"] for c in p["members"]}
    for r in rows:
        assert r["partnership"] == members.get((r["code"], r["function"]))
        if r["partnership"] is None:
            assert r["npv_share"] == 0
    # each partnership's shares add up to its NPV, in proportion to baselines
    for p in plan["partnerships"]:
        mine = [r for r in rows if r["partnership"] == p["id"]]
        assert len(mine) == len(p["members"])
        total = sum(r["baseline"] for r in mine)
        for r in mine:
            assert close(r["npv_share"], p["npv"] * r["baseline"] / total)
    # the shipped spend table covers every eligible pair of suffolk-2023
    assert not any(r["baseline_estimated"] for r in rows)


def _num(text: str) -> float | None:
    return None if text == "" else float(text)


def test_csv_outputs_match_plan_json(suffolk_run):
    _, out = suffolk_run
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    partnerships = read_csv(out / "partnerships.csv")
    assert len(partnerships) == len(plan["partnerships"])
    by_id = {p["id"]: p for p in plan["partnerships"]}
    for row in partnerships:
        p = by_id[row["id"]]
        assert row["function"] == p["function"]
        assert row["members"].split() == p["members"]
        assert row["host"] == p["host"] and row["depth"] == p["depth"]
        assert row["platform"] == (p["platform"] or "")
        for key in ("annual_saving", "one_off_cost", "npv", "payback_years"):
            assert close(_num(row[key]), p[key]), key
    councils = read_csv(out / "councils.csv")
    assert len(councils) == len(plan["councils"])
    json_rows = {(r["code"], r["function"]): r for r in plan["councils"]}
    assert {(r["code"], r["function"]) for r in councils} == set(json_rows)
    for row in councils:
        r = json_rows[(row["code"], row["function"])]
        assert row["partnership"] == (r["partnership"] or "")
        assert close(float(row["baseline"]), r["baseline"])
        assert row["baseline_estimated"] in ("true", "false")
        assert (row["baseline_estimated"] == "true") == r["baseline_estimated"]
        assert close(float(row["npv_share"]), r["npv_share"])


def test_verify_accepts_the_plan(suffolk_run):
    _, out = suffolk_run
    result = cli("verify", "suffolk-2023", out / "plan.json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid" in result.stdout


def test_verify_rejects_a_tampered_npv(suffolk_run, tmp_path, capsys):
    _, out = suffolk_run
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    target = plan["partnerships"][-1]
    target["npv"] += 1000.0
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(plan), encoding="utf-8")
    code, stdout, stderr = run(capsys, "verify", SUFFOLK, tampered)
    assert code == 1
    assert f"'{target['id']}'" in stdout and "npv" in stdout
    assert "Traceback" not in stderr


def test_verify_rejects_a_plan_that_breaks_a_rule(suffolk_run, tmp_path, capsys):
    """A partnership with a member added that does not touch the rest is reported by id."""
    _, out = suffolk_run
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    target = next(p for p in plan["partnerships"] if p["function"] == "management-team" and len(p["members"]) == 2)
    target["members"] = sorted(set(target["members"]) | ({EAST_SUFFOLK, WEST_SUFFOLK} - set(target["members"])))
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(plan), encoding="utf-8")
    code, stdout, _ = run(capsys, "verify", SUFFOLK, broken)
    assert code == 1 and f"'{target['id']}'" in stdout


def test_quiet_prints_nothing(tmp_path):
    out = tmp_path / "out"
    result = cli("solve", "suffolk-2023", *FAST, "--quiet", "--out", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == ""
    assert (out / "plan.json").is_file()


def _stdout_of(script: str) -> str:
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


PULP_SOLVE = (
    "import pulp\n"
    "from optimiser.solve import mip\n"
    "problem = pulp.LpProblem('p', pulp.LpMaximize)\n"
    "x = pulp.LpVariable('x', 0, 1, cat='Integer')\n"
    "problem += x\n"
    "problem.solve(mip.solver('highs', None))\n"
)


@pytest.mark.parametrize("script", [
    "from optimiser.highs import new_highs\nnew_highs().run()\n" + PULP_SOLVE,  # ours first
    PULP_SOLVE + "from optimiser.highs import new_highs\nnew_highs().run()\n",  # PuLP's first
])
def test_solver_objects_print_nothing(script):
    """Library callers get a silent stdout from our HiGHS objects and from PuLP's (HiGHS 1.16
    prints a banner when its first solver object is made)."""
    if not _stdout_of("import highspy\nhighspy.Highs()\n"):
        pytest.skip("this HiGHS prints no banner, so there is nothing to silence")
    assert _stdout_of(script) == ""


def test_help():
    result = cli("--help")  # `python -m optimiser --help`, as a user types it
    assert result.returncode == 0 and result.stderr == ""
    for command in ("solve", "verify", "evaluate", "instances"):
        assert command in result.stdout


def test_solve_help_and_version(capsys):
    code, stdout, _ = run(capsys, "solve", "--help")
    assert code == 0
    for option in ("--model", "--area", "--functions", "--budget", "--exclude", "--apart", "--solver",
                   "--method", "--max-size", "--time-limit", "--jobs", "--out", "--quiet"):
        assert option in stdout
    code, stdout, _ = run(capsys, "--version")
    assert code == 0 and stdout.startswith("optimiser ")


def test_no_command_is_a_usage_error(capsys):
    code, _, stderr = run(capsys)
    assert code == 2
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr


def test_instances_lists_the_three(tmp_path):
    result = cli("instances", cwd=tmp_path)  # from anywhere: falls back to the package's instances
    assert result.returncode == 0, result.stderr
    counts = {}
    for line in result.stdout.splitlines():
        fields = line.split()
        counts[fields[0]] = int(fields[1])
        assert fields[2] == "councils"
    assert counts == {"england-2023": 317, "suffolk-2023": 6, "uk-2023": 382}


def test_solve_by_path_from_another_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plan = solve(capsys, tmp_path, SUFFOLK, *FAST)
    assert plan["solver"]["status"] == "optimal"


# ---------------------------------------------------------------- evaluate


def _groups(tmp_path: Path, *members: str, function: str = "revenues-benefits", name: str = "groups.csv") -> Path:
    path = tmp_path / name
    path.write_text("id,function,code\n" + "".join(f"G1,{function},{c}\n" for c in members), encoding="utf-8")
    return path


def test_evaluate_a_good_pair(tmp_path, capsys):
    groups = _groups(tmp_path, BABERGH, MID_SUFFOLK)
    out = tmp_path / "eval"
    code, stdout, stderr = run(capsys, "evaluate", SUFFOLK, groups, "--out", out)
    assert code == 0, stderr
    assert "    breaks" not in stdout and "1 of 1 groups keep every rule" in stdout and "break rules" not in stdout
    result = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    (group,) = result["groups"]
    assert group["members"] == [BABERGH, MID_SUFFOLK]
    assert group["breaks"] == [] and group["npv"] > 0
    assert group["host"] in (BABERGH, MID_SUFFOLK)
    rows = read_csv(out / "evaluation.csv")
    assert len(rows) == 1 and rows[0]["id"] == "G1" and rows[0]["breaks"] == ""


def test_evaluate_a_pair_that_does_not_touch(tmp_path, capsys):
    groups = _groups(tmp_path, EAST_SUFFOLK, WEST_SUFFOLK)
    out = tmp_path / "eval"
    code, stdout, stderr = run(capsys, "evaluate", SUFFOLK, groups, "--out", out)
    assert code == 1, stderr
    assert "contiguous" in stdout
    result = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    assert any(b.startswith("contiguous") for b in result["groups"][0]["breaks"])


def test_evaluate_a_tier_that_is_not_eligible(tmp_path, capsys):
    groups = _groups(tmp_path, SUFFOLK_CC, BABERGH)
    code, stdout, _ = run(capsys, "evaluate", SUFFOLK, groups)
    assert code == 1 and "tier" in stdout and SUFFOLK_CC in stdout


def test_evaluate_todays_partnerships_file(capsys):
    """The shipped partnerships.csv is itself a grouping file (extra columns host, locked)."""
    code, stdout, stderr = run(capsys, "evaluate", SUFFOLK, SUFFOLK / "partnerships.csv")
    assert code in (0, 1), stderr
    assert "8 groups" in stdout


# ---------------------------------------------------------------- run options


def test_area_by_name_and_by_code_agree(tmp_path, capsys):
    fns = ("--functions", "revenues-benefits,ict")
    by_name = solve(capsys, tmp_path, ENGLAND, "--area", "Suffolk", *fns, name="name")
    by_code = solve(capsys, tmp_path, ENGLAND, "--area", SUFFOLK_CC, *fns, name="code")
    slice_ = solve(capsys, tmp_path, SUFFOLK, *fns, name="slice")
    assert by_name["solver"]["status"] == by_code["solver"]["status"] == "optimal"
    assert close(by_name["solver"]["objective"], by_code["solver"]["objective"], 1e-9)
    # suffolk-2023 is the same rows, so the same plan value
    assert close(by_name["solver"]["objective"], slice_["solver"]["objective"], 1e-9)
    assert {r["code"] for r in by_name["councils"]} == DISTRICTS | {SUFFOLK_CC}


def test_exclude_removes_the_council_from_that_function(tmp_path, capsys):
    plan = solve(capsys, tmp_path, SUFFOLK, *FAST, "--exclude", f"{MID_SUFFOLK}:revenues-benefits")
    assert (MID_SUFFOLK, "revenues-benefits") not in {(r["code"], r["function"]) for r in plan["councils"]}
    assert (MID_SUFFOLK, "ict") in {(r["code"], r["function"]) for r in plan["councils"]}
    for p in plan["partnerships"]:
        if p["function"] == "revenues-benefits":
            assert MID_SUFFOLK not in p["members"]
    assert "E07000203:revenues-benefits" in plan["options"]["exclude"]


def test_apart_keeps_two_councils_out_of_a_shared_partnership(tmp_path, capsys):
    free = solve(capsys, tmp_path, SUFFOLK, *FAST, name="free")
    together = [p for p in free["partnerships"] if {BABERGH, MID_SUFFOLK} <= set(p["members"])]
    assert together, "the test needs a plan where they share"
    plan = solve(capsys, tmp_path, SUFFOLK, *FAST, "--apart", f"{BABERGH}:{MID_SUFFOLK}", name="apart")
    for p in plan["partnerships"]:
        assert not {BABERGH, MID_SUFFOLK} <= set(p["members"]), p
    assert plan["solver"]["objective"] <= free["solver"]["objective"] + 1.0


def test_budget_limits_the_one_off_cost(tmp_path, capsys):
    free = solve(capsys, tmp_path, SUFFOLK, *FAST, name="free")
    spent = free["totals"]["one_off_cost"]
    budget = round(spent / 2)
    plan = solve(capsys, tmp_path, SUFFOLK, *FAST, "--budget", budget, name="budget")
    assert plan["solver"]["status"] == "optimal"
    assert sum(p["one_off_cost"] for p in plan["partnerships"]) <= budget + 1e-6
    assert plan["totals"]["one_off_cost"] <= budget + 1e-6
    assert 0 < plan["solver"]["objective"] <= free["solver"]["objective"]
    nothing = solve(capsys, tmp_path, SUFFOLK, *FAST, "--budget", 0, name="zero")
    assert nothing["partnerships"] == [] and nothing["solver"]["objective"] == 0


def test_locked_partnership_is_kept_and_infeasible_budget_exits_1(tmp_path, capsys):
    inst = tmp_path / "inst"
    shutil.copytree(SUFFOLK, inst)
    (inst / "partnerships.csv").write_text(
        "id,function,code,host,locked\n"
        f"L,revenues-benefits,{BABERGH},true,true\nL,revenues-benefits,{IPSWICH},false,true\n",
        encoding="utf-8",
    )
    plan = solve(capsys, tmp_path, inst, "--functions", "revenues-benefits", name="locked")
    rb = [p for p in plan["partnerships"] if p["function"] == "revenues-benefits"]
    assert [sorted(p["members"]) for p in rb].count([BABERGH, IPSWICH]) == 1
    code, _, stderr = run(capsys, "solve", inst, "--functions", "revenues-benefits", "--budget", 0, "--quiet")
    assert code == 1 and "Traceback" not in stderr and stderr.strip()


def test_max_size(tmp_path, capsys):
    plan = solve(capsys, tmp_path, SUFFOLK, *FAST, "--max-size", 2)
    assert plan["partnerships"] and all(len(p["members"]) <= 2 for p in plan["partnerships"])


def test_cbc_agrees_with_highs(tmp_path, capsys):
    highs = solve(capsys, tmp_path, SUFFOLK, "--solver", "highs", name="highs")
    cbc = solve(capsys, tmp_path, SUFFOLK, "--solver", "cbc", name="cbc")
    assert cbc["solver"]["name"] == "cbc" and cbc["solver"]["status"] == "optimal"
    assert close(cbc["solver"]["objective"], highs["solver"]["objective"], 1e-6)


def test_naive_agrees_with_exact(tmp_path, capsys):
    exact = solve(capsys, tmp_path, SUFFOLK, "--method", "exact", name="exact")
    naive = solve(capsys, tmp_path, SUFFOLK, "--method", "naive", name="naive")
    assert naive["solver"]["status"] == "optimal"
    assert close(naive["solver"]["objective"], exact["solver"]["objective"], 1e-6)


def test_other_model_by_name(tmp_path, capsys):
    central = solve(capsys, tmp_path, SUFFOLK, *FAST, name="central")
    sceptical = solve(capsys, tmp_path, SUFFOLK, *FAST, "--model", "uk-central-sceptical", name="sceptical")
    assert sceptical["model"] == "uk-central-sceptical"
    assert sceptical["solver"]["objective"] < central["solver"]["objective"]


def test_time_limit_accepted(tmp_path, capsys):
    plan = solve(capsys, tmp_path, SUFFOLK, *FAST, "--time-limit", 60)
    assert plan["solver"]["status"] == "optimal"
    assert plan["options"]["time_limit"] == 60


def test_internal_error_exits_3_in_one_line(capsys, monkeypatch):
    """A bug (not bad input) exits 3 with one line; the traceback only with --verbose."""
    import optimiser.api

    def broken(*args, **kwargs):
        raise RuntimeError("simulated\nfailure")

    monkeypatch.setattr(optimiser.api, "solve", broken)
    code, stdout, stderr = run(capsys, "solve", SUFFOLK, *FAST, "--quiet")
    assert code == 3
    assert len(stderr.strip().splitlines()) == 1 and "internal error" in stderr and "simulated failure" in stderr
    assert "Traceback" not in stderr
    code, stdout, stderr = run(capsys, "-v", "solve", SUFFOLK, *FAST, "--quiet")
    assert code == 3 and "Traceback" in stderr
