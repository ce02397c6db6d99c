"""The scenarios of a sweep: every combination of a grid, or a Latin-hypercube sample.

Each scenario is the values of the swept dimensions, and its key a hash of the canonical
scenario (the base run, those values and the fingerprint of its inputs, as sorted JSON): the
same scenario has the same key in every run of the same sweep file, so a sweep started again
finds what it finished. The fingerprint is the package's version and the SHA-256 of the text
of the instance's files and of the scenario's model file: a file edited between two runs gives
new keys, so what was solved with the old figures is never taken for the new.

A Latin hypercube of ``n`` scenarios cuts each dimension into ``n`` strata of equal width and
puts exactly one scenario in each, the strata of the dimensions paired at random
(``numpy.random.default_rng(seed)``, so a seed gives the same sample every time). A number's
range is sampled within each stratum; a whole number's or a list of choices' stratum ``i``
takes the value at the stratum's centre, so each choice is taken about ``n / choices`` times.
Dimensions are drawn in the order of their names: reordering the file does not change the
sample.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io.sweep import NUMBERS, WHOLE, SweepFile

KEY_LENGTH = 12


@dataclass(frozen=True)
class Scenario:
    """One scenario: its key and the value of each swept dimension."""

    key: str
    values: dict

    def label(self) -> str:
        return ", ".join(f"{name}={shown(value)}" for name, value in self.values.items())


def shown(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "; ".join(shown(v) for v in value)
    return str(value)


def scenario_key(run: dict, values: dict, inputs: dict | None = None) -> str:
    """The hash of the canonical scenario: the base run, the swept values and the
    fingerprint of the files it reads (``inputs``)."""
    scenario = {"run": run, "vary": values}
    if inputs is not None:
        scenario["inputs"] = inputs
    canonical = json.dumps(scenario, sort_keys=True, separators=(",", ":"), default=list)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:KEY_LENGTH]


def file_hash(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def folder_hash(folder: Path, also=()) -> str:
    """The SHA-256 of every file in ``folder`` (name-sorted, each with its name) and of the
    files in ``also`` outside it."""
    folder = Path(folder)
    digest = hashlib.sha256()
    inside = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()}
    for path in also:
        path = Path(path)
        if path.is_file() and not path.resolve().is_relative_to(folder.resolve()):
            inside[str(path.resolve())] = path
    for name in sorted(inside):
        digest.update(name.encode("utf-8") + b"\0" + file_hash(inside[name]).encode("ascii") + b"\0")
    return digest.hexdigest()


def scenarios(sweep: SweepFile, inputs=None) -> list[Scenario]:
    """Every scenario the sweep file asks for, in order, each once. ``inputs`` gives the
    fingerprint of a scenario's input files from its values (None: keys of the file alone)."""
    if sweep.sample == "grid":
        names = list(sweep.dimensions)
        combinations = [dict(zip(names, combo)) for combo in itertools.product(*sweep.dimensions.values())]
    else:
        combinations = latin_hypercube(sweep.dimensions, sweep.n, sweep.seed)
    found: dict[str, Scenario] = {}
    for values in combinations:
        key = scenario_key(sweep.run, values, None if inputs is None else inputs(values))
        found.setdefault(key, Scenario(key, values))  # whole numbers and choices can repeat in a sample
    return list(found.values())


def strata(n: int, rng: np.random.Generator) -> np.ndarray:
    """A random permutation of 0..n-1: the stratum of each of ``n`` scenarios in one dimension."""
    return rng.permutation(n)


def latin_hypercube(dimensions: dict, n: int, seed: int) -> list[dict]:
    """``n`` scenarios, one in each of the ``n`` strata of every dimension (module docstring)."""
    rng = np.random.default_rng(seed)
    columns = {}
    for name in sorted(dimensions):
        spec = dimensions[name]
        order = strata(n, rng)
        jitter = rng.random(n)
        if isinstance(spec, tuple) and len(spec) == 2 and name in WHOLE:
            low, high = spec
            centre = (order + 0.5) / n
            columns[name] = [int(min(high, low + math.floor(u * (high - low + 1)))) for u in centre]
        elif isinstance(spec, tuple) and len(spec) == 2 and (name in NUMBERS or name == "budget"):
            low, high = spec
            columns[name] = [float(low + (stratum + u) / n * (high - low)) for stratum, u in zip(order, jitter)]
        else:
            centre = (order + 0.5) / n
            columns[name] = [spec[min(len(spec) - 1, math.floor(u * len(spec)))] for u in centre]
    ordered = [name for name in dimensions]
    return [{name: columns[name][i] for name in ordered} for i in range(n)]

