"""The rules one partnership must obey (SPEC §3), one named object each.

Each rule answers, for function k of a run, only the questions it has something to say about
(a hook that returns None has nothing to add):

``councils(problem, k)``
    which councils may be members at all: an (n,) mask;
``pairs(problem, k)``
    which two councils may be in one group: an (n, n) mask. For a rule about the host this
    is a necessary condition only (it prunes the enumeration), and ``hosts`` is exact;
``sets(view)``
    whether each whole member set passes: a (g,) mask over ``view.sets``;
``hosts(view)``
    which members may host each set: a (g, s) mask;
``depths(view)``
    which depths each set may take: a (g, depths) mask;
``explain(problem, k, members)``
    the sentences ``evaluate`` prints when the group ``members`` breaks the rule.

Enumeration (``candidates/enumerate.py``) prunes with ``councils`` and ``pairs`` and grows
connected sets when ``contiguous`` applies; evaluation (``candidates/evaluate.py``) applies
``hosts`` and ``depths``; :func:`feasible_sets` applies all of them to any member sets, and
:func:`rule_breaks` collects the sentences.
"""

from __future__ import annotations

import numpy as np

from ..problem import Problem
from .view import MemberSets

KM_SLACK = 1e-9  # rounding slack on a distance limit


class GroupRule:
    """A rule of one partnership. Subclasses override the hooks they need."""

    name = ""
    summary = ""

    def applies(self, function) -> bool:
        return True

    def councils(self, problem: Problem, k: int) -> np.ndarray | None:
        return None

    def pairs(self, problem: Problem, k: int) -> np.ndarray | None:
        return None

    def sets(self, view: MemberSets) -> np.ndarray | None:
        return None

    def hosts(self, view: MemberSets) -> np.ndarray | None:
        return None

    def depths(self, view: MemberSets) -> np.ndarray | None:
        return None

    def explain(self, problem: Problem, k: int, members: np.ndarray) -> list[str]:
        return []

    def __repr__(self) -> str:
        return f"<rule {self.name}>"


def _tiers_ok(problem: Problem, k: int) -> np.ndarray:
    return np.isin(problem.instance.councils["tier"].to_numpy(), list(problem.functions[k].tiers))


class Tier(GroupRule):
    name = "tier"
    summary = "every member's tier delivers the function"

    def councils(self, problem, k):
        return _tiers_ok(problem, k)

    def explain(self, problem, k, members):
        tiers = problem.instance.councils["tier"].to_numpy()
        function = problem.functions[k]
        return [f"tier: {problem.codes[i]} is a {tiers[i]} council; '{function.id}' is for {', '.join(function.tiers)}"
                for i in members if tiers[i] not in function.tiers]


class Area(GroupRule):
    name = "area"
    summary = "every member is inside --area"

    def councils(self, problem, k):
        return problem.in_area

    def explain(self, problem, k, members):
        tier_ok = _tiers_ok(problem, k)
        return [f"area: {problem.codes[i]} is outside --area" for i in members if tier_ok[i] and not problem.in_area[i]]


class Exclude(GroupRule):
    name = "exclude"
    summary = "no member is kept out of the function by --exclude"

    def councils(self, problem, k):
        return problem.eligible[k] | ~(_tiers_ok(problem, k) & problem.in_area)

    def explain(self, problem, k, members):
        tier_ok = _tiers_ok(problem, k)
        function = problem.functions[k]
        return [f"exclude: {problem.codes[i]} is excluded from '{function.id}'" for i in members
                if tier_ok[i] and problem.in_area[i] and not problem.eligible[k, i]]


class MaxSize(GroupRule):
    name = "max_size"
    summary = "at most the function's max_size members (capped by --max-size)"

    def limit(self, problem: Problem, k: int) -> int:
        return int(problem.max_size[k])

    def sets(self, view):
        return np.full(len(view.sets), view.sets.shape[1] <= self.limit(view.problem, view.k))

    def explain(self, problem, k, members):
        if len(members) > self.limit(problem, k):
            return [f"max_size: {len(members)} members, at most {self.limit(problem, k)} allowed"]
        return []


