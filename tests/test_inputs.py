"""Bad input through the command line (SPEC §4).

Every problem with an instance, a model or the run's options must end the command with
exit status 2 and one plain line on stderr that names the file (or option), the line,
column or key, and what is wrong: never a traceback, and nothing written into --out.

Each test copies the small shipped instance ``suffolk-2023`` into tmp_path, breaks one
thing, and runs ``optimiser solve`` on it in-process (``optimiser.cli.main``); a few run
``python -m optimiser`` in a subprocess, to see exactly what a user sees.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cli_run import run

ROOT = Path(__file__).resolve().parent.parent
SUFFOLK = ROOT / "instances" / "suffolk-2023"
MODEL = ROOT / "models" / "uk-central.toml"

# Suffolk's councils: the county and its five districts.
BABERGH, IPSWICH, MID_SUFFOLK, EAST_SUFFOLK, WEST_SUFFOLK, SUFFOLK_CC = (
    "E07000200", "E07000202", "E07000203", "E07000244", "E07000245", "E10000029",
)
# Functions small enough to keep a solve quick.
FAST = ["--functions", "revenues-benefits,ict"]


# ---------------------------------------------------------------- helpers


@pytest.fixture
def inst(tmp_path) -> Path:
    """A private copy of suffolk-2023 to break."""
    folder = tmp_path / "inst"
    shutil.copytree(SUFFOLK, folder)
    return folder


@pytest.fixture
def out(tmp_path) -> Path:
    return tmp_path / "out"




def bad(capsys, out: Path, *argv, names: tuple[str, ...] = ()) -> str:
    """Runs ``solve`` with --out, checks the bad-input contract and returns the message.

    ``names``: fragments the message must contain (the file, the line or key, the problem).
    """
    code, stdout, stderr = run(capsys, "solve", *argv, "--out", out)
    message = stderr.strip()
    assert code == 2, f"exit {code}, stderr: {stderr!r}"
    assert "Traceback" not in stderr, stderr
    assert message, "no message on stderr"
    assert "\n" not in message, f"message is not one line: {stderr!r}"
    for fragment in names:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert not out.exists(), "something was written into --out"
    return message


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def model_copy(tmp_path: Path) -> Path:
    path = tmp_path / "model.toml"
    shutil.copy(MODEL, path)
    return path


def add_table(inst: Path, key: str, filename: str, text: str) -> None:
    """Writes a table and names it in instance.toml [tables]."""
    (inst / filename).write_text(text, encoding="utf-8")
    toml = inst / "instance.toml"
    lines = toml.read_text(encoding="utf-8").splitlines()
    lines = [line for line in lines if not line.startswith(f"{key} =")]
    at = lines.index("[tables]") + 1
    lines.insert(at, f'{key} = "{filename}"')
    toml.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_the_copy_is_valid(inst, out, capsys):
    """The unbroken copy solves: every failure below comes from the one thing broken."""
    code, stdout, stderr = run(capsys, "solve", inst, *FAST, "--quiet", "--out", out)
    assert code == 0, stderr
    assert (out / "plan.json").is_file()


# ---------------------------------------------------------------- files and folders


def test_missing_instance_folder(tmp_path, out, capsys):
    bad(capsys, out, tmp_path / "no-such-instance", names=("no-such-instance", "not found"))


def test_unknown_instance_name_suggests_shipped(out, capsys):
    message = bad(capsys, out, "suffolk-2024", names=("suffolk-2024", "not found"))
    assert "suffolk-2023" in message


def test_missing_instance_toml(inst, out, capsys):
    (inst / "instance.toml").unlink()
    bad(capsys, out, inst, names=("instance.toml", "not found"))


def test_missing_councils_csv(inst, out, capsys):
    (inst / "councils.csv").unlink()
    bad(capsys, out, inst, names=("councils.csv", "not found"))


def test_missing_adjacency_key(inst, out, capsys):
    edit(inst / "instance.toml", 'adjacency = "adjacency.csv"\n', "")
    bad(capsys, out, inst, names=("instance.toml", "tables.adjacency", "missing"))


def test_missing_optional_table_named_in_toml(inst, out, capsys):
    (inst / "spend.csv").unlink()
    bad(capsys, out, inst, names=("spend.csv", "not found"))


def test_missing_column(inst, out, capsys):
    path = inst / "councils.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    # drop the population column (the 7th) from every row
    path.write_text("\n".join(",".join(l.split(",")[:6] + l.split(",")[7:]) for l in lines) + "\n", encoding="utf-8")
    bad(capsys, out, inst, names=("councils.csv", "header", "population"))


def test_unknown_column(inst, out, capsys):
    (inst / "spend.csv").write_text("code,function,baseline,notes\nE07000200,ict,1,\n", encoding="utf-8")
    bad(capsys, out, inst, names=("spend.csv", "header", "notes"))


@pytest.mark.parametrize("table", ["councils.csv", "adjacency.csv", "spend.csv", "partnerships.csv"])
def test_empty_file(inst, out, capsys, table):
    (inst / table).write_text("", encoding="utf-8")
    bad(capsys, out, inst, names=(table, "empty"))


def test_empty_instance_toml(inst, out, capsys):
    (inst / "instance.toml").write_text("\n", encoding="utf-8")
    bad(capsys, out, inst, names=("instance.toml", "empty"))


def test_header_only_councils(inst, out, capsys):
    path = inst / "councils.csv"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    bad(capsys, out, inst, names=("councils.csv", "no councils"))


@pytest.mark.parametrize("table", ["councils.csv", "spend.csv", "instance.toml"])
def test_not_utf8(inst, out, capsys, table):
    (inst / table).write_bytes(b"\xff\xfec\x00o\x00d\x00e\x00")
    bad(capsys, out, inst, names=(table, "UTF-8"))


def test_latin1_name(inst, out, capsys):
    """A Latin-1 file (the usual accident with spreadsheets) names the byte."""
    path = inst / "councils.csv"
    path.write_bytes(path.read_bytes().replace(b"Babergh", b"Babergh \xe9"))
    bad(capsys, out, inst, names=("councils.csv", "UTF-8", "line 2"))


def test_malformed_toml(inst, out, capsys):
    edit(inst / "instance.toml", 'model = "uk-central"', 'model = "uk-central')
    bad(capsys, out, inst, names=("instance.toml", "malformed TOML", "line 3"))


def test_unknown_key_in_instance_toml(inst, out, capsys):
    edit(inst / "instance.toml", 'model = "uk-central"', 'model = "uk-central"\nmodle = "x"')
    bad(capsys, out, inst, names=("instance.toml", "modle", "unknown key"))


def test_unknown_table_key_in_instance_toml(inst, out, capsys):
    edit(inst / "instance.toml", 'spend = "spend.csv"', 'spending = "spend.csv"')
    bad(capsys, out, inst, names=("instance.toml", "tables.spending", "unknown key"))


def test_wrong_type_in_instance_toml(inst, out, capsys):
    edit(inst / "instance.toml", 'name = "suffolk-2023"', "name = 5")
    bad(capsys, out, inst, names=("instance.toml", "name", "text"))


def test_unterminated_quote(inst, out, capsys):
    path = inst / "councils.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("Ipswich", '"Ipswich'), encoding="utf-8")
    bad(capsys, out, inst, names=("councils.csv", "line 3", "malformed CSV"))


def test_stray_quote(inst, out, capsys):
    path = inst / "adjacency.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("E07000200,E07000202", 'E07000200,"E07000202"x', 1), encoding="utf-8")
    bad(capsys, out, inst, names=("adjacency.csv", "line 2", "malformed CSV"))


def test_wrong_field_count(inst, out, capsys):
    edit(inst / "adjacency.csv", "E07000202,E07000203,5.888", "E07000202,E07000203,5.888,1")
    bad(capsys, out, inst, names=("adjacency.csv", "line 7", "fields"))


def test_duplicate_column(inst, out, capsys):
    edit(inst / "spend.csv", "code,function,baseline", "code,function,code")
    bad(capsys, out, inst, names=("spend.csv", "header", "code"))


# ---------------------------------------------------------------- councils.csv values


def test_duplicate_council_code(inst, out, capsys):
    edit(inst / "councils.csv", "E07000202,Ipswich", "E07000200,Ipswich")
    bad(capsys, out, inst, names=("councils.csv", "line 3", "code", "E07000200", "line 2"))


@pytest.mark.parametrize(
    "old, new, column, line",
    [
        ("139378", "abc", "population", 3),
        ("139378", "0", "population", 3),
        ("139378", "-5", "population", 3),
        ("139378", "1393.5", "population", 3),
        ("139378", "", "population", 3),
        ("52.05402", "x", "lat", 3),
        ("52.05402", "95", "lat", 3),
        ("1.15968", "nan", "lon", 3),
        ("1.15968", "inf", "lon", 3),
    ],
)
def test_council_value_wrong(inst, out, capsys, old, new, column, line):
    edit(inst / "councils.csv", old, new)
    bad(capsys, out, inst, names=("councils.csv", f"line {line}", f"'{column}'"))


@pytest.mark.parametrize(
    "column, value",
    [
        ("commitment", "1.5"),
        ("commitment", "-0.1"),
        ("commitment", "high"),
        ("max_partnerships", "-1"),
        ("max_partnerships", "2.5"),
        ("max_hosted", "-1"),
        ("max_hosted", "one"),
    ],
)
def test_council_optional_value_wrong(inst, out, capsys, column, value):
    path = inst / "councils.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    fields = lines[4].split(",")  # Mid Suffolk, line 5
    fields[header.index(column)] = value
    lines[4] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bad(capsys, out, inst, names=("councils.csv", "line 5", f"'{column}'", value))


def test_unknown_nation(inst, out, capsys):
    edit(inst / "councils.csv", "Ipswich,district,england", "Ipswich,district,engand")
    message = bad(capsys, out, inst, names=("councils.csv", "line 3", "'nation'", "engand"))
    assert "england" in message  # lists the known nations


def test_empty_required_text(inst, out, capsys):
    edit(inst / "councils.csv", "E07000202,Ipswich,district", "E07000202,,district")
    bad(capsys, out, inst, names=("councils.csv", "line 3", "'name'", "empty"))


def test_tier_not_declared_by_model(inst, out, capsys):
    edit(inst / "councils.csv", "Ipswich,district", "Ipswich,borough")
    message = bad(capsys, out, inst, names=("councils.csv", "line 3", "'tier'", "borough", "uk-central"))
    assert "district" in message  # lists the model's tiers


# ---------------------------------------------------------------- the other tables


def test_unknown_code_in_adjacency(inst, out, capsys):
    edit(inst / "adjacency.csv", "E07000202,E07000203,5.888", "E07000202,E07999999,5.888")
    bad(capsys, out, inst, names=("adjacency.csv", "line 7", "'b'", "E07999999"))


def test_self_loop_in_adjacency(inst, out, capsys):
    edit(inst / "adjacency.csv", "E07000202,E07000203,5.888", "E07000202,E07000202,5.888")
    bad(capsys, out, inst, names=("adjacency.csv", "line 7", "E07000202", "itself"))


def test_negative_border(inst, out, capsys):
    edit(inst / "adjacency.csv", "E07000202,E07000203,5.888", "E07000202,E07000203,-5.888")
    bad(capsys, out, inst, names=("adjacency.csv", "line 7", "'border_km'"))


def test_unknown_code_in_spend(inst, out, capsys):
    edit(inst / "spend.csv", "E07000202,ict,", "E07000222,ict,")
    bad(capsys, out, inst, names=("spend.csv", "line", "'code'", "E07000222"))


@pytest.mark.parametrize("value", ["-1", "lots", ""])
def test_bad_baseline(inst, out, capsys, value):
    edit(inst / "spend.csv", "E07000202,ict,3155850", f"E07000202,ict,{value}")
    bad(capsys, out, inst, names=("spend.csv", "line", "'baseline'"))


def test_duplicate_spend_row(inst, out, capsys):
    edit(inst / "spend.csv", "E07000202,ict,3155850", "E07000202,ict,3155850\nE07000202,ict,1")
    bad(capsys, out, inst, names=("spend.csv", "line", "E07000202", "ict", "repeats"))


def test_unknown_code_in_platforms(inst, out, capsys):
    add_table(inst, "platforms", "platforms.csv", "code,function,platform\nE07000200,ict,vendor-a\nE07000299,ict,vendor-b\n")
    bad(capsys, out, inst, names=("platforms.csv", "line 3", "'code'", "E07000299"))


def test_reserved_platform_name(inst, out, capsys):
    add_table(inst, "platforms", "platforms.csv", "code,function,platform\nE07000200,ict,own:E07000202\n")
    bad(capsys, out, inst, names=("platforms.csv", "line 2", "'platform'", "own:"))


def test_unknown_code_in_partnerships(inst, out, capsys):
    edit(inst / "partnerships.csv", "babergh-mid-suffolk-ict,ict,E07000203", "babergh-mid-suffolk-ict,ict,E07000204")
    bad(capsys, out, inst, names=("partnerships.csv", "line", "'code'", "E07000204"))


def test_bad_flag_in_partnerships(inst, out, capsys):
    edit(inst / "partnerships.csv", "ict,E07000203,true,false", "ict,E07000203,true,maybe")
    bad(capsys, out, inst, names=("partnerships.csv", "line", "'locked'", "maybe"))


def test_partnership_with_one_member(inst, out, capsys):
    (inst / "partnerships.csv").write_text(
        "id,function,code,host,locked\nsolo,ict,E07000200,true,true\n", encoding="utf-8"
    )
    bad(capsys, out, inst, names=("partnerships.csv", "line 2", "solo", "one member"))


def test_partnership_with_two_hosts(inst, out, capsys):
    edit(inst / "partnerships.csv", "babergh-mid-suffolk-ict,ict,E07000200,false", "babergh-mid-suffolk-ict,ict,E07000200,true")
    bad(capsys, out, inst, names=("partnerships.csv", "line", "'host'", "babergh-mid-suffolk-ict", "two hosts"))


def test_member_listed_twice(inst, out, capsys):
    edit(inst / "partnerships.csv", "babergh-mid-suffolk-ict,ict,E07000203", "babergh-mid-suffolk-ict,ict,E07000200")
    bad(capsys, out, inst, names=("partnerships.csv", "line", "E07000200", "twice"))


def _locked(inst: Path, function: str, *codes: str) -> None:
    rows = "".join(f"L,{function},{c},{'true' if k == 0 else 'false'},true\n" for k, c in enumerate(codes))
    (inst / "partnerships.csv").write_text("id,function,code,host,locked\n" + rows, encoding="utf-8")


def test_locked_partnership_not_contiguous(inst, out, capsys):
    # East and West Suffolk do not touch
    _locked(inst, "revenues-benefits", EAST_SUFFOLK, WEST_SUFFOLK)
    bad(capsys, out, inst, *FAST, names=("partnerships.csv", "line 2", "locked partnership 'L'", "contiguous"))


def test_locked_partnership_tier_not_eligible(inst, out, capsys):
    # revenues and benefits is not a county function
    _locked(inst, "revenues-benefits", SUFFOLK_CC, BABERGH)
    bad(capsys, out, inst, *FAST, names=("partnerships.csv", "line 2", "locked partnership 'L'", SUFFOLK_CC, "county"))


def test_locked_partnership_too_big(inst, out, capsys):
    _locked(inst, "revenues-benefits", BABERGH, IPSWICH, MID_SUFFOLK)
    bad(capsys, out, inst, *FAST, "--max-size", "2", names=("partnerships.csv", "line 2", "max_size"))


def test_locked_partnership_unknown_function(inst, out, capsys):
    _locked(inst, "bin-collection", BABERGH, MID_SUFFOLK)
    bad(capsys, out, inst, names=("partnerships.csv", "line 2", "bin-collection"))


def test_locked_partnership_excluded_member(inst, out, capsys):
    _locked(inst, "revenues-benefits", BABERGH, MID_SUFFOLK)
    bad(capsys, out, inst, *FAST, "--exclude", f"{BABERGH}:revenues-benefits", names=("--exclude", BABERGH, "locked partnership 'L'"))


def test_locked_partnership_members_kept_apart(inst, out, capsys):
    _locked(inst, "revenues-benefits", BABERGH, MID_SUFFOLK)
    bad(capsys, out, inst, *FAST, "--apart", f"{BABERGH}:{MID_SUFFOLK}", names=("--apart", "locked partnership 'L'"))


# ---------------------------------------------------------------- savings model


def test_model_not_found_path(inst, out, tmp_path, capsys):
    bad(capsys, out, inst, "--model", tmp_path / "nope.toml", names=("nope.toml", "not found"))


def test_model_not_found_name(inst, out, capsys):
    bad(capsys, out, inst, "--model", "uk-centrall", names=("uk-centrall", "no such model"))


def test_instance_names_missing_model(inst, out, capsys):
    edit(inst / "instance.toml", 'model = "uk-central"', 'model = "no-such-model"')
    bad(capsys, out, inst, names=("instance.toml", "model", "no-such-model", "no such model"))


def test_unknown_geography_rule(inst, out, tmp_path, capsys):
    model = model_copy(tmp_path)
    edit(model, 'geography = ["contiguous", "within_km:80", "same_nation"]', 'geography = ["contiguous", "within_miles:50"]')
    bad(capsys, out, inst, "--model", model, names=("model.toml", "rules.geography", "within_miles:50"))


def test_bad_within_km(inst, out, tmp_path, capsys):
    model = model_copy(tmp_path)
    edit(model, '"within_km:40"', '"within_km:far"')
    bad(capsys, out, inst, "--model", model, names=("model.toml", "geography", "within_km:far"))


def test_none_with_other_rules(inst, out, tmp_path, capsys):
    model = model_copy(tmp_path)
    edit(model, '"within_km:40"', '"none"')
    bad(capsys, out, inst, "--model", model, names=("model.toml", "geography", "none"))


def test_unknown_key_in_model(inst, out, tmp_path, capsys):
    model = model_copy(tmp_path)
    edit(model, "max_size = 3", "max_sise = 3")
    bad(capsys, out, inst, "--model", model, names=("model.toml", "functions[6].max_sise", "unknown key"))


def test_misspelt_required_key_in_model(inst, out, tmp_path, capsys):
    """A typo in a required key is reported as the typo, not only as a missing key."""
    model = model_copy(tmp_path)
    text = model.read_text(encoding="utf-8")
    first = text.index("scale_exponent", text.index("[[functions]]"))
    model.write_text(text[:first] + "scale_exponnet" + text[first + len("scale_exponent"):], encoding="utf-8")
    message = bad(capsys, out, inst, "--model", model, names=("model.toml", "functions[0]", "scale_exponent"))
    assert "scale_exponnet" in message


def test_unknown_top_level_key_in_model(inst, out, tmp_path, capsys):
    model = model_copy(tmp_path)
    edit(model, "[finance]", 'descripton = "x"\n\n[finance]')
    bad(capsys, out, inst, "--model", model, names=("model.toml", "descripton", "unknown key"))


@pytest.mark.parametrize(
    "old, new, key",
    [
        ("discount_rate = 0.035", 'discount_rate = "3.5%"', "finance.discount_rate"),
        ("horizon_years = 10", "horizon_years = 10.5", "finance.horizon_years"),
        ("horizon_years = 10", "horizon_years = 0", "finance.horizon_years"),
        ("capture = 0.3", "capture = 1.3", "depths[0].capture"),
        ("common_platform = false", 'common_platform = "no"', "depths[0].common_platform"),
        ("max_size = 6", "max_size = 1", "rules.max_size"),
        ("host_min_commitment = 0.5", "host_min_commitment = -0.5", "rules.host_min_commitment"),
    ],
)
def test_model_value_wrong(inst, out, tmp_path, capsys, old, new, key):
    model = model_copy(tmp_path)
    edit(model, old, new)
    bad(capsys, out, inst, "--model", model, names=("model.toml", key))


def test_model_scale_exponent_out_of_range(inst, out, tmp_path, capsys):
    model = model_copy(tmp_path)
    text = model.read_text(encoding="utf-8")
    at = text.index("scale_exponent", text.index("[[functions]]"))
    end = text.index("\n", at)
    model.write_text(text[:at] + "scale_exponent = 1.2" + text[end:], encoding="utf-8")
    bad(capsys, out, inst, "--model", model, names=("model.toml", "functions[0].scale_exponent", "1.2"))


def test_function_tier_not_declared(inst, out, tmp_path, capsys):
    model = model_copy(tmp_path)
    edit(model, 'tiers = ["county", "district", "unitary", "metropolitan", "london", "ni-district"]\n# Both',
         'tiers = ["county", "distrct"]\n# Both')
    bad(capsys, out, inst, "--model", model, names=("model.toml", "functions[0].tiers", "distrct"))


def test_duplicate_function_id(inst, out, tmp_path, capsys):
    model = model_copy(tmp_path)
    edit(model, 'id = "hr-payroll"', 'id = "ict"')
    bad(capsys, out, inst, "--model", model, names=("model.toml", "functions[1].id", "ict"))


def test_malformed_model_toml(inst, out, tmp_path, capsys):
    model = model_copy(tmp_path)
    edit(model, "[finance]", "[finance")
    bad(capsys, out, inst, "--model", model, names=("model.toml", "malformed TOML", "line"))


def test_model_not_utf8(inst, out, tmp_path, capsys):
    model = tmp_path / "model.toml"
    model.write_bytes(b"\xff\xfen\x00a\x00")
    bad(capsys, out, inst, "--model", model, names=("model.toml", "UTF-8"))


# ---------------------------------------------------------------- run options


def test_unknown_function(inst, out, capsys):
    message = bad(capsys, out, inst, "--functions", "ict,revenue-benefits", names=("--functions", "revenue-benefits"))
    assert "revenues-benefits" in message  # suggests the close match


def test_unknown_code_in_exclude(inst, out, capsys):
    bad(capsys, out, inst, "--exclude", "E07000299:ict", names=("--exclude", "E07000299"))


def test_unknown_function_in_exclude(inst, out, capsys):
    bad(capsys, out, inst, "--exclude", f"{BABERGH}:itc", names=("--exclude", "itc"))


@pytest.mark.parametrize("value", ["E07000200", "E07000200:", ":ict"])
def test_malformed_exclude(inst, out, capsys, value):
    bad(capsys, out, inst, "--exclude", value, names=("--exclude", value))


def test_unknown_code_in_apart(inst, out, capsys):
    bad(capsys, out, inst, "--apart", f"{BABERGH}:E07000299", names=("--apart", "E07000299"))


def test_apart_same_council(inst, out, capsys):
    bad(capsys, out, inst, "--apart", f"{BABERGH}:{BABERGH}", names=("--apart", BABERGH))


def test_malformed_apart(inst, out, capsys):
    bad(capsys, out, inst, "--apart", BABERGH, names=("--apart", BABERGH))


def test_unknown_area_lists_close_matches(inst, out, capsys):
    message = bad(capsys, out, inst, "--area", "Sufolk", names=("--area", "Sufolk"))
    assert "close matches" in message and "Suffolk" in message


def test_unknown_area_code(inst, out, capsys):
    message = bad(capsys, out, inst, "--area", "E10000028", names=("--area", "E10000028"))
    assert "E10000029" in message


@pytest.mark.parametrize(
    "option, value",
    [
        ("--budget", "-1"),
        ("--budget", "nan"),
        ("--budget", "lots"),
        ("--time-limit", "0"),
        ("--time-limit", "-3"),
        ("--time-limit", "soon"),
        ("--max-size", "1"),
        ("--max-size", "two"),
        ("--jobs", "0"),
        ("--jobs", "many"),
        ("--solver", "gurobi"),
        ("--method", "clever"),
    ],
)
def test_bad_option_value(inst, out, capsys, option, value):
    bad(capsys, out, inst, f"{option}={value}", names=(option, value))


def test_unknown_option(inst, out, capsys):
    bad(capsys, out, inst, "--budjet", "5", names=("--budjet",))


def test_missing_instance_argument(out, capsys):
    code, stdout, stderr = run(capsys, "solve", "--out", out)
    assert code == 2 and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1 and "instance" in stderr


# ---------------------------------------------------------------- verify and evaluate inputs


def test_verify_missing_plan(inst, tmp_path, capsys):
    code, stdout, stderr = run(capsys, "verify", inst, tmp_path / "plan.json")
    assert code == 2 and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1 and "plan.json" in stderr and "not found" in stderr


def test_verify_malformed_plan(inst, tmp_path, capsys):
    plan = tmp_path / "plan.json"
    plan.write_text('{"instance": "suffolk-2023",\n  "model": }\n', encoding="utf-8")
    code, stdout, stderr = run(capsys, "verify", inst, plan)
    assert code == 2 and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1 and "plan.json" in stderr and "line 2" in stderr


def test_verify_plan_not_an_object(inst, tmp_path, capsys):
    plan = tmp_path / "plan.json"
    plan.write_text("[1, 2]\n", encoding="utf-8")
    code, stdout, stderr = run(capsys, "verify", inst, plan)
    assert code == 2 and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1 and "plan.json" in stderr and "object" in stderr


def test_table_is_a_folder(inst, out, capsys):
    edit(inst / "instance.toml", 'councils = "councils.csv"', 'councils = "."')
    bad(capsys, out, inst, names=(str(inst), "folder"))


def test_evaluate_unknown_code(inst, tmp_path, out, capsys):
    groups = tmp_path / "groups.csv"
    groups.write_text(f"id,function,code\nG,revenues-benefits,{BABERGH}\nG,revenues-benefits,E07000299\n", encoding="utf-8")
    code, stdout, stderr = run(capsys, "evaluate", inst, groups, "--out", out)
    assert code == 2 and "Traceback" not in stderr
    message = stderr.strip()
    assert "\n" not in message and "groups.csv" in message and "line 3" in message and "E07000299" in message
    assert not out.exists()


def test_evaluate_unknown_function(inst, tmp_path, out, capsys):
    groups = tmp_path / "groups.csv"
    groups.write_text(f"id,function,code\nG,rb,{BABERGH}\nG,rb,{MID_SUFFOLK}\n", encoding="utf-8")
    code, stdout, stderr = run(capsys, "evaluate", inst, groups, "--out", out)
    assert code == 2 and "Traceback" not in stderr
    message = stderr.strip()
    assert "\n" not in message and "'rb'" in message
    assert not out.exists()


def test_out_is_a_file(inst, tmp_path, capsys):
    """--out naming an existing file is bad input, reported before any solving."""
    target = tmp_path / "taken"
    target.write_text("keep me", encoding="utf-8")
    code, stdout, stderr = run(capsys, "solve", inst, *FAST, "--quiet", "--out", target)
    assert code == 2 and "Traceback" not in stderr
    assert "taken" in stderr and len(stderr.strip().splitlines()) == 1
    assert target.read_text(encoding="utf-8") == "keep me"


# ---------------------------------------------------------------- what a user sees


def _subprocess(*argv, cwd=ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "optimiser", *map(str, argv)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_subprocess_bad_csv(inst, out):
    edit(inst / "councils.csv", "139378", "abc")
    result = _subprocess("solve", inst, "--out", out)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "councils.csv" in lines[0] and "line 3" in lines[0] and "'population'" in lines[0] and "abc" in lines[0]
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_subprocess_bad_option(inst, out):
    result = _subprocess("solve", inst, "--exclude", "nonsense", "--out", out)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "--exclude" in lines[0] and "nonsense" in lines[0]
    assert not out.exists()


def test_subprocess_locked_breaks_rule(inst, out):
    _locked(inst, "revenues-benefits", EAST_SUFFOLK, WEST_SUFFOLK)
    result = _subprocess("solve", inst, *FAST, "--out", out)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "partnerships.csv" in lines[0] and "contiguous" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
