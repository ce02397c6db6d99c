"""The library's front door: solve a run, build its candidates, or evaluate a grouping someone proposes."""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from pathlib import Path

import numpy as np

from . import candidates as candidates_module
from .analysis.evaluate import Evaluation, evaluate
from .analysis.existing import with_today
from .analysis import marketplace
from .analysis.shares import with_shares
from .analysis import withdrawal as withdrawal_analysis
from .analysis.financing import plan_flows, shortfalls, with_finance
from .candidates.table import CandidateSet
from .errors import InputError
from .io.groups import read_groups
from .io.instance import Instance, load_instance
from .io.provenance import Provenance
from .plan import Plan, build_plan
from .problem import Problem, RunOptions, load_run, prepare, resolve_area
from .solve import solve_master, stop as stop_request, workers
from .solve.estimate import long_run_warning
from .solve.heuristics import greedy

log = logging.getLogger(__name__)


def build(instance, model=None, options: RunOptions | None = None, **overrides) -> tuple[Problem, CandidateSet]:
    """The resolved problem of a run and every candidate option, without solving: for research
    on the candidate set itself and for benchmarks.

    Arguments are those of :func:`solve`. The problem holds the run as arrays over the
    instance's councils (eligibility, baselines, distances, limits); the candidates are
    parallel numpy arrays, one entry per option (function, members padded with -1, host,
    depth, platform, yearly saving, one-off cost, NPV, locked group).

    Examples
    --------
    >>> problem, candidates = build("suffolk-2023", functions="ict")
    >>> [f.id for f in problem.functions], len(candidates) > 0
    (['ict'], True)
    """
    instance, model, options = load_run(instance, model, options, **overrides)
    problem = prepare(instance, model, options)
    return problem, candidates_module.generate(problem)


def solve(instance, model=None, options: RunOptions | None = None, *, progress=None, stop=None, **overrides) -> Plan:
    """Solves a run and returns its :class:`~optimiser.plan.Plan`.

    ``instance`` is an Instance, a folder or a shipped instance's name; ``model`` a
    SavingsModel, a model name or path, or None for the instance's default. Options may be
    given as a RunOptions or as keywords (``area=("Suffolk",)``, ``budget=1e6`` ...).
    ``progress``, if given, is called with each :class:`~optimiser.progress.ProgressEvent` as the
    solve advances.

    ``stop``, if given, is a ``threading.Event`` (or a callable returning True) that asks the
    solve to end early: once it is set, every LP and MIP stops at once (worker processes too)
    and the best plan found so far is returned, like any plan, with status ``interrupted`` and
    its proven bound and gap (a bound on how far it is from the best possible). Nothing is
    raised: whoever set the event knows why. The command line sets one on Ctrl-C or SIGTERM.

    Examples
    --------
    >>> plan = solve("suffolk-2023", functions="ict", shares="shapley")
    >>> plan.status, len(plan.partnerships)
    ('optimal', 1)
    >>> plan.to_frame("councils")[["code", "partnership", "npv_share", "transfer"]].shape
    (6, 4)
    """
    started = time.perf_counter()
    instance, model, options = load_run(instance, model, options, **overrides)
    problem = prepare(instance, model, options)
    with stop_request.watching(stop):
        return _solve_watched(problem, instance, started, progress)


