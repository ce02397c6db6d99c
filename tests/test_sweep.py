"""optimiser sweep: sweep files, model variants, the grid and the Latin hypercube, running on a
process pool and on Dask, resuming after SIGKILL, failing scenarios, and the tables."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli_run import run
from randomized import Options, brute_force, random_case, write_case
from optimiser.errors import InputError
from optimiser.io.model import load_model, parse_model
from optimiser.io.sweep import read_sweep
from optimiser.io.variants import model_document, varied_model
from optimiser.research import latin_hypercube, plan_sweep, run_sweep, scenarios
from optimiser.research.scenario import run_scenario, task_of

ROOT = Path(__file__).resolve().parent.parent
#: each scenario a fraction of a second: one small function of the shipped Suffolk instance
TINY_RUN = '[run]\ninstance = "suffolk-2023"\nfunctions = "legal"\ntime_limit = "60s"\n'


def sweep_file(folder: Path, text: str, name: str = "sweep.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def table(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "sweep.csv")


# ---------------------------------------------------------------- model variants


def test_a_model_written_back_reads_as_itself():
    for name in ("uk-central", "uk-central-sceptical"):
        model = load_model(name)
        assert parse_model(model_document(model), name) == replace(model, path=None)


def test_factors_multiply_every_figure_and_settings_replace_one():
    model = load_model("uk-central")
    varied = varied_model(model, {"capture": 0.5, "coordination": 3.0}, {"discount_rate": 0.05, "risk_base": 0.2})
    assert [d.capture for d in varied.depths] == [d.capture * 0.5 for d in model.depths]
    assert [f.coordination for f in varied.functions] == [f.coordination * 3.0 for f in model.functions]
    assert [d.one_off for d in varied.depths] == [d.one_off for d in model.depths]
    assert (varied.discount_rate, varied.risk.base, varied.risk.uncommitted) == (0.05, 0.2, model.risk.uncommitted)
    assert varied.name == "uk-central (capture x0.5, coordination x3, discount_rate 0.05, risk_base 0.2)"


def test_a_shorter_horizon_brings_the_exit_year_in():
    model = load_model("uk-central")
    assert model.risk.exit_year == 3
    assert varied_model(model, settings={"horizon_years": 2}).risk.exit_year == 1
    assert varied_model(model, settings={"horizon_years": 5}).risk.exit_year == 3
    assert varied_model(model, settings={"horizon_years": 5, "risk_exit_year": 4}).risk.exit_year == 4


def test_a_variant_out_of_range_names_the_figure():
    with pytest.raises(InputError, match=r"depths\[2\]\.capture: must be <= 1.0"):
        varied_model(load_model("uk-central"), {"capture": 1.5})


# ---------------------------------------------------------------- designs


def test_the_grid_is_every_combination_once_with_stable_keys(tmp_path):
    path = sweep_file(tmp_path, TINY_RUN + '[sweep]\ncapture = [0.5, 1.0]\nmax_size = [2, 3, 4]\nmodel = ["uk-central"]\n')
    found = scenarios(read_sweep(path))
    assert len(found) == 6 and len({s.key for s in found}) == 6
    assert {(s.values["capture"], s.values["max_size"]) for s in found} == {(c, m) for c in (0.5, 1.0) for m in (2, 3, 4)}
    assert [s.key for s in scenarios(read_sweep(path))] == [s.key for s in found]
    other = sweep_file(tmp_path, TINY_RUN.replace("60s", "30s") + '[sweep]\ncapture = [0.5, 1.0]\nmax_size = [2, 3, 4]\nmodel = ["uk-central"]\n', "b.toml")
    assert not {s.key for s in scenarios(read_sweep(other))} & {s.key for s in found}  # another base run: other scenarios


@pytest.mark.parametrize("n, seed", [(1, 0), (7, 1), (24, 5)])
def test_a_latin_hypercube_takes_each_stratum_once_per_dimension(n, seed):
    dims = {"capture": (0.5, 1.0), "discount_rate": (0.0, 0.1), "max_size": (2, 6), "model": ("a", "b", "c")}
    sample = latin_hypercube(dims, n, seed)
    assert len(sample) == n
    for name in ("capture", "discount_rate"):
        low, high = dims[name]
        column = np.array([s[name] for s in sample])
        assert ((column >= low) & (column <= high)).all()
        assert sorted(np.floor((column - low) / (high - low) * n).astype(int).clip(0, n - 1)) == list(range(n))
    sizes = [s["max_size"] for s in sample]
    counts = [sizes.count(v) for v in range(2, 7)]
    assert sum(counts) == n and max(counts) - min(counts) <= 1  # each whole number about n / 5 times
    models = [s["model"] for s in sample]
    counts = [models.count(m) for m in "abc"]
    assert max(counts) - min(counts) <= 1
    assert latin_hypercube(dims, n, seed) == sample  # the seed is the whole story
    if n > 1:
        assert latin_hypercube(dims, n, seed + 1) != sample


def test_an_lhs_sweep_file_gives_n_scenarios(tmp_path):
    path = sweep_file(tmp_path, TINY_RUN + '[sweep]\nsample = "lhs"\nn = 8\nseed = 1\ncapture = [0.5, 1.0]\nbudget = ["100k", "2m"]\n')
    found = scenarios(read_sweep(path))
    assert len(found) == 8
    assert all(100e3 <= s.values["budget"] <= 2e6 for s in found)


# ---------------------------------------------------------------- bad sweep files

BAD = [
    ("[sweep]\ncapture = [1.0]\n", "run", "missing table [run]"),
    (TINY_RUN, "sweep", "missing table [sweep]"),
    (TINY_RUN + "[sweep]\n", "sweep", "names no dimension"),
    (TINY_RUN + "colour = 1\n[sweep]\ncapture = [1.0]\n", "run.colour", "unknown key"),
    ('[run]\nfunctions = "legal"\n[sweep]\ncapture = [1.0]\n', "run.instance", "missing required key"),
    (TINY_RUN + "budget = \"lots\"\n[sweep]\ncapture = [1.0]\n", "run.budget", "not an amount of money"),
    (TINY_RUN + "[sweep]\ncaptur = [1.0]\n", "sweep.captur", "did you mean 'capture'"),
    (TINY_RUN + "[sweep]\ncapture = 1.0\n", "sweep.capture", "a list of the values"),
    (TINY_RUN + "[sweep]\ncapture = [0.0]\n", "sweep.capture[0]", "more than 0"),
    (TINY_RUN + "[sweep]\ncapture = [1.0, 1.0]\n", "sweep.capture[1]", "listed twice"),
    (TINY_RUN + "[sweep]\ncapture = [2.0]\n", "sweep.capture", "capture: must be <= 1.0"),
    (TINY_RUN + "[sweep]\ncapture = [0.5]\nscale_exponent = [1.2]\n", "sweep.scale_exponent", "scale_exponent: must be <= 1.0"),
    (TINY_RUN + "[sweep]\nrisk_base = [0.2]\nrisk_exit_year = [12]\n", "sweep.risk_exit_year", "exit_year: must be <= 9"),
    (TINY_RUN + "[sweep]\nscale_exponent = [\"big\"]\n", "sweep.scale_exponent[0]", "must be a number"),
    (TINY_RUN + "[sweep]\nmax_size = [1]\n", "sweep.max_size[0]", "must be 2 or more"),
    (TINY_RUN + "[sweep]\nmax_size = [2.5]\n", "sweep.max_size[0]", "whole number"),
    (TINY_RUN + "[sweep]\ndiscount_rate = [1.5]\n", "sweep.discount_rate[0]", "from 0 to 1"),
    (TINY_RUN + "[sweep]\nobjective = [\"most\"]\n", "sweep.objective[0]", "objective"),
    (TINY_RUN + "[sweep]\nloan = [\"4%\"]\n", "sweep.loan[0]", ""),
    (TINY_RUN + "[sweep]\nfunctions = [\"ict\"]\n", "sweep.functions", "set in [run] too"),
    (TINY_RUN + "[sweep]\nsample = \"random\"\ncapture = [1.0]\n", "sweep.sample", "\"grid\" or \"lhs\""),
    (TINY_RUN + "[sweep]\nsample = \"lhs\"\ncapture = [0.5, 1.0]\n", "sweep.n", "missing required key"),
    (TINY_RUN + "[sweep]\nsample = \"lhs\"\nn = 0\ncapture = [0.5, 1.0]\n", "sweep.n", "1 or more"),
    (TINY_RUN + "[sweep]\nsample = \"lhs\"\nn = 4\ncapture = [0.5, 0.7, 1.0]\n", "sweep.capture", "[low, high]"),
    (TINY_RUN + "[sweep]\nsample = \"lhs\"\nn = 4\ncapture = [1.0, 0.5]\n", "sweep.capture", "above its high end"),
    (TINY_RUN + "[sweep]\nn = 4\ncapture = [1.0]\n", "sweep.n", "only for sample = \"lhs\""),
    (TINY_RUN + "[sweep\ncapture = [1.0]\n", "", "malformed TOML"),
    (TINY_RUN.replace("suffolk-2023", "atlantis-2023") + "[sweep]\ncapture = [1.0]\n", "run.instance", "atlantis-2023"),
    (TINY_RUN + "[sweep]\nmodel = [\"uk-central\", \"uk-optimistic\"]\n", "sweep.model", "no such model"),
    (TINY_RUN + "[sweep]\narea = [\"Suffolk\", \"Atlantis\"]\n", "sweep.area", "Atlantis"),
    (TINY_RUN.replace('"legal"', '"itc"') + "[sweep]\ncapture = [1.0]\n", "run.functions", "no function 'itc'"),
    (TINY_RUN + "[sweep]\nexclude = [\"Ipswich:legal\", \"Gotham:legal\"]\n", "sweep.exclude", "Gotham"),
]


@pytest.mark.parametrize("text, key, problem", BAD, ids=[f"{k or 'toml'}-{i}" for i, (_, k, _) in enumerate(BAD)])
def test_a_bad_sweep_file_is_one_line_naming_the_file_and_key(tmp_path, capsys, text, key, problem):
    path = sweep_file(tmp_path, text)
    out = tmp_path / "out"
    code, stdout, stderr = run(capsys, "sweep", path, "--out", out)
    assert code == 2, stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert stderr.startswith(f"optimiser: {path}: ")
    if key:
        assert stderr.startswith(f"optimiser: {path}: {key}: ")
    assert problem in stderr
    assert not out.exists()  # nothing written


def test_bad_options_of_the_command(tmp_path, capsys):
    path = sweep_file(tmp_path, TINY_RUN + "[sweep]\ncapture = [1.0]\n")
    code, _, stderr = run(capsys, "sweep", path, "--out", tmp_path / "o", "--workers", "0")
    assert code == 2 and "--workers" in stderr
    code, _, stderr = run(capsys, "sweep", tmp_path / "missing.toml", "--out", tmp_path / "o")
    assert code == 2 and "missing.toml: file not found" in stderr


def test_dask_asked_for_but_missing_gives_the_pip_command(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails as if not installed
    path = sweep_file(tmp_path, TINY_RUN + "[sweep]\ncapture = [1.0]\n")
    code, _, stderr = run(capsys, "sweep", path, "--out", tmp_path / "o", "--scheduler", "local")
    assert code == 2 and "pip install 'partnership-optimiser[sweep]'" in stderr
    assert not (tmp_path / "o" / "sweep.csv").exists()


# ---------------------------------------------------------------- the figures against brute force


@pytest.mark.parametrize("seed", [3, 11, 19, 27])
def test_a_scenario_agrees_with_brute_force_on_the_case_varied_by_hand(tmp_path, seed):
    case = random_case(random.Random(seed), seed)
    case.options = Options()
    instance_dir, model_path = write_case(case, tmp_path)
    path = sweep_file(tmp_path, f'[run]\ninstance = "{instance_dir}"\nmodel = "{model_path}"\n'
                                '[sweep]\ncapture = [0.7]\ncoordination = [2.0]\nmax_size = [2, 3]\n')
    sweep = read_sweep(path)
    for scenario in scenarios(sweep):
        result = run_scenario(task_of(sweep, scenario))
        assert result["row"]["status"] == "optimal", result["row"]["error"]
        # the same changes made in the test's own model structures, solved by exhaustive search
        model = replace(case.model, depths=[replace(d, capture=d.capture * 0.7) for d in case.model.depths],
                        functions=[replace(f, coordination=f.coordination * 2.0) for f in case.model.functions])
        expected = brute_force(replace(case, model=model, options=Options(max_size=scenario.values["max_size"])))
        assert result["row"]["npv"] == pytest.approx(expected.objective or 0.0, rel=1e-6, abs=1e-6)
        # every figure of the row, recomputed from the scenario's plan.json
        plan = json.loads(result["plan"])
        members = [len(p["members"]) for p in plan["partnerships"]]
        assert result["row"]["npv"] == pytest.approx(sum(p["npv"] for p in plan["partnerships"]))
        assert result["row"]["partnerships"] == len(members)
        assert result["row"]["largest_partnership"] == (max(members) if members else None)
        assert result["row"]["mean_partnership_size"] == (pytest.approx(sum(members) / len(members)) if members else None)
        assert max(members, default=0) <= scenario.values["max_size"]
        for function in result["functions"]:
            own = [p for p in plan["partnerships"] if p["function"] == function["function"]]
            assert function["npv"] == pytest.approx(sum(p["npv"] for p in own)) and function["partnerships"] == len(own)
        assert sum(f["npv"] for f in result["functions"]) == pytest.approx(result["row"]["npv"])


def test_a_factor_of_1_keeps_the_model(tmp_path):
    sweep = read_sweep(sweep_file(tmp_path, TINY_RUN + '[sweep]\ncapture = [1.0, 0.5]\n'))
    kept, varied = (task_of(sweep, s) for s in scenarios(sweep))
    assert kept["factors"] == {} and varied["factors"] == {"capture": 0.5}
    assert run_scenario(kept)["model"] is None


def test_a_hand_worked_row():
    """Suffolk's legal services with groups of at most two: five districts, so two pairs and one
    council alone at best; the mean size is 2, the largest 2, and the NPV the pairs' together."""
    from optimiser.io.sweep import SweepFile

    sweep = SweepFile(Path("x.toml"), {"instance": "suffolk-2023", "functions": "legal"}, {"max_size": (2,)})
    result = run_scenario(task_of(sweep, scenarios(sweep)[0]))
    plan = json.loads(result["plan"])
    assert [len(p["members"]) for p in plan["partnerships"]] == [2, 2]
    assert (result["row"]["partnerships"], result["row"]["mean_partnership_size"], result["row"]["largest_partnership"]) == (2, 2.0, 2)
    assert result["row"]["npv"] == pytest.approx(plan["partnerships"][0]["npv"] + plan["partnerships"][1]["npv"])


