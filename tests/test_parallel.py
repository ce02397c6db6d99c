"""Blocks solved in worker processes: the same optimum as in one process, and every
failure, progress report and log record carried back to the caller."""

from __future__ import annotations

import dataclasses
import logging
import pickle
import queue
import random
import subprocess
import sys
import threading
import time

import pytest

from optimiser.solve import clock
from optimiser.processes import read_all, worker_environment
from optimiser.solve import workers as parallel
from optimiser.api import solve
from optimiser.errors import InputError, SolveError
from optimiser.problem import RunOptions
from optimiser.verify import verify
from test_exact import write_grid
from test_group_worth import same_stability


@pytest.fixture
def small_runs_in_parallel(monkeypatch):
    monkeypatch.setattr(parallel, "MIN_PAIRS", 0)


@pytest.mark.parametrize("seed,locked", [(21, False), (22, True), (23, False)])
def test_workers_reach_the_same_optimum(tmp_path, small_runs_in_parallel, seed, locked):
    folder = write_grid(tmp_path / "grid", random.Random(seed), 6, limits=False, locked=locked, max_size=5)
    model = folder / "model.toml"
    alone = solve(folder, model, RunOptions(jobs=1))
    events = []
    shared = solve(folder, model, RunOptions(jobs=2), progress=events.append)
    assert alone.stats["jobs"] == 1 and shared.stats["jobs"] == 2
    assert alone.status == shared.status == "optimal"
    assert shared.objective == pytest.approx(alone.objective, rel=1e-9, abs=1e-6)
    assert verify(folder, shared.data, model).ok
    # the groups' worth recorded in the workers gives the stability worked out in one process
    assert same_stability(shared.stability, alone.stability)
    # every function's candidates were reported from whichever worker generated them
    assert {e[1] for e in events if e[0] == "candidates"} == {"back-office", "waste"}


def test_worker_logs_reach_the_caller(tmp_path, small_runs_in_parallel, caplog):
    folder = write_grid(tmp_path / "grid", random.Random(24), 5, limits=False, locked=False)
    with caplog.at_level(logging.INFO, logger="optimiser"):
        solve(folder, folder / "model.toml", RunOptions(jobs=2))
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("candidates for back-office") for m in messages)
    assert any(m.startswith("candidates for waste") for m in messages)


def test_a_time_limit_holds_across_workers(tmp_path, small_runs_in_parallel):
    folder = write_grid(tmp_path / "grid", random.Random(25), 6, limits=False, locked=True, max_size=5)
    model = folder / "model.toml"
    # a limit far beyond the solve's needs changes nothing (a deadline carried between
    # processes wrongly would end it at once)
    roomy = solve(folder, model, RunOptions(jobs=2, time_limit=600))
    assert roomy.status == "optimal" and roomy.stats["jobs"] == 2
    tight = solve(folder, model, RunOptions(jobs=2, time_limit=2))
    assert tight.status in ("optimal", "time_limit")
    assert tight.solver["bound"] >= tight.solver["objective"] - 1e-6 * abs(tight.solver["objective"])
    assert verify(folder, tight.data, model).ok


def test_deadlines_cross_between_clocks():
    now = time.perf_counter()
    for seconds in (0.0, 1.5, 600.0):
        assert clock.local_clock(clock.wall_clock(now + seconds)) == pytest.approx(now + seconds, abs=0.05)
    assert clock.wall_clock(None) is None and clock.local_clock(None) is None


def test_worker_count(tmp_path, monkeypatch):
    from optimiser.problem import load_run
    from optimiser.solve.exact import blocks
    from optimiser.problem import prepare

    folder = write_grid(tmp_path / "grid", random.Random(26), 5, limits=False, locked=False)

    def count(**options):
        instance, model, run = load_run(folder, folder / "model.toml", **options)
        problem = prepare(instance, model, run)
        return parallel.worker_count(problem, blocks(problem))

    assert count(jobs=4) == 1  # too small to be worth a worker's start-up
    monkeypatch.setattr(parallel, "MIN_PAIRS", 0)
    assert count(jobs=4) == 2  # one worker per block at most
    assert count(jobs=1) == 1
    assert count(jobs=4, functions=("waste",)) == 1  # one block
    assert count(jobs=4, budget=1e6) == 1  # a budget ties the functions into one block


def test_bad_job_counts_are_input_errors():
    for jobs in (0, -1, 1.5, True):
        with pytest.raises(InputError, match="--jobs"):
            RunOptions(jobs=jobs)


