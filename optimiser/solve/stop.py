"""A request to stop a solve early and keep the best plan found so far.

The caller of a solve passes ``stop``: a ``threading.Event`` or any callable that returns
True once the solve should end (the command line sets one from its SIGINT and SIGTERM
handlers). While the solve runs, :func:`watching` makes it the process's stop request, and
every stage asks :func:`requested` where it would otherwise go on: column generation, cuts,
plan windows and the parts' MIPs end as if their time were over, and HiGHS, asked through
its interrupt callbacks (:func:`listen`), leaves a running LP or MIP at once with the best
plan and the bound it has. A worker process watches the stop its parent forwards.

A process-wide request rather than an argument through every stage: a stop is one fact about
the whole run, and HiGHS's callbacks (called deep inside a solve) need it anyway.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Callable, Iterator

StopRequest = Callable[[], bool]

_lock = threading.Lock()
_watched: list[StopRequest] = []  # innermost last


def as_request(stop) -> StopRequest | None:
    """``stop`` (None, a ``threading.Event`` or a callable returning bool) as a callable."""
    if stop is None:
        return None
    if hasattr(stop, "is_set"):
        return stop.is_set
    if callable(stop):
        return lambda: bool(stop())
    raise TypeError(f"stop must be a threading.Event or a callable returning bool, not {type(stop).__name__}")


@contextlib.contextmanager
def watching(stop) -> Iterator[StopRequest | None]:
    """Makes ``stop`` (see :func:`as_request`) this process's stop request while the block runs."""
    request = as_request(stop)
    if request is None:
        yield None
        return
    with _lock:
        _watched.append(request)
    try:
        yield request
    finally:
        with _lock:
            _watched.remove(request)


def watched() -> bool:
    """Whether any stop request is being watched (HiGHS callbacks cost nothing otherwise)."""
    return bool(_watched)


def requested() -> bool:
    """Whether the solve in progress has been asked to stop."""
    # called at every interrupt check of HiGHS: no copies, no generator
    for request in _watched:
        if request():
            return True
    return False


def _interrupt(event) -> None:
    if requested():
        event.interrupt()


def listen(highs) -> None:
    """Makes ``highs`` (a ``highspy.Highs``) leave its LP or MIP when a stop is requested; nothing
    when no stop is being watched."""
    if not watched():
        return
    for callback in (highs.cbSimplexInterrupt, highs.cbIpmInterrupt, highs.cbMipInterrupt):
        callback.subscribe(_interrupt)