# ---------------------------------------------------------------- running


def test_a_sweep_on_the_process_pool_records_a_failing_scenario_and_goes_on(tmp_path, capsys):
    # a loan of 8 years cannot be judged on a 5-year horizon: only the varied model can tell
    path = sweep_file(tmp_path, TINY_RUN + 'loan = "0.04:8"\n[sweep]\nhorizon_years = [10, 5, 12]\n')
    out = tmp_path / "out"
    code, stdout, stderr = run(capsys, "sweep", path, "--out", out, "--workers", "2")
    assert code == 1, stderr  # one failed
    frame = table(out)
    assert len(frame) == 3 and frame["key"].is_unique
    failed = frame[frame["status"] == "error"]
    assert list(failed["horizon_years"]) == [5] and "longer than the model's horizon" in failed["error"].iloc[0]
    assert set(frame[frame["status"] != "error"]["status"]) == {"optimal"}
    for key in frame["key"]:
        assert (out / "scenarios" / key / "scenario.json").is_file()
    assert not (out / "scenarios" / failed["key"].iloc[0] / "plan.json").exists()
    assert pd.read_parquet(out / "sweep.parquet")["key"].tolist() == frame["key"].tolist()
    functions = pd.read_csv(out / "sweep_functions.csv")
    assert set(functions["key"]) == set(frame[frame["status"] != "error"]["key"]) and set(functions["function"]) == {"legal"}
    assert (out / "plots" / "npv_horizon_years.png").stat().st_size > 1000
    assert "3 of 3 scenarios finished" in stdout and "1 failed" in stdout
    assert "sweep: 3 of 3 scenarios finished" in stderr  # not a terminal: a line per finished scenario
    # a scenario's plan is a plan the verifier accepts
    ok = frame[frame["status"] == "optimal"]["key"].iloc[0]
    code, verified, _ = run(capsys, "verify", "suffolk-2023", out / "scenarios" / ok / "plan.json",
                            "--model", out / "scenarios" / ok / "model.toml")
    assert code == 0, verified


