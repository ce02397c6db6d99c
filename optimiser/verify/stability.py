"""Every group the rules allow for one function, its best NPV, and the function's LP bound:
the verifier's own enumeration for SPEC section 6's stability.

A group is *allowed* for function f when it has 2..max_size eligible members, obeys every
geography rule and ``--apart``, and has some host (commitment at least host_min_commitment,
every member within_km of it) and some depth (every member's commitment at least its
min_commitment): every rule of SPEC section 3 but the NPV. Its best NPV is taken over those
hosts, depths and platforms. It *blocks* a plan when its best NPV is positive and exceeds the
sum of its members' ``npv_share`` (0 for a council alone) by more than 1e-6 x max(1, |NPV|).

How (nothing here comes from the engine's candidate code):

* sets are Python ints, one bit per eligible council. With ``contiguous`` the sets of size
  k + 1 are those of size k grown by one council on their frontier (the union of their
  members' neighbours), kept once in a dict; without it they are grown by any council of a
  higher bit. Growth only ever joins councils that may share a partnership at all: same
  region / county / nation where the rules ask for it, not an ``--apart`` pair, and, under
  ``within_km:N``, no more than 2N km apart (two members further apart can have no host
  within N km of both). Each of these is hereditary (every subset of a set that passes
  passes), and every connected set can be reached by adding one neighbour at a time, so
  every allowed group is grown;
* the host and depth rules, and the savings arithmetic, are applied to all the sets of one
  size at once with numpy: for each member as host the distances, the coordination cost and
  whether it may host; the best host is the allowed one with the least coordination cost
  (the only part of the arithmetic a host changes); under a common platform, the best
  platform is the members' platform that most of their baseline is already on;
* the LP bound is the relaxation of the function's own set packing (each council in at most
  one group, every locked group of the run in), solved with PuLP and HiGHS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pulp

from .context import KM_SLACK, Context
from .figures import annuity

BLOCKING_TOLERANCE = 1e-6  # SPEC section 6: relative, on max(1, |best NPV|)
#: groups whose surplus is this close (relative) to the blocking threshold may be counted either
#: way: the plan's shares and the two sides' NPVs differ by rounding
NEAR_THRESHOLD = 1e-9


@dataclass(frozen=True)
class Level:
    """The sets of one size: ``members`` (g, s) positions into :attr:`GroupTable.codes`,
    ``allowed`` whether the rules allow each, ``value`` its best NPV (-inf where not allowed)."""

    members: np.ndarray
    allowed: np.ndarray
    value: np.ndarray


@dataclass(frozen=True)
class GroupTable:
    """Every set grown for one function, by size, and which of them the rules allow."""

    function: str
    codes: tuple[str, ...]  # the function's eligible councils, in the instance's order
    levels: tuple[Level, ...]

    @property
    def allowed_count(self) -> int:
        return int(sum(level.allowed.sum() for level in self.levels))

    @property
    def grown_count(self) -> int:
        return int(sum(len(level.members) for level in self.levels))

    def members_of(self, positions) -> tuple[str, ...]:
        return tuple(sorted(self.codes[int(i)] for i in positions))


# ---------------------------------------------------------------- growing the sets


def grow_key(ctx: Context, fid: str) -> tuple:
    """What the grown sets depend on (functions alike in these share one growth)."""
    function = ctx.functions[fid]
    kinds = tuple(sorted(str(rule) for rule in function.geography))
    return (ctx.eligible[fid], kinds, ctx.max_size[fid])


def _compatible(ctx: Context, fid: str, codes: tuple[str, ...]) -> list[int]:
    """For each position, the bitmask of the positions it may share a partnership with."""
    function = ctx.functions[fid]
    councils = [ctx.councils[c] for c in codes]
    attributes = [kind[len("same_"):] for kind in ("same_region", "same_county", "same_nation") if function.rule(kind)]
    within = function.rule("within_km")
    apart = {frozenset(pair) for pair in ctx.apart}
    out = []
    for i, a in enumerate(councils):
        mask = 0
        for j, b in enumerate(councils):
            if i == j:
                continue
            if any(getattr(a, attr) != getattr(b, attr) for attr in attributes):
                continue
            if frozenset((a.code, b.code)) in apart:
                continue
            if within is not None and ctx.distance(a.code, b.code) > 2 * within.km + KM_SLACK:
                continue
            mask |= 1 << j
        out.append(mask)
    return out


def grow_sets(ctx: Context, fid: str) -> list[list[tuple[int, ...]]]:
    """The sets of 2..max_size eligible councils of ``fid`` that growth reaches (see the module
    docstring), by size, each a sorted tuple of positions into ``ctx.eligible[fid]``."""
    codes = ctx.eligible[fid]
    function = ctx.functions[fid]
    compatible = _compatible(ctx, fid, codes)
    contiguous = function.rule("contiguous") is not None
    position = {c: i for i, c in enumerate(codes)}
    adjacent = []
    for code in codes:
        mask = 0
        for other in ctx.neighbours.get(code, ()):
            if other in position and other != code:
                mask |= 1 << position[other]
        adjacent.append(mask)
    # each set: its bitmask -> (who may still join, its frontier, its members)
    level = {1 << i: (compatible[i], adjacent[i], (i,)) for i in range(len(codes))}
    out = []
    for _size in range(2, ctx.max_size[fid] + 1):
        grown = {}
        for mask, (ok, frontier, members) in level.items():
            if contiguous:
                candidates = ok & frontier & ~mask
            else:
                candidates = ok & ~((1 << mask.bit_length()) - 1)  # higher bits only: each set once
            while candidates:
                low = candidates & -candidates
                candidates ^= low
                new = mask | low
                if new in grown:
                    continue
                j = low.bit_length() - 1
                grown[new] = (ok & compatible[j], frontier | adjacent[j], members + (j,))
        if not grown:
            break
        out.append([tuple(sorted(entry[2])) for entry in grown.values()])
        level = grown
    return out


# ---------------------------------------------------------------- the arithmetic, by size


@dataclass(frozen=True)
class _Figures:
    """What the arithmetic reads of each eligible council of one function, by position."""

    baseline: np.ndarray
    population: np.ndarray
    commitment: np.ndarray
    platform: np.ndarray  # an integer label per platform
    km: np.ndarray  # (n, n) haversine distances
    seeks: np.ndarray  # it only seeks the function: it may not host (options.seek)

    @classmethod
    def of(cls, ctx: Context, fid: str, codes: tuple[str, ...]) -> "_Figures":
        labels = {p: k for k, p in enumerate(sorted({ctx.platform_of(c, fid) for c in codes}))}
        n = len(codes)
        km = np.zeros((n, n))
        for i in range(n):
            for j in range(i + 1, n):
                km[i, j] = km[j, i] = ctx.distance(codes[i], codes[j])
        return cls(
            np.array([ctx.baseline(c, fid)[0] for c in codes], dtype=float),
            np.array([ctx.councils[c].population for c in codes], dtype=float),
            np.array([ctx.councils[c].commitment for c in codes], dtype=float),
            np.array([labels[ctx.platform_of(c, fid)] for c in codes], dtype=np.int64),
            km,
            np.array([(c, fid) in set(getattr(ctx.options, "seek", ())) for c in codes], dtype=bool),
        )


def _values(ctx: Context, fid: str, data: _Figures, sets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(allowed, best NPV) of each set (g, s) of positions: the host and depth rules and the
    savings arithmetic of SPEC section 3, every set of the array at once."""
    function = ctx.functions[fid]
    model = ctx.model
    b, pop, com, plat = data.baseline[sets], data.population[sets], data.commitment[sets], data.platform[sets]
    dist = data.km[sets[:, :, None], sets[:, None, :]]  # (g, host slot, member slot)
    may_host = (com >= function.host_min_commitment) & ~data.seeks[sets]
    within = function.rule("within_km")
    if within is not None:
        may_host &= ~(dist > within.km + KM_SLACK).any(axis=2)
    host_ok = may_host.any(axis=1)
    coordination = function.coordination * (dist * b[:, None, :]).sum(axis=2) / 100.0
    least = np.where(may_host, coordination, np.inf).min(axis=1)
    least = np.where(host_ok, least, 0.0)
    total = b.sum(axis=1)
    beta = function.scale_exponent
    rate = 1.0 - pop.sum(axis=1) ** beta / (pop**beta).sum(axis=1)
    kept = ((plat[:, :, None] == plat[:, None, :]) * b[:, None, :]).sum(axis=2).max(axis=1)  # baseline on the best platform
    weakest = com.min(axis=1)
    best = np.full(len(sets), -np.inf)
    any_depth = np.zeros(len(sets), dtype=bool)
    for depth in model.depths:
        ok = weakest >= depth.min_commitment
        annual = depth.capture * rate * total - least
        one_off = depth.one_off * total + (function.migration * (total - kept) if depth.common_platform else 0.0)
        npv = annual * annuity(model.discount_rate, model.horizon_years, depth.ramp) - one_off
        best = np.where(ok & (npv > best), npv, best)
        any_depth |= ok
    allowed = host_ok & any_depth
    return allowed, np.where(allowed, best, -np.inf)


