"""Subgroup values and share rules of SPEC section 6, recomputed by the verifier.

For a chosen partnership S, v(T) of a subgroup T is the largest NPV T could earn as a
partnership of its own under the run's rules (over depth, host and platform), or 0 when
|T| < 2, no option is feasible or the best NPV is not positive; v(S) is S's NPV in the plan.
The budget and the other limits across partnerships do not apply.

:func:`options_of` is the verifier's "best option of a member set": it writes each choice of
host and depth out as a partnership entry of its own (a :class:`~.context.Part`, read as any
plan entry is read) and asks the verifier's own partnership rule checks
(:mod:`.checks_partnerships`) whether it breaks a rule, then prices every platform with
:mod:`.figures`. The rules are asked in three groups, each once: those of the member set
(``SET_RULES``), of the host (``HOST_RULES``, for each member) and of the depth
(``DEPTH_RULES``, for each depth); together with ``npv`` they are every partnership rule.

:class:`Games` keeps, for one context, each value once worked out and each partnership's
game, splits (:mod:`.allocation`) and largest excesses.
"""

from __future__ import annotations

import dataclasses
import weakref
from dataclasses import dataclass
from typing import Mapping

from . import allocation, stability
from . import checks_partnerships as cp
from .context import Context, Part, read_part, is_number
from .figures import Member, figures
from .lp import highs

#: the partnership rules of the member set alone, of the host, and of the depth
SET_RULES = ("tier", "area", "exclude", "max_size", "same_region", "same_county", "same_nation", "contiguous", "apart")
HOST_RULES = ("host_min_commitment", "within_km", "seek")
DEPTH_RULES = ("commitment",)
RULE_FUNCTIONS = {name: getattr(cp, f"check_{name}") for name in SET_RULES + HOST_RULES + DEPTH_RULES}

RULES = allocation.RULES  # proportional, shapley, nucleolus


@dataclass(frozen=True)
class Option:
    """One choice of host, depth and platform for a member set, with its SPEC figures."""

    members: tuple[str, ...]
    host: str
    depth: str
    platform: str | None
    annual: float
    one_off: float
    npv: float


def entry_part(ctx: Context, fid: str, members, host: str, depth_id: str) -> Part:
    entry = {"id": "subgroup", "function": fid, "members": list(members), "host": host, "depth": depth_id, "platform": None}
    return read_part(ctx, -1, entry)


def with_choice(part: Part, host: str, depth) -> Part:
    """An :func:`entry_part` with another host and depth, for the host and depth rules alone:
    they read the members, host and depth, never the figures, so those are dropped instead of
    worked out again for every choice (``options_of`` prices each choice itself)."""
    entry = {**part.entry, "host": host, "depth": depth.id}
    return dataclasses.replace(part, entry=entry, host=host, depth=depth, figures=None)


def breaks_any(ctx: Context, part: Part, names) -> bool:
    return any(RULE_FUNCTIONS[name](ctx, part) for name in names)


def options_of(ctx: Context, fid: str, members) -> list[Option]:
    """Every (host, depth, platform) with which ``members`` form a partnership for run
    function ``fid`` breaking no rule of SPEC section 3 (the NPV not judged; limits across
    partnerships not applied). Empty when fewer than two members or a rule of the set fails."""
    members = tuple(members)
    function = ctx.functions.get(fid)
    if function is None or len(set(members)) != len(members) or len(members) < 2 or any(c not in ctx.councils for c in members):
        return []
    depths = ctx.model.depths
    first = entry_part(ctx, fid, members, members[0], depths[0].id)
    if breaks_any(ctx, first, SET_RULES):
        return []
    hosts = [h for h in members if not breaks_any(ctx, with_choice(first, h, depths[0]), HOST_RULES)]
    allowed = [d for d in depths if not breaks_any(ctx, with_choice(first, members[0], d), DEPTH_RULES)]
    if not hosts or not allowed:
        return []
    platforms = sorted({ctx.platform_of(c, fid) for c in members})
    out = []
    for host in hosts:
        team = [Member(c, ctx.baseline(c, fid)[0], ctx.councils[c].population, ctx.distance(c, host), ctx.platform_of(c, fid)) for c in members]
        for depth in allowed:
            for platform in platforms if depth.common_platform else [None]:
                fig = figures(function, depth, team, platform, discount_rate=ctx.model.discount_rate, horizon_years=ctx.model.horizon_years)
                out.append(Option(members, host, depth.id, platform, fig.annual, fig.one_off, fig.npv))
    return out