def test_a_sweep_on_a_dask_local_cluster_gives_the_pool_s_figures(tmp_path):
    path = sweep_file(tmp_path, TINY_RUN + '[sweep]\ncapture = [0.6, 1.0]\n')
    dask = run_sweep(path, tmp_path / "dask", workers=1, scheduler="local", dask_processes=False)
    pool = run_sweep(path, tmp_path / "pool", workers=1)
    assert dask.solved_now == pool.solved_now == 2
    a, b = table(tmp_path / "dask"), table(tmp_path / "pool")
    assert a["key"].tolist() == b["key"].tolist()
    assert np.allclose(a["npv"], b["npv"]) and (a["status"] == "optimal").all()


def test_a_sweep_on_a_dask_cluster_by_its_address(tmp_path, capsys):
    from distributed import LocalCluster

    path = sweep_file(tmp_path, TINY_RUN + '[sweep]\nmax_size = [2, 3]\n')
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        code, stdout, stderr = run(capsys, "sweep", path, "--out", tmp_path / "o", "--scheduler", cluster.scheduler_address,
                                   "--quiet")
    assert (code, stdout, stderr) == (0, "", "")
    frame = table(tmp_path / "o")
    assert len(frame) == 2 and (frame["status"] == "optimal").all()


def test_a_scheduler_address_where_something_else_answers_is_exit_2(tmp_path, capsys):
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def answer_with_noise() -> None:  # not Dask: a huge length header, then hang up
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            with connection:
                try:
                    connection.sendall(b"\xff" * 4096)
                except OSError:
                    pass

    threading.Thread(target=answer_with_noise, daemon=True).start()
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    path = sweep_file(tmp_path, TINY_RUN + '[sweep]\nmax_size = [2, 3]\n')
    try:
        code, _, stderr = run(capsys, "sweep", path, "--out", tmp_path / "o", "--scheduler", address, "--quiet")
    finally:
        server.close()
    assert code == 2 and stderr.count("\n") == 1
    assert stderr.startswith(f"optimiser: --scheduler: cannot connect to {address}: ")
    assert not (tmp_path / "o" / "scenarios").exists()


