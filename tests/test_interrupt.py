"""A solve stopped on request keeps its work: the best plan so far, verified like any plan,
with status interrupted and a bound that really bounds the optimum; and the command line's
Ctrl-C and SIGTERM, once (stop and write) or twice (abort, nothing written)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from randomized import brute_force, check_plan, make_case

from optimiser import api
from optimiser.cli.stopping import StopOnSignal
from optimiser.problem import RunOptions
from optimiser.solve import stop as stop_request
from optimiser.solve import workers as parallel
from optimiser.solve.mip import solve_mip
from optimiser.verify import verify
from test_exact import write_grid

REL, ABS = 1e-6, 1e-6


pytestmark = pytest.mark.usefixtures("warnings_off")


def stop_at(stage: str, count: int = 1):
    """A progress callback and the event it sets on its ``count``-th event of ``stage``."""
    event = threading.Event()
    seen = []

    def progress(e) -> None:
        seen.append(e.stage)
        if seen.count(stage) >= count:
            event.set()

    return progress, event


def check_honest(plan, optimum: float, where: str) -> None:
    """The plan is no better than the optimum, and its bound and gap no smaller than the truth."""
    slack = REL * abs(optimum) + ABS
    assert plan.objective <= optimum + slack, where
    assert plan.solver.bound >= optimum - slack, f"bound {plan.solver.bound} below the optimum {optimum}: {where}"
    if plan.status == "optimal":
        assert plan.objective == pytest.approx(optimum, rel=REL, abs=ABS), where
    elif plan.solver.gap is not None and plan.objective > 0:
        assert plan.solver.gap >= (optimum - plan.objective) / plan.objective - 1e-9, where


CASES = [(seed, "default") for seed in (3, 7, 11, 19)] + [(seed, "coupled") for seed in (10_002, 10_004, 10_007)] + [
    (seed, "wide") for seed in (60_001, 60_002, 60_005)] + [(seed, "finance") for seed in (80_006, 80_013, 80_017, 80_021)]


# the second "solve" is the solve with headroom limits, after the one without them
@pytest.mark.parametrize("stage,count", [("candidates", 1), ("bound", 1), ("candidates", 2), ("solve", 2)], ids=lambda v: str(v))
@pytest.mark.parametrize("seed,profile", CASES, ids=lambda v: str(v))
def test_a_stopped_solve_keeps_a_verified_plan_with_an_honest_gap(tmp_path, seed, profile, stage, count):
    case = make_case(seed, tmp_path / "case", profile)
    optimum = brute_force(case)
    assert optimum.objective is not None, "the cases are chosen feasible: a stop keeps a plan"
    progress, event = stop_at(stage, count)
    plan = api.solve(case.instance_dir, case.model_path, case.options.run_options("exact", "highs"),
                     progress=progress, stop=event)
    where = f"seed {seed} ({profile}), stopped at {stage} event {count}"
    assert plan.status in ("interrupted", "optimal"), where
    check_honest(plan, optimum.objective, where)
    assert not check_plan(case, plan.data), where
    report = verify(case.instance_dir, plan.data, case.model_path)
    assert report.ok, f"{report.problems}: {where}"


def test_a_stop_before_any_work_still_gives_a_plan_and_a_finite_bound(tmp_path):
    case = make_case(60_002, tmp_path / "case", "wide")
    optimum = brute_force(case).objective
    event = threading.Event()
    event.set()
    plan = api.solve(case.instance_dir, case.model_path, case.options.run_options("exact", "highs"), stop=event)
    assert plan.status == "interrupted"
    assert plan.solver.gap is not None and plan.solver.gap > 0  # no LP was solved: a weak, but real, bound
    check_honest(plan, optimum, "stopped before the first LP")
    assert verify(case.instance_dir, plan.data, case.model_path).ok
    # the same run without a stop is proven optimal: the stop, not the case, made the difference
    assert api.solve(case.instance_dir, case.model_path, case.options.run_options("exact", "highs")).status == "optimal"


def test_a_stop_reaches_worker_processes(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "MIN_PAIRS", 0)
    folder = write_grid(tmp_path / "grid", random.Random(31), 6, limits=False, locked=True, max_size=5)
    model = folder / "model.toml"
    best = api.solve(folder, model, RunOptions(jobs=1))
    assert best.status == "optimal"
    for stage in ("candidates", "bound"):
        progress, event = stop_at(stage)
        plan = api.solve(folder, model, RunOptions(jobs=2), progress=progress, stop=event)
        assert plan.stats["jobs"] == 2
        assert plan.status in ("interrupted", "optimal")
        check_honest(plan, best.objective, f"workers stopped at the first {stage} event")
        assert verify(folder, plan.data, model).ok


def test_a_stop_leaves_a_running_mip_with_its_bound(tmp_path):
    folder = write_grid(tmp_path / "grid", random.Random(32), 7, limits=True, locked=False, max_size=5)
    problem, cand = api.build(folder, folder / "model.toml", RunOptions())
    best = solve_mip(problem, cand, solver_name="highs", time_limit=None)
    assert best.status == "optimal"
    event = threading.Event()
    event.set()
    with stop_request.watching(event):
        stopped = solve_mip(problem, cand, solver_name="highs", time_limit=None)
    assert stopped.status in ("time_limit", "optimal")
    assert stopped.bound >= best.objective - 1e-6 * abs(best.objective)
    if stopped.values is not None:
        assert stopped.objective <= best.objective + 1e-6 * abs(best.objective)


def test_watching_nothing_changes_nothing():
    assert not stop_request.requested()
    with stop_request.watching(None):
        assert not stop_request.requested()
    flag = [False]
    with stop_request.watching(lambda: flag[0]):
        assert not stop_request.requested()
        flag[0] = True
        assert stop_request.requested()
    assert not stop_request.requested()
    with pytest.raises(TypeError):
        stop_request.as_request(3)


def test_the_first_signal_stops_and_the_second_aborts():
    stopper = StopOnSignal(quiet=True)
    stopper(signal.SIGINT, None)
    assert stopper.event.is_set()
    with pytest.raises(KeyboardInterrupt):
        stopper(signal.SIGTERM, None)


# ---------------------------------------------------------------- the command line, as a process


def _start(folder: Path, out: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "optimiser", "solve", str(folder), "--model", str(folder / "model.toml"),
               "--out", str(out), "--jobs", "1", "-v"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})


def _signal_once_it_solves(process: subprocess.Popen, signals: list[int]) -> str:
    """Waits for the first LP bound on the process's stderr, then sends ``signals`` (each while
    the process is paused, so that none arrives after the solve has moved on far)."""
    seen = []
    for line in process.stderr:
        seen.append(line)
        if "LP bound" in line:
            break
    for number, sig in enumerate(signals):
        process.send_signal(signal.SIGSTOP)
        process.send_signal(sig)
        process.send_signal(signal.SIGCONT)
        if number + 1 < len(signals):
            time.sleep(0.05)  # the handler runs before the next signal comes
    out, err = process.communicate(timeout=300)
    return "".join(seen) + err


@pytest.fixture(scope="module")
def slow_grid(tmp_path_factory):
    """A grid whose solve takes seconds after its first LP bound (every function, large groups)."""
    return write_grid(tmp_path_factory.mktemp("slow") / "grid", random.Random(33), 8, limits=True, locked=True, max_size=6)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_ctrl_c_writes_the_verified_plan_so_far(tmp_path, slow_grid, sig):
    out = tmp_path / "out"
    process = _start(slow_grid, out)
    err = _signal_once_it_solves(process, [sig])
    assert process.returncode == 4, err[-2000:]
    assert "stopping; the best plan so far will be verified and written" in err
    plan = json.loads((out / "plan.json").read_text())
    assert plan["solver"]["status"] == "interrupted"
    assert plan["solver"]["bound"] >= plan["solver"]["objective"]
    checked = subprocess.run([sys.executable, "-m", "optimiser", "verify", str(slow_grid), str(out / "plan.json"),
                              "--model", str(slow_grid / "model.toml")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout


def test_a_second_ctrl_c_aborts_and_writes_nothing(tmp_path, slow_grid):
    out = tmp_path / "out"
    process = _start(slow_grid, out)
    err = _signal_once_it_solves(process, [signal.SIGINT, signal.SIGINT])
    assert process.returncode == 130, err[-2000:]
    assert "optimiser: interrupted" in err
    assert not (out / "plan.json").exists()
