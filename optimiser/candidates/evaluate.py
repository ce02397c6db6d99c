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

from ..problem import Problem
from ..rules.group import NPV, MemberSets, depth_mask, host_mask
from .table import CandidateSet


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
    view = MemberSets(problem, k, sets)
    dist = view.distances
    coordination = function.coordination * (dist * b[:, None, :]).sum(axis=2) / 100.0
    host_ok = host_mask(view)
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

    allowed_depths = depth_mask(view) | ignore_rules
    depth_values, depth_one_off = [], []
    for d in model.depths:
        one_off = d.one_off * total + (migration if d.common_platform else 0.0)
        depth_values.append(d.capture * rate * total * annuity - one_off)
        depth_one_off.append(one_off)
    value = np.stack(depth_values, axis=1)  # (g, depths): NPV before coordination
    one_off = np.stack(depth_one_off, axis=1)
    ok = allowed_depths
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
        keep = NPV.values(npv)
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