def best_option(ctx: Context, fid: str, members) -> Option | None:
    """The option of :func:`options_of` with the largest NPV (the first such), or None."""
    return max(options_of(ctx, fid, members), key=lambda o: o.npv, default=None)


def value(ctx: Context, fid: str, members) -> float:
    """v(T): the best NPV of ``members`` as a partnership of their own, or 0 when no option is
    feasible or the best is not positive."""
    best = best_option(ctx, fid, members)
    return best.npv if best is not None and best.npv > 0 else 0.0


@dataclass(frozen=True)
class Game:
    """One partnership as a game: ``values`` by bitmask over ``members`` (in the plan's
    order; the last is v(S)), the members' baselines, every rule's split and largest excess."""

    members: tuple[str, ...]
    values: tuple[float, ...]
    weights: tuple[float, ...]
    shares: Mapping[str, Mapping[str, float]]  # {rule: {code: pounds}}
    excess: Mapping[str, float]  # {rule: pounds}

    @property
    def npv(self) -> float:
        return self.values[-1]


def partnership_npv(part: Part) -> float | None:
    """v(S): the NPV the plan states for the entry, or the recomputed one when it states none."""
    stated = part.entry.get("npv") if isinstance(part.entry, dict) else None
    if is_number(stated):
        return float(stated)
    return part.figures.npv if part.figures is not None else None


class Games:
    """The values, games and splits of one context, each worked out once, on first use."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self._values: dict[tuple[str, frozenset], float] = {}
        self._games: dict[int, Game | None] = {}
        self._solver = None
        self._tables: dict = {}
        self._grown: dict = {}
        self._km: dict = {}  # eligible codes -> their distances

    def value(self, fid: str, members) -> float:
        key = (fid, frozenset(members))
        if key not in self._values:
            self._values[key] = value(self.ctx, fid, sorted(members))
        return self._values[key]

    @property
    def solver(self):
        if self._solver is None:
            self._solver = highs()
        return self._solver

    def game(self, part: Part) -> Game | None:
        """The game of a plan entry, or None when it cannot be set up (an unreadable entry, an
        unknown council or function, a repeated member, fewer than two members, or more than
        the function's maximum size: the ``max_size`` check reports that one)."""
        if part.index in self._games:
            return self._games[part.index]
        game = None
        ctx = self.ctx
        v_s = partnership_npv(part)
        if (part.readable and part.function in ctx.functions and not part.repeated
                and 2 <= len(part.members) <= ctx.max_size[part.function]
                and len(part.known) == len(part.members) and v_s is not None):
            members = part.members
            n = len(members)
            values = [0.0] * (1 << n)
            for mask in range(1, (1 << n) - 1):
                inside = [members[i] for i in range(n) if mask >> i & 1]
                if len(inside) >= 2:
                    values[mask] = self.value(part.function, inside)
            values[-1] = v_s
            weights = [ctx.baseline(c, part.function)[0] for c in members]
            shares, excess = allocation.shares_and_excesses(values, weights, self.solver)
            game = Game(
                tuple(members),
                tuple(values),
                tuple(weights),
                {rule: dict(zip(members, map(float, x))) for rule, x in shares.items()},
                {rule: float(e) for rule, e in excess.items()},
            )
        self._games[part.index] = game
        return game


    # -- stability

    def table(self, fid: str):
        """Every group grown for run function ``fid`` (:mod:`.stability`), worked out once;
        functions alike in eligibility, geography and size share one growth."""
        if fid not in self._tables:
            codes = self.ctx.eligible[fid]
            if codes not in self._km:
                self._km[codes] = stability.distances(self.ctx, codes)
            key = stability.grow_key(self.ctx, fid)
            if key not in self._grown:
                self._grown[key] = stability.grow_sets(self.ctx, fid, self._km[codes])
            self._tables[fid] = stability.group_table(self.ctx, fid, self._grown[key], self._km[codes])
        return self._tables[fid]


_GAMES: dict[int, "Games"] = {}


def games_of(ctx: Context) -> "Games":
    """The :class:`Games` of a context, worked out on first use and then kept beside it while
    the context lives (the context itself stays frozen)."""
    key = id(ctx)
    if key not in _GAMES:
        _GAMES[key] = Games(ctx)
        weakref.finalize(ctx, _GAMES.pop, key, None)
    return _GAMES[key]
