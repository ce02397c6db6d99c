"""The savings arithmetic (SPEC §3) over member sets, vectorised, keeping the options that
could matter for an optimal plan.

A set keeps more than one (depth, host, platform) option only where the others could
matter: under ``--budget`` every depth on the Pareto front of NPV against one-off cost, and
when some member's ``max_hosted`` is limited, the hosts in order of coordination cost up to
the first host whose hosting is unlimited. Platforms never matter beyond the cheapest
migration: it is best for NPV and for one-off cost alike.
"""

from __future__ import annotations

import numpy as np

from ..economics.finance import option_cash
from ..problem import Problem
from ..rules.group import NPV, ROBUST, MemberSets, depth_mask, host_mask
from .table import CandidateSet
from .withdrawal import chances_matter, option_figures, withdrawal_active


def evaluate_sets(problem: Problem, k: int, sets: np.ndarray, *, require_positive: bool = True,
                  all_options: bool = False, ignore_rules: bool = False, plain: bool = False,
                  sunk: np.ndarray | None = None) -> CandidateSet:
    """Evaluates member sets of one size for function k (SPEC arithmetic), vectorised.

    Returns the options worth keeping for the master problem (see the module docstring).
    With ``require_positive`` false, options with NPV <= 0 are kept too (locked groups).
    ``all_options`` returns every feasible depth and host; ``ignore_rules`` treats every
    host and depth as feasible (to price a grouping that breaks commitment rules); ``plain``
    judges by the NPV of §3 alone, whatever the run's withdrawal options, and (unless
    ``all_options``) keeps only each set's option of largest NPV (subgroup values of §6).
    ``sunk`` (g,) is the baseline of each set's members whose set-up cost an existing
    arrangement has paid already (--keep-existing): the depth's one-off share is not charged
    on it again; migration to a platform a member is not on today still is.
    """
    return evaluate_sets_by_row(problem, k, sets, require_positive=require_positive, all_options=all_options,
                                ignore_rules=ignore_rules, plain=plain, sunk=sunk)[1]


def evaluate_sets_by_row(problem: Problem, k: int, sets: np.ndarray, *, require_positive: bool = True,
                         all_options: bool = False, ignore_rules: bool = False, plain: bool = False,
                         sunk: np.ndarray | None = None, view: MemberSets | None = None,
                         worth: list | None = None) -> tuple[np.ndarray, CandidateSet]:
    """:func:`evaluate_sets`, with the row of ``sets`` each option belongs to (ascending);
    ``view``: the rules' view of ``sets`` if the caller has one already (its masks are reused).
    ``worth``, a list, gets what :func:`plain_worth` would return for these sets, from the
    arithmetic done here already (with ``ignore_rules`` and ``sunk`` unset)."""
    if worth is not None and (ignore_rules or sunk is not None):
        raise ValueError("a set's worth on its own is priced under the rules and with no cost sunk")
    g, s = sets.shape
    if g == 0:
        if worth is not None:
            worth.append(plain_worth(problem, k, sets))
        return np.zeros(0, dtype=np.int64), CandidateSet.empty(s)
    priced = _Priced(problem, k, sets, view, ignore_rules, sunk)
    if worth is not None:
        worth.append(priced.worth())
    coordination, value, one_off, gross, ok = priced.coordination, priced.value, priced.one_off, priced.gross, priced.allowed
    annuity, b, total, rate = problem.depth_annuity, priced.b, priced.total, priced.rate
    # a set's value alone (plain) needs no option a budget, host limits or headrooms would keep
    best_only = plain and not all_options
    budgeted = problem.options.budget is not None and not best_only
    limited_hosts = bool((problem.max_hosted[problem.eligible[k]] >= 0).any()) and not best_only
    if withdrawal_active(problem) and not ignore_rules and not plain:
        gi, di, hi, objective = _options_under_withdrawal(problem, k, sets, rate * total, coordination, priced.host_ok, ok, value,
                                                          one_off, require_positive, all_options, budgeted, limited_hosts)
        npv = value[gi, di] - coordination[gi, hi] * annuity[di]
        annual = gross[gi, di] - coordination[gi, hi]
    else:
        gi, di, hi, npv, annual = _options_by_npv(problem, sets, coordination, value, gross, one_off, ok, require_positive,
                                                  all_options, budgeted, limited_hosts,
                                                  problem.headroom_active and not best_only)
        objective = npv
    if require_positive and not ignore_rules and not plain and problem.headroom_active and problem.loan is None:
        # paid in cash, every partnership costs its members their share of O in year 0 and none
        # brings money that year: an option whose share alone is beyond a member's headroom
        # can be in no plan (SPEC §8)
        affordable = (b[gi] * (one_off[gi, di] / np.where(total[gi] > 0, total[gi], 1.0))[:, None]
                      <= problem.headroom[sets[gi]] * (1 + 1e-12) + 1e-9).all(axis=1) | (total[gi] <= 0)
        gi, di, hi, npv, annual, objective = (a[affordable] for a in (gi, di, hi, npv, annual, objective))
    common = np.array([d.common_platform for d in problem.model.depths])
    return gi, CandidateSet(
        function=np.full(len(gi), k, dtype=np.int32),
        members=sets[gi].astype(np.int32),
        size=np.full(len(gi), s, dtype=np.int32),
        host=sets[gi, hi].astype(np.int32),
        depth=di.astype(np.int32),
        platform=np.where(common[di], priced.platform[gi], -1).astype(np.int32),
        annual=annual,
        one_off=one_off[gi, di],
        npv=npv,
        locked=np.full(len(gi), -1, dtype=np.int32),
        value=objective,
    )


