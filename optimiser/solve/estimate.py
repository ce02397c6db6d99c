"""Whether a run without a time limit is likely to run for many minutes: the one rule, read
from the run's sizes before any work, so that the user is told at the start.

How long a proof takes is not a smooth function of size (the MIPs of a few hard parts
decide it), but size sets the scale. The measure is the options the run will weigh,
estimated per function as its eligible councils times ``GROWTH`` to the power of its
largest group size less one: East of England's options grow about 2.5-2.7 times per step
of the size cap (9,846, 24,168 and 64,520 options at caps 4, 5 and 6, every function). The
threshold sits between measured runs (benchmarks/README.md, "Long runs"): East of England
with caps of 5 (about 22,000 estimated) is proven optimal in about 5 s, with the shipped
caps of 6 (about 51,000) it is not proven in 13 minutes; the UK (about 450,000) has a
proven gap of about 3% after 60 s.
"""

from __future__ import annotations

from dataclasses import dataclass

GROWTH = 2.6  # options per council grow about this much per step of the group size cap
LONG_RUN_OPTIONS = 40_000  # estimated options above which a proof is expected to take many minutes


@dataclass(frozen=True)
class RunSize:
    """The run's estimated options and its councils, and whether it is expected to run long."""

    options: float
    councils: int

    @property
    def long(self) -> bool:
        return self.options > LONG_RUN_OPTIONS


def estimated_options(eligible: int, max_size: int) -> float:
    """The options a function with ``eligible`` councils and groups of up to ``max_size`` has,
    roughly (a scale, not a count)."""
    return float(eligible) * GROWTH ** max(0, max_size - 1)


def run_size(problem) -> RunSize:
    """The estimate for a prepared run (every function of it)."""
    options = sum(estimated_options(int(problem.eligible[k].sum()), int(problem.max_size[k])) for k in range(len(problem.functions)))
    return RunSize(options, int(problem.eligible.any(axis=0).sum()))


def long_run_warning(problem) -> str | None:
    """What to tell the user of a run without a time limit that is expected to run long (None:
    nothing: a time limit is set, or the run is small)."""
    if problem.options.time_limit is not None:
        return None
    size = run_size(problem)
    if not size.long:
        return None
    return (f"no time limit, and a run of this size (about {size.options:,.0f} options over {size.councils:,} councils) "
            "is rarely proven optimal within minutes and may run for hours; progress shows the proven gap so far. "
            "Pass --time-limit (e.g. --time-limit 10m) for the best plan found in that time with its proven gap, or press "
            "Ctrl-C at any point to stop and keep the best plan so far")