def test_a_sweep_started_again_solves_nothing_twice(tmp_path):
    path = sweep_file(tmp_path, TINY_RUN + '[sweep]\ncapture = [0.6, 1.0]\n')
    first = run_sweep(path, tmp_path / "o", workers=1)
    stamp = {key: (tmp_path / "o" / "scenarios" / key / "scenario.json").stat().st_mtime_ns for key in table(tmp_path / "o")["key"]}
    again = run_sweep(path, tmp_path / "o", workers=1)
    assert (first.solved_now, again.solved_now, again.resumed) == (2, 0, 2)
    assert {key: (tmp_path / "o" / "scenarios" / key / "scenario.json").stat().st_mtime_ns for key in stamp} == stamp


def test_an_edited_model_or_instance_file_is_solved_again_not_read_back(tmp_path):
    import shutil

    shutil.copy(ROOT / "models" / "uk-central.toml", tmp_path / "mine.toml")
    shutil.copytree(ROOT / "instances" / "suffolk-2023", tmp_path / "inst")
    run_text = '[run]\ninstance = "inst"\nmodel = "mine.toml"\nfunctions = "legal"\ntime_limit = "60s"\n'
    path = sweep_file(tmp_path, run_text + '[sweep]\nmax_size = [2, 3]\n')
    first = run_sweep(path, tmp_path / "o", workers=1)
    keys = [s.key for s in plan_sweep(read_sweep(path))[0]]
    model = tmp_path / "mine.toml"
    text = model.read_text(encoding="utf-8")
    assert "discount_rate = 0.035" in text
    model.write_text(text.replace("discount_rate = 0.035", "discount_rate = 0.08"), encoding="utf-8")
    from optimiser.research.scenario import base_model, read_instance

    base_model.cache_clear()
    read_instance.cache_clear()
    edited = [s.key for s in plan_sweep(read_sweep(path))[0]]
    assert not set(edited) & set(keys)
    again = run_sweep(path, tmp_path / "o", workers=1)
    assert (first.solved_now, again.solved_now, again.resumed) == (2, 2, 0)
    assert set(table(tmp_path / "o")["key"]) == set(edited)
    spend = next((tmp_path / "inst").glob("*spend*.csv"))
    spend.write_text(spend.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    read_instance.cache_clear()
    base_model.cache_clear()
    assert not set(s.key for s in plan_sweep(read_sweep(path))[0]) & set(edited)


def test_ctrl_c_keeps_the_finished_scenarios(tmp_path):
    path = sweep_file(tmp_path, TINY_RUN + '[sweep]\nmax_size = [2, 3, 4, 5]\n')

    def interrupt_after_first(event):
        if event.done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(path, tmp_path / "o", workers=1, progress=interrupt_after_first)
    frame = table(tmp_path / "o")
    assert len(frame) == 1 and frame["status"].iloc[0] == "optimal"
    resumed = run_sweep(path, tmp_path / "o", workers=2)
    assert (resumed.resumed, resumed.solved_now, len(table(tmp_path / "o"))) == (1, 3, 4)


def test_ctrl_c_on_a_dask_local_cluster_is_one_line(tmp_path):
    # far more scenarios than can finish between the first and the Ctrl-C: a sweep that ended
    # before the signal came would rightly exit 0
    coordination = ", ".join(f"{1 + c / 10:.1f}" for c in range(25))
    path = sweep_file(tmp_path, TINY_RUN + f'[sweep]\nmax_size = [2, 3, 4, 5, 6, 7, 8, 9]\ncoordination = [{coordination}]\n')
    out = tmp_path / "o"
    process = subprocess.Popen([sys.executable, "-m", "optimiser", "sweep", str(path), "--out", str(out), "--scheduler", "local",
                                "--workers", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, cwd=ROOT,
                               # as from a terminal, whatever this test runner inherited (a shell's
                               # background job starts with Ctrl-C ignored, and so would the sweep)
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not list((out / "scenarios").glob("*/scenario.json")) and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C: to the sweep and its Dask workers alike
    _, stderr = process.communicate(timeout=120)
    lines = [line for line in stderr.splitlines() if not line.startswith("sweep: ")]
    assert process.returncode == 130 and len(lines) == 1 and lines[0].startswith("optimiser: interrupted"), stderr


def test_a_sweep_killed_mid_way_resumes_with_each_scenario_once(tmp_path):
    path = sweep_file(tmp_path, TINY_RUN + '[sweep]\nmax_size = [2, 3, 4, 5, 6]\ncoordination = [1.0, 2.0]\n')
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))}
    process = subprocess.Popen([sys.executable, "-m", "optimiser", "sweep", str(path), "--out", str(out), "--workers", "1",
                                "--quiet"], env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not list(out.glob("scenarios/*/scenario.json")):
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "no scenario finished"
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)  # the sweep and its workers, at once
    process.wait()
    kept = {p.parent.name for p in out.glob("scenarios/*/scenario.json")}
    assert 1 <= len(kept) < 10
    asked = {s.key for s in plan_sweep(read_sweep(path))[0]}
    resumed = run_sweep(path, out, workers=2)
    assert resumed.resumed == len(kept) and resumed.solved_now == 10 - len(kept)
    frame = table(out)
    assert len(frame) == 10 and set(frame["key"]) == asked and frame["key"].is_unique
    assert (frame["status"] == "optimal").all()


