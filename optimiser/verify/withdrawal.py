"""The withdrawal figures of SPEC section 5, recomputed by the verifier one subset of
survivors at a time, in plain Python.

For a partnership S (host h, depth d, platform p; yearly net saving A(S), one-off cost O(S))
and exit year k, the members T that stay earn::

    NPV(S -> T) = A(S) * a(1..k) + A'(T) * a(k+1..horizon) - O(S)

with a(i..j) = sum over t = i..j of ramp_t / (1 + rate) ** t (ramp_t the depth's ramp, 1
without one), and A'(T) what T saves a year on its own from year k + 1: 0 unless |T| >= 2 and T passes
every partnership rule at depth d under a host h' (h when it stays, else the member of T
that may host with the largest A(T), ties the smallest code). The rules are asked through
the verifier's own rule checks (:mod:`.games` groups them), A(T) priced by :mod:`.figures`.

Each member's chance of leaving is its ``withdrawal`` column, else base + uncommitted x
(1 - commitment), raised by cross_tier when the tiers differ and by control_mismatch when
two members' known political control differ, and never above 0.95. Then::

    E(S) = sum over T of prod_{i in T} (1 - p_i) * prod_{i not in T} p_i * NPV(S -> T)
    W(S) = min over i of NPV(S -> S without i)          robust: W(S) > 0

Example: a pair with A(S) = 100, O(S) = 150, no discounting, a 10-year horizon and an exit
after year 3: if either leaves the partnership ends, so W(S) = 3 * 100 - 150 = 150 > 0 and
the pair is robust; with p = 0.1 and 0.2 the chance both stay is 0.72, so
E(S) = 0.72 * 850 + 0.28 * 150 = 654.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from itertools import combinations

from .context import Context, Part
from .figures import Member, figures
from .finance import ramp_at
from .games import DEPTH_RULES, HOST_RULES, SET_RULES, breaks_any, entry_part, with_choice

#: nobody is ever certain to leave
MAX_CHANCE = 0.95


def present_value(discount_rate: float, first: int, last: int, ramp=(1.0,)) -> float:
    """a(first..last): one pound a year at the end of each of years first..last, each year's
    pound scaled by that year's ramp_t (SPEC section 8; the last ramp value holds after)."""
    return sum(ramp_at(list(ramp), t) * (1.0 + discount_rate) ** -t for t in range(first, last + 1))


@dataclass(frozen=True)
class RiskFigures:
    """SPEC section 5's figures of one partnership entry, as the verifier works them out."""

    chances: dict  # {member: p_i(S)}
    expected: float  # E(S)
    after_one_leaves: dict  # {member: NPV(S -> S without it)}

    @property
    def worst(self) -> float:
        return min(self.after_one_leaves.values())

    @property
    def robust(self) -> bool:
        return self.worst > 0


def chances(ctx: Context, members) -> dict[str, float]:
    """p_i(S) of each member of S."""
    risk = ctx.model.risk
    councils = [ctx.councils[c] for c in members]
    mixed_tiers = len({c.tier for c in councils}) > 1
    mixed_control = len({c.control for c in councils if c.control}) > 1
    out = {}
    for c in councils:
        own = c.withdrawal if c.withdrawal is not None else risk.base + risk.uncommitted * (1.0 - c.commitment)
        raised = own + (risk.cross_tier if mixed_tiers else 0.0) + (risk.control_mismatch if mixed_control else 0.0)
        out[c.code] = min(MAX_CHANCE, raised)
    return out


def later_saving(ctx: Context, part: Part, stay: tuple[str, ...]) -> float:
    """A'(T): the survivors' yearly net saving after the exit year, 0 when they cannot go on."""
    if len(stay) < 2:
        return 0.0
    fid, depth = part.function, part.depth
    probe = entry_part(ctx, fid, stay, stay[0], depth.id)
    if breaks_any(ctx, probe, SET_RULES + DEPTH_RULES):
        return 0.0
    hosts = [part.host] if part.host in stay else sorted(stay)
    best = None
    for host in hosts:
        if breaks_any(ctx, with_choice(probe, host, depth), HOST_RULES):
            continue
        team = [Member(c, ctx.baseline(c, fid)[0], ctx.councils[c].population, ctx.distance(c, host), ctx.platform_of(c, fid))
                for c in stay]
        annual = figures(part.model_function, depth, team, part.platform,
                         discount_rate=ctx.model.discount_rate, horizon_years=ctx.model.horizon_years).annual
        if best is None or annual > best:  # sorted codes: the first of equals is the smallest
            best = annual
    return 0.0 if best is None else best


def after_leaving(ctx: Context, part: Part, stay: tuple[str, ...]) -> float:
    """NPV(S -> T) for the members ``stay`` of an entry whose figures are known."""
    model = ctx.model
    k, horizon, rate = model.risk.exit_year, model.horizon_years, model.discount_rate
    fig = part.figures
    if len(stay) == len(part.members):
        later = fig.annual
    else:
        later = later_saving(ctx, part, stay)
    ramp = part.depth.ramp
    return fig.annual * present_value(rate, 1, k, ramp) + later * present_value(rate, k + 1, horizon, ramp) - fig.one_off


def risk_figures(ctx: Context, part: Part) -> RiskFigures:
    """p_i(S), E(S) and NPV(S -> S without i) of an entry whose figures are known."""
    members = part.members
    p = chances(ctx, members)
    worth: dict[tuple[str, ...], float] = {}  # NPV(S -> T), each T priced once

    def npv_after(stay: tuple[str, ...]) -> float:
        if stay not in worth:
            worth[stay] = after_leaving(ctx, part, stay)
        return worth[stay]

    expected = 0.0
    for size in range(len(members) + 1):
        for stay in combinations(members, size):
            weight = 1.0
            for c in members:
                weight *= (1.0 - p[c]) if c in stay else p[c]
            if weight > 0:  # a subset nobody can reach adds nothing
                expected += weight * npv_after(stay)
    one_leaves = {c: npv_after(tuple(m for m in members if m != c)) for c in members}
    return RiskFigures(p, expected, one_leaves)


_RISKS: dict[int, dict[int, RiskFigures]] = {}


def risk_of(ctx: Context, part: Part) -> RiskFigures | None:
    """The entry's figures, worked out once per context; None when its savings are unknown."""
    if part.figures is None or part.function not in ctx.functions:
        return None
    key = id(ctx)
    if key not in _RISKS:
        _RISKS[key] = {}
        weakref.finalize(ctx, _RISKS.pop, key, None)
    found = _RISKS[key]
    if part.index not in found:
        found[part.index] = risk_figures(ctx, part)
    return found[part.index]