def _solve_watched(problem: Problem, instance, started: float, progress) -> Plan:
    options = problem.options
    warning = long_run_warning(problem)
    if warning:
        log.warning("%s", warning)
    free = None
    if problem.headroom_active:
        # the plan without headroom limits first: the financing gap is measured on it, and when
        # it already meets every council's headroom it is the best plan with them too (proven
        # optimal if it was without them). Under a time limit the two solves share it, half each.
        limit = options.time_limit
        unlimited = problem.without_headroom()
        if limit is not None:
            unlimited = dataclasses.replace(unlimited, options=dataclasses.replace(unlimited.options, time_limit=limit / 2))
        cand, solution, worth = _solve(unlimited, progress)
        free = build_plan(unlimited, cand, solution)
        if solution.status == "infeasible" or shortfalls(problem, plan_flows(problem, free.partnerships)):
            log.info("the plan without headroom limits leaves councils short; solving with them")
            limited = problem
            if limit is not None:
                left = max(limit - (time.perf_counter() - started), limit / 2)
                limited = dataclasses.replace(problem, options=dataclasses.replace(problem.options, time_limit=left), memo={})
            free_bound = solution.bound if solution.status != "infeasible" else math.inf
            free_cand, free_solution = cand, solution
            # the groups' worth on their own does not depend on the headroom: the first solve's stands
            unpriced = len(worth) < len(problem.functions)
            cand, solution, more = _solve(limited, progress, record_worth=unpriced)
            worth = {**more, **worth}
            if stop_request.requested():
                # stopped during (or before) the solve with limits: the plan without them, cut
                # down to what the headroom allows, is usually far better than that solve's
                cand, solution = _better_within_limits(limited, (cand, solution), (free_cand, free_solution))
            solution = _tighter(solution, free_bound)
    else:
        cand, solution, worth = _solve(problem, progress)
    # the whole run's time, reading and preparing included
    solution = dataclasses.replace(solution, seconds=time.perf_counter() - started)
    plan = with_today(problem, with_finance(problem, with_shares(problem, build_plan(problem, cand, solution), worth=worth), free))
    plan = dataclasses.replace(plan, provenance=Provenance.of(instance, problem.model))
    log.info("solved %s: %s, NPV %.0f, gap %s", instance.name, solution.status, plan.objective, plan.solver["gap"])
    return plan


def _better_within_limits(problem: Problem, solved, unlimited):
    """The better of a solve's result and the plan of the same run without headroom limits
    cut down greedily (its options by NPV, each kept while every limit's rows still hold).
    The bound stays the solve's own: both plans are plans of ``problem``."""
    cand, solution = solved
    free_cand, free_solution = unlimited
    if solution.status == "infeasible" or free_solution.status == "infeasible":
        return solved
    kept_cand = free_cand.take(free_solution.chosen)
    kept = greedy(problem, kept_cand, np.argsort(-kept_cand.value, kind="stable"))
    if kept is None or float(kept_cand.value[kept].sum()) <= solution.objective:
        return solved
    objective = float(kept_cand.value[kept].sum())
    return kept_cand, dataclasses.replace(solution, chosen=kept, objective=objective, bound=max(solution.bound, objective))


def _tighter(solution, bound: float):
    """The headroom solve's result with the bound of the solve without the limits where that is
    lower: both bound the best plan with limits, which cannot beat the best plan without."""
    if solution.status == "infeasible" or not bound < solution.bound:
        return solution
    tighter = dataclasses.replace(solution, bound=bound)
    if tighter.status in ("time_limit", "interrupted") and tighter.gap == 0.0:
        tighter = dataclasses.replace(tighter, status="optimal")
    return tighter


def _solve(problem: Problem, progress, record_worth: bool = True):
    """The solve's candidates and solution, and what its candidate generation recorded of the
    groups' worth on their own (for the plan's stability)."""
    generator = candidates_module.CandidateGenerator(problem, progress, record_worth=record_worth)
    cand, solution = solve_master(problem, generator, progress, run_blocks=workers.solve_blocks)
    return cand, solution, generator.worth


def withdraw(instance, plan, council: str, model=None, *, progress=None) -> "withdrawal_analysis.Withdrawal":
    """What happens to ``plan`` when ``council`` (a code or name) leaves it (SPEC §5): for each
    of its partnerships, whether the others carry on, the NPV after, each remaining member's
    loss and the exit fee that keeps them whole; and the plan repaired (solved again with the
    council out of those functions and every other partnership locked).

    ``plan`` is a :class:`~optimiser.plan.Plan` or the path of a plan.json; ``model`` defaults
    to the plan's own (the one its provenance embeds, else the one it names).

    Examples
    --------
    >>> plan = solve("suffolk-2023", functions="legal")
    >>> report = withdraw("suffolk-2023", plan, "Babergh")
    >>> [e.function for e in report.exits], report.repaired.status
    (['legal'], 'optimal')
    """
    if not isinstance(plan, Plan):
        plan = Plan.read(plan)
    if not isinstance(instance, Instance):
        instance = load_instance(instance)
    problem = prepare(instance, plan.savings_model(instance, model), plan.options)

    def solve_again(inst, mod, options):
        return solve(inst, mod, options, progress=progress)

    return withdrawal_analysis.withdraw(problem, plan, council, solve_again)