class SameArea(GroupRule):
    """same_region, same_county, same_nation: every member has one value of a column."""

    def __init__(self, name: str, column: str):
        self.name, self.column = name, column
        self.summary = f"every member in one {column}"

    def applies(self, function):
        return function.rule(self.name) is not None

    def labels(self, problem: Problem) -> np.ndarray:
        column = problem.instance.councils[self.column]
        return problem.remember(f"labels:{self.column}", lambda: np.unique(column.to_numpy(dtype=str), return_inverse=True)[1])

    def pairs(self, problem, k):
        # members pairwise in one area are all in one area: no whole-set test is needed
        labels = self.labels(problem)
        return labels[:, None] == labels[None, :]

    def explain(self, problem, k, members):
        if len(np.unique(self.labels(problem)[members])) > 1:
            plural = {"county": "counties"}.get(self.column, f"{self.column}s")
            return [f"{self.name}: members are in different {plural}"]
        return []


class Contiguous(GroupRule):
    name = "contiguous"
    summary = "the members' territories form one connected area"

    def applies(self, function):
        return function.rule("contiguous") is not None

    def adjacency(self, problem: Problem) -> np.ndarray:
        """(n, n) whether two councils' territories touch or overlap."""
        return problem.remember("adjacency", lambda: self._build_adjacency(problem))

    def _build_adjacency(self, problem: Problem) -> np.ndarray:
        index = {c: i for i, c in enumerate(problem.codes)}
        n = len(index)
        edges = np.array([(index[a], index[b]) for a, b in problem.instance.graph.edges()], dtype=np.int64).reshape(-1, 2)
        adjacent = np.zeros((n, n), dtype=bool)
        adjacent[edges[:, 0], edges[:, 1]] = True
        adjacent[edges[:, 1], edges[:, 0]] = True
        return adjacent

    def sets(self, view):
        s = view.sets.shape[1]
        bits = np.left_shift(1, np.arange(s, dtype=np.int64))
        touching = self.adjacency(view.problem)[view.sets[:, :, None], view.sets[:, None, :]]
        # each member's neighbours in its set as a bitmask; the members reached from the first
        # grow by one step a round, and s - 1 rounds reach everyone in a connected set
        neighbours = touching.astype(np.int64) @ bits
        reached = np.ones(len(view.sets), dtype=np.int64)
        for _ in range(s - 1):
            reached = reached | np.bitwise_or.reduce(neighbours * ((reached[:, None] & bits) != 0), axis=1)
        return reached == bits.sum()

    def explain(self, problem, k, members):
        if not self.sets(MemberSets(problem, k, np.asarray(members)[None, :]))[0]:
            return ["contiguous: the members' territories do not form one connected area"]
        return []


class Apart(GroupRule):
    name = "apart"
    summary = "no two councils kept apart by --apart share the partnership"

    def pairs(self, problem, k):
        if not problem.apart:
            return None
        allowed = np.ones((len(problem.codes),) * 2, dtype=bool)
        for a, b in problem.apart:
            allowed[a, b] = allowed[b, a] = False
        return allowed

    def explain(self, problem, k, members):
        return [f"apart: {problem.codes[a]} and {problem.codes[b]} must not share a partnership"
                for a, b in problem.apart if a in members and b in members]


class Commitment(GroupRule):
    name = "commitment"
    summary = "every member's commitment reaches the depth's min_commitment"

    def depths(self, view):
        weakest = view.commitment.min(axis=1)
        return np.stack([weakest >= d.min_commitment for d in view.problem.model.depths], axis=1)

    def explain(self, problem, k, members):
        commitment = problem.commitment[members]
        if not any(commitment.min() >= d.min_commitment for d in problem.model.depths):
            weakest = problem.codes[members[commitment.argmin()]]
            return [f"commitment: {weakest} has {commitment.min():g}, below every depth's min_commitment"]
        return []


class HostMinCommitment(GroupRule):
    name = "host_min_commitment"
    summary = "the host's commitment reaches host_min_commitment"

    def hosts(self, view):
        return view.commitment >= view.function.host_min_commitment

    def explain(self, problem, k, members):
        threshold = problem.functions[k].host_min_commitment
        if not (problem.commitment[members] >= threshold).any():
            return [f"host_min_commitment: no member has commitment >= {threshold:g} to host"]
        return []


