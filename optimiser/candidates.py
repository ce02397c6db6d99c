"""Candidate partnerships: every group the rules allow, with its best standardisation options.

For each function the member sets are enumerated level by level as numpy arrays:

* with ``contiguous``, sets of size k+1 are the sets of size k grown by one neighbour
  (connected induced subgraphs), de-duplicated;
* without it, sets are grown by any compatible council of a higher index (each set once).

Councils of different region/county/nation (for the ``same_*`` rules) are never joined, and
when ``within_km:N`` applies, two members more than 2N km apart are never joined (no host
could then be within N km of both). Only then is each set evaluated with the arithmetic of
the savings model, vectorised over all sets of one size at once.

A set keeps more than one (depth, host, platform) option only where the others could
matter for an optimal plan: under ``--budget`` every depth on the Pareto front of NPV
against one-off cost, and when some member's ``max_hosted`` is limited, the hosts in order
of coordination cost up to the first host whose hosting is unlimited. Platforms never
matter beyond the cheapest migration: it is best for NPV and for one-off cost alike.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import networkx as nx
import numpy as np

from .errors import InputError
from .problem import Problem

log = logging.getLogger(__name__)

#: Above this many member sets for one function the rules are too loose to enumerate.
MAX_SETS_PER_FUNCTION = 20_000_000
CHUNK = 200_000


@dataclass
class CandidateSet:
    """Candidate partnerships as parallel arrays, one entry per (member set, option).

    ``members`` is padded with -1 to the widest set; ``locked`` is the index into
    ``problem.locked`` for options of a locked group, else -1.
    """

    function: np.ndarray
    members: np.ndarray
    size: np.ndarray
    host: np.ndarray
    depth: np.ndarray
    platform: np.ndarray
    annual: np.ndarray
    one_off: np.ndarray
    npv: np.ndarray
    locked: np.ndarray

    def __len__(self) -> int:
        return len(self.npv)

    def take(self, index: np.ndarray) -> "CandidateSet":
        return CandidateSet(**{name: getattr(self, name)[index] for name in self.__dataclass_fields__})

    @staticmethod
    def concat(parts: list["CandidateSet"], width: int) -> "CandidateSet":
        if not parts:
            return CandidateSet.empty(width)
        fields = {}
        for name in CandidateSet.__dataclass_fields__:
            if name == "members":
                padded = []
                for p in parts:
                    m = np.full((len(p), width), -1, dtype=np.int32)
                    m[:, : p.members.shape[1]] = p.members
                    padded.append(m)
                fields[name] = np.concatenate(padded)
            else:
                fields[name] = np.concatenate([getattr(p, name) for p in parts])
        return CandidateSet(**fields)

    @staticmethod
    def empty(width: int) -> "CandidateSet":
        ints = np.zeros(0, dtype=np.int32)
        floats = np.zeros(0)
        return CandidateSet(ints, np.zeros((0, width), dtype=np.int32), ints, ints, ints, ints, floats, floats, floats, ints)


# ---------------------------------------------------------------- enumeration of member sets


def _unique_rows(rows: np.ndarray, n: int) -> np.ndarray:
    """Distinct sorted rows, in order of first appearance; rows hold council indices < n."""
    rows = np.ascontiguousarray(rows)
    width = rows.shape[1]
    if width * np.log2(max(n, 2)) < 62:
        key = np.zeros(len(rows), dtype=np.int64)
        for column in range(width):
            key = key * n + rows[:, column]
    else:
        key = rows.view(np.dtype((np.void, rows.dtype.itemsize * width))).ravel()
    _, first = np.unique(key, return_index=True)
    return rows[np.sort(first)]


def _class_labels(problem: Problem, k: int) -> np.ndarray:
    """An integer class per council such that members of one group must share a class."""
    function = problem.functions[k]
    councils = problem.instance.councils
    key = np.zeros(len(councils), dtype=np.int64)
    for kind, column in (("same_region", "region"), ("same_county", "county"), ("same_nation", "nation")):
        if function.rule(kind):
            codes, labels = np.unique(councils[column].to_numpy(dtype=str), return_inverse=True)
            key = key * (len(codes) + 1) + labels
    return key


def enumerate_sets(problem: Problem, k: int, nodes: np.ndarray | None = None) -> list[np.ndarray]:
    """Member sets of function k allowed by tier, size, geography and --apart, by size.

    Returns a list whose entry s-2 is an int32 array (count, s) of sorted council indices.
    ``nodes`` restricts the councils considered (default: all eligible for the function).
    """
    function = problem.functions[k]
    eligible = problem.eligible[k].copy()
    if nodes is not None:
        mask = np.zeros_like(eligible)
        mask[nodes] = True
        eligible &= mask
    max_size = int(problem.max_size[k])
    nodes = np.flatnonzero(eligible)
    n = len(problem.eligible[k])
    if len(nodes) < 2:
        return []

    same_class = _class_labels(problem, k)
    compatible = (same_class[:, None] == same_class[None, :]) & eligible[:, None] & eligible[None, :]
    np.fill_diagonal(compatible, False)
    within = function.rule("within_km")
    if within is not None:
        compatible &= problem.distance_km <= 2 * within.km + 1e-9
    for a, b in problem.apart:
        compatible[a, b] = compatible[b, a] = False

    contiguous = function.rule("contiguous") is not None
    if contiguous:
        index = {c: i for i, c in enumerate(problem.codes)}
        adjacent = np.zeros((n, n), dtype=bool)
        edges = np.array([(index[a], index[b]) for a, b in problem.instance.graph.edges()], dtype=np.int64).reshape(-1, 2)
        adjacent[edges[:, 0], edges[:, 1]] = True
        adjacent[edges[:, 1], edges[:, 0]] = True
        # neighbour lists in CSR form: council i's are targets[starts[i]:starts[i + 1]]
        grow = adjacent & compatible
        degree = grow.sum(axis=1)
        starts = np.r_[0, np.cumsum(degree)]
        targets = np.nonzero(grow)[1].astype(np.int32)

    levels = []
    current = nodes.astype(np.int32)[:, None]
    total = 0
    for size in range(2, max_size + 1):
        pieces = []
        for start in range(0, len(current), CHUNK):
            block = current[start : start + CHUNK]
            if contiguous:
                # grow by neighbours above the set's smallest member (its root), so each set
                # comes only from its root; a connected set can always be grown that way
                member_degree = degree[block]
                rows = np.repeat(np.arange(len(block)), member_degree.sum(axis=1))
                flat = block.ravel()
                counts = degree[flat]
                first = np.repeat(starts[flat] - np.r_[0, np.cumsum(counts)[:-1]], counts)
                v = targets[first + np.arange(counts.sum())]
                keep = v > block[rows, 0]
                rows, v = rows[keep], v[keep]
                keep = ~(block[rows] == v[:, None]).any(axis=1)
            else:
                # grow only by councils above the set's largest member: each set once
                above = np.arange(n)[None, :] > block[:, -1:]
                ok = above & compatible[block[:, 0]]
                rows, v = np.nonzero(ok)
                v = v.astype(np.int32)
                keep = np.ones(len(v), dtype=bool)
            rows, v = rows[keep], v[keep]
            # every member must be compatible with the newcomer (class, distance, --apart)
            keep = compatible[block[rows], v[:, None]].all(axis=1)
            grown = np.concatenate([block[rows[keep]], v[keep, None]], axis=1)
            if contiguous:
                grown.sort(axis=1)
            pieces.append(grown)
        grown = np.concatenate(pieces) if pieces else np.zeros((0, size), dtype=np.int32)
        if contiguous and len(grown):
            grown = _unique_rows(grown, n)
        total += len(grown)
        if total > MAX_SETS_PER_FUNCTION:
            raise InputError(
                problem.model.path or problem.model.name,
                f"function '{function.id}': its rules allow more than {MAX_SETS_PER_FUNCTION:,} groups; "
                "add 'contiguous' or a tighter within_km, or lower max_size",
            )
        if not len(grown):
            break
        levels.append(grown.astype(np.int32))
        current = grown
    return levels


# ---------------------------------------------------------------- evaluation


def evaluate_sets(problem: Problem, k: int, sets: np.ndarray, *, require_positive: bool = True,
                  all_options: bool = False, ignore_rules: bool = False) -> CandidateSet:
    """Evaluates member sets of one size for function k (SPEC arithmetic), vectorised.

    Returns the options worth keeping for the master problem (see the module docstring).
    With ``require_positive`` false, options with NPV <= 0 are kept too (locked groups).
    ``all_options`` returns every feasible depth and host; ``ignore_rules`` treats every
    host and depth as feasible (to price a grouping that breaks commitment rules).
    """
    function = problem.functions[k]
    model = problem.model
    g, s = sets.shape
    if g == 0:
        return CandidateSet.empty(s)
    annuity = problem.annuity
    b = problem.spend[k][sets]  # (g, s)
    pop = problem.population[sets]
    total = b.sum(axis=1)
    beta = function.scale_exponent
    rate = 1.0 - pop.sum(axis=1) ** beta / (pop**beta).sum(axis=1)

    # hosts: coordination cost per host slot, validity by within_km and host commitment
    dist = problem.distance_km[sets[:, :, None], sets[:, None, :]]  # (g, host slot, member)
    coordination = function.coordination * (dist * b[:, None, :]).sum(axis=2) / 100.0
    host_ok = problem.commitment[sets] >= function.host_min_commitment
    within = function.rule("within_km")
    if within is not None:
        host_ok &= dist.max(axis=2) <= within.km
    if ignore_rules:
        host_ok[:] = True
    coordination = np.where(host_ok, coordination, np.inf)

    # platforms: the members' platform with the most baseline on it needs the least migration
    plat = problem.platform[k][sets]
    on_same = (plat[:, :, None] == plat[:, None, :]) * b[:, None, :]
    weight = on_same.sum(axis=2)  # baseline already on each member's platform
    best_slot = np.argmax(weight + 1e-9 * (np.arange(s)[None, ::-1]), axis=1)  # ties: earliest member
    migration = function.migration * (total - weight[np.arange(g), best_slot])
    platform = plat[np.arange(g), best_slot]

    min_commitment = problem.commitment[sets].min(axis=1)
    depth_values, depth_one_off, depth_ok = [], [], []
    for d in model.depths:
        one_off = d.one_off * total + (migration if d.common_platform else 0.0)
        depth_values.append(d.capture * rate * total * annuity - one_off)
        depth_one_off.append(one_off)
        depth_ok.append((min_commitment >= d.min_commitment) | ignore_rules)
    value = np.stack(depth_values, axis=1)  # (g, depths): NPV before coordination
    one_off = np.stack(depth_one_off, axis=1)
    ok = np.stack(depth_ok, axis=1)
    gross = np.stack([d.capture * rate * total for d in model.depths], axis=1)

    budgeted = problem.options.budget is not None
    limited_hosts = (problem.max_hosted[problem.eligible[k]] >= 0).any()
    # depth choice: best NPV (ties: lower one-off), or the Pareto front under a budget
    masked = np.where(ok, value, -np.inf)
    if all_options:
        depth_keep = ok
    elif budgeted:
        depth_keep = ok.copy()
        nd = len(model.depths)
        for a in range(nd):
            for c in range(nd):
                if a == c:
                    continue
                dominated = ok[:, c] & (value[:, c] >= value[:, a]) & (one_off[:, c] <= one_off[:, a])
                strictly = (value[:, c] > value[:, a]) | (one_off[:, c] < one_off[:, a]) | (c < a)
                depth_keep[:, a] &= ~(dominated & strictly)
    else:
        best = np.argmax(masked - 1e-12 * one_off, axis=1)
        depth_keep = np.zeros_like(ok)
        depth_keep[np.arange(g), best] = ok[np.arange(g), best]

    # host choice: least coordination, plus those before the first unlimited host
    finite = np.isfinite(coordination)
    if all_options:
        host_keep = finite
    else:
        order = np.argsort(coordination, axis=1, kind="stable")
        host_keep = np.zeros_like(finite)
        if limited_hosts:
            unlimited = problem.max_hosted[sets] < 0
            sorted_unlimited = np.take_along_axis(unlimited, order, axis=1)
            sorted_finite = np.take_along_axis(finite, order, axis=1)
            # keep slots up to and including the first unlimited one
            before = np.cumsum(sorted_unlimited, axis=1) - sorted_unlimited == 0
            keep_sorted = before & sorted_finite
            np.put_along_axis(host_keep, order, keep_sorted, axis=1)
        else:
            host_keep[np.arange(g), order[:, 0]] = finite[np.arange(g), order[:, 0]]

    gi, di, hi = np.nonzero(depth_keep[:, :, None] & host_keep[:, None, :])
    npv = value[gi, di] - coordination[gi, hi] * annuity
    annual = gross[gi, di] - coordination[gi, hi]
    if require_positive:
        keep = npv > 0
        gi, di, hi, npv, annual = gi[keep], di[keep], hi[keep], npv[keep], annual[keep]
    common = np.array([d.common_platform for d in model.depths])
    return CandidateSet(
        function=np.full(len(gi), k, dtype=np.int32),
        members=sets[gi].astype(np.int32),
        size=np.full(len(gi), s, dtype=np.int32),
        host=sets[gi, hi].astype(np.int32),
        depth=di.astype(np.int32),
        platform=np.where(common[di], platform[gi], -1).astype(np.int32),
        annual=annual,
        one_off=one_off[gi, di],
        npv=npv,
        locked=np.full(len(gi), -1, dtype=np.int32),
    )


# ---------------------------------------------------------------- locked groups


def rule_breaks(problem: Problem, k: int, members: np.ndarray) -> list[str]:
    """Every rule of SPEC §3 that the member set breaks for function k, as sentences.

    NPV is not judged here. Used for locked groups (which must break none) and to
    evaluate a user's grouping.
    """
    function = problem.functions[k]
    codes = problem.codes
    councils = problem.instance.councils
    members = np.asarray(members)
    breaks = []
    tiers = councils["tier"].to_numpy()
    for i in members:
        if tiers[i] not in function.tiers:
            breaks.append(f"tier: {codes[i]} is a {tiers[i]} council; '{function.id}' is for {', '.join(function.tiers)}")
        elif not problem.in_area[i]:
            breaks.append(f"area: {codes[i]} is outside --area")
        elif not problem.eligible[k, i]:
            breaks.append(f"exclude: {codes[i]} is excluded from '{function.id}'")
    if len(members) > problem.max_size[k]:
        breaks.append(f"max_size: {len(members)} members, at most {problem.max_size[k]} allowed")
    for kind, column in (("same_region", "region"), ("same_county", "county"), ("same_nation", "nation")):
        if function.rule(kind) and councils[column].iloc[members].nunique() > 1:
            breaks.append(f"{kind}: members are in different {column}s")
    if function.rule("contiguous") and not nx.is_connected(problem.instance.graph.subgraph(codes[i] for i in members)):
        breaks.append("contiguous: the members' territories do not form one connected area")
    for a, b in problem.apart:
        if a in members and b in members:
            breaks.append(f"apart: {codes[a]} and {codes[b]} must not share a partnership")
    commitment = problem.commitment[members]
    if not any(commitment.min() >= d.min_commitment for d in problem.model.depths):
        weakest = codes[members[commitment.argmin()]]
        breaks.append(f"commitment: {weakest} has {commitment.min():g}, below every depth's min_commitment")
    hosts = commitment >= function.host_min_commitment
    if not hosts.any():
        breaks.append(f"host_min_commitment: no member has commitment >= {function.host_min_commitment:g} to host")
    within = function.rule("within_km")
    if within is not None:
        far = problem.distance_km[np.ix_(members, members)].max(axis=1)
        if not (hosts & (far <= within.km)).any():
            breaks.append(f"within_km:{within.km:g}: no member that may host has every other member within {within.km:g} km")
    return breaks


def locked_candidates(problem: Problem, k: int | None = None) -> list[CandidateSet]:
    """The options of every locked group (of function k only, if given)."""
    parts = []
    path = problem.instance.files.get("partnerships", "partnerships.csv")
    for index, group in enumerate(problem.locked):
        if k is not None and group.function_index != k:
            continue
        breaks = rule_breaks(problem, group.function_index, group.members)
        if breaks:
            label = f"locked partnership '{group.partnership.id}' for '{group.partnership.function}'"
            raise InputError(path, f"{label} breaks a rule: {'; '.join(breaks)}", f"line {group.partnership.line}")
        options = evaluate_sets(problem, group.function_index, group.members[None, :], require_positive=False)
        options.locked[:] = index
        parts.append(options)
    return parts


# ---------------------------------------------------------------- all candidates


class CandidateGenerator:
    """Candidates function by function, sharing enumerations between functions whose
    eligible councils and rules are the same.

    Sets that contain a member of a locked group of the same function are left out: those
    councils are committed for that function already; the locked group's own options are
    included.
    """

    def __init__(self, problem: Problem, progress=None):
        self.problem = problem
        self.progress = progress
        self.width = max(int(problem.max_size.max()), max((len(g.members) for g in problem.locked), default=2))
        self.committed = np.zeros_like(problem.eligible)
        for group in problem.locked:
            self.committed[group.function_index, group.members] = True
        self._sets: dict[tuple, list[np.ndarray]] = {}
        # evaluated up front, so a locked group that breaks a rule fails before any work
        self._locked = {k: locked_candidates(problem, k) for k in range(len(problem.functions))}

    def sets(self, k: int) -> list[np.ndarray]:
        problem = self.problem
        key = (problem.eligible[k].tobytes(), self.committed[k].tobytes(), problem.functions[k].geography, int(problem.max_size[k]))
        if key not in self._sets:
            free = np.flatnonzero(problem.eligible[k] & ~self.committed[k])
            self._sets[key] = enumerate_sets(problem, k, free)
        return self._sets[key]

    def function(self, k: int) -> CandidateSet:
        """Every candidate option of function k (locked groups' options first)."""
        parts = list(self._locked[k])
        levels = self.sets(k)
        for sets in levels:
            for start in range(0, len(sets), CHUNK):
                parts.append(evaluate_sets(self.problem, k, sets[start : start + CHUNK]))
        result = CandidateSet.concat(parts, self.width)
        n_sets = sum(len(s) for s in levels)
        log.info("candidates for %s: %d groups allowed, %d options with positive NPV", self.problem.functions[k].id, n_sets, len(result))
        if self.progress is not None:
            self.progress("candidates", self.problem.functions[k].id, n_sets, len(result))
        return result


def generate(problem: Problem, progress=None) -> CandidateSet:
    """Every candidate option of every function, with locked groups' options included."""
    generator = CandidateGenerator(problem, progress)
    return CandidateSet.concat([generator.function(k) for k in range(len(problem.functions))], generator.width)
