"""Withdrawal (SPEC §5), vectorised over member sets: each member's chance of leaving, and
what the partnership is worth when some members leave at the end of the exit year.

For member sets S of one size, every subset T of survivors is a bit mask over S's slots. The
survivors continue when the rules of §3 still hold for T at the chosen depth (the registry's
hooks judge T like any other member set), under the host h if h stays, else under the member
of T that may host with the least coordination cost (the largest A(T)). Everything depends
on the chosen depth d and host h only through

* ``capture_d``, linearly: A_{d,h}(T) = capture_d · r(T) · B(T) − K(T, h'), and
* whether h is among the survivors (the host h' and whether T may continue),

so each figure is an array over (set, depth, host slot) built from one pass over the masks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..problem import Problem
from ..rules.group import MemberSets, depth_mask, host_mask, whole_set_rules_hold

#: no member is ever certain to leave (SPEC §5)
MAX_CHANCE = 0.95
#: member sets per pass, so that (sets, masks, slots) arrays stay small
PASS_ELEMENTS = 4_000_000


def chances_matter(problem: Problem) -> bool:
    """Whether some council may leave a partnership (else E(S) = NPV(S) for every S)."""
    return bool((problem.withdrawal > 0).any() or problem.model.risk.any)


def withdrawal_active(problem: Problem) -> bool:
    """Whether the run's candidates need withdrawal figures: for --robust, or for the
    expected objective when some council may leave."""
    options = problem.options
    return options.robust or (options.objective == "expected" and chances_matter(problem))


def member_chances(problem: Problem, sets: np.ndarray) -> np.ndarray:
    """(g, s) p_i(S): each member's chance of leaving its partnership, raised for a
    cross-tier partnership and for one whose members' political control differs."""
    risk = problem.model.risk
    tiers = problem.tier_label[sets]
    cross = (tiers != tiers[:, :1]).any(axis=1)
    control = problem.control_label[sets]
    known = control >= 0
    highest = np.where(known, control, -1).max(axis=1)
    lowest = np.where(known, control, np.iinfo(np.int64).max).min(axis=1)
    mismatch = known.sum(axis=1) >= 2
    mismatch &= highest > lowest
    raised = problem.withdrawal[sets] + risk.cross_tier * cross[:, None] + risk.control_mismatch * mismatch[:, None]
    return np.minimum(MAX_CHANCE, raised)


def _slot_bits(s: int) -> np.ndarray:
    """(2**s, s) whether slot i survives in mask m."""
    return ((np.arange(2**s)[:, None] >> np.arange(s)[None, :]) & 1).astype(bool)


@dataclass
class Survivors:
    """For each mask of survivors T (a list over masks, each entry over sets):

    ``scale`` r(T) · B(T); ``host_cost`` (g, s) K(T, h) for a host slot h among T (inf
    otherwise or where h may not host T); ``best_cost`` (g,) K(T, h*) under the best host that
    may host T (inf if none); ``best_slot`` (g,) that host's slot (ties: smallest code);
    ``ok`` (g, depths) whether T passes the rules of §3 at each depth apart from the host."""

    masks: list[int]
    scale: list[np.ndarray]
    host_cost: list[np.ndarray]
    best_cost: list[np.ndarray]
    best_slot: list[np.ndarray]
    ok: list[np.ndarray]


def survivors(problem: Problem, k: int, sets: np.ndarray, masks: list[int]) -> Survivors:
    """What each mask of survivors could do on its own, judged by the registry's rules."""
    function = problem.functions[k]
    g, s = sets.shape
    b = problem.spend[k][sets]
    pop = problem.population[sets]
    beta = function.scale_exponent
    code_rank = np.argsort(np.argsort(np.array(problem.codes)))
    found = Survivors(masks, [], [], [], [], [])
    depths = len(problem.model.depths)
    for mask in masks:
        slots = np.flatnonzero(_slot_bits(s)[mask])
        host_cost = np.full((g, s), np.inf)
        if len(slots) < 2:
            found.scale.append(np.zeros(g))
            found.host_cost.append(host_cost)
            found.best_cost.append(np.full(g, np.inf))
            found.best_slot.append(np.full(g, -1))
            found.ok.append(np.zeros((g, depths), dtype=bool))
            continue
        sub = sets[:, slots]
        view = MemberSets(problem, k, sub)
        bt, pt = b[:, slots], pop[:, slots]
        total = bt.sum(axis=1)
        found.scale.append((1.0 - pt.sum(axis=1) ** beta / (pt**beta).sum(axis=1)) * total)
        cost = function.coordination * (view.distances * bt[:, None, :]).sum(axis=2) / 100.0
        may_host = host_mask(view)
        host_cost[:, slots] = np.where(may_host, cost, np.inf)
        # least cost, then smallest code
        ranked = np.where(may_host, cost, np.inf)
        least = ranked.min(axis=1)
        tied = ranked == least[:, None]
        pick = np.argmin(np.where(tied, code_rank[sub], np.iinfo(np.int64).max), axis=1)
        found.best_cost.append(least)
        found.best_slot.append(np.where(np.isfinite(least), slots[pick], -1))
        # survivors of a set that passed the member and pair rules pass them too; the
        # whole-set rules (contiguous) may not
        found.host_cost.append(host_cost)
        found.ok.append(whole_set_rules_hold(problem, k, sub)[:, None] & depth_mask(view))
    return found


