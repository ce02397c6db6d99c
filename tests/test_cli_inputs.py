"""Inputs as planners and scripts write them (issue 16): councils and areas by code or name,
lists that do not split names, wildcards, numbers as people write them, outputs checked
before any work, ASCII-only terminals, the listing commands, help, and the API taking
strings and lists. Every bad input is exit status 2 with one line naming the option.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

import optimiser
from cli_run import run
from optimiser import InputError
from optimiser.io import values
from optimiser.io.instance import load_instance
from optimiser.io.names import canonical_area, places_of, resolve_area, split_names
from optimiser.io.model import load_model
from optimiser.problem import RunOptions, prepare

ROOT = Path(__file__).resolve().parent.parent
SUFFOLK = ROOT / "instances" / "suffolk-2023"
BABERGH, IPSWICH, MID_SUFFOLK, EAST_SUFFOLK, WEST_SUFFOLK, SUFFOLK_CC = (
    "E07000200", "E07000202", "E07000203", "E07000244", "E07000245", "E10000029",
)
FAST = ("--functions", "revenues-benefits,ict")


@pytest.fixture(scope="module")
def england():
    return load_instance(ROOT / "instances" / "england-2023")


@pytest.fixture(scope="module")
def uk():
    return load_instance(ROOT / "instances" / "uk-2023")


@pytest.fixture(scope="module")
def model():
    return load_model("uk-central")




def bad(capsys, *argv, option: str, value: str | None = None) -> str:
    """Exit 2, one line on stderr naming ``option`` (and the value), no traceback."""
    code, _, stderr = run(capsys, *argv)
    message = stderr.strip()
    assert code == 2, stderr
    assert "Traceback" not in stderr and message and "\n" not in message, stderr
    assert f"{option}:" in message, message
    if value is not None:
        assert value in message, message
    return message


def subprocess_cli(*argv, env: dict | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    full = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run([sys.executable, "-m", "optimiser", *map(str, argv)], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=300, encoding="ascii", errors="strict")


# ---------------------------------------------------------------- 1. councils by code or name


@pytest.mark.parametrize("name, code", [
    ("Herefordshire", "E06000019"), ("Durham", "E06000047"), ("Hull", "E06000010"),
    ("Bournemouth, Christchurch and Poole", "E06000058"), ("Bristol, City of", "E06000023"),
    ("bristol", "E06000023"), ("City of Bristol", "E06000023"), ("Kingston upon Hull", "E06000010"),
    ("e07000200", BABERGH), ("MID SUFFOLK", MID_SUFFOLK), ("Mid  Suffolk", MID_SUFFOLK),
])
@pytest.mark.parametrize("which", ["england", "uk"])
def test_council_names_people_use_resolve(request, which, name, code):
    instance = request.getfixturevalue(which)
    assert places_of(instance).council(name, "--exclude") == code
    assert canonical_area(instance, (name,)) == (code,)


@pytest.mark.parametrize("name, code", [("Caerdydd", "W06000015"), ("Cardiff", "W06000015"), ("Edinburgh", "S12000036"),
                                         ("Glasgow", "S12000049"), ("Ynys Môn", "W06000001")])
def test_other_nations_names_resolve_on_uk(uk, name, code):
    assert places_of(uk).council(name, "--exclude") == code


@pytest.mark.parametrize("area, count, code", [
    ("Greater Manchester", 10, "E47000001"), ("Greater Manchester Combined Authority", 10, "E47000001"),
    ("Tyne and Wear", 5, "E11000007"), ("Merseyside", 5, "E11000002"), ("Liverpool City Region", 6, "E47000004"),
    ("West Midlands Combined Authority", 7, "E47000007"), ("West Midlands (Met County)", 7, "E11000005"),
    ("North East Combined Authority", 7, "E47000014"), ("Greater London", 33, "E61000001"),
    # a combined authority of two-tier areas includes the county councils
    ("East Midlands Combined County Authority", 19, "E47000013"), ("Cambridgeshire and Peterborough", 7, "E47000008"),
    ("e47000001", 10, "E47000001"),
])
def test_combined_authorities_and_metropolitan_counties(england, area, count, code):
    assert resolve_area(england, (area,)).sum() == count
    assert canonical_area(england, (area,)) == (code,)


def test_cambridgeshire_combined_authority_includes_the_county_council(england):
    keep = resolve_area(england, ("Cambridgeshire and Peterborough",))
    kept = set(england.councils["code"][keep])
    assert "E10000003" in kept and "E06000031" in kept  # Cambridgeshire CC, Peterborough


def test_a_shared_name_means_the_region_and_warns(england, caplog):
    with caplog.at_level(logging.WARNING, logger="optimiser"):
        assert canonical_area(england, ("West Midlands",)) == ("E12000005",)
    assert "West Midlands Combined Authority" in caplog.text and "E47000007" in caplog.text


def test_list_separators_keep_names_whole(england):
    assert split_names("Norfolk; Suffolk") == ["Norfolk", "Suffolk"]
    assert split_names('"Bristol, City of",Suffolk') == ["Bristol, City of", "Suffolk"]
    assert canonical_area(england, ("Bournemouth, Christchurch and Poole,Dorset",)) == ("E06000058", "E06000059")
    assert canonical_area(england, ("Bristol, City of,Bath and North East Somerset",)) == ("E06000023", "E06000022")
    assert canonical_area(england, ("Norfolk,Suffolk",)) == ("E10000020", SUFFOLK_CC)
    assert canonical_area(england, ("Bristol, City of; Suffolk",)) == ("E06000023", SUFFOLK_CC)


def test_area_in_another_shipped_instance_says_so(capsys):
    message = bad(capsys, "solve", "england-2023", "--area", "Wales", option="--area", value="Wales")
    assert "uk-2023" in message and "unknown area" in message
    message = bad(capsys, "solve", "england-2023", "--exclude", "Cardiff:ict", option="--exclude", value="Cardiff")
    assert "uk-2023" in message


def test_an_abolished_council_points_to_its_successor(capsys):
    message = bad(capsys, "solve", "england-2023", "--area", "Allerdale", option="--area", value="Allerdale")
    assert "Cumberland" in message and "E06000063" in message


def test_an_area_is_not_a_council(capsys):
    message = bad(capsys, "solve", SUFFOLK, "--exclude", "East of England:ict", option="--exclude")
    assert "region" in message and "not a council" in message


def test_apart_by_name_same_council_twice(capsys):
    message = bad(capsys, "solve", SUFFOLK, "--apart", "Babergh:e07000200", option="--apart")
    assert "same council twice" in message


# ---------------------------------------------------------------- 2. wildcards and warnings


def test_wildcards_expand_to_explicit_pairs(model, caplog):
    instance = load_instance(SUFFOLK)
    options = RunOptions.create(functions="ict;revenues-benefits;legal", exclude=["babergh:*", "Ipswich:ICT,Legal"],
                                withdraw="West Suffolk", apart="Babergh:Mid Suffolk")
    problem = prepare(instance, model, options)
    recorded = problem.options.to_dict()
    assert recorded["exclude"] == [f"{BABERGH}:ict", f"{BABERGH}:revenues-benefits", f"{BABERGH}:legal",
                                   f"{IPSWICH}:ict", f"{IPSWICH}:legal",
                                   f"{WEST_SUFFOLK}:ict", f"{WEST_SUFFOLK}:revenues-benefits", f"{WEST_SUFFOLK}:legal"]
    assert recorded["apart"] == [f"{BABERGH}:{MID_SUFFOLK}"]
    assert recorded["functions"] == ["ict", "revenues-benefits", "legal"]
    # the county does not take part in revenues and benefits: the wildcard leaves it out silently
    county = RunOptions.create(functions="revenues-benefits,ict", withdraw="Suffolk")
    with caplog.at_level(logging.WARNING, logger="optimiser"):
        assert prepare(instance, model, county).options.exclude == ((SUFFOLK_CC, "ict"),)
    assert not caplog.records
    # resolved options are a fixed point (the verifier and a second prepare read the same)
    again = prepare(instance, model, problem.options)
    assert again.options == problem.options
    assert RunOptions.from_dict(recorded).to_dict() == recorded


def test_exclusions_that_change_nothing_warn(england, model, caplog):
    options = RunOptions.create(area="Suffolk", functions="revenues-benefits,ict",
                                exclude=["Norwich:ict", "Suffolk:revenues-benefits", "Babergh:legal"], apart="Norwich:Babergh")
    with caplog.at_level(logging.WARNING, logger="optimiser"):
        prepare(england, model, options)
    text = caplog.text
    assert "Norwich (E07000148) is outside the area" in text
    assert "Suffolk (E10000029) is a county council and 'revenues-benefits'" in text
    assert "'legal' is not one of the run's functions" in text
    assert "--apart: Norwich (E07000148) is outside the area" in text


def test_cli_prints_warnings_unless_quiet(tmp_path, capsys):
    argv = ("solve", SUFFOLK, "--functions", "ict", "--exclude", "Suffolk:revenues-benefits")
    code, _, stderr = run(capsys, *argv, "--out", tmp_path / "a")
    assert code == 0
    assert stderr.startswith("optimiser: warning: --exclude:") and "revenues-benefits" in stderr
    code, stdout, stderr = run(capsys, *argv, "--quiet", "--out", tmp_path / "b")
    assert code == 0 and stdout == "" and stderr == ""


def test_withdraw_and_names_on_the_command_line_record_codes(tmp_path, capsys):
    out = tmp_path / "out"
    code, _, stderr = run(capsys, "solve", SUFFOLK, *FAST, "--withdraw", "mid suffolk", "--exclude", "Ipswich:ict",
                          "--apart", "Babergh:West Suffolk", "--budget", "£5m", "--quiet", "--out", out)
    assert code == 0, stderr
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    options = plan["options"]
    assert options["exclude"] == [f"{IPSWICH}:ict", f"{MID_SUFFOLK}:revenues-benefits", f"{MID_SUFFOLK}:ict"]
    assert options["apart"] == [f"{BABERGH}:{WEST_SUFFOLK}"] and options["budget"] == 5e6
    assert all(MID_SUFFOLK not in p["members"] for p in plan["partnerships"])
    assert optimiser.verify(SUFFOLK, plan).ok  # the verifier reads the resolved options unchanged


# ---------------------------------------------------------------- 3. numbers as people write them


@pytest.mark.parametrize("text, pounds", [
    ("5m", 5e6), ("£5m", 5e6), ("5,000,000", 5e6), ("750k", 7.5e5), ("1.5bn", 1.5e9), ("£2.5 million", 2.5e6),
    ("5M", 5e6), ("GBP 5m", 5e6), ("1e6", 1e6), ("0", 0.0), ("12345.5", 12345.5), (5000000, 5e6),
])
def test_amounts(text, pounds):
    assert values.amount(text, "--budget") == pounds


@pytest.mark.parametrize("text, seconds", [("60", 60.0), ("90s", 90.0), ("10m", 600.0), ("1h", 3600.0), ("1.5 hours", 5400.0), (30, 30.0)])
def test_durations(text, seconds):
    assert values.duration(text, "--time-limit") == seconds


@pytest.mark.parametrize("option, value, says", [
    ("--budget", "lots", "is not an amount of money"), ("--budget", "5,00", "is not an amount of money"),
    ("--budget", "-1", "must be an amount of 0 or more"), ("--budget", "nan", "is not an amount of money"),
    ("--time-limit", "soon", "is not a time"), ("--time-limit", "0", "must be more than 0 seconds"),
    ("--time-limit", "-3", "must be more than 0 seconds"), ("--max-size", "two", "is not a group size"),
    ("--max-size", "1", "must be at least 2"), ("--jobs", "0", "must be at least 1"), ("--jobs", "many", "is not a number of processes"),
    ("--solver", "gurobi", "is not a solver"), ("--method", "clever", "is not a method"), ("--top", "x", "is not a whole number"),
])
def test_one_style_of_validation_message(capsys, tmp_path, option, value, says):
    message = bad(capsys, "solve", SUFFOLK, f"{option}={value}", "--out", tmp_path / "out", option=option)
    assert message == f"optimiser: {option}: '{value}' {says}" or message.startswith(f"optimiser: {option}: '{value}' {says} (")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("option", ["--area", "--functions", "--withdraw"])
def test_an_empty_list_is_bad_input(capsys, option):
    bad(capsys, "solve", SUFFOLK, option, " ; ", option=option, value="empty")


def test_a_budget_as_people_write_it_solves(tmp_path, capsys):
    out = tmp_path / "out"
    code, _, stderr = run(capsys, "solve", SUFFOLK, *FAST, "--budget", "750k", "--quiet", "--out", out)
    assert code == 0, stderr
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert plan["options"]["budget"] == 750000.0 and plan["totals"]["one_off_cost"] <= 750000.0 + 1e-6


# ---------------------------------------------------------------- 4. outputs checked first


@pytest.fixture
def no_solving(monkeypatch):
    import optimiser.api

    def forbidden(*args, **kwargs):
        raise AssertionError("solved before --out was checked")

    monkeypatch.setattr(optimiser.api, "solve", forbidden)


def test_out_that_cannot_be_written_is_found_before_any_work(tmp_path, capsys, no_solving):
    if os.geteuid() == 0:  # root writes anywhere on a normal filesystem: /sys refuses even root
        target = Path("/sys/optimiser-test-out")
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        target = locked / "out"
    message = bad(capsys, "solve", SUFFOLK, "--out", target, option="--out", value=str(target))
    assert "cannot be written" in message
    assert not target.exists()


def test_out_below_a_file(tmp_path, capsys, no_solving):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    message = bad(capsys, "solve", SUFFOLK, "--out", tmp_path / "file" / "out", option="--out")
    assert "is not a folder" in message


def test_an_existing_plan_is_kept_without_force(tmp_path, capsys):
    out = tmp_path / "out"
    code, _, stderr = run(capsys, "solve", SUFFOLK, "--functions", "ict", "--quiet", "--out", out)
    assert code == 0, stderr
    before = (out / "plan.json").read_text(encoding="utf-8")
    message = bad(capsys, "solve", SUFFOLK, "--functions", "legal", "--quiet", "--out", out, option="--out")
    assert "plan.json" in message and "--force" in message
    assert (out / "plan.json").read_text(encoding="utf-8") == before
    code, _, stderr = run(capsys, "solve", SUFFOLK, "--functions", "legal", "--quiet", "--out", out, "--force")
    assert code == 0, stderr
    assert json.loads((out / "plan.json").read_text(encoding="utf-8"))["options"]["functions"] == ["legal"]


def test_evaluate_out_is_checked_too(tmp_path, capsys):
    out = tmp_path / "eval"
    out.mkdir()
    (out / "evaluation.json").write_text("{}", encoding="utf-8")
    bad(capsys, "evaluate", SUFFOLK, SUFFOLK / "partnerships.csv", "--out", out, option="--out")
    assert (out / "evaluation.json").read_text(encoding="utf-8") == "{}"


def test_ascii_terminal_gets_plain_text(tmp_path):
    out = tmp_path / "out"
    result = subprocess_cli("solve", "suffolk-2023", *FAST, "--budget", "£5m", "--out", out, env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    assert "GBP" in result.stdout and "verified" in result.stdout
    assert (out / "plan.json").is_file()
    helped = subprocess_cli("solve", "--help", env={"PYTHONIOENCODING": "ascii"})
    assert helped.returncode == 0 and "GBP 750k" in helped.stdout
    failed = subprocess_cli("solve", "suffolk-2023", "--budget", "lots", env={"PYTHONIOENCODING": "ascii"})
    assert failed.returncode == 2 and len(failed.stderr.strip().splitlines()) == 1 and "GBP 1.5bn" in failed.stderr


# ---------------------------------------------------------------- 5. discoverability


def test_functions_command(capsys):
    code, stdout, _ = run(capsys, "functions")
    assert code == 0 and "model uk-central" in stdout and "revenues-benefits" in stdout and "Revenues and benefits" in stdout
    code, stdout, _ = run(capsys, "functions", "suffolk-2023")
    assert code == 0 and "councils" in stdout.splitlines()[2]
    line = next(l for l in stdout.splitlines() if l.split()[:1] == ["revenues-benefits"])
    assert line.split()[-1] == "5"  # the five districts


def test_councils_command(capsys):
    code, stdout, _ = run(capsys, "councils", "england-2023", "--area", "Suffolk")
    assert code == 0
    assert "6 councils" in stdout and "Mid Suffolk" in stdout and MID_SUFFOLK in stdout and "East of England" in stdout
    code, stdout, _ = run(capsys, "councils", "england-2023", "--area", "Greater Manchester; Suffolk")
    assert code == 0 and "16 councils" in stdout
    bad(capsys, "councils", "england-2023", "--area", "Narnia", option="--area", value="Narnia")


def test_areas_command(capsys):
    code, stdout, _ = run(capsys, "areas", "england-2023")
    assert code == 0
    for text in ("East of England", "E12000006", "Greater Manchester Combined Authority", "Tyne and Wear (Met County)",
                 "Greater London", "Suffolk", "E10000029"):
        assert text in stdout
    code, stdout, _ = run(capsys, "areas", "uk-2023")
    assert code == 0 and "Wales" in stdout and "Northern Ireland" in stdout


@pytest.mark.parametrize("command", ["solve", "verify", "evaluate", "instances", "functions", "councils", "areas"])
def test_every_help_has_examples_and_exit_codes(capsys, command):
    code, stdout, _ = run(capsys, command, "--help")
    assert code == 0 and "examples:" in stdout and "exit status:" in stdout and f"optimiser {command}" in stdout
    code, stdout, _ = run(capsys, "--help")
    assert code == 0 and "exit status:" in stdout and command in stdout


def test_verbose_after_the_command(capsys, tmp_path):
    code, _, stderr = run(capsys, "solve", SUFFOLK, "--functions", "ict", "--quiet", "-v", "--out", tmp_path / "o")
    assert code == 0 and "INFO" in stderr
    code, _, _ = run(capsys, "instances", "--verbose")
    assert code == 0


def test_evaluate_does_not_offer_solver_options(capsys):
    code, stdout, _ = run(capsys, "evaluate", "--help")
    assert code == 0
    for option in ("--method", "--jobs", "--time-limit", "--solver"):
        assert option not in stdout
    for option in ("--method", "--jobs", "--time-limit"):
        message = bad(capsys, "evaluate", SUFFOLK, SUFFOLK / "partnerships.csv", option, "1", option=option)
        assert "not an option of evaluate" in message


def test_unknown_option_suggests(capsys):
    message = bad(capsys, "solve", SUFFOLK, "--budjet", "5", option="--budjet")
    assert "did you mean --budget" in message


def test_groups_file_by_name(tmp_path, capsys):
    groups = tmp_path / "groups.csv"
    groups.write_text("id,function,code\nG1,Revenues and benefits,babergh\nG1,revenues-benefits,Mid Suffolk\n", encoding="utf-8")
    out = tmp_path / "eval"
    code, stdout, stderr = run(capsys, "evaluate", SUFFOLK, groups, "--out", out)
    assert code == 0, stderr
    assert json.loads((out / "evaluation.json").read_text(encoding="utf-8"))["groups"][0]["members"] == [BABERGH, MID_SUFFOLK]
    groups.write_text("id,function,code\nG1,ict,Babergh\nG1,ict,Norwich\n", encoding="utf-8")
    code, _, stderr = run(capsys, "evaluate", SUFFOLK, groups)
    assert code == 2 and "line 3" in stderr and "'code'" in stderr and "Norwich" in stderr and "england-2023" in stderr


# ---------------------------------------------------------------- 6. the API takes what people pass


def test_api_takes_strings_and_lists():
    plan = optimiser.solve("england-2023", area="Suffolk", functions="ict", exclude="Babergh:*", budget="5m")
    assert plan.options.area == (SUFFOLK_CC,) and plan.options.exclude == ((BABERGH, "ict"),)
    same = optimiser.solve("england-2023", area=["suffolk"], functions=["ICT"], exclude=[(BABERGH, "ict")], budget=5e6)
    assert same.objective == pytest.approx(plan.objective)
    assert optimiser.solve(SUFFOLK, functions="ict", exclude=("Babergh", "ict")).options.exclude == ((BABERGH, "ict"),)


@pytest.mark.parametrize("keywords, argument", [
    ({"area": 5}, "--area"), ({"area": "Narnia"}, "--area"), ({"budget": "lots"}, "--budget"), ({"aera": "Suffolk"}, "aera"),
    ({"exclude": 5}, "--exclude"), ({"exclude": "Babergh"}, "--exclude"), ({"functions": [1]}, "--functions"),
    ({"jobs": "x"}, "--jobs"), ({"max_size": 2.5}, "--max-size"), ({"withdraw": "Narnia"}, "--exclude/--withdraw"),
])
def test_api_errors_are_input_errors_naming_the_argument(keywords, argument):
    with pytest.raises(InputError) as caught:
        optimiser.solve(SUFFOLK, **keywords)
    assert caught.value.source == argument


def test_run_options_stay_frozen_and_plain():
    options = RunOptions(area="Suffolk", functions="ict,legal", exclude="Babergh:ict", budget="750k", time_limit="2m")
    assert options.area == ("Suffolk",) and options.functions == ("ict", "legal")
    assert options.exclude == (("Babergh", "ict"),) and options.budget == 750000.0 and options.time_limit == 120.0
    with pytest.raises(Exception):
        options.budget = 1.0  # frozen


# ---------------------------------------------------------------- the derived place tables


def test_place_tables_rebuild_from_the_raw_data():
    raw = ROOT.parent / "shared" / "data" / "raw"
    if not raw.is_dir():
        pytest.skip(f"raw data not found at {raw}")
    pytest.importorskip("shapely")
    result = subprocess.run([sys.executable, str(ROOT / "instances" / "build_places.py"), "--raw", str(raw), "--check"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("value", ["fair", "Shapley ", "core", ""])
def test_a_share_rule_that_does_not_exist_is_bad_input(capsys, tmp_path, value):
    code, _, stderr = run(capsys, "solve", SUFFOLK, "--shares", value, "--out", tmp_path / "out")
    assert code == 2
    assert stderr.strip() == f"optimiser: --shares: unknown share rule '{value}' (choose proportional, shapley or nucleolus)"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("rule", ["proportional", "shapley", "nucleolus"])
def test_every_share_rule_solves_and_writes_its_transfers(capsys, tmp_path, rule):
    out = tmp_path / "out"
    code, stdout, _ = run(capsys, "solve", SUFFOLK, *FAST, "--shares", rule, "--out", out)
    assert code == 0 and f"shares follow the {rule} rule" in stdout
    plan = json.loads((out / "plan.json").read_text())
    assert plan["options"]["shares"] == rule and plan["stability"]
    assert all(set(p["shares"]) == {"proportional", "shapley", "nucleolus"} for p in plan["partnerships"])
    for row in plan["councils"]:
        if row["partnership"]:
            (p,) = [p for p in plan["partnerships"] if p["id"] == row["partnership"]]
            assert row["npv_share"] == pytest.approx(p["shares"][rule][row["code"]], abs=1e-6)
            assert row["transfer"] == pytest.approx(row["npv_share"] - p["shares"]["proportional"][row["code"]], abs=1e-6)
    header = (out / "councils.csv").read_text().splitlines()[0]
    assert header.endswith(",transfer")


@pytest.mark.parametrize("argv, option, says", [
    # a value starting with '-' is the option's value, judged like any other
    (["--loan", "-0.01:10"], "--loan", "RATE '-0.01' is negative"),
    (["--budget", "-5"], "--budget", "must be an amount of 0 or more"),
    (["--time-limit", "-3"], "--time-limit", "must be more than 0 seconds"),
    (["--robust=yes"], "--robust", "takes no value (found 'yes')"),
])
def test_negative_values_and_flags_given_a_value(capsys, tmp_path, argv, option, says):
    message = bad(capsys, "solve", SUFFOLK, *argv, "--out", tmp_path / "out", option=option)
    assert says in message
    assert not (tmp_path / "out").exists()
