"""Fix-and-optimise: a plan improved one small geographic window at a time.

On a part with hundreds of councils the MIP solver spends most of a short time limit before
it finds a plan near the LP bound, and a weak plan leaves reduced-cost fixing little to fix.
Small windows are different: a MIP over the options of a few dozen neighbouring councils
mostly solves in well under a second. So the part's councils are split into windows by
recursive bisection of their map coordinates. In each window, the MIP may choose among the
options lying wholly inside the window and the plan's partnerships that reach into it; its
answer replaces those partnerships when it is worth more. The plan's own partnerships are
on offer, so the plan never gets worse. Further passes cut the windows along turned axes,
so that partnerships straddling one pass's edges can be rearranged in another.

Where a limit ties councils or functions together (a budget, a council's headroom,
``max_partnerships`` or ``max_hosted``), a window's MIP is told which of the plan's
partnerships stay as they are: every row keeps only what they leave of it, so the window's
answer together with them keeps every row too. The caller passes those partnerships on to
the MIP, and windows over every function at once hold fewer councils.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Callable, Sequence

import numpy as np

from ..candidates.table import CandidateSet
from ..problem import Problem
from . import stop

log = logging.getLogger(__name__)

WINDOW_COUNCILS = 60
TIED_WINDOW_COUNCILS = (12, 16, 20)  # windows over every function of a block tied together by a limit, smallest first
LATE_TIED_WINDOW_COUNCILS = (20, 28)  # the same, with the time a final MIP that cannot pay would have had
WINDOW_SECONDS = 2.0  # MIP time limit for one window
MIN_WINDOW_SECONDS = 1.0  # a window is not started with less time than this (the MIP's own minimum)
PASS_ANGLES = (0.0, 45.0, 22.5, 67.5)  # each pass cuts windows along axes turned this far


def windows(x: np.ndarray, y: np.ndarray, councils: np.ndarray, size: int) -> list[np.ndarray]:
    """``councils`` split into groups of at most ``size`` by halving along the wider axis."""
    found, pending = [], [councils]
    while pending:
        group = pending.pop()
        if len(group) <= size:
            found.append(group)
            continue
        along = x[group] if np.ptp(x[group]) >= np.ptp(y[group]) else y[group]
        order = np.argsort(along, kind="stable")
        half = len(group) // 2
        pending += [group[order[half:]], group[order[:half]]]
    return found


def improve(problem: Problem, cand: CandidateSet, options: np.ndarray, plan: np.ndarray,
            solve_window: Callable[[np.ndarray, np.ndarray, np.ndarray, float], np.ndarray | None], deadline: float | None,
            sizes: Sequence[int] = (WINDOW_COUNCILS,), target: float = math.inf) -> np.ndarray:
    """A plan at least as good as ``plan``, rearranged window by window.

    ``options`` are the candidates the windows may choose from (indices into ``cand``);
    ``plan`` indexes ``cand`` too. ``solve_window(idx, start, held, seconds)`` returns the best
    plan among the candidates ``idx`` that the solver found in time (indices into ``idx``), or
    None, while the plan's options ``held`` (indices into ``cand``) stay; ``start`` (indices
    into ``idx``) is the window's part of the plan, a solution of its MIP.

    Stops at ``deadline`` or once the plan is worth ``target`` (the part's bound). Windows
    hold at most ``sizes[0]`` councils, then (after a pass that improved nothing, or after
    every turn of the axes) at most ``sizes[1]``, and so on.

    Locked groups stay placed because every option of a locked group has the group's own
    councils: if one fits in a window, the plan's option for that group reaches into it and
    is on offer too, and the window's MIP keeps exactly one.
    """
    option_members = cand.members[options]
    councils = np.unique(option_members[option_members >= 0])
    sizes = [size for size in sizes if size < len(councils)]
    if not sizes:
        return plan  # one window: the caller's MIP over the whole part does better
    # map coordinates in km-like units, so that east-west and north-south halve evenly
    x = problem.lon * math.cos(math.radians(float(np.mean(problem.lat[councils]))))
    y = problem.lat
    turned = [(x * np.cos(angle) + y * np.sin(angle), y * np.cos(angle) - x * np.sin(angle)) for angle in np.radians(PASS_ANGLES)]
    n = len(problem.codes)
    plan = np.asarray(plan, dtype=np.int64)
    before = float(cand.value[plan].sum())
    started = time.perf_counter()
    solved = 0
    for size in sizes:
        for u, v in turned:
            at_start = float(cand.value[plan].sum())
            plan, count = _one_pass(cand, n, options, option_members, plan, windows(u, v, councils, size), solve_window,
                                    deadline, target)
            solved += count
            if float(cand.value[plan].sum()) <= at_start:
                break  # on to larger windows
    after = float(cand.value[plan].sum())
    log.debug("fix-and-optimise: %d windows in %.1fs, plan %.2f -> %.2f", solved, time.perf_counter() - started, before, after)
    return plan


def _one_pass(cand: CandidateSet, n: int, options: np.ndarray, option_members: np.ndarray, plan: np.ndarray,
              pass_windows: list[np.ndarray], solve_window, deadline: float | None, target: float) -> tuple[np.ndarray, int]:
    """The plan after one pass over ``pass_windows`` (of ``n`` councils in all), and how many
    windows' MIPs ran."""
    solved = 0
    for window in pass_windows:
        if (deadline is not None and time.perf_counter() >= deadline) or stop.requested():
            break
        if float(cand.value[plan].sum()) >= target:
            break
        inside = np.zeros(n, dtype=bool)
        inside[window] = True
        plan_members = cand.members[plan]
        touching = np.where(plan_members >= 0, inside[np.maximum(plan_members, 0)], False).any(axis=1)
        fits = np.where(option_members >= 0, inside[np.maximum(option_members, 0)], True).all(axis=1)
        # the plan's partnerships that reach into the window stay on offer, so the window's
        # part of the plan is itself a solution of its MIP
        idx = np.union1d(options[fits], plan[touching])
        current = float(cand.value[plan[touching]].sum())
        if len(idx) == 0:
            continue
        seconds = WINDOW_SECONDS if deadline is None else min(WINDOW_SECONDS, deadline - time.perf_counter())
        if seconds < MIN_WINDOW_SECONDS:
            break
        window_started = time.perf_counter()
        found = solve_window(idx, np.searchsorted(idx, plan[touching]), plan[~touching], seconds)
        solved += 1
        if log.isEnabledFor(logging.DEBUG):
            log.debug("window of %d councils, %d options: %.2fs, %.2f -> %s", len(window), len(idx), time.perf_counter() - window_started,
                      current, "none" if found is None else f"{float(cand.value[idx[found]].sum()):.2f}")
        if found is None:
            continue
        chosen = idx[found]
        if float(cand.value[chosen].sum()) > current + 1e-9 * max(1.0, abs(current)):
            plan = np.r_[plan[~touching], chosen]
    return plan, solved
