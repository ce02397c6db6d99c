"""Who should we share with? The partnerships one council could join (SPEC §7).

For a council c and a function, every group holding c that passes every rule of the run
(§3, its NPV (or expected NPV) positive) is a *suggestion*. Its value v(S) is its best NPV;
each member's share follows the rule asked for (Shapley by default, over the values v(T) of
every subgroup T, as SPEC §6 defines them); a member's *gain* is its share minus its outside
option (its ``npv_share`` for the function in a given plan, else 0). A suggestion is *mutual*
when every member gains more than 0. Suggestions are ranked by c's share, largest first
(ties: larger NPV, then the members' codes).

Groups are found with the engine's own enumeration and arithmetic: every set that holds c
and grows by councils the rules allow beside it (``enumerate_supersets``), every rule of the
run judged on the whole set (``feasible_sets``), valued by ``evaluate_sets``; subgroup values
come from the same arithmetic, each distinct subgroup once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from ..candidates import evaluate_sets
from ..candidates.enumerate import CHUNK, enumerate_supersets
from ..economics import allocation
from ..errors import InputError
from ..problem import Problem
from ..progress import ProgressEvent, report
from ..rules.group import feasible_sets, whole_set_rules_hold
from .shares import subsets_of_size

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Suggestion:
    """One partnership the council could join, with every member's share and gain."""

    function: str
    members: tuple[str, ...]
    host: str
    depth: str
    platform: str | None
    npv: float
    annual_saving: float
    one_off_cost: float
    payback_years: float | None
    shares: dict  # {code: pounds} under the rule asked for
    gains: dict  # {code: share minus outside option}
    mutual: bool
    why: dict  # distance, platform in common, tiers

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class FunctionMarket:
    """The suggestions for one function: how many groups hold the council, how many are mutual."""

    function: str
    outside_option: float
    groups: int
    mutual: int
    suggestions: tuple[Suggestion, ...]
    eligible: bool = True

    def to_dict(self) -> dict:
        return {**{k: v for k, v in self.__dict__.items() if k != "suggestions"},
                "suggestions": [s.to_dict() for s in self.suggestions]}


