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
  one group, every locked group of the run in), solved by column generation with HiGHS to a
  proven gap (:mod:`.packing`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .context import KM_SLACK, Context
from .figures import annuity
from .packing import packing_bound

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


def _compatible(ctx: Context, fid: str, codes: tuple[str, ...], km: np.ndarray) -> np.ndarray:
    """(n, n): whether positions i and j (i != j) may share a partnership at all."""
    function = ctx.functions[fid]
    councils = [ctx.councils[c] for c in codes]
    n = len(codes)
    ok = ~np.eye(n, dtype=bool)
    for kind in ("same_region", "same_county", "same_nation"):
        if function.rule(kind):
            labels = [getattr(c, kind[len("same_"):]) for c in councils]
            index = {label: k for k, label in enumerate(dict.fromkeys(labels))}
            label = np.array([index[x] for x in labels])
            ok &= label[:, None] == label[None, :]
    position = {c: i for i, c in enumerate(codes)}
    for a, b in ctx.apart:
        if a in position and b in position:
            ok[position[a], position[b]] = ok[position[b], position[a]] = False
    within = function.rule("within_km")
    if within is not None:
        ok &= ~(km > 2 * within.km + KM_SLACK)
    return ok


def distances(ctx: Context, codes: tuple[str, ...]) -> np.ndarray:
    """(n, n) haversine distances between ``codes`` (functions with the same eligible councils
    may share one)."""
    n = len(codes)
    km = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            km[i, j] = km[j, i] = ctx.distance(codes[i], codes[j])
    return km


def _adjacent(ctx: Context, codes: tuple[str, ...]) -> np.ndarray:
    position = {c: i for i, c in enumerate(codes)}
    out = np.zeros((len(codes), len(codes)), dtype=bool)
    for code in codes:
        for other in ctx.neighbours.get(code, ()):
            if other in position and other != code:
                out[position[code], position[other]] = True
    return out


#: sets grown at a time (bounds the (sets, councils) masks in memory)
GROW_CHUNK = 20_000


def _distinct_rows(rows: np.ndarray, n: int) -> np.ndarray:
    """The distinct rows of ``rows`` (each sorted), in lexicographic order."""
    k = rows.shape[1]
    if n ** k < 2**62:  # one integer per row, base n
        key = rows @ (n ** np.arange(k - 1, -1, -1, dtype=np.int64))
        _, first = np.unique(key, return_index=True)
        return rows[first]
    return np.unique(rows, axis=0)


def grow_sets(ctx: Context, fid: str, km: np.ndarray | None = None) -> list[np.ndarray]:
    """The sets of 2..max_size eligible councils of ``fid`` that growth reaches (see the module
    docstring), by size, each level an array (g, k) of sorted positions into ``ctx.eligible[fid]``."""
    codes = ctx.eligible[fid]
    n = len(codes)
    compatible = _compatible(ctx, fid, codes, distances(ctx, codes) if km is None else km)
    contiguous = ctx.functions[fid].rule("contiguous") is not None
    adjacent = _adjacent(ctx, codes)
    later = np.arange(n)[None, :] > np.arange(n)[:, None]  # later[i, j]: j has a higher position
    level = np.arange(n, dtype=np.int64)[:, None]
    out = []
    for _size in range(2, ctx.max_size[fid] + 1):
        grown = []
        for start in range(0, len(level), GROW_CHUNK):
            sets = level[start:start + GROW_CHUNK]
            if contiguous:  # the frontier: any member's neighbour
                joins = adjacent[sets[:, 0]].copy()
                for slot in range(1, sets.shape[1]):
                    joins |= adjacent[sets[:, slot]]
            else:  # any council of a higher position: each set grown once
                joins = later[sets[:, -1]].copy()
            for slot in range(sets.shape[1]):  # compatible with every member (so not one of them)
                joins &= compatible[sets[:, slot]]
            which, newcomer = np.nonzero(joins)
            rows = np.concatenate([sets[which], newcomer[:, None]], axis=1)
            rows.sort(axis=1)
            grown.append(rows)
        rows = np.concatenate(grown) if grown else np.zeros((0, level.shape[1] + 1), dtype=np.int64)
        if contiguous:
            rows = _distinct_rows(rows, n)
        if not len(rows):
            break
        out.append(rows)
        level = rows
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
    def of(cls, ctx: Context, fid: str, codes: tuple[str, ...], km: np.ndarray) -> "_Figures":
        labels = {p: k for k, p in enumerate(sorted({ctx.platform_of(c, fid) for c in codes}))}
        seeking = set(getattr(ctx.options, "seek", ()))
        return cls(
            np.array([ctx.baseline(c, fid)[0] for c in codes], dtype=float),
            np.array([ctx.councils[c].population for c in codes], dtype=float),
            np.array([ctx.councils[c].commitment for c in codes], dtype=float),
            np.array([labels[ctx.platform_of(c, fid)] for c in codes], dtype=np.int64),
            km,
            np.array([(c, fid) in seeking for c in codes], dtype=bool),
        )


# numpy reduces a short last axis slowly: these go slot by slot (elementwise over the sets)
def _slot_max(a: np.ndarray) -> np.ndarray:
    out = a[..., 0].copy()
    for slot in range(1, a.shape[-1]):
        np.maximum(out, a[..., slot], out=out)
    return out


def _slot_min(a: np.ndarray) -> np.ndarray:
    out = a[..., 0].copy()
    for slot in range(1, a.shape[-1]):
        np.minimum(out, a[..., slot], out=out)
    return out


def _slot_sum(a: np.ndarray) -> np.ndarray:
    return a @ np.ones(a.shape[-1])


#: sets valued at a time (bounds the (sets, slots, slots) arrays in memory)
VALUE_CHUNK = 50_000


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
        may_host &= ~(_slot_max(dist) > within.km + KM_SLACK)
    host_ok = _slot_max(may_host)
    coordination = function.coordination * np.einsum("ghm,gm->gh", dist, b) / 100.0
    least = _slot_min(np.where(may_host, coordination, np.inf))
    least = np.where(host_ok, least, 0.0)
    total = _slot_sum(b)
    beta = function.scale_exponent
    rate = 1.0 - _slot_sum(pop) ** beta / _slot_sum(pop**beta)
    same_platform = (plat[:, :, None] == plat[:, None, :]).astype(float)
    kept = _slot_max(np.einsum("ghm,gm->gh", same_platform, b))  # baseline on the best platform
    weakest = _slot_min(com)
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


def group_table(ctx: Context, fid: str, grown: list[np.ndarray] | None = None, km: np.ndarray | None = None) -> GroupTable:
    """Every set grown for ``fid`` with whether the rules allow it and its best NPV."""
    codes = ctx.eligible[fid]
    km = distances(ctx, codes) if km is None else km
    grown = grow_sets(ctx, fid, km) if grown is None else grown
    data = _Figures.of(ctx, fid, codes, km)
    levels = []
    for sets in grown:
        array = np.asarray(sets, dtype=np.int64).reshape(len(sets), -1)
        parts = [_values(ctx, fid, data, array[s:s + VALUE_CHUNK]) for s in range(0, len(array), VALUE_CHUNK)]
        allowed = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, dtype=bool)
        value = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0)
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
    table: GroupTable
    #: of every possibly blocking group, by size: (member positions (p, k), surplus (p,))
    possible: tuple[tuple[np.ndarray, np.ndarray], ...]

    @property
    def largest_possible(self) -> float:
        """The largest surplus of a possibly blocking group (at least ``largest``)."""
        return max([self.largest, *(float(surplus.max()) for _, surplus in self.possible if len(surplus))])

    def near(self, slack: float) -> set[tuple[str, ...]]:
        """The possibly blocking groups whose surplus is within ``slack`` of the largest."""
        return {self.table.members_of(members[g]) for members, surplus in self.possible
                for g in np.flatnonzero(surplus >= self.largest - slack)}


