"""One scenario of a sweep, solved where it is sent (a pool worker or a Dask worker).

A task is plain data (the scenario's key and values, the instance and model as names or
paths, the run options), so it crosses to any process or machine; the result is plain data
too, with the scenario's plan.json as text (and its model variant as a model file's text),
and the process that started the sweep writes it.
A scenario that cannot be solved (an area the instance does not have, a model variant out of
range, a solver failure) gives a result with its error instead of stopping the sweep.
"""

from __future__ import annotations

import functools
import logging
import time

from ..errors import InputError
from ..highs import use_one_thread
from ..io.instance import load_instance
from ..io.model import load_model
from ..io.run import RunOptions
from ..io.sweep import OPTION_DIMENSIONS, SweepFile
from ..io.variants import FACTORS, SETTINGS, model_toml, varied_model
from .design import Scenario

log = logging.getLogger(__name__)

#: the figures of each scenario's row, beside its swept values
FIGURES = ("status", "error", "gap", "npv", "expected_npv", "annual_saving", "one_off_cost", "partnerships",
           "mean_partnership_size", "largest_partnership", "verified", "seconds")
FUNCTION_FIGURES = ("key", "function", "npv", "annual_saving", "one_off_cost", "partnerships", "mean_partnership_size",
                    "largest_partnership")


def task_of(sweep: SweepFile, scenario: Scenario) -> dict:
    """What a worker needs to solve ``scenario``: plain data."""
    values = scenario.values
    options = {k: v for k, v in sweep.run.items() if k not in ("instance", "model")}
    options.update({k: v for k, v in values.items() if k in OPTION_DIMENSIONS and k != "model"})
    return {"key": scenario.key, "values": dict(values), "instance": sweep.instance,
            "model": values.get("model", sweep.run.get("model")), "options": options,
            "factors": {k: v for k, v in values.items() if k in FACTORS and v != 1},  # x1 keeps the model as it is
            "settings": {k: v for k, v in values.items() if k in SETTINGS}}


@functools.lru_cache(maxsize=8)
def read_instance(ref: str):
    """The instance ``ref`` names, read once per process."""
    return load_instance(ref)


@functools.lru_cache(maxsize=16)
def base_model(ref: str | None, instance_ref: str):
    """The model ``ref`` names (None: the instance's own), read once per process."""
    instance = read_instance(instance_ref)
    ref = ref or instance.model_ref
    if ref is None:
        raise InputError(instance.folder / "instance.toml", "names no default model; set model in [run]", "model")
    return load_model(ref, near=instance.folder)


def scenario_model(task: dict):
    """The scenario's savings model: the base model, varied by the model's own reader."""
    model = base_model(task["model"], task["instance"])
    if task["factors"] or task["settings"]:
        model = varied_model(model, task["factors"], task["settings"], source=f"scenario {task['key']}")
    return model


@functools.cache
def _one_thread() -> None:
    use_one_thread()


def run_scenario(task: dict) -> dict:
    """Solves one scenario with HiGHS on one thread and verifies its plan; the result's
    ``plan`` is plan.json's text (None when there is no plan)."""
    from .. import api
    from ..verify import verify

    _one_thread()
    started = time.perf_counter()
    try:
        instance = read_instance(task["instance"])
        model = scenario_model(task)
        options = RunOptions.create(**task["options"], jobs=1)
        plan = api.solve(instance, model, options)
        report = verify(instance, plan, model)
        if not report.ok:
            raise RuntimeError(f"the plan failed independent verification: {report.problems[0]}")
    except InputError as exc:
        return failed(task, str(exc), started)
    except Exception as exc:  # the sweep goes on; the scenario records what went wrong
        log.warning("scenario %s failed: %s: %s", task["key"], type(exc).__name__, exc)
        return failed(task, f"internal error: {type(exc).__name__}: {' '.join(str(exc).split())}", started)
    return finished(task, plan, model, time.perf_counter() - started)


def failed(task: dict, error: str, started: float) -> dict:
    row = {name: None for name in FIGURES}
    row.update(status="error", error=error, seconds=time.perf_counter() - started)
    return {"key": task["key"], "values": task["values"], "row": row, "functions": [], "plan": None, "model": None}


def sizes(partnerships) -> tuple[float | None, int | None]:
    """The mean and largest number of members of ``partnerships`` (None when there are none)."""
    counts = [len(p.members) for p in partnerships]
    return (sum(counts) / len(counts), max(counts)) if counts else (None, None)


def finished(task: dict, plan, model, seconds: float) -> dict:
    mean, largest = sizes(plan.partnerships)
    row = {"status": plan.status, "error": None, "gap": plan.solver.gap, "npv": plan.totals.npv,
           "expected_npv": plan.totals.expected_npv, "annual_saving": plan.totals.annual_saving,
           "one_off_cost": plan.totals.one_off_cost, "partnerships": len(plan.partnerships),
           "mean_partnership_size": mean, "largest_partnership": largest, "verified": True, "seconds": seconds}
    functions = []
    for fid in plan.options.functions or model.function_ids:
        own = [p for p in plan.partnerships if p.function == fid]
        mean, largest = sizes(own)
        functions.append({"key": task["key"], "function": fid, "npv": sum(p.npv for p in own),
                          "annual_saving": sum(p.annual_saving for p in own), "one_off_cost": sum(p.one_off_cost for p in own),
                          "partnerships": len(own), "mean_partnership_size": mean, "largest_partnership": largest})
    varied = task["factors"] or task["settings"]
    return {"key": task["key"], "values": task["values"], "row": row, "functions": functions, "plan": plan.to_json(),
            "model": model_toml(model) if varied else None}
