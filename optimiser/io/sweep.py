"""Sweep files: a base run and the dimensions a scenario sweep varies (the format is in
README.md, "Scenario sweeps").

A sweep file has two tables. ``[run]`` is one run as ``optimiser solve`` takes it (the
instance, a model, the run options under their plan.json names, ``time_limit`` per
scenario). ``[sweep]`` names each swept dimension with the values it takes: a full grid of
every combination (``sample = "grid"``, the default), or a Latin-hypercube sample
(``sample = "lhs"``, ``n``, ``seed``) where a number's dimension is a range ``[low, high]``
and any other dimension a list of choices.

Everything is checked here that the file alone decides (keys, types, ranges, each run
option's value), each problem an InputError naming the file and the key. What needs the
instance (an area's name, a model variant's figures) is checked where the sweep is planned.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from . import values
from .run import RunOptions
from .tables import read_toml
from .variants import FACTORS, FINANCE_SETTINGS, RISK_SETTINGS

SAMPLES = ("grid", "lhs")
#: run options a sweep file may set in [run]; ``jobs`` is the sweep's own (one per scenario)
RUN_KEYS = ("instance", "model", "area", "functions", "budget", "exclude", "withdraw", "apart", "max_size", "objective",
            "robust", "loan", "shares", "solver", "method", "time_limit", "lock", "keep_existing")
#: run options a sweep may vary; "none" for budget and loan means no budget, one-off costs in cash
OPTION_DIMENSIONS = ("model", "area", "functions", "budget", "max_size", "objective", "robust", "loan", "shares",
                     "exclude", "withdraw", "method", "time_limit", "keep_existing")
#: dimensions whose values are whole numbers (an LHS range of them gives whole numbers)
WHOLE = {"max_size": (2, None), "horizon_years": (2, 200), "risk_exit_year": (1, 199)}
#: dimensions whose values are numbers, with the range each must keep
NUMBERS = {**{name: (0.0, None) for name in FACTORS}, "discount_rate": (0.0, 1.0),
           **{name: (0.0, 1.0) for name in RISK_SETTINGS if name != "risk_exit_year"}, **WHOLE}
DIMENSIONS = (*FACTORS, *FINANCE_SETTINGS, *RISK_SETTINGS, *OPTION_DIMENSIONS)
NONE_WORD = "none"


@dataclass(frozen=True)
class SweepFile:
    """A sweep file, checked: the base run and the swept dimensions with their values (grid:
    the values; lhs: a (low, high) range for a number, the choices otherwise)."""

    source: Path
    run: dict
    dimensions: dict = field(default_factory=dict)
    sample: str = "grid"
    n: int | None = None
    seed: int = 0

    @property
    def instance(self) -> str:
        return self.run["instance"]

    def where(self, key: str) -> str:
        return f"sweep.{key}" if key in self.dimensions else f"run.{key}"


def read_sweep(path: str | Path) -> SweepFile:
    """Reads and checks a sweep file; an InputError names the file and the key on any problem."""
    path = Path(path)
    data = read_toml(path)
    source = str(path)
    _known(data, ("run", "sweep"), source, "")
    for table in ("run", "sweep"):
        if table not in data:
            raise InputError(source, f"missing table [{table}]", table)
        if not isinstance(data[table], dict):
            raise InputError(source, "must be a table of keys", table)
    run = _run(data["run"], source, path.parent)
    sweep = dict(data["sweep"])
    sample = sweep.pop("sample", "grid")
    if sample not in SAMPLES:
        raise InputError(source, f"must be \"grid\" or \"lhs\", got {sample!r}", "sweep.sample")
    n = sweep.pop("n", None)
    seed = sweep.pop("seed", 0)
    if sample == "grid":
        for key, value in (("n", n), ("seed", seed if seed != 0 else None)):
            if value is not None:
                raise InputError(source, "is only for sample = \"lhs\" (a grid runs every combination)", f"sweep.{key}")
    else:
        if n is None:
            raise InputError(source, "missing required key: the number of scenarios of the Latin hypercube", "sweep.n")
        n = _whole(n, source, "sweep.n", 1)
        seed = _whole(seed, source, "sweep.seed", 0)
    _known(sweep, DIMENSIONS, source, "sweep")
    if not sweep:
        raise InputError(source, f"names no dimension to sweep (known: {', '.join(DIMENSIONS)})", "sweep")
    for key in sweep:
        if key in run:
            raise InputError(source, "is set in [run] too; give it in one table", f"sweep.{key}")
    dimensions = {key: _dimension(key, value, sample, source) for key, value in sweep.items()}
    if "model" in dimensions:
        dimensions["model"] = tuple(_beside(ref, path.parent) for ref in dimensions["model"])
    return SweepFile(path, run, dimensions, sample, n, seed)


def _known(table: dict, keys, source: str, where: str) -> None:
    for key in table:
        if key not in keys:
            close = difflib.get_close_matches(key, list(keys), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise InputError(source, f"unknown key ({hint}known: {', '.join(keys)})", f"{where}.{key}" if where else key)


def _run(table: dict, source: str, folder: Path) -> dict:
    _known(table, RUN_KEYS, source, "run")
    if "instance" not in table:
        raise InputError(source, "missing required key: an instance folder or the name of a shipped instance", "run.instance")
    run = {}
    for key, value in table.items():
        if key in ("instance", "model"):
            if not isinstance(value, str) or not value.strip():
                raise InputError(source, f"must be non-empty text, got {value!r}", f"run.{key}")
            run[key] = _beside(value.strip(), folder)
        else:
            run[key] = option_value(key, value, source, f"run.{key}")
    return run


def _beside(ref: str, folder: Path) -> str:
    """A folder or file named relative to the sweep file, as an absolute path; a name with
    nothing of that name beside the sweep file is left as is (a shipped instance or model)."""
    candidate = folder / ref
    if candidate.exists():
        return str(candidate.resolve())
    return ref


def option_value(key: str, value, source: str, where: str):
    """One run option's value, checked as the run options check it (an InputError naming the
    file and ``where``); "none" for budget and loan means none."""
    if key in ("budget", "loan") and isinstance(value, str) and value.strip().lower() == NONE_WORD:
        return None
    if key == "model":
        if not isinstance(value, str) or not value.strip():
            raise InputError(source, f"must be non-empty text (a model's name or path), got {value!r}", where)
        return value.strip()
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(source, f"must be a finite number, got {value!r}", where)
    try:
        RunOptions.create(**{key: value})
        if key == "budget":  # pounds as a number, so that tables and plots can use it
            return values.amount(value)
        if key == "time_limit":
            return values.duration(value)
    except InputError as exc:
        raise InputError(source, exc.problem, where) from None
    return value


def _whole(value, source: str, where: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(source, f"must be a whole number, got {value!r}", where)
    if value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise InputError(source, f"must be {bound}, got {value!r}", where)
    return value


def number_value(key: str, value, source: str, where: str):
    """A number dimension's value, in its range."""
    low, high = NUMBERS[key]
    if key in WHOLE:
        return _whole(value, source, where, low, high)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(source, f"must be a number, got {value!r}", where)
    if value < low or (high is not None and value > high) or (key in FACTORS and value == 0):
        bound = "more than 0 (1 keeps the model's figure)" if key in FACTORS else f"from {low:g} to {high:g}"
        raise InputError(source, f"must be {bound}, got {value!r}", where)
    return float(value)


