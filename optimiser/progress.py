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

#: What a run is doing: starting its solve (``total`` blocks of functions), building
#: candidates, proving an LP bound, solving MIPs over the options reduced-cost fixing keeps,
#: working through scenarios or analyses of a plan, or the scenarios of a sweep finished
#: (``done`` of ``total``).
STAGES = ("solve", "candidates", "bound", "mip", "analysis", "sweep")


class ProgressEvent(NamedTuple):
    """One step of a run. Only ``stage`` is required; the other fields say what is known.
    Immutable, and a tuple too: ``event[0]`` is the stage, ``event[1]`` the function.

    ``done`` of ``total`` counts whatever the stage counts (groups and options for
    candidates, or groups priced so far of all with ``detail`` "pricing"; LP columns for a
    bound; options kept for a MIP; blocks for the solve); ``bound`` and ``incumbent`` are in
    pounds of NPV. A ``bound`` event with ``detail`` "proven" carries a block's proven bound
    and first plan; a ``mip`` event with ``part`` of ``parts`` the block's bound and plan after
    that many of its independent parts. ``elapsed`` is seconds since the run started.
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
    part: int | None = None
    parts: int | None = None

    def text(self) -> str:
        """The event as one line for a person (no elapsed time: the renderer adds its own)."""
        label = f"{self.function or '':<28}"
        if self.stage == "solve":
            return f"solving     {self.total or 0:,} block(s) of functions"
        if self.stage == "candidates" and self.detail == "pricing":
            return f"candidates  {label} {self.done or 0:>10,} of {self.total or 0:,} groups priced"
        if self.stage == "candidates":
            return f"candidates  {label} {self.done or 0:>10,} groups  {self.total or 0:>10,} options"
        if self.stage == "bound" and self.detail == "proven":
            plan = "" if self.incumbent is None else f", first plan £{self.incumbent:,.0f}"
            return f"LP bound    {label} proven £{self.bound or 0:,.0f}{plan}"
        if self.stage == "bound":
            bound = "" if self.bound is None else f"  bound £{self.bound:,.0f}"
            return f"LP bound    {label} {self.detail or '':<9} {self.done or 0:>8,} columns{bound}"
        if self.stage == "mip" and self.part is not None:
            plan = "" if self.incumbent is None else f", plan so far £{self.incumbent:,.0f}"
            return f"MIP         {label} part {self.part:,} of {self.parts or 0:,} done{plan}"
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


class RunTracker:
    """The run as a whole from its events: which blocks have a proven bound, and the overall
    proven gap once every block has one (the sum of the blocks' bounds against the sum of their
    plans). Events name a block by its functions (``function``)."""

    def __init__(self) -> None:
        self.blocks: int | None = None
        self.bounds: dict[str, float] = {}
        self.plans: dict[str, float] = {}

    def add(self, event: ProgressEvent) -> None:
        if event.stage == "solve":
            self.blocks, self.bounds, self.plans = event.total, {}, {}
        elif event.function is not None and event.bound is not None and (
                (event.stage == "bound" and event.detail == "proven") or event.stage == "mip"):
            self.bounds[event.function] = event.bound
            if event.incumbent is not None:
                self.plans[event.function] = event.incumbent

    def gap(self) -> float | None:
        """The overall proven relative gap; None until every block has a bound and a plan."""
        if not self.blocks or len(self.bounds) < self.blocks or len(self.plans) < self.blocks:
            return None
        plan, bound = sum(self.plans.values()), sum(self.bounds.values())
        return max(0.0, bound - plan) / max(abs(plan), 1e-9)

    def summary(self) -> str:
        """Blocks bounded so far and the overall gap, e.g. "3 of 15 bounded" or "gap 1.2%"."""
        if not self.blocks:
            return ""
        gap = self.gap()
        if gap is None:
            return f"{len(self.bounds):,} of {self.blocks:,} bounded"
        return f"proven gap {100 * gap:.2f}%" if gap < 10 else f"proven gap {100 * gap:,.0f}%"


class Clock:
    """Seconds since a run started, for events' ``elapsed``."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.started