class Seek(GroupRule):
    """A council that only seeks a function (a ``seek`` listing of ``match``) joins but does
    not host it."""

    name = "seek"
    summary = "a council that only seeks the function does not host it"

    def seekers(self, problem: Problem, k: int) -> np.ndarray:
        """(n,) the councils that may not host function k."""
        def build():
            index = {c: i for i, c in enumerate(problem.codes)}
            found = np.zeros(len(index), dtype=bool)
            found[[index[c] for c, f in problem.options.seek if f == problem.functions[k].id]] = True
            return found
        return problem.remember(f"seekers:{k}", build)

    def hosts(self, view):
        if not view.problem.options.seek:
            return None
        return ~self.seekers(view.problem, view.k)[view.sets]

    def explain(self, problem, k, members):
        if problem.options.seek and self.seekers(problem, k)[members].all():
            return [f"seek: every member only seeks '{problem.functions[k].id}'; none offers to host it"]
        return []


class WithinKm(GroupRule):
    name = "within_km"
    summary = "every member within N km of the host"

    def applies(self, function):
        return function.rule("within_km") is not None

    def km(self, problem: Problem, k: int) -> float:
        return problem.functions[k].rule("within_km").km

    def pairs(self, problem, k):
        # two members more than 2N km apart cannot both be within N km of any host
        return problem.distance_km <= 2 * self.km(problem, k) + KM_SLACK

    def hosts(self, view):
        return view.farthest <= self.km(view.problem, view.k)

    def explain(self, problem, k, members):
        km = self.km(problem, k)
        may_host = problem.commitment[members] >= problem.functions[k].host_min_commitment
        far = problem.distance_km[np.ix_(members, members)].max(axis=1)
        if not (may_host & (far <= km)).any():
            return [f"within_km:{km:g}: no member that may host has every other member within {km:g} km"]
        return []


class PositiveNpv(GroupRule):
    """A partnership must be worth more than its members alone (who are worth 0). Locked
    partnerships are exempt; ``evaluate`` states the break with the figure."""

    name = "npv"
    summary = "the partnership's NPV is positive, its expected NPV under --objective expected (locked partnerships exempt)"

    def values(self, npv: np.ndarray) -> np.ndarray:
        """Whether each value the plan maximises (NPV, or expected NPV) is positive."""
        return npv > 0

    def explain_value(self, npv: float, expected: bool = False) -> list[str]:
        what = "expected npv " if expected else ""
        return [] if npv > 0 else [f"npv: {what}{npv:,.0f} pounds is not positive"]


class Robust(GroupRule):
    """Under --robust, a partnership must pay whoever leaves (SPEC §5): its NPV after its
    worst single withdrawal is positive. Locked partnerships are kept, and flagged."""

    name = "robust"
    summary = "under --robust, the NPV after the worst single withdrawal is positive (locked partnerships exempt)"

    def values(self, worst_npv: np.ndarray) -> np.ndarray:
        return worst_npv > 0

    def explain_value(self, worst_npv: float, member: str) -> list[str]:
        if worst_npv > 0:
            return []
        return [f"robust: if {member} leaves, the NPV is {worst_npv:,.0f} pounds, not positive"]


TIER, AREA, EXCLUDE, MAX_SIZE = Tier(), Area(), Exclude(), MaxSize()
SAME_REGION, SAME_COUNTY, SAME_NATION = SameArea("same_region", "region"), SameArea("same_county", "county"), SameArea("same_nation", "nation")
CONTIGUOUS, APART, COMMITMENT, HOST_MIN_COMMITMENT, WITHIN_KM, NPV = Contiguous(), Apart(), Commitment(), HostMinCommitment(), WithinKm(), PositiveNpv()
ROBUST, SEEK = Robust(), Seek()

#: in the order their sentences are listed
GROUP_RULES = (TIER, AREA, EXCLUDE, MAX_SIZE, SAME_REGION, SAME_COUNTY, SAME_NATION, CONTIGUOUS, APART, COMMITMENT,
               HOST_MIN_COMMITMENT, SEEK, WITHIN_KM, NPV, ROBUST)