def partners(instance, council: str, model=None, options: RunOptions | None = None, *, top: int = 5, plan=None,
             rule: str = "shapley", include_one_sided: bool = False, progress=None, **overrides) -> "marketplace.Market":
    """The best partnerships ``council`` (a code or name) could join, per function of the run
    (SPEC §7): ranked by its share under ``rule``, each with every member's share and gain over
    its outside option (its npv_share in ``plan``, a Plan or plan.json path, else 0); only
    mutual ones (every member gains) unless ``include_one_sided``.

    Examples
    --------
    >>> found = partners("suffolk-2023", "Ipswich", functions="legal", top=2)
    >>> [f.function for f in found.functions], len(found.functions[0].suggestions)
    (['legal'], 2)
    """
    from .io.names import places_of
    from .problem import check_share_rule

    instance, model, options = load_run(instance, model, options, **overrides)
    check_share_rule(rule)
    problem = prepare(instance, model, options)
    code = places_of(instance).council(council, "council")
    outside, name = {}, None
    if plan is not None:
        name = str(plan) if not isinstance(plan, Plan) else None
        plan = plan if isinstance(plan, Plan) else Plan.read(plan)
        if plan.instance != instance.name:
            raise InputError(name or "--plan", f"is a plan for instance '{plan.instance}', not '{instance.name}'")
        outside = {(c.code, c.function): c.npv_share for c in plan.councils}
    return marketplace.market(problem, problem.codes.index(code), top=top, rule=rule, outside=outside,
                              include_one_sided=include_one_sided, plan_name=name, progress=progress)


def match(instance, listings, model=None, options: RunOptions | None = None, *, progress=None, stop=None, **overrides) -> Plan:
    """Solves the run over the councils that listed themselves (SPEC §7): ``listings`` is a
    listing file (``code, function, stance``) or a list of :class:`~optimiser.io.listings.Listing`.
    Only the listed (council, function) pairs take part (every other eligible pair is excluded,
    the run's functions are those listed), and only ``offer`` and ``open`` councils may host
    (``seek`` ones are recorded in the options' ``seek``); ``stop`` is :func:`solve`'s. Listings outside the run (another
    area, a function left out, an --exclude) are skipped with a warning.

    Examples
    --------
    >>> from optimiser.io.listings import Listing
    >>> plan = match("suffolk-2023", [Listing("Ipswich", "legal", "seek", 2), Listing("Babergh", "legal", "offer", 3)])
    >>> [(p.members, p.host) for p in plan.partnerships]
    [(('E07000200', 'E07000202'), 'E07000200')]
    """
    from .io.listings import read_listings
    from .io.names import places_of

    instance, model, options = load_run(instance, model, options, **overrides)
    if isinstance(listings, (str, Path)):
        listings = read_listings(listings, instance, model)
    places = places_of(instance)
    listings = [item._replace(code=places.council(item.code, "listing")) for item in listings]
    resolved = options.resolved(instance, model)
    in_area = resolve_area(instance, resolved.area)
    index = {c: i for i, c in enumerate(instance.codes)}
    run = resolved.functions or tuple(model.function_ids)
    kept = [item for item in listings if item.function in run and in_area[index[item.code]] and (item.code, item.function) not in resolved.exclude]
    if len(kept) < len(listings):
        log.warning("%d listings are outside the run (another area, a function left out, or --exclude); they are skipped",
                    len(listings) - len(kept))
    functions = tuple(f for f in run if any(item.function == f for item in kept))
    if not functions:
        raise InputError("listings", "no listing is inside the run (its area and functions)")
    listed = {(item.code, item.function) for item in kept}
    tiers = instance.councils["tier"].tolist()
    unlisted = tuple((code, f) for f in functions for code, tier, inside in zip(instance.codes, tiers, in_area)
                     if inside and tier in model.function(f).tiers and (code, f) not in listed and (code, f) not in resolved.exclude)
    seek = tuple((item.code, item.function) for item in kept if item.stance == "seek")
    options = dataclasses.replace(resolved, functions=functions, exclude=resolved.exclude + unlisted, seek=seek)
    return solve(instance, model, options, progress=progress, stop=stop)


__all__ = ["Evaluation", "build", "evaluate", "match", "partners", "read_groups", "solve", "withdraw"]