def plain_worth(problem: Problem, k: int, sets: np.ndarray, view: MemberSets | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """What each member set (g, s) of function k is worth on its own under the run's rules
    (SPEC §6's v: its best NPV over depth, host and platform): the rows whose best NPV is
    positive, those NPVs, and how many of the sets have some feasible host and depth."""
    if len(sets) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0), 0
    return _Priced(problem, k, sets, view, False, None).worth()


class _Priced:
    """The savings arithmetic of SPEC §3 for member sets (g, s) of function k, before any
    option is chosen: per set and host slot the coordination cost (infinite where the host
    breaks a rule), per set and depth the NPV before coordination and the one-off cost."""

    def __init__(self, problem: Problem, k: int, sets: np.ndarray, view: MemberSets | None, ignore_rules: bool,
                 sunk: np.ndarray | None):
        function = problem.functions[k]
        model = problem.model
        g, s = sets.shape
        self.problem, self.sets = problem, sets
        annuity = problem.depth_annuity  # per depth: its ramp discounted (SPEC §8)
        b = problem.spend[k][sets]  # (g, s)
        pop = problem.population[sets]
        total = b.sum(axis=1)
        beta = function.scale_exponent
        rate = 1.0 - pop.sum(axis=1) ** beta / (pop**beta).sum(axis=1)

        # hosts: coordination cost per host slot, validity by within_km and host commitment
        view = view if view is not None else MemberSets(problem, k, sets)
        dist = view.distances
        # einsum sums each host's row without the (g, s, s) product: six times faster than
        # multiplying and reducing the short last axis (measured), equal to within rounding
        coordination = function.coordination * np.einsum("ghm,gm->gh", dist, b) / 100.0
        host_ok = host_mask(view)
        if ignore_rules:
            host_ok = np.ones_like(host_ok)
        self.coordination = np.where(host_ok, coordination, np.inf)
        self.host_ok = host_ok

        # platforms: the members' platform with the most baseline on it needs the least migration
        plat = problem.platform[k][sets]
        weight = np.zeros((g, s))  # baseline already on each member's platform
        for other in range(s):  # member by member: numpy sums a short last axis several times slower
            weight += (plat == plat[:, other : other + 1]) * b[:, other : other + 1]
        best_slot = np.argmax(weight + 1e-9 * (np.arange(s)[None, ::-1]), axis=1)  # ties: earliest member
        migration = function.migration * (total - weight[np.arange(g), best_slot])
        self.platform = plat[np.arange(g), best_slot]

        self.allowed = depth_mask(view) | ignore_rules
        depth_values, depth_one_off = [], []
        for d, a in zip(model.depths, annuity):
            one_off = d.one_off * (total if sunk is None else total - sunk) + (migration if d.common_platform else 0.0)
            depth_values.append(d.capture * rate * total * a - one_off)
            depth_one_off.append(one_off)
        self.value = np.stack(depth_values, axis=1)  # (g, depths): NPV before coordination
        self.one_off = np.stack(depth_one_off, axis=1)
        self.gross = np.stack([d.capture * rate * total for d in model.depths], axis=1)
        self.b, self.total, self.rate = b, total, rate

    def worth(self) -> tuple[np.ndarray, np.ndarray, int]:
        """:func:`plain_worth` of these sets."""
        rows, _, _, best, _ = _options_by_npv(self.problem, self.sets, self.coordination, self.value, self.gross, self.one_off,
                                              self.allowed, True, False, False, False, False)
        feasible = int((self.host_ok.any(axis=1) & self.allowed.any(axis=1)).sum())
        return rows, best, feasible


