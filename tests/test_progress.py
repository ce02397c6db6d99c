"""What a run says while it runs: the long-run warning's rule, the run as a whole (blocks
bounded, overall proven gap, time left), and progress lines away from a terminal."""

from __future__ import annotations

import logging
import random
from types import SimpleNamespace

import numpy as np
import pytest

from optimiser import api
from optimiser.problem import RunOptions, load_run, prepare
from optimiser.progress import ProgressEvent, RunTracker
from optimiser.report.terminal import TerminalProgress, duration
from optimiser.solve import estimate
from test_exact import write_grid


def fake_problem(eligible: list[int], max_size: list[int], time_limit=None, councils: int = 400):
    table = np.zeros((len(eligible), councils), dtype=bool)
    for k, n in enumerate(eligible):
        table[k, :n] = True
    return SimpleNamespace(eligible=table, max_size=np.array(max_size), functions=[None] * len(eligible),
                           options=SimpleNamespace(time_limit=time_limit))


def test_the_estimate_by_hand():
    # 50 councils, groups of up to 6: 50 x 2.6^5 = 5,940.69; a second function of 10 councils
    # in pairs adds 10 x 2.6 = 26
    size = estimate.run_size(fake_problem([50, 10], [6, 2]))
    assert size.options == pytest.approx(50 * 2.6 ** 5 + 26)
    assert size.councils == 50 and not size.long


@pytest.mark.parametrize("eligible,max_size,long", [
    ([50] * 15, [6] * 15, True),  # a region with every function: 89,110 estimated
    ([50] * 15, [5] * 15, False),  # the same with groups of up to 5: 34,273
    ([382] * 3, [6] * 3, True),  # three national functions
    ([13] * 15, [6] * 15, False),  # a county
])
def test_the_long_run_warning_comes_for_large_runs_only(eligible, max_size, long):
    problem = fake_problem(eligible, max_size)
    warning = estimate.long_run_warning(problem)
    assert (warning is not None) == long
    if long:
        assert "--time-limit" in warning and "Ctrl-C" in warning
    # never with a time limit: the run ends when it says
    assert estimate.long_run_warning(fake_problem(eligible, max_size, time_limit=60)) is None


def test_the_warning_reaches_the_log_of_a_real_run(tmp_path, caplog, monkeypatch):
    folder = write_grid(tmp_path / "grid", random.Random(41), 4, limits=False, locked=False)
    instance, model, options = load_run(folder, folder / "model.toml", RunOptions())
    assert estimate.long_run_warning(prepare(instance, model, options)) is None  # small: nothing said
    monkeypatch.setattr(estimate, "LONG_RUN_OPTIONS", 1.0)
    with caplog.at_level(logging.WARNING, logger="optimiser"):
        api.solve(folder, folder / "model.toml", RunOptions())
    assert any("no time limit" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="optimiser"):
        api.solve(folder, folder / "model.toml", RunOptions(time_limit=60))
    assert not any("no time limit" in r.getMessage() for r in caplog.records)


def test_the_run_as_a_whole_by_hand():
    run = RunTracker()
    assert run.summary() == ""
    run.add(ProgressEvent("solve", total=2))
    run.add(ProgressEvent("bound", function="ict", bound=110.0, incumbent=100.0, detail="proven"))
    assert run.gap() is None and run.summary() == "1 of 2 bounded"
    run.add(ProgressEvent("bound", function="legal", bound=60.0, incumbent=50.0, detail="proven"))
    # (110 + 60 - 150) / 150
    assert run.gap() == pytest.approx(20 / 150) and run.summary() == "proven gap 13.33%"
    run.add(ProgressEvent("mip", function="ict", part=1, parts=2, bound=105.0, incumbent=104.0))
    assert run.gap() == pytest.approx(11 / 154)
    run.add(ProgressEvent("bound", function="legal", bound=1e9, detail="round 3"))  # not a proven bound
    assert run.gap() == pytest.approx(11 / 154)


def test_a_solve_reports_every_block_and_ends_at_its_own_gap(tmp_path):
    folder = write_grid(tmp_path / "grid", random.Random(42), 5, limits=False, locked=True)
    run = RunTracker()
    events = []

    def progress(event):
        events.append(event)
        run.add(event)

    plan = api.solve(folder, folder / "model.toml", RunOptions(jobs=1), progress=progress)
    assert events[0].stage == "solve" and events[0].total == 2
    assert {e.function for e in events if e.stage == "bound" and e.detail == "proven"} == {"back-office", "waste"}
    assert run.gap() == pytest.approx(plan.solver.gap, abs=1e-9)
    parts = [e for e in events if e.stage == "mip" and e.part is not None]
    assert all(1 <= e.part <= e.parts for e in parts)


def test_time_left_and_the_run_on_the_status_line():
    progress = TerminalProgress(enabled=False, time_limit=300)
    progress.clock = lambda: 30.0
    progress.run.add(ProgressEvent("solve", total=3))
    line = progress.line(ProgressEvent("mip", function="ict", part=2, parts=5, incumbent=1e6, bound=2e6))
    assert line.startswith("[  30.0s] MIP")
    assert "part 2 of 5 done" in line and "0 of 3 bounded" in line and "4m30s left" in line
    progress.clock = lambda: 301.0
    assert "time limit reached" in progress.line(ProgressEvent("mip"))
    assert [duration(s) for s in (5, 65, 3725)] == ["5s", "1m05s", "1h02m"]


def test_away_from_a_terminal_a_line_every_so_often(capsys):
    progress = TerminalProgress(enabled=False, every=30)
    now = [0.0]
    progress.clock = lambda: now[0]
    for t in (1.0, 10.0, 31.0, 40.0, 62.0):
        now[0] = t
        progress(ProgressEvent("candidates", function="ict", done=10, total=20))
    lines = [l for l in capsys.readouterr().err.splitlines() if l]
    assert len(lines) == 2 and lines[0].startswith("optimiser: progress [  31.0s]") and "[  62.0s]" in lines[1]
    # --quiet: never
    quiet = TerminalProgress(enabled=False, every=None)
    quiet.clock = lambda: 1000.0
    quiet(ProgressEvent("candidates"))
    assert capsys.readouterr().err == ""