def continuing_cost(found: Survivors, m: int, s: int) -> tuple[np.ndarray, np.ndarray]:
    """For mask number m, (g, s) over the original host slot h: the survivors' coordination
    cost K(T, h') and whether some host may lead them (h itself when it stays)."""
    mask = found.masks[m]
    stays = _slot_bits(s)[mask]
    cost = np.where(stays[None, :], found.host_cost[m], found.best_cost[m][:, None])
    return cost, np.isfinite(cost)


@dataclass
class OptionFigures:
    """Withdrawal figures of every (set, depth, host slot) option: ``expected`` E(S) and
    ``worst`` W(S) as (g, depths, s) arrays, and ``worst_slot`` the member whose leaving
    gives W(S) (ties: smallest code); None where not asked for."""

    expected: np.ndarray | None
    worst: np.ndarray | None
    worst_slot: np.ndarray | None = None


def option_figures(problem: Problem, k: int, sets: np.ndarray, own_scale: np.ndarray, own_cost: np.ndarray,
                   one_off: np.ndarray, *, expected: bool, worst: bool) -> OptionFigures:
    """E(S) and W(S) for every depth and host slot of member sets of one size.

    ``own_scale`` (g,) r(S) · B(S); ``own_cost`` (g, s) K(S, h) per host slot; ``one_off``
    (g, depths) O(S) per depth."""
    g, s = sets.shape
    if g == 0:
        empty = np.zeros((0, len(problem.model.depths), s))
        return OptionFigures(empty if expected else None, empty if worst else None, empty.astype(int) if worst else None)
    chunk = max(1, PASS_ELEMENTS // ((2**s if expected else s) * s * len(problem.model.depths)))
    parts = [_option_figures(problem, k, sets[a : a + chunk], own_scale[a : a + chunk], own_cost[a : a + chunk],
                             one_off[a : a + chunk], expected, worst) for a in range(0, g, chunk)]
    joined = {name: np.concatenate([getattr(p, name) for p in parts]) if wanted else None
              for name, wanted in (("expected", expected), ("worst", worst), ("worst_slot", worst))}
    return OptionFigures(**joined)


def _option_figures(problem, k, sets, own_scale, own_cost, one_off, expected: bool, worst: bool) -> OptionFigures:
    g, s = sets.shape
    model = problem.model
    capture = np.array([d.capture for d in model.depths])[None, :, None]
    early, late = (a[None, :, None] for a in exit_discounts(problem))
    own = capture * own_scale[:, None, None] - own_cost[:, None, :]  # A(S) per depth and host
    base = own * early - one_off[:, :, None]
    full = 2**s - 1
    leavers = [full & ~(1 << i) for i in range(s)]
    masks = list(range(2**s)) if expected else leavers
    found = survivors(problem, k, sets, masks)
    result = OptionFigures(None, None)
    if expected:
        chance = member_chances(problem, sets)
        bits = _slot_bits(s)
        stays_term = np.zeros((g, len(model.depths), s))
        for m, mask in enumerate(masks):
            weight = np.where(bits[mask][None, :], 1.0 - chance, chance).prod(axis=1)
            stays_term += weight[:, None, None] * _later_saving(found, m, s, capture)
        result.expected = base + late * stays_term
    if worst:
        later = np.stack([_later_saving(found, masks.index(mask), s, capture) for mask in leavers], axis=3)
        least = later.min(axis=3)
        code_rank = np.argsort(np.argsort(np.array(problem.codes)))[sets]
        tied = later == least[..., None]
        result.worst = base + late * least
        result.worst_slot = np.argmin(np.where(tied, code_rank[:, None, None, :], np.iinfo(np.int64).max), axis=3)
    return result


def _later_saving(found: Survivors, m: int, s: int, capture: np.ndarray) -> np.ndarray:
    """(g, depths, host slot) A'(T): the survivors' yearly net saving after the exit year, 0
    where the partnership ends."""
    cost, hosted = continuing_cost(found, m, s)
    goes_on = found.ok[m][:, :, None] & hosted[:, None, :]
    saving = capture * found.scale[m][:, None, None] - np.where(hosted, cost, 0.0)[:, None, :]
    return np.where(goes_on, saving, 0.0)


def exit_discounts(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """Per depth, a(1..k) and a(k+1..T): the present value of a pound a year before and after
    the exit year, each year's pound scaled by the depth's ramp_t (SPEC §5 and §8)."""
    model = problem.model
    k = model.risk.exit_year

    def pair():
        return (np.array([model.discounted(1, k, d) for d in model.depths]),
                np.array([model.discounted(k + 1, model.horizon_years, d) for d in model.depths]))

    return problem.remember("exit_discounts", pair)


@dataclass
class PartnershipRisk:
    """Withdrawal figures of chosen partnerships of one function and size, one entry each:
    ``chances`` (g, s) p_i(S); ``expected`` E(S); ``worst`` W(S); ``worst_slot`` who causes it."""

    chances: np.ndarray
    expected: np.ndarray
    worst: np.ndarray
    worst_slot: np.ndarray


def own_figures(problem: Problem, k: int, sets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """r(S) · B(S) per set and K(S, h) per host slot, as §3 defines them."""
    function = problem.functions[k]
    b = problem.spend[k][sets]
    pop = problem.population[sets]
    beta = function.scale_exponent
    scale = (1.0 - pop.sum(axis=1) ** beta / (pop**beta).sum(axis=1)) * b.sum(axis=1)
    distances = problem.distance_km[sets[:, :, None], sets[:, None, :]]
    return scale, function.coordination * (distances * b[:, None, :]).sum(axis=2) / 100.0


def partnership_risk(problem: Problem, k: int, sets: np.ndarray, host_slot: np.ndarray, depth: np.ndarray,
                     one_off: np.ndarray) -> PartnershipRisk:
    """The withdrawal figures of partnerships of function k: member sets (g, s) of one size
    with their host's slot, depth index and one-off cost O(S)."""
    g = len(sets)
    scale, cost = own_figures(problem, k, sets)
    per_depth = np.repeat(np.asarray(one_off, dtype=float)[:, None], len(problem.model.depths), axis=1)
    found = option_figures(problem, k, sets, scale, cost, per_depth, expected=True, worst=True)
    rows = np.arange(g)
    return PartnershipRisk(member_chances(problem, sets), found.expected[rows, depth, host_slot],
                           found.worst[rows, depth, host_slot], found.worst_slot[rows, depth, host_slot])


@dataclass
class Departure:
    """What one partnership does when some members leave at the end of the exit year."""

    survivors: tuple[int, ...]  # council indices
    continues: bool
    host: int | None  # who leads the survivors (None when it ends)
    annual_after: float  # A'(T): their yearly net saving after the exit year
    npv: float  # NPV(S -> T)


def departure(problem: Problem, k: int, members: np.ndarray, host: int, depth: int, annual: float, one_off: float,
              leaving: set[int]) -> Departure:
    """NPV(S -> T) of one partnership (its members, host, depth, A(S) and O(S)) when the
    councils ``leaving`` go (SPEC §5)."""
    members = np.asarray(members)
    s = len(members)
    mask = sum(1 << i for i, c in enumerate(members) if int(c) not in leaving)
    found = survivors(problem, k, members[None, :], [mask])
    host_slot = int(np.flatnonzero(members == host)[0])
    cost, hosted = continuing_cost(found, 0, s)
    goes_on = bool(found.ok[0][0, depth] and hosted[0, host_slot])
    stays = (mask >> host_slot) & 1
    leader = host if stays else int(members[found.best_slot[0][0]]) if goes_on else None
    capture = problem.model.depths[depth].capture
    after = capture * float(found.scale[0][0]) - float(cost[0, host_slot]) if goes_on else 0.0
    early, late = (float(a[depth]) for a in exit_discounts(problem))
    kept = tuple(int(c) for i, c in enumerate(members) if (mask >> i) & 1)
    return Departure(kept, goes_on, leader if goes_on else None, after, annual * early + after * late - one_off)


def chosen_risk(problem: Problem, cand, chosen: np.ndarray) -> dict[int, dict]:
    """The withdrawal fields of each chosen option of ``cand`` (a CandidateSet), as plan.json
    holds them (SPEC §5), computed a function and a size at a time."""
    codes = problem.codes
    found = {}
    keys = sorted({(int(cand.function[j]), int(cand.size[j])) for j in chosen})
    for k, size in keys:
        rows = np.array([j for j in chosen if cand.function[j] == k and cand.size[j] == size], dtype=np.int64)
        sets = cand.members[rows, :size].astype(np.int64)
        host_slot = np.argmax(sets == cand.host[rows][:, None], axis=1)
        risk = partnership_risk(problem, k, sets, host_slot, cand.depth[rows].astype(np.int64), cand.one_off[rows])
        for n, j in enumerate(rows):
            worst = float(risk.worst[n])
            found[int(j)] = dict(
                withdrawal={codes[i]: float(p) for i, p in zip(sets[n], risk.chances[n])},
                expected_npv=float(risk.expected[n]),
                worst_withdrawal=codes[sets[n, risk.worst_slot[n]]],
                worst_withdrawal_npv=worst,
                robust=bool(worst > 0),
            )
    return found