def blocking(table: GroupTable, shares: dict[str, float]) -> Blocking:
    """Blocking groups of ``table`` against ``shares`` (pounds per council code; 0 if absent)."""
    pounds = np.array([float(shares.get(c, 0.0)) for c in table.codes])
    surely = possibly = 0
    largest, largest_members = 0.0, ()
    possible = []
    for level in table.levels:
        value = np.where(level.allowed, level.value, 0.0)
        surplus = value - _slot_sum(pounds[level.members])
        scale = np.maximum(1.0, np.abs(value))
        threshold = BLOCKING_TOLERANCE * scale
        room = NEAR_THRESHOLD * scale
        positive = level.allowed & (value > 0)
        sure = positive & (surplus > threshold + room)
        maybe = positive & (surplus > threshold - room)
        surely += int(sure.sum())
        possibly += int(maybe.sum())
        possible.append((level.members[maybe], surplus[maybe]))
        strict = positive & (surplus > threshold)
        if strict.any():
            g = int(np.argmax(np.where(strict, surplus, -np.inf)))
            if surplus[g] > largest:
                largest, largest_members = float(surplus[g]), table.members_of(level.members[g])
    return Blocking(table.allowed_count, surely, possibly, largest, largest_members, table, tuple(possible))


# ---------------------------------------------------------------- the LP bound


def lp_bound(table: GroupTable, locked: list[tuple[tuple[str, ...], float]]) -> float | None:
    """The LP relaxation of the function's set packing over every allowed group's best NPV:
    max sum v_g x_g, each council in groups of total x at most 1, 0 <= x <= 1, every locked
    group (members, its best NPV) at x = 1. None when the locked groups overlap (no packing).
    Solved by column generation to a proven gap (:mod:`.packing`)."""
    taken: set[str] = set()
    constant = 0.0
    for members, npv in locked:
        if taken & set(members):
            return None
        taken |= set(members)
        constant += npv
    blocked = np.array([c in taken for c in table.codes], dtype=bool)
    columns = []  # (values, member positions) of each size
    for level in table.levels:
        keep = level.allowed & (level.value > 0) & ~_slot_max(blocked[level.members])
        columns.append((level.value[keep], level.members[keep]))
    return constant + packing_bound(len(table.codes), columns)
