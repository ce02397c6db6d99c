"""The library's front door: solve a run, build its candidates, or evaluate a grouping someone proposes."""

from __future__ import annotations

import dataclasses
import logging
import math
import time

from . import candidates as candidates_module
from .analysis.evaluate import Evaluation, evaluate
from .analysis.shares import with_shares
from .analysis import withdrawal as withdrawal_analysis
from .analysis.financing import plan_flows, shortfalls, with_finance
from .candidates.table import CandidateSet
from .io.groups import read_groups
from .plan import Plan, build_plan
from .problem import Problem, RunOptions, load_run, prepare
from .solve import solve_master, workers

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


def solve(instance, model=None, options: RunOptions | None = None, *, progress=None, **overrides) -> Plan:
    """Solves a run and returns its :class:`~optimiser.plan.Plan`.

    ``instance`` is an Instance, a folder or a shipped instance's name; ``model`` a
    SavingsModel, a model name or path, or None for the instance's default. Options may be
    given as a RunOptions or as keywords (``area=("Suffolk",)``, ``budget=1e6`` ...).
    ``progress``, if given, is called with each :class:`~optimiser.progress.ProgressEvent` as the
    solve advances.

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

    free = None
    if problem.headroom_active:
        # the plan without headroom limits first: the financing gap is measured on it, and when
        # it already meets every council's headroom it is the best plan with them too (proven
        # optimal if it was without them). Under a time limit the two solves share it, half each.
        limit = options.time_limit
        unlimited = problem.without_headroom()
        if limit is not None:
            unlimited = dataclasses.replace(unlimited, options=dataclasses.replace(unlimited.options, time_limit=limit / 2))
        cand, solution = _solve(unlimited, progress)
        free = build_plan(unlimited, cand, solution)
        if solution.status == "infeasible" or shortfalls(problem, plan_flows(problem, free.partnerships)):
            log.info("the plan without headroom limits leaves councils short; solving with them")
            limited = problem
            if limit is not None:
                left = max(limit - (time.perf_counter() - started), limit / 2)
                limited = dataclasses.replace(problem, options=dataclasses.replace(problem.options, time_limit=left), memo={})
            free_bound = solution.bound if solution.status != "infeasible" else math.inf
            cand, solution = _solve(limited, progress)
            solution = _tighter(solution, free_bound)
    else:
        cand, solution = _solve(problem, progress)
    # the whole run's time, reading and preparing included
    solution = dataclasses.replace(solution, seconds=time.perf_counter() - started)
    plan = with_finance(problem, with_shares(problem, build_plan(problem, cand, solution)), free)
    log.info("solved %s: %s, NPV %.0f, gap %s", instance.name, solution.status, plan.objective, plan.solver["gap"])
    return plan


def _tighter(solution, bound: float):
    """The headroom solve's result with the bound of the solve without the limits where that is
    lower: both bound the best plan with limits, which cannot beat the best plan without."""
    if solution.status == "infeasible" or not bound < solution.bound:
        return solution
    tighter = dataclasses.replace(solution, bound=bound)
    if tighter.status == "time_limit" and tighter.gap == 0.0:
        tighter = dataclasses.replace(tighter, status="optimal")
    return tighter


def _solve(problem: Problem, progress):
    generator = candidates_module.CandidateGenerator(problem, progress)
    return solve_master(problem, generator, progress, run_blocks=workers.solve_blocks)


def withdraw(instance, plan, council: str, model=None, *, progress=None) -> "withdrawal_analysis.Withdrawal":
    """What happens to ``plan`` when ``council`` (a code or name) leaves it (SPEC §5): for each
    of its partnerships, whether the others carry on, the NPV after, each remaining member's
    loss and the exit fee that keeps them whole; and the plan repaired (solved again with the
    council out of those functions and every other partnership locked).

    ``plan`` is a :class:`~optimiser.plan.Plan` or the path of a plan.json; ``model`` defaults
    to the one the plan names.

    Examples
    --------
    >>> plan = solve("suffolk-2023", functions="legal")
    >>> report = withdraw("suffolk-2023", plan, "Babergh")
    >>> [e.function for e in report.exits], report.repaired.status
    (['legal'], 'optimal')
    """
    if not isinstance(plan, Plan):
        plan = Plan.read(plan)
    instance, default_model, _ = load_run(instance, model)
    if model is None and default_model.name != plan.model:  # the plan names another model than the instance's
        instance, default_model, _ = load_run(instance, plan.model)
    problem = prepare(instance, default_model, plan.options)

    def solve_again(inst, mod, options):
        return solve(inst, mod, options, progress=progress)

    return withdrawal_analysis.withdraw(problem, plan, council, solve_again)


__all__ = ["Evaluation", "build", "evaluate", "read_groups", "solve", "withdraw"]
