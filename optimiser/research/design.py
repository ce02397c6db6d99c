"""The scenarios of a sweep: every combination of a grid, or a Latin-hypercube sample.

Each scenario is the values of the swept dimensions, and its key a hash of the canonical
scenario (the base run and those values, as sorted JSON): the same scenario has the same key
in every run of the same sweep file, so a sweep started again finds what it finished.

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


def scenario_key(run: dict, values: dict) -> str:
    """The hash of the canonical scenario: the base run and the swept values."""
    canonical = json.dumps({"run": run, "vary": values}, sort_keys=True, separators=(",", ":"), default=list)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:KEY_LENGTH]


def scenarios(sweep: SweepFile) -> list[Scenario]:
    """Every scenario the sweep file asks for, in order, each once."""
    if sweep.sample == "grid":
        names = list(sweep.dimensions)
        combinations = [dict(zip(names, combo)) for combo in itertools.product(*sweep.dimensions.values())]
    else:
        combinations = latin_hypercube(sweep.dimensions, sweep.n, sweep.seed)
    found: dict[str, Scenario] = {}
    for values in combinations:
        key = scenario_key(sweep.run, values)
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