def _dimension(key: str, value, sample: str, source: str):
    where = f"sweep.{key}"
    if not isinstance(value, list) or not value:
        form = "[low, high]" if sample == "lhs" and key in NUMBERS else "a list of the values it takes"
        raise InputError(source, f"must be {form}, got {value!r}", where)
    is_number = key in NUMBERS or (key == "budget" and sample == "lhs")
    if sample == "lhs" and is_number:
        if len(value) != 2:
            raise InputError(source, f"an LHS range is [low, high], got {len(value)} values", where)
        if key == "budget":
            low, high = (_amount(v, source, where) for v in value)
        else:
            low, high = (number_value(key, v, source, where) for v in value)
        if not low <= high:
            raise InputError(source, f"the range's low end {low:g} is above its high end {high:g}", where)
        return (low, high)
    checked = [number_value(key, v, source, f"{where}[{k}]") if key in NUMBERS else
               option_value(key, v, source, f"{where}[{k}]") for k, v in enumerate(value)]
    shown = [repr(v) for v in checked]
    for k, text in enumerate(shown):
        if text in shown[:k]:
            raise InputError(source, f"value {value[k]!r} is listed twice", f"{where}[{k}]")
    return tuple(checked)


def _amount(value, source: str, where: str) -> float:
    try:
        return values.amount(value, where)
    except InputError as exc:
        raise InputError(source, exc.problem, where) from None