def test_input_errors_cross_process_boundaries_intact():
    error = InputError("models/x.toml", "function 'ict': too many groups", "line 3")
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.source, copy.problem, copy.where) == (InputError, str(error), error.source, error.problem, error.where)


def _serve_fake_worker(code: str):
    """What the parent makes of a 'worker' running ``code``: the error serve raises."""
    process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    inbox: queue.Queue = queue.Queue()
    threading.Thread(target=read_all, args=(0, process.stdout, inbox), daemon=True).start()
    outcome: list = []

    def serve():
        try:
            parallel.serve([process], [0], [[0]], inbox, None)
        except Exception as exc:
            outcome.append(exc)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    server.join(timeout=60)
    process.kill()
    process.wait()
    process.stdin.close()
    process.stdout.close()
    assert not server.is_alive(), "the parent hung on a broken worker"
    return outcome[0] if outcome else None


def test_a_worker_that_dies_is_an_error_not_a_hang():
    error = _serve_fake_worker("import sys; sys.exit(3)")
    assert isinstance(error, SolveError) and "exit status 3" in str(error)


def test_a_worker_that_prints_garbage_is_an_error_not_a_hang():
    error = _serve_fake_worker("print('hello from a stray print statement')")
    assert isinstance(error, SolveError) and "unreadable message" in str(error)


def test_a_worker_without_a_task_exits_quietly(tmp_path):
    # started from an unrelated folder, as a caller's script might be
    done = subprocess.run(parallel.WORKER_COMMAND, input=b"", capture_output=True, timeout=60, cwd=tmp_path,
                          env=worker_environment())
    assert done.returncode == 0 and done.stdout == b"", done.stderr.decode()[-500:]


def test_workers_leave_no_trace_on_the_terminal(tmp_path):
    """A script that solves with workers prints only its own output, and exits cleanly."""
    folder = write_grid(tmp_path / "grid", random.Random(27), 5, limits=False, locked=False)
    script = tmp_path / "run.py"
    script.write_text(
        "from optimiser.solve import workers as parallel\n"
        "from optimiser.api import solve\n"
        "parallel.MIN_PAIRS = 0\n"  # no __main__ guard on purpose: workers must not re-run this
        f"plan = solve({str(folder)!r}, {str(folder / 'model.toml')!r}, jobs=2)\n"
        "print(plan.status, plan.stats['jobs'])\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, timeout=300, cwd=tmp_path,
                          env=worker_environment())
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert done.stdout.decode().split() == ["optimal", "2"]
    assert done.stderr == b"", done.stderr.decode()[-2000:]


# ---------------------------------------------------------------- shares and stability in workers


def test_task_workers_return_results_in_task_order():
    from optimiser.processes import map_in_workers

    assert map_in_workers("operator:add", 10, [5, 1, 3, 0], 2) == [15, 11, 13, 10]


def test_a_task_workers_failure_is_raised_in_the_caller():
    from optimiser.processes import map_in_workers

    with pytest.raises(ZeroDivisionError):
        map_in_workers("operator:truediv", 1, [1, 0, 2], 2)


@pytest.mark.parametrize("seed,locked,rule", [(31, False, "nucleolus"), (32, True, "shapley")])
def test_shares_and_stability_in_workers_equal_those_of_one_process(tmp_path, monkeypatch, caplog, seed, locked, rule):
    from optimiser.analysis import shares
    from optimiser.problem import load_run, prepare

    folder = write_grid(tmp_path / "grid", random.Random(seed), 5, limits=False, locked=locked, max_size=4)
    model = folder / "model.toml"
    plan = solve(folder, model, RunOptions(jobs=1, shares=rule))
    monkeypatch.setattr(shares, "PARALLEL_WORK", 0)
    instance, savings, options = load_run(folder, model, plan.options)
    alone = shares.with_shares(prepare(instance, savings, dataclasses.replace(options, jobs=1)), plan)
    with caplog.at_level(logging.INFO, logger="optimiser"):
        shared = shares.with_shares(prepare(instance, savings, dataclasses.replace(options, jobs=2)), plan)
    assert any("worker processes" in r.getMessage() for r in caplog.records)
    assert len(shared.stability) == 2 and shared.stability == alone.stability
    assert shared.partnerships == alone.partnerships and shared.councils == alone.councils
    assert same_stability(plan.stability, alone.stability)  # the solve's own (one process) agrees too
