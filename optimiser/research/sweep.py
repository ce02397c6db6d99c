"""A scenario sweep from start to finish: plan the scenarios, solve those not yet finished,
record each as it comes back, and rebuild the tables and plots from the scenario files.

Started again with the same sweep file and folder, a sweep solves only what is missing
(finished scenarios, failed ones included, are read back, never solved again); the final
tables hold exactly the scenarios the file asks for, each once, however often the sweep was
stopped, killed or resumed.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..io.run import RunOptions
from ..io.sweep import SweepFile, read_sweep
from ..progress import ProgressEvent, report
from ..version import __version__
from . import store
from .design import Scenario, file_hash, folder_hash, scenarios
from .runners import run_on_dask, run_on_pool
from .scenario import base_model, read_instance, scenario_model, task_of
from .table import frames, write_plots, write_tables

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    """What a sweep did: the scenarios asked for, how many were solved now, read back, failed."""

    out: Path
    total: int
    solved_now: int = 0
    resumed: int = 0
    failed: int = 0
    interrupted: bool = False
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def finished(self) -> int:
        return self.resumed + self.solved_now


def plan_sweep(sweep: SweepFile) -> tuple[list[Scenario], list[dict]]:
    """The scenarios and their tasks, every model variant built and checked first: a figure a
    factor pushes out of range is an InputError naming the sweep file's key."""
    try:
        instance = read_instance(sweep.instance)
    except InputError as exc:
        raise InputError(sweep.source, str(exc), "run.instance") from None
    models = {}
    for ref in sweep.dimensions.get("model", (sweep.run.get("model"),)):
        try:
            models[ref] = base_model(ref, sweep.instance)
        except InputError as exc:  # no default model, or a model that is not there or not valid
            raise InputError(sweep.source, str(exc), "run.instance" if ref is None else sweep.where("model")) from None
    instance_hash = folder_hash(instance.folder, instance.files.values())
    model_hashes = {ref: file_hash(model.path) if model.path else None for ref, model in models.items()}

    def inputs(values: dict) -> dict:
        ref = values.get("model", sweep.run.get("model"))
        return {"version": __version__, "instance": instance_hash, "model": model_hashes[ref]}

    found = scenarios(sweep, inputs)
    if sweep.sample == "lhs" and len(found) < sweep.n:
        log.warning("the sample repeats scenarios (whole numbers and choices only); %d distinct of n = %d", len(found), sweep.n)
    tasks = [task_of(sweep, scenario) for scenario in found]
    check_options(sweep, instance, models, tasks)
    checked = set()
    for task in tasks:
        if not (task["factors"] or task["settings"]):
            continue
        signature = (task["model"], tuple(sorted(task["factors"].items())), tuple(sorted(task["settings"].items())))
        if signature in checked:
            continue
        checked.add(signature)
        try:
            scenario_model(task)
        except InputError as exc:
            if exc.source.startswith("scenario "):  # the variant, not the base model, is out of range
                figure = (exc.where or "").replace("risk.", "risk_").rsplit(".", 1)[-1].split("[")[0]
                changed = [*task["factors"], *task["settings"]]
                keys = ", ".join(sweep.where(k) for k in ([figure] if figure in changed else changed))
                raise InputError(sweep.source, f"{exc.where}: {exc.problem} in the scenario {task['values']}", keys) from None
            raise
    return found, tasks


def check_options(sweep: SweepFile, instance, models: dict, tasks: list[dict]) -> None:
    """Every scenario's run options against the instance and its base model (the names of
    areas, functions and councils), each distinct set once: a name neither has is an
    InputError naming the sweep file's key, before anything is solved."""
    seen = set()
    for task in tasks:
        signature = (task["model"], json.dumps(task["options"], sort_keys=True, default=list))
        if signature in seen:
            continue
        seen.add(signature)
        try:
            RunOptions.create(**task["options"]).resolved(instance, models[task["model"]])
        except InputError as exc:
            name = exc.source.removeprefix("--").replace("-", "_")
            swept = name in sweep.dimensions
            scenario = f" in the scenario {task['values']}" if swept else ""
            raise InputError(sweep.source, f"{exc.problem}{scenario}", sweep.where(name)) from None


def run_sweep(sweep: SweepFile | str | Path, out: str | Path, *, workers: int = 1, scheduler: str | None = None,
              progress=None, dask_processes: bool = True) -> SweepResult:
    """Runs every scenario of ``sweep`` not yet finished in ``out`` and writes the tables and
    plots; ``scheduler`` is None (a pool of ``workers`` processes), "local" (a Dask
    LocalCluster of ``workers``) or a Dask scheduler's address. Ctrl-C stops it with the
    finished scenarios kept and the tables rebuilt (``interrupted`` set, KeyboardInterrupt
    raised again)."""
    started = time.perf_counter()
    if not isinstance(sweep, SweepFile):
        sweep = read_sweep(sweep)
    out = Path(out)
    found, tasks = plan_sweep(sweep)
    keys = [s.key for s in found]
    done = store.finished(out, keys)
    result = SweepResult(out, len(found), resumed=len(done))
    result.failed = sum(1 for record in done.values() if record["row"]["status"] == "error")
    pending = [task for task in tasks if task["key"] not in done]
    if done:
        log.info("%d of %d scenarios are finished in %s already; solving the other %d", len(done), len(found), out, len(pending))
    clock = time.perf_counter()
    _tell(progress, result, clock, len(pending))
    runner = (run_on_pool(pending, workers) if scheduler is None else
              run_on_dask(pending, scheduler, workers, processes=dask_processes))
    try:
        for record in runner:
            store.save(out, record)
            done[record["key"]] = record
            result.solved_now += 1
            if record["row"]["status"] == "error":
                result.failed += 1
                log.warning("scenario %s (%s) failed: %s", record["key"], Scenario(record["key"], record["values"]).label(),
                            record["row"]["error"])
            _tell(progress, result, clock, len(pending))
    except KeyboardInterrupt:
        result.interrupted = True
        raise
    finally:
        records = [done[key] for key in keys if key in done]
        dimensions = list(sweep.dimensions)
        table, functions = frames(records, dimensions)
        result.files = write_tables(out, table, functions)
        if not result.interrupted:
            result.files += write_plots(out, table, dimensions)
        result.seconds = time.perf_counter() - started
    return result


def _tell(progress, result: SweepResult, started: float, pending: int) -> None:
    elapsed = time.perf_counter() - started
    left = None
    if result.solved_now:
        left = elapsed / result.solved_now * (pending - result.solved_now)
    failed = f"{result.failed} failed" if result.failed else ""
    report(progress, ProgressEvent("sweep", None, result.finished, result.total, elapsed=elapsed,
                                   detail="; ".join(t for t in (failed, _left(left)) if t)))


def _left(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = round(seconds)
    if seconds >= 3600:
        return f"about {seconds // 3600}h {seconds % 3600 // 60:02d}m left"
    if seconds >= 60:
        return f"about {seconds // 60}m {seconds % 60:02d}s left"
    return f"about {seconds}s left"