def _options_by_npv(problem, sets, coordination, value, gross, one_off, ok, require_positive, all_options, budgeted,
                    limited_hosts, headroom):
    """The (set, depth, host) options worth keeping when NPV alone decides: the host of least
    coordination (or those before the first unlimited host), and for each kept host the best
    depth (or the Pareto front under a budget). The least coordination is best at every depth,
    so hosts are chosen first; a depth's value depends on the host through its ramp (the
    coordination cost is discounted by the depth's own ramped annuity), so depths are chosen
    per kept host."""
    annuity = problem.depth_annuity
    finite = np.isfinite(coordination)
    if all_options:
        host_keep = finite
    else:
        host_keep = np.zeros_like(finite)
        if limited_hosts:
            order = np.argsort(coordination, axis=1, kind="stable")
            unlimited = problem.max_hosted[sets] < 0
            sorted_unlimited = np.take_along_axis(unlimited, order, axis=1)
            sorted_finite = np.take_along_axis(finite, order, axis=1)
            # keep slots up to and including the first unlimited one
            before = np.cumsum(sorted_unlimited, axis=1) - sorted_unlimited == 0
            keep_sorted = before & sorted_finite
            np.put_along_axis(host_keep, order, keep_sorted, axis=1)
        else:
            rows, least = np.arange(len(sets)), np.argmin(coordination, axis=1)  # ties: the first, as a stable sort
            host_keep[rows, least] = finite[rows, least]
    pair_set, pair_host = np.nonzero(host_keep)  # one line per kept (set, host)
    cost = coordination[pair_set, pair_host]
    npv_all = value[pair_set] - cost[:, None] * annuity[None, :]  # (pairs, depths)
    cash_all = one_off[pair_set]
    allowed = ok[pair_set]
    m, nd = npv_all.shape
    if all_options:
        depth_keep = allowed
    elif budgeted or headroom:
        # under headroom rows, a depth may replace another only if its net cash is no lower
        # in any year (the members' shares are the same at every depth)
        yearly = yearly_cash(problem, gross[pair_set] - cost[:, None], cash_all) if headroom else None
        depth_keep = allowed.copy()
        for a in range(nd):
            for c in range(nd):
                if a == c:
                    continue
                dominated = allowed[:, c] & (npv_all[:, c] >= npv_all[:, a])
                strictly = (npv_all[:, c] > npv_all[:, a]) | (c < a)
                if budgeted:
                    dominated &= cash_all[:, c] <= cash_all[:, a]
                    strictly |= cash_all[:, c] < cash_all[:, a]
                if headroom:
                    dominated &= (yearly[:, c] >= yearly[:, a]).all(axis=1)
                    strictly |= (yearly[:, c] > yearly[:, a]).any(axis=1)
                depth_keep[:, a] &= ~(dominated & strictly)
    else:
        # best NPV, ties: lower one-off
        best = np.argmax(np.where(allowed, npv_all, -np.inf) - 1e-12 * cash_all, axis=1)
        depth_keep = np.zeros_like(allowed)
        depth_keep[np.arange(m), best] = allowed[np.arange(m), best]
    pi, di = np.nonzero(depth_keep)
    gi, hi = pair_set[pi], pair_host[pi]
    npv = npv_all[pi, di]
    annual = gross[gi, di] - coordination[gi, hi]
    if require_positive:
        keep = NPV.values(npv)
        gi, di, hi, npv, annual = gi[keep], di[keep], hi[keep], npv[keep], annual[keep]
    order = np.lexsort((hi, di, gi))  # by set, then depth, then host, as before
    return gi[order], di[order], hi[order], npv[order], annual[order]


