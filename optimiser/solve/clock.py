"""Deadlines and time slices.

A deadline is a ``time.perf_counter()`` instant (None: no limit). Under ``--time-limit`` the
solve hands each block, and each part of a block, a *slice* of the time left; worker
processes receive their deadline as a ``time.time()`` instant, which every process shares.
"""

from __future__ import annotations

import time

from . import stop

MIN_MIP_SECONDS = 2.0  # below this much time left, the MIP of a large part is not started


def now() -> float:
    """This process's ``time.perf_counter()``: every share of the time is read through it, so
    that a test can drive the shares with a clock of its own."""
    return time.perf_counter()


def time_slice(deadline: float | None, slices: float, end: float | None) -> float | None:
    """The instant at which one of ``slices`` equal slices of the time to ``deadline`` ends,
    but never sooner than ``MIN_MIP_SECONDS`` from now (nor later than ``end``, the run's
    own deadline): a small part whose MIP would take a fraction of a second should not be
    left unsolved because many parts came after it. ``slices`` is at least 1."""
    if deadline is None:
        return None
    at = now()
    even = at + max(0.0, deadline - at) / slices
    return min(end if end is not None else deadline, max(even, at + MIN_MIP_SECONDS))


def no_time_for(time_left: float | None, small: bool) -> bool:
    """Whether a part's MIP must not start: its time is over, the solve was asked to stop, or
    (solvers overrun tiny limits on big models) the part is large and its time nearly over."""
    if stop.requested():
        return True
    if time_left is None:
        return False
    return time_left <= 0 or (time_left < MIN_MIP_SECONDS and not small)


def seconds_to(deadline: float | None, at_least: float = 0.0) -> float | None:
    """Seconds from now to ``deadline`` (None: no limit), and never fewer than ``at_least``."""
    return None if deadline is None else max(at_least, deadline - now())


def wall_clock(deadline: float | None) -> float | None:
    """A ``time.perf_counter()`` instant as ``time.time()``, which every process shares."""
    return None if deadline is None else time.time() + (deadline - time.perf_counter())


def local_clock(wall_deadline: float | None) -> float | None:
    """A ``time.time()`` instant as this process's ``time.perf_counter()``."""
    return None if wall_deadline is None else time.perf_counter() + (wall_deadline - time.time())


def elapsed(started: float | None) -> float | None:
    """Seconds since ``started`` (a ``time.perf_counter()`` instant), for progress events."""
    return None if started is None else time.perf_counter() - started