def test_a_variant_written_as_a_model_file_reads_back_as_itself(tmp_path):
    import tomllib
    from optimiser.io.variants import model_toml

    variant = varied_model(load_model("uk-central"), {"capture": 0.8, "migration": 1.5}, {"risk_exit_year": 2})
    assert parse_model(tomllib.loads(model_toml(variant)), "x") == variant


def test_a_variant_s_plan_verifies_against_the_model_file_kept_beside_it(tmp_path, capsys):
    path = sweep_file(tmp_path, TINY_RUN + '[sweep]\ncapture = [0.8]\nscale_exponent = [0.9]\n')
    run_sweep(path, tmp_path / "o", workers=1)
    (key,) = table(tmp_path / "o")["key"]
    folder = tmp_path / "o" / "scenarios" / key
    code, verified, _ = run(capsys, "verify", "suffolk-2023", folder / "plan.json", "--model", folder / "model.toml")
    assert code == 0, verified
    code, _, _ = run(capsys, "verify", "suffolk-2023", folder / "plan.json", "--model", "uk-central")
    assert code == 1  # the shipped model's figures are not the scenario's


def test_sweep_help_has_examples_and_exit_codes(capsys):
    code, stdout, _ = run(capsys, "sweep", "--help")
    assert code == 0 and "examples:" in stdout and "exit status:" in stdout and "--scheduler" in stdout


