"""One vocabulary for how a run advances, shared by the library, its worker processes, the
logs and the command line.

Library code reports a :class:`ProgressEvent` to a ``progress`` callable when one is given
and logs it otherwise; it never prints. Events are immutable and plain, so they cross from a
worker process to its parent unchanged, and the terminal, a log file or a notebook can each
render them their own way (:meth:`ProgressEvent.text` is the one-line form).
"""

from __future__ import annotations

import logging
import time
from typing import Callable, NamedTuple

log = logging.getLogger(__name__)

#: What a run is doing: building candidates, proving an LP bound, solving MIPs over the
#: options reduced-cost fixing keeps, working through scenarios or analyses of a plan, or
#: the scenarios of a sweep finished (``done`` of ``total``).
STAGES = ("candidates", "bound", "mip", "analysis", "sweep")


class ProgressEvent(NamedTuple):
    """One step of a run. Only ``stage`` is required; the other fields say what is known.
    Immutable, and a tuple too: ``event[0]`` is the stage, ``event[1]`` the function.

    ``done`` of ``total`` counts whatever the stage counts (groups and options for
    candidates, LP columns for a bound, options kept for a MIP); ``bound`` and ``incumbent``
    are in pounds of NPV; ``elapsed`` is seconds since the run started.
    """

    stage: str
    function: str | None = None
    done: int | None = None
    total: int | None = None
    bound: float | None = None
    incumbent: float | None = None
    gap: float | None = None
    elapsed: float | None = None
    detail: str | None = None

    def text(self) -> str:
        """The event as one line for a person (no elapsed time: the renderer adds its own)."""
        label = f"{self.function or '':<28}"
        if self.stage == "candidates":
            return f"candidates  {label} {self.done or 0:>10,} groups  {self.total or 0:>10,} options"
        if self.stage == "bound":
            bound = "" if self.bound is None else f"  bound £{self.bound:,.0f}"
            return f"LP bound    {label} {self.detail or '':<9} {self.done or 0:>8,} columns{bound}"
        if self.stage == "mip":
            plan = "" if self.incumbent is None else f"; plan so far £{self.incumbent:,.0f}"
            return f"MIP         {label} {self.done or 0:,} of {self.total or 0:,} options can be optimal{plan}"
        counted = f" {self.done:,} of {self.total:,}" if self.done is not None and self.total is not None else ""
        return f"{self.stage:<11} {label}{counted} {self.detail or ''}".rstrip()


Progress = Callable[[ProgressEvent], None]


def report(progress: Progress | None, event: ProgressEvent) -> None:
    """Hands ``event`` to ``progress``, or logs it (at debug level) when there is none."""
    if progress is not None:
        progress(event)
    else:
        log.debug("%s", event.text())


class Clock:
    """Seconds since a run started, for events' ``elapsed``."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.started