def yearly_cash(problem: Problem, annual: np.ndarray, one_off: np.ndarray, depth: np.ndarray | None = None) -> np.ndarray:
    """(options, choices, T + 1): the partnership's net cash in years 0..T (SPEC §8) for yearly
    net savings and one-off costs given per option and choice; ``depth`` is each choice's
    depth index (default: choice c is depth c)."""
    m, nd = annual.shape
    depth = np.arange(nd) if depth is None else np.asarray(depth)
    cash = option_cash(annual.ravel(), one_off.ravel(), problem.ramp_table[np.tile(depth, m)], problem.loan,
                       problem.model.horizon_years)
    return cash.reshape(m, nd, problem.model.horizon_years + 1)


def _options_under_withdrawal(problem, k, sets, scale, coordination, host_ok, ok, value, one_off, require_positive,
                              all_options, budgeted, limited_hosts):
    """The options worth keeping when withdrawal figures decide (``--objective expected`` or
    ``--robust``): a depth's value now depends on the host (who stays decides who leads the
    survivors), so options are compared as (depth, host) pairs. An option is dropped only when
    another is at least as good on every count that could matter: the objective, under a
    budget the one-off cost, and under a max_hosted limit the host's burden (the same host, or
    one whose hosting is unlimited)."""
    g, s = sets.shape
    options = problem.options
    use_expected = options.objective == "expected" and chances_matter(problem)
    npv = value[:, :, None] - coordination[:, None, :] * problem.depth_annuity[None, :, None]
    feasible = ok[:, :, None] & host_ok[:, None, :]
    # under --robust alone a set needs a positive NPV first: its withdrawal figures are
    # worked out only where it has one (they cost a pass over the survivors of each leaver)
    rows = np.flatnonzero((feasible & NPV.values(npv)).any(axis=(1, 2))) if require_positive and not use_expected else np.arange(g)
    figures = option_figures(problem, k, sets[rows], scale[rows], coordination[rows], one_off[rows], expected=use_expected,
                             worst=options.robust)
    worst = np.full((g, value.shape[1], s), -np.inf)
    if options.robust:
        worst[rows] = figures.worst
    if use_expected:
        objective = np.full((g, value.shape[1], s), -np.inf)
        objective[rows] = figures.expected
    else:
        objective = npv
    if require_positive:
        feasible &= NPV.values(objective)
        if options.robust:
            feasible &= ROBUST.values(worst)
    depths = value.shape[1]
    objective = objective.reshape(g, depths * s)
    feasible = feasible.reshape(g, depths * s)
    headroom = problem.headroom_active
    if headroom:
        capture = np.array([d.capture for d in problem.model.depths])
        priced = np.where(np.isfinite(coordination), coordination, 0.0)
        annual = capture[None, :, None] * scale[:, None, None] - priced[:, None, :]  # (g, depths, host slots)
        yearly = yearly_cash(problem, annual.reshape(g, depths * s), np.repeat(one_off, s, axis=1), np.repeat(np.arange(depths), s))
    if all_options:
        keep = feasible
    elif not budgeted and not limited_hosts and not headroom:
        best = np.argmax(np.where(feasible, objective, -np.inf), axis=1)
        keep = np.zeros_like(feasible)
        keep[np.arange(g), best] = feasible[np.arange(g), best]
    else:
        cost = np.repeat(one_off, s, axis=1)
        host = np.tile(np.arange(s), depths)
        unlimited = np.tile(problem.max_hosted[sets] < 0, (1, depths))
        keep = feasible.copy()
        for a in range(depths * s):
            for c in range(depths * s):
                if a == c:
                    continue
                better = feasible[:, c] & (objective[:, c] >= objective[:, a])
                strictly = objective[:, c] > objective[:, a]
                if budgeted:
                    better &= cost[:, c] <= cost[:, a]
                    strictly |= cost[:, c] < cost[:, a]
                if limited_hosts and host[c] != host[a]:
                    better &= unlimited[:, c]
                if headroom:
                    better &= (yearly[:, c] >= yearly[:, a]).all(axis=1)
                    strictly |= (yearly[:, c] > yearly[:, a]).any(axis=1)
                keep[:, a] &= ~(better & (strictly | (c < a)))
    gi, oi = np.nonzero(keep)
    return gi, oi // s, oi % s, objective[gi, oi]