def group_table(ctx: Context, fid: str, grown: list[list[tuple[int, ...]]] | None = None) -> GroupTable:
    """Every set grown for ``fid`` with whether the rules allow it and its best NPV."""
    codes = ctx.eligible[fid]
    grown = grow_sets(ctx, fid) if grown is None else grown
    data = _Figures.of(ctx, fid, codes)
    levels = []
    for sets in grown:
        array = np.array(sets, dtype=np.int64).reshape(len(sets), -1)
        allowed, value = _values(ctx, fid, data, array)
        levels.append(Level(array, allowed, value))
    return GroupTable(fid, codes, tuple(levels))


# ---------------------------------------------------------------- blocking groups


@dataclass(frozen=True)
class Blocking:
    """The blocking groups of one function against the plan's shares. ``surely`` counts those
    whose surplus clears the threshold beyond rounding, ``possibly`` also those within
    rounding of it; ``largest`` is the largest blocking surplus (0 if none) and ``near`` the
    groups (sorted codes) within ``slack`` of it."""

    allowed: int
    surely: int
    possibly: int
    largest: float
    largest_members: tuple[str, ...]
    surplus_of: dict  # sorted codes -> surplus, of every possibly blocking group

    @property
    def largest_possible(self) -> float:
        """The largest surplus of a possibly blocking group (at least ``largest``)."""
        return max([self.largest, *self.surplus_of.values()])

    def near(self, slack: float) -> set[tuple[str, ...]]:
        """The possibly blocking groups whose surplus is within ``slack`` of the largest."""
        return {members for members, surplus in self.surplus_of.items() if surplus >= self.largest - slack}


