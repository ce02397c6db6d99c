"""Provenance in plan.json: the version, when, the model in full (its TOML text) and the
instance's fingerprint; a plan read with no --model uses the model it embeds."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path

import pytest

from cli_run import run
from optimiser.api import solve
from optimiser.cli import main
from optimiser.errors import InputError
from optimiser.io.instance import load_instance
from optimiser.io.provenance import Provenance, combined_digest, embedded_model, file_digests, instance_record
from optimiser.plan import Plan

ROOT = Path(__file__).resolve().parent.parent
SUFFOLK = ROOT / "instances" / "suffolk-2023"
MODEL = ROOT / "models" / "uk-central.toml"


@pytest.fixture(scope="module")
def custom_plan(tmp_path_factory):
    """A plan solved with a model file of its own, the file then deleted."""
    folder = tmp_path_factory.mktemp("custom")
    instance = folder / "suffolk"
    shutil.copytree(SUFFOLK, instance)
    model = folder / "my-model.toml"
    text = MODEL.read_text(encoding="utf-8").replace('name = "uk-central"', 'name = "my-model"', 1)
    # a model unlike the shipped ones: a plan checked against those would not verify
    text = text.replace("discount_rate = 0.035", "discount_rate = 0.05", 1)
    model.write_text(text, encoding="utf-8")
    assert main(["solve", str(instance), "--functions", "ict,legal", "--model", str(model), "--out", str(folder / "out"), "--quiet"]) == 0
    model.unlink()
    return folder, instance, folder / "out" / "plan.json", text


def test_plan_json_records_version_time_model_text_and_instance_fingerprint(custom_plan):
    folder, instance, plan_path, text = custom_plan
    data = json.loads(plan_path.read_text(encoding="utf-8"))
    record = data["provenance"]
    assert record["version"]
    assert record["created"].endswith("+00:00") and "T" in record["created"]
    assert record["model"]["name"] == "my-model" == data["model"]
    assert record["model"]["toml"] == text
    assert record["model"]["sha256"] == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert record["model"]["path"].endswith("my-model.toml")
    assert record["instance"]["name"] == data["instance"]
    assert record["instance"]["sha256"] == instance_record(load_instance(instance))["sha256"]
    assert set(record["instance"]["files"]) >= {"instance.toml", "councils.csv", "adjacency.csv"}
    assert data["options"]["functions"] == ["ict", "legal"]


def test_provenance_round_trips_through_plan_json(custom_plan):
    _, _, plan_path, _ = custom_plan
    plan = Plan.read(plan_path)
    assert isinstance(plan.provenance, Provenance)
    again = Plan.from_dict(json.loads(plan.to_json()))
    assert again == plan and again.provenance == plan.provenance
    assert again.to_dict() == plan.to_dict()
    assert again.to_dict()["provenance"] == json.loads(plan_path.read_text(encoding="utf-8"))["provenance"]


def test_a_plan_whose_model_file_is_gone_still_verifies(custom_plan, capsys):
    _, instance, plan_path, _ = custom_plan
    code, out, err = run(capsys, "verify", instance, plan_path)
    assert code == 0, out + err
    assert "valid" in out and err == ""


def test_the_embedded_model_is_the_one_used_not_the_shipped_one_of_that_name(custom_plan, capsys):
    _, instance, plan_path, _ = custom_plan
    # told to use the shipped model instead, the plan's figures are wrong (its discount rate differs)
    code, out, _ = run(capsys, "verify", instance, plan_path, "--model", MODEL)
    assert code == 1 and "model" in out


def _tampered(plan_path: Path, target: Path, edit, rehash: bool) -> Path:
    data = json.loads(plan_path.read_text(encoding="utf-8"))
    model = data["provenance"]["model"]
    model["toml"] = edit(model["toml"])
    if rehash:
        model["sha256"] = hashlib.sha256(model["toml"].encode("utf-8")).hexdigest()
    target.write_text(json.dumps(data), encoding="utf-8")
    return target


@pytest.mark.parametrize("edit, rehash, words", [
    (lambda t: t.replace("discount_rate = 0.05", "discount_rate = 0.06"), False, "sha256"),
    (lambda t: t.replace("discount_rate = 0.05", "discount_rate = 7.0"), True, "finance.discount_rate"),
    (lambda t: t + "\n[[[broken", True, "malformed TOML"),
    (lambda t: t.replace('name = "my-model"', 'name = "other"'), True, "named 'other'"),
])
def test_a_tampered_embedded_model_is_exit_2_naming_the_plan_and_the_key(custom_plan, capsys, tmp_path, edit, rehash, words):
    _, instance, plan_path, _ = custom_plan
    bad = _tampered(plan_path, tmp_path / "plan.json", edit, rehash)
    for argv in (("verify", instance, bad), ("report", bad, "--instance", instance, "--out", tmp_path / "r.html"),
                 ("withdraw", instance, bad, "E07000200", "--quiet")):
        code, out, err = run(capsys, *argv)
        assert code == 2, (argv, out, err)
        assert str(bad) in err and "provenance.model.toml" in err and words in err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


def test_a_changed_instance_file_is_one_warning_and_the_plan_is_still_checked(custom_plan, capsys, tmp_path):
    _, instance, plan_path, _ = custom_plan
    copy = tmp_path / "suffolk"
    shutil.copytree(instance, copy)
    spend = copy / "spend.csv"
    spend.write_text(spend.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # same figures, other bytes
    code, out, err = run(capsys, "verify", copy, plan_path)
    assert code == 0, out + err
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "spend.csv" in warnings[0] and "other data" in warnings[0]
    # the same data in another folder hashes the same: no warning
    code, out, err = run(capsys, "verify", instance, plan_path)
    assert code == 0 and "warning" not in err


def test_an_old_plan_without_provenance_works_by_model_name(tmp_path, capsys):
    plan = solve(str(SUFFOLK), functions="ict")
    data = plan.to_dict()
    del data["provenance"]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert Plan.read(path).provenance is None
    assert "provenance" not in Plan.read(path).to_dict()
    code, out, err = run(capsys, "verify", SUFFOLK, path)
    assert code == 0, out + err


def test_the_instance_fingerprint_is_stable_and_does_not_depend_on_file_order(tmp_path):
    first = instance_record(load_instance(SUFFOLK))
    assert instance_record(load_instance(SUFFOLK)) == first  # another read, the same
    copy = tmp_path / "elsewhere"
    shutil.copytree(SUFFOLK, copy)
    assert instance_record(load_instance(copy))["sha256"] == first["sha256"]  # the folder's path is not hashed
    digests = file_digests(load_instance(SUFFOLK))
    names = list(digests)
    rng = random.Random(7)
    for _ in range(5):
        rng.shuffle(names)
        assert combined_digest({n: digests[n] for n in names}) == first["sha256"]
    # and it notices a change in any one file
    changed = dict(digests, **{"councils.csv": "0" * 64})
    assert combined_digest(changed) != first["sha256"]


def test_embedded_model_is_none_for_a_plan_without_one_and_checks_the_record():
    assert embedded_model({"model": "uk-central"}, "plan.json") is None
    assert embedded_model({"provenance": {"model": {"toml": None}}}, "plan.json") is None
    with pytest.raises(InputError, match="plan.json: provenance"):
        embedded_model({"provenance": ["not", "an", "object"]}, "plan.json")
    with pytest.raises(InputError, match="provenance.model.toml"):
        embedded_model({"provenance": {"model": {"toml": 3}}}, "plan.json")


def test_report_withdraw_and_partners_use_the_plan_s_own_model(custom_plan, capsys, tmp_path):
    _, instance, plan_path, _ = custom_plan
    code, out, err = run(capsys, "report", plan_path, "--instance", instance, "--out", tmp_path / "r.html")
    assert code == 0, err
    code, out, err = run(capsys, "partners", instance, "Ipswich", "--functions", "ict", "--plan", plan_path)
    assert code == 0, err
    assert "model my-model" in out
    code, out, err = run(capsys, "withdraw", instance, plan_path, "Ipswich", "--out", tmp_path / "w")
    assert code == 0, err
    repaired = [json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "w").glob("repaired-*/plan.json")]
    assert repaired and all(r["model"] == "my-model" and r["provenance"]["model"]["toml"] for r in repaired)


def test_evaluate_scores_a_plan_json_under_its_own_model(custom_plan, capsys, tmp_path):
    _, instance, plan_path, _ = custom_plan
    code, out, err = run(capsys, "evaluate", instance, plan_path, "--out", tmp_path / "e")
    assert code == 0, err
    scored = json.loads((tmp_path / "e" / "evaluation.json").read_text(encoding="utf-8"))
    plan = Plan.read(plan_path)
    # the model file is gone and its discount rate is not the shipped model's: only the embedded one gives these figures
    assert scored["totals"]["npv"] == pytest.approx(plan.totals.npv, rel=1e-9)
    assert {(g["host"], g["depth"], g["platform"]) for g in scored["groups"]} == {(p.host, p.depth, p.platform) for p in plan.partnerships}
    data = json.loads(plan_path.read_text(encoding="utf-8"))
    data["instance"] = "elsewhere"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data), encoding="utf-8")
    code, _, err = run(capsys, "evaluate", instance, other)
    assert code == 2 and str(other) in err and "is a plan for instance 'elsewhere'" in err


def test_a_plan_made_with_a_model_built_in_memory_embeds_it_and_verifies_by_itself(tmp_path, capsys):
    from optimiser.io.model import load_model
    from optimiser.io.variants import varied_model

    # a sweep's variant: no file behind it, and unlike the shipped model of its name
    variant = varied_model(load_model("uk-central"), factors={"capture": 0.6})
    plan = solve(SUFFOLK, variant, functions="ict,legal")
    record = plan.provenance.model
    assert record["path"] is None and record["sha256"] == hashlib.sha256(record["toml"].encode("utf-8")).hexdigest()
    assert embedded_model(plan.to_dict(), "plan.json").depths == variant.depths
    plan.write(tmp_path / "out")
    code, stdout, _ = run(capsys, "verify", SUFFOLK, tmp_path / "out" / "plan.json")
    assert code == 0, stdout
    # checked against the shipped model of the same name instead, its figures are wrong
    code, _, _ = run(capsys, "verify", SUFFOLK, tmp_path / "out" / "plan.json", "--model", "uk-central")
    assert code == 1