@pytest.mark.parametrize("name, count", [("sweep-suffolk.toml", 12), ("sweep-kent-lhs.toml", 24)])
def test_the_shipped_examples_plan_their_scenarios(name, count):
    found, tasks = plan_sweep(read_sweep(ROOT / "examples" / name))  # every model variant built and checked
    assert len(found) == len(tasks) == count


def solve_or_die(task: dict) -> dict:
    """A pool worker's task that ends its process, as running out of memory would, for one scenario."""
    if task["values"].get("max_size") == 3:
        os._exit(9)
    return run_scenario(task)


def test_a_worker_that_dies_fails_its_scenario_and_the_others_go_on(tmp_path):
    from optimiser.research.runners import run_on_pool

    sweep = read_sweep(sweep_file(tmp_path, TINY_RUN + '[sweep]\nmax_size = [2, 3, 4, 5]\n'))
    tasks = [task_of(sweep, s) for s in scenarios(sweep)]
    results = {r["values"]["max_size"]: r["row"] for r in run_on_pool(tasks, 2, solve=solve_or_die)}
    assert sorted(results) == [2, 3, 4, 5]
    assert results[3]["status"] == "error" and "worker process died (exit code 9" in results[3]["error"]
    assert all(results[m]["status"] == "optimal" for m in (2, 4, 5))