def blocking(table: GroupTable, shares: dict[str, float]) -> Blocking:
    """Blocking groups of ``table`` against ``shares`` (pounds per council code; 0 if absent)."""
    pounds = np.array([float(shares.get(c, 0.0)) for c in table.codes])
    surely = possibly = 0
    largest, largest_members = 0.0, ()
    surplus_of = {}
    for level in table.levels:
        value = np.where(level.allowed, level.value, 0.0)
        surplus = value - pounds[level.members].sum(axis=1)
        scale = np.maximum(1.0, np.abs(value))
        threshold = BLOCKING_TOLERANCE * scale
        room = NEAR_THRESHOLD * scale
        positive = level.allowed & (value > 0)
        sure = positive & (surplus > threshold + room)
        maybe = positive & (surplus > threshold - room)
        surely += int(sure.sum())
        possibly += int(maybe.sum())
        for g in np.flatnonzero(maybe):
            surplus_of[table.members_of(level.members[g])] = float(surplus[g])
        strict = positive & (surplus > threshold)
        if strict.any():
            g = int(np.argmax(np.where(strict, surplus, -np.inf)))
            if surplus[g] > largest:
                largest, largest_members = float(surplus[g]), table.members_of(level.members[g])
    return Blocking(table.allowed_count, surely, possibly, largest, largest_members, surplus_of)


# ---------------------------------------------------------------- the LP bound


def lp_bound(table: GroupTable, locked: list[tuple[tuple[str, ...], float]], solver) -> float | None:
    """The LP relaxation of the function's set packing over every allowed group's best NPV:
    max sum v_g x_g, each council in groups of total x at most 1, 0 <= x <= 1, every locked
    group (members, its best NPV) at x = 1. None when the locked groups overlap (no packing)."""
    taken: set[str] = set()
    constant = 0.0
    for members, npv in locked:
        if taken & set(members):
            return None
        taken |= set(members)
        constant += npv
    blocked = np.array([c in taken for c in table.codes], dtype=bool)
    columns = []  # (value, member positions)
    for level in table.levels:
        keep = level.allowed & (level.value > 0) & ~blocked[level.members].any(axis=1)
        for g in np.flatnonzero(keep):
            columns.append((float(level.value[g]), level.members[g]))
    if not columns:
        return constant
    problem = pulp.LpProblem("packing", pulp.LpMaximize)
    x = [problem.add_variable(f"x{j}", lowBound=0, upBound=1) for j in range(len(columns))]
    rows: dict[int, list] = {}
    for j, (_, members) in enumerate(columns):
        for i in members:
            rows.setdefault(int(i), []).append((x[j], 1))
    problem.setObjective(pulp.LpAffineExpression([(x[j], v) for j, (v, _) in enumerate(columns)]))
    for i, terms in rows.items():
        if len(terms) > 1:
            problem += pulp.LpAffineExpression(terms) <= 1, f"c{i}"
    status = problem.solve(solver)
    if pulp.LpStatus[status] != "Optimal":
        raise RuntimeError(f"the LP bound of '{table.function}' ended {pulp.LpStatus[status]}")
    return constant + float(pulp.value(problem.objective) or 0.0)
