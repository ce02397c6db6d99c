"""The plan repaired after a council leaves (SPEC §5), solved only where the leaving changes
anything.

The repaired run is the plan's run with the leaver out of the functions it leaves and every
partnership without it locked. A council of a locked partnership can be in no other
partnership of that function, so the run's only choices are each locked group's option and
groups of the councils left free. Call a free council a *seed* of a function the leaver
leaves when it was the leaver's partner there; the candidates here are the locked groups'
options and every group the rules allow of free councils that holds a seed.

Why that is enough, with no limit that ties partnerships together (no budget,
max_partnerships or max_hosted; headroom only when it did not shape the plan, below): take any
repaired plan Q and let N be its new groups that hold no seed. Every council of N was free
beside the original plan P (a seed's partnership was the leaver's; every other partnership of
P is locked), N's groups are worth what they were in P's run (only groups holding the leaver
change, and it is in none of N's), so P with N added is a plan of P's run and
v(N) <= bound(P) - v(P) =: delta. The rest of Q is locked groups' options and groups holding a
seed, whose best is the small MIP's optimum M: v(Q) <= M + delta. So the MIP's plan is the
repaired run's optimum when P was proven optimal, and within delta of it otherwise.

Headroom (SPEC §8) ties a council's partnerships together. When the plan is the plan of its
run without headroom limits (it met every council's headroom; ``finance.without_headroom``
says so), the argument holds for the run without them, which bounds the run with them; the
plan with them is the run's without them where that meets every headroom. Otherwise, and under
the other limits, the bound is P's own (every repaired plan is a plan of P's run), which only
serves a run that stopped at its time limit: its repaired plan is the one without headroom
limits where that meets them, else a greedy plan within every limit. A proven-optimal plan that
this cannot prove the repair of gets ``None`` here, and the caller solves the repaired run in full.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time

import numpy as np

from ..candidates import evaluate_sets, locked_candidates
from ..candidates.table import CandidateSet
from ..io.provenance import Provenance
from ..plan import Plan, build_plan
from ..problem import Problem
from ..solve import solve_master
from ..solve.heuristics import greedy
from ..solve.results import Solution, relative_gap
from ..solve.rows import coupled
from .existing import with_today
from .financing import plan_flows, shortfalls, with_finance
from .marketplace import groups_holding
from .shares import with_shares

log = logging.getLogger(__name__)

GREEDY_SEED_OPTIONS = 20_000  # seed groups a greedy plan tries, the most valuable first


def free_councils(problem: Problem) -> np.ndarray:
    """(functions, councils): eligible and in no locked group of the function."""
    free = problem.eligible.copy()
    for group in problem.locked:
        free[group.function_index, group.members] = False
    return free


def seed_groups(problem: Problem, seeds: dict[int, list[int]], free: np.ndarray) -> list[np.ndarray]:
    """Per function k of ``seeds``, every member set of free councils that holds one of its
    seeds and passes every rule of the run, by size (one array per function and size)."""
    found = []
    for k, councils in seeds.items():
        by_size: dict[int, list[np.ndarray]] = {}
        for seed in councils:
            for level in groups_holding(problem, k, seed, free[k]):
                by_size.setdefault(level.shape[1], []).append(level)
        for size in sorted(by_size):
            found.append((k, np.unique(np.concatenate(by_size[size]), axis=0).astype(np.int32)))
    return found


class RepairCandidates:
    """The repaired run's candidates, function by function, in the shape the exact method
    takes (``optimiser.solve.solve_master``'s generator): each locked group's options and every
    option of a group of free councils that holds a seed."""

    def __init__(self, problem: Problem, seeds: dict[int, list[int]]):
        self.width = max(int(problem.max_size.max()), max((len(g.members) for g in problem.locked), default=2))
        parts: dict[int, list[CandidateSet]] = {k: [] for k in range(len(problem.functions))}
        for options in locked_candidates(problem):
            parts[int(options.function[0])].append(options)
        for k, sets in seed_groups(problem, seeds, free_councils(problem)):
            parts[k].append(evaluate_sets(problem, k, sets))
        self._functions = {k: CandidateSet.concat(found, self.width) for k, found in parts.items()}

    def function(self, k: int) -> CandidateSet:
        return self._functions[k]

    def note_lp_support(self, block: list[int], support) -> None:
        """The exact method's news of a block's first LP (for a record of the groups' worth,
        which a repair does not keep)."""

    def __len__(self) -> int:
        return sum(len(c) for c in self._functions.values())


def is_own_free_plan(plan: Plan) -> bool:
    """Whether the plan is the plan its run found without headroom limits (it met every
    council's headroom, so the run kept it): its bound is that run's."""
    free = (plan.finance or {}).get("without_headroom")
    if not free:
        return False
    key = lambda p: (p["function"], tuple(sorted(p["members"])), p["host"], p["depth"], p["platform"])  # noqa: E731
    mine = sorted(key({"function": p.function, "members": p.members, "host": p.host, "depth": p.depth, "platform": p.platform})
                  for p in plan.partnerships)
    return mine == sorted(key(p) for p in free["partnerships"])


def repair(problem: Problem, plan: Plan, seeds: dict[int, list[int]]) -> Plan | None:
    """The repaired plan of the run ``problem`` (the plan's run with the leaver out and every
    other partnership locked), ``seeds`` the leaver's former partners per function index it
    leaves; None when this method cannot settle it (see the module) and a full solve must."""
    started = time.perf_counter()
    options = problem.options
    if options.keep_existing or plan.status not in ("optimal", "time_limit", "interrupted"):
        return None
    own_bound = not coupled(problem.without_headroom()) and (not problem.headroom_active or is_own_free_plan(plan))
    if plan.status == "optimal" and not own_bound:
        return None
    generator = RepairCandidates(problem, seeds)
    unlimited = problem.without_headroom() if problem.headroom_active else problem
    cand, free = solve_master(unlimited, generator)
    if free.status == "infeasible":
        return None
    found, free_plan = free, None
    if problem.headroom_active:
        free_plan = build_plan(unlimited, cand, free)
        if shortfalls(problem, plan_flows(problem, free_plan.partnerships)):
            if plan.status == "optimal":
                return None  # what the headroom rows cost, no bound here proves: solve in full
            # the plan stopped short anyway, and its bound is the repair's: a plan within the
            # limits, taken greedily (locked groups first, then the most valuable seed groups:
            # a few are chosen at most, one a seed), is all it needs
            cand = CandidateSet.concat([generator.function(k) for k in range(len(problem.functions))], generator.width)
            by_value = np.argsort(-cand.value, kind="stable")
            seeded = by_value[cand.locked[by_value] < 0][:GREEDY_SEED_OPTIONS]
            chosen = greedy(problem, cand, np.r_[by_value[cand.locked[by_value] >= 0], seeded])
            if chosen is None:
                return None
            found = Solution(chosen, "time_limit", float(cand.value[chosen].sum()), math.inf, 0.0)
    delta = 0.0 if plan.status == "optimal" else max(0.0, plan.solver.bound - plan.objective)
    bound = plan.solver.bound
    if own_bound:
        bound = min(bound, free.bound + delta)
    gap = relative_gap(found.objective, bound)
    if plan.status == "optimal" and (gap > 0 or found.status != "optimal"):
        return None  # the headroom rows cost something the free bound cannot prove: solve in full
    status = "optimal" if gap == 0 and found.status == "optimal" else "time_limit"
    stats = {"method": "repair", "candidates": len(generator), "seeds": sum(len(s) for s in seeds.values()),
             "bound": "the run's without its leaver" if own_bound else "the plan's own"}
    solution = Solution(found.chosen, status, found.objective, max(bound, found.objective), time.perf_counter() - started, stats)
    repaired = build_plan(problem, cand, solution)
    if options.shares != "proportional":
        repaired = with_shares(problem, repaired, stability=False)
    repaired = with_today(problem, with_finance(problem, repaired, free_plan))
    log.info("repaired over %d options: NPV %.0f, bound %.0f (%s)", len(generator), repaired.totals.npv, solution.bound, stats["bound"])
    return dataclasses.replace(repaired, provenance=Provenance.of(problem.instance, problem.model))
