"""The savings arithmetic of SPEC section 3 for one partnership, written out again in plain
Python (no numpy), sharing no code with the engine's vectorised version.

For members with yearly baselines ``b_i`` (spend, or per_capita x population) and
populations ``p_i``, a depth with ``capture`` and ``one_off``, and a function with
``scale_exponent`` (beta), ``coordination`` and ``migration``::

    rate      = 1 - (sum p_i) ** beta / sum(p_i ** beta)
    annual    = capture * rate * sum b_i - coordination * sum(b_i * km(i, host) / 100)
    one_off   = one_off * sum b_i over members not sunk + [common platform] migration * sum(b_i for i not on it)
    npv       = sum over t = 1..T of annual * ramp_t / (1 + discount_rate) ** t - one_off
    payback   = the years until annual * ramp_1 + annual * ramp_2 + ... reach one_off, the
                last year interpolated (one_off / annual without a ramp); None when annual <= 0

``ramp`` is the depth's list of shares of the yearly saving realised in years 1, 2, ... (the
last holding after; [1.0] when the model gives none), SPEC section 8.

Example, two councils of 100 and 150 thousand people (rate about 0.12663)::

    >>> from optimiser.io.model import Depth, Function
    >>> f = Function("rb", "", ("district",), 16.0, 0.8, 0.02, 0.3, 3, (), 0.5)
    >>> d = Depth("shared-management", 0.3, 0.1, 0.0, False)
    >>> m = [Member("A", 1.6e6, 1e5, 0.0, "own:A"), Member("B", 2e6, 1.5e5, 0.0, "own:B")]
    >>> round(figures(f, d, m, None, discount_rate=0.035, horizon_years=10).annual)
    136760
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..io.model import Depth, Function
from . import finance


@dataclass(frozen=True)
class Member:
    """What the arithmetic needs of one member: its yearly baseline (pounds), population,
    distance to the host (km) and current platform."""

    code: str
    baseline: float
    population: float
    km_to_host: float
    platform: str


@dataclass(frozen=True)
class Figures:
    """The recomputed figures of one partnership (pounds; payback in years)."""

    baselines: dict[str, float]
    total: float
    annual: float
    one_off: float
    npv: float
    payback: float | None


def annuity(discount_rate: float, horizon_years: int, ramp=(1.0,)) -> float:
    """Present value of one pound a year, paid at the end of years 1..horizon_years, each
    year's pound scaled by ``ramp``'s share for that year."""
    return finance.npv(1.0, 0.0, list(ramp), discount_rate, horizon_years)


def figures(
    function: Function,
    depth: Depth,
    members: Sequence[Member],
    platform: object,
    *,
    discount_rate: float,
    horizon_years: int,
    sunk: frozenset = frozenset(),
) -> Figures:
    """The yearly saving, one-off cost, NPV and payback of ``members`` sharing ``function``
    at ``depth`` on ``platform`` (ignored unless the depth has a common platform); the depth's
    one-off cost is not charged on the members in ``sunk`` (an arrangement they are in already
    paid it: --keep-existing)."""
    beta = function.scale_exponent
    baselines = {m.code: m.baseline for m in members}
    total = sum(baselines.values())
    population = [m.population for m in members]
    rate = 1.0 - sum(population) ** beta / sum(p**beta for p in population)
    gross = depth.capture * rate * total
    coordination = function.coordination * sum(baselines[m.code] * m.km_to_host / 100.0 for m in members)
    annual = gross - coordination
    migration = 0.0
    if depth.common_platform:
        migration = function.migration * sum(baselines[m.code] for m in members if m.platform != platform)
    one_off = depth.one_off * sum(b for code, b in baselines.items() if code not in sunk) + migration
    ramp = list(getattr(depth, "ramp", (1.0,)))
    npv = finance.npv(annual, one_off, ramp, discount_rate, horizon_years)
    payback = finance.payback_years(annual, one_off, ramp)
    return Figures(baselines, total, annual, one_off, npv, payback)