@dataclass(frozen=True)
class Market:
    instance: str
    model: str
    council: str
    rule: str
    plan: str | None
    functions: tuple[FunctionMarket, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return {"instance": self.instance, "model": self.model, "council": self.council, "rule": self.rule, "plan": self.plan,
                "functions": {f.function: {k: v for k, v in f.to_dict().items() if k != "function"} for f in self.functions}}


def groups_holding(problem: Problem, k: int, council: int, pool: np.ndarray | None = None) -> list[np.ndarray]:
    """Every member set holding ``council`` that passes every rule of function k, by size; the
    others from ``pool`` (an (n,) mask; default: the function's eligible councils)."""
    levels = []
    pool = problem.eligible[k] if pool is None else pool
    for level in enumerate_supersets(problem, k, np.array([council]), pool)[1:]:
        keep = np.concatenate([feasible_sets(problem, k, level[s : s + CHUNK]) for s in range(0, len(level), CHUNK)])
        if keep.any():
            levels.append(level[keep])
    return levels


def row_keys(rows: np.ndarray, n: int) -> np.ndarray:
    """One integer per row of council indices (< n): equal rows, equal keys."""
    key = np.zeros(len(rows), dtype=np.int64)
    for column in range(rows.shape[1]):
        key = key * n + rows[:, column]
    return key


def positions_in(sets: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """For each row of ``rows``, the position of the equal row of ``sets`` (every row is one)."""
    keys = row_keys(sets, n)
    order = np.argsort(keys)
    return order[np.searchsorted(keys[order], row_keys(rows, n))]


def set_values(problem: Problem, k: int, sets: np.ndarray) -> np.ndarray:
    """v(T) of SPEC §6 for distinct member sets, each a subset of a group that keeps every
    rule: the best NPV of §3 under every rule of the run, 0 where no option is feasible or
    none is positive."""
    value = np.zeros(len(sets))
    ok = np.flatnonzero(np.concatenate([whole_set_rules_hold(problem, k, sets[s : s + CHUNK])
                                        for s in range(0, len(sets), CHUNK)]))
    if len(ok):
        options = evaluate_sets(problem, k, sets[ok].astype(np.int32), plain=True)
        where = positions_in(sets[ok], options.members[:, : sets.shape[1]].astype(np.int64), len(problem.codes))
        np.maximum.at(value, ok[where], options.npv)
    return value


def best_options(problem: Problem, k: int, sets: np.ndarray):
    """Each set's best option that a plan could choose on its own (positive value, within the
    budget, a host that may host one partnership, members that may join one), as
    (set positions, options) with one option per set kept."""
    options = evaluate_sets(problem, k, sets.astype(np.int32))
    if problem.options.budget is not None:
        options = options.take(np.flatnonzero(options.one_off <= problem.options.budget * (1 + 1e-12)))
    options = options.take(np.flatnonzero(problem.max_hosted[options.host] != 0))
    members = options.members[:, : sets.shape[1]]
    options = options.take(np.flatnonzero((problem.max_partnerships[members] != 0).all(axis=1)))
    if len(options) == 0:
        return np.zeros(0, dtype=np.int64), options
    where = positions_in(sets.astype(np.int64), options.members[:, : sets.shape[1]].astype(np.int64), len(problem.codes))
    # per set, the option of largest value (ties: smaller one-off cost)
    order = np.lexsort((options.one_off, -options.value, where))
    first = order[np.r_[True, where[order][1:] != where[order][:-1]]]
    return where[first], options.take(first)


def subgroup_games(problem: Problem, k: int, sets: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(g, 2**s) v(T) for every subgroup T of each set (bitmask over its members), each distinct
    subgroup valued once; v(S) is ``values``."""
    g, s = sets.shape
    n = len(problem.codes)
    games = np.zeros((g, 1 << s))
    for size in range(2, s):
        positions, masks = subsets_of_size(s, size)
        rows = sets[:, positions].reshape(-1, size).astype(np.int64)
        keys, first, inverse = np.unique(row_keys(rows, n), return_index=True, return_inverse=True)
        games[:, masks] = set_values(problem, k, rows[first])[inverse.ravel()].reshape(g, len(masks))
    games[:, -1] = values
    return games


def split(rule: str, games: np.ndarray, weights: np.ndarray) -> np.ndarray:
    if rule == "shapley":
        return allocation.shapley(games)
    if rule == "proportional":
        return allocation.proportional(games, weights)
    return np.stack([allocation.nucleolus(game) for game in games]) if len(games) else np.zeros(weights.shape)


def why(problem: Problem, k: int, council: int, members: np.ndarray, host: int, codes: list[str], tiers: np.ndarray) -> dict:
    """What makes the group a natural one: distances, neighbours, platforms already shared, tiers."""
    platform = problem.platform[k]
    labels = problem.platform_labels
    graph = problem.instance.graph
    neighbours = set(graph.neighbors(codes[council])) if codes[council] in graph else set()
    return {
        "km_to_host": round(float(problem.distance_km[council, host]), 1),
        "farthest_km": round(float(problem.distance_km[members, host].max()), 1),
        "neighbours": [codes[i] for i in members if codes[i] in neighbours],
        "same_platform": [codes[i] for i in members if i != council and platform[i] == platform[council]
                          and not labels[platform[i]].startswith("own:")],
        "tiers": sorted({str(tiers[i]) for i in members}),
    }


def market(problem: Problem, council: int, *, top: int = 5, rule: str = "shapley", outside: dict | None = None,
           include_one_sided: bool = False, plan_name: str | None = None, progress=None) -> Market:
    """The best partnerships ``council`` could join, per function of the run (see the module).
    ``outside`` maps (code, function) to a council's outside option (its share in a plan)."""
    outside = outside or {}
    codes = problem.codes
    tiers = problem.instance.councils["tier"].to_numpy()
    code = codes[council]
    if not problem.in_area[council]:
        raise InputError("--area", f"{code} is outside the area, so it can join no partnership of this run")
    functions = []
    for k, function in enumerate(problem.functions):
        report(progress, ProgressEvent("partners", function=function.id, done=k, total=len(problem.functions)))
        if not problem.eligible[k, council]:
            functions.append(FunctionMarket(function.id, 0.0, 0, 0, (), eligible=False))
            continue
        found: list[Suggestion] = []
        groups = mutual = 0
        for sets in groups_holding(problem, k, council):
            for start in range(0, len(sets), CHUNK):
                chunk = sets[start : start + CHUNK]
                where, options = best_options(problem, k, chunk)
                if not len(where):
                    continue
                chunk = chunk[where]
                groups += len(chunk)
                values = options.npv
                shares = split(rule, subgroup_games(problem, k, chunk, values), problem.spend[k][chunk])
                floor = np.array([[outside.get((codes[i], function.id), 0.0) for i in row] for row in chunk]) if outside \
                    else np.zeros(chunk.shape)
                gains = shares - floor
                is_mutual = (gains > 0).all(axis=1)
                mutual += int(is_mutual.sum())
                keep = np.flatnonzero(is_mutual | include_one_sided)
                mine = shares[np.arange(len(chunk)), np.argmax(chunk == council, axis=1)]
                # the best few of this chunk (with any tied with the last), before the others are built
                if len(keep) > top:
                    cut = np.sort(mine[keep])[::-1][top - 1] if top else np.inf
                    keep = keep[mine[keep] >= cut]
                for j in keep:
                    found.append(_suggestion(problem, k, council, chunk[j], options, int(j), shares[j], gains[j], bool(is_mutual[j]),
                                             codes, tiers))
        found.sort(key=lambda s: (-s.shares[code], -s.npv, sorted(s.members)))
        functions.append(FunctionMarket(function.id, float(outside.get((code, function.id), 0.0)), groups, mutual, tuple(found[:top])))
        log.info("partners for %s in %s: %d groups, %d mutual", code, function.id, groups, mutual)
    return Market(problem.instance.name, problem.model.name, code, rule, plan_name, tuple(functions))


def _suggestion(problem, k, council, members, options, j, shares, gains, mutual, codes, tiers) -> Suggestion:
    annual, one_off = float(options.annual[j]), float(options.one_off[j])
    host = int(options.host[j])
    return Suggestion(
        function=problem.functions[k].id,
        members=tuple(codes[i] for i in members),
        host=codes[host],
        depth=problem.model.depths[int(options.depth[j])].id,
        platform=problem.platform_labels[int(options.platform[j])] if options.platform[j] >= 0 else None,
        npv=float(options.npv[j]),
        annual_saving=annual,
        one_off_cost=one_off,
        payback_years=one_off / annual if annual > 0 else None,
        shares={codes[i]: float(x) for i, x in zip(members, shares)},
        gains={codes[i]: float(x) for i, x in zip(members, gains)},
        mutual=mutual,
        why=why(problem, k, council, members, host, codes, tiers),
    )