def active(problem: Problem, k: int) -> list[GroupRule]:
    """The rules that apply to function k of the run."""
    function = problem.functions[k]
    return [rule for rule in GROUP_RULES if rule.applies(function)]


def _all(masks, default: np.ndarray) -> np.ndarray:
    result = default
    for mask in masks:
        if mask is not None:
            result = result & mask
    return result


def member_mask(problem: Problem, k: int) -> np.ndarray:
    """(n,) the councils that may be members of a partnership for function k (worked out once
    per run: a copy)."""
    n = len(problem.eligible[k])
    return problem.remember(f"members:{k}", lambda: _all((rule.councils(problem, k) for rule in active(problem, k)),
                                                           np.ones(n, dtype=bool))).copy()


def pair_mask(problem: Problem, k: int) -> np.ndarray:
    """(n, n) the pairs of councils that may be in one partnership for function k (worked out
    once per run: a copy)."""
    n = len(problem.eligible[k])
    return problem.remember(f"pairs:{k}", lambda: _all((rule.pairs(problem, k) for rule in active(problem, k)),
                                                       np.ones((n, n), dtype=bool))).copy()


def host_mask(view: MemberSets) -> np.ndarray:
    """(g, s) the members that may host each set (a copy: callers may change it)."""
    if "hosts" not in view.masks:
        view.masks["hosts"] = _all((rule.hosts(view) for rule in active(view.problem, view.k)), np.ones(view.sets.shape, dtype=bool))
    return view.masks["hosts"].copy()


def depth_mask(view: MemberSets) -> np.ndarray:
    """(g, depths) the depths each set may take (a copy: callers may change it)."""
    if "depths" not in view.masks:
        shape = (len(view.sets), len(view.problem.model.depths))
        view.masks["depths"] = _all((rule.depths(view) for rule in active(view.problem, view.k)), np.ones(shape, dtype=bool))
    return view.masks["depths"].copy()


def feasible_sets(problem: Problem, k: int, sets: np.ndarray) -> np.ndarray:
    """(g,) whether each member set (any sets of one size, two or more members) passes every
    rule of function k for some host and depth; the NPV is not judged here."""
    sets = np.asarray(sets)
    ok = member_mask(problem, k)[sets].all(axis=1)
    pairs = pair_mask(problem, k)
    ok &= pairs[sets[:, :, None], sets[:, None, :]].all(axis=(1, 2))
    # each test runs only on the sets still standing: the host and depth tests (within_km
    # above all) drop most sets a search grows, before the costlier whole-set tests
    alive = np.flatnonzero(ok)
    view = MemberSets(problem, k, sets[alive])
    alive = alive[host_mask(view).any(axis=1) & depth_mask(view).any(axis=1)]
    feasible = np.zeros(len(sets), dtype=bool)
    feasible[alive[whole_set_rules_hold(problem, k, sets[alive])]] = True
    return feasible


def whole_set_rules_hold(problem: Problem, k: int, sets: np.ndarray) -> np.ndarray:
    """(g,) whether each member set passes the rules judged on the whole set (contiguity and
    the like), not those about members, pairs, hosts or depths. Every subset of a set that
    passes the member and pair rules passes them too, and the evaluation of §3 applies the
    host and depth rules itself: for subgroups of a feasible group this test is the rest."""
    alive = np.arange(len(sets))
    for rule in active(problem, k):
        mask = rule.sets(MemberSets(problem, k, sets[alive]))
        if mask is not None:
            alive = alive[mask]
    holds = np.zeros(len(sets), dtype=bool)
    holds[alive] = True
    return holds


def rule_breaks(problem: Problem, k: int, members: np.ndarray) -> list[str]:
    """Every rule of SPEC §3 that the member set breaks for function k, as sentences; the
    NPV is not judged here. Used for locked groups (which must break none) and to evaluate a
    grouping someone proposes."""
    members = np.asarray(members)
    return [sentence for rule in active(problem, k) for sentence in rule.explain(problem, k, members)]
