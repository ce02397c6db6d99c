"""What the master problem's stages hand on: frozen records, built once and never changed.

A later stage that knows more makes a new record (``dataclasses.replace``) rather than
changing the one it was given. Their numpy arrays are not copied, so callers must not write
into them either. ``stats`` dicts describe how a stage went (for benchmarks and logs) and
are built before the record that carries them.

Words: a *block* is a set of functions solved together (one function, unless a limit ties
functions together); a *part* is an independent piece of a block (councils that share no
candidate with the rest); an *option* is one candidate (member set, depth, host, platform).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..candidates.table import CandidateSet


def relative_gap(objective: float, bound: float) -> float:
    """(bound - objective) / |objective|; infinite when nothing bounds the plan."""
    if not math.isfinite(bound):
        return math.inf
    difference = max(0.0, bound - objective)
    if difference <= 1e-9 * max(1.0, abs(bound)):
        return 0.0
    return difference / max(abs(objective), 1e-9)


@dataclass(frozen=True, eq=False)
class Solution:
    """What the master problem chose, and how sure the solver is.

    ``seconds`` is the time the solve took (the caller may replace it with the whole run's);
    ``stats`` how it went (method, blocks, LP columns, worker processes)."""

    chosen: np.ndarray  # indices into the CandidateSet
    status: str  # optimal | time_limit | interrupted | infeasible
    objective: float
    bound: float
    seconds: float
    stats: dict = field(default_factory=dict)

    @property
    def gap(self) -> float:
        if self.status == "infeasible":
            return math.inf
        return relative_gap(self.objective, self.bound)


@dataclass(frozen=True, eq=False)
class PartResult:
    """One part of a block after its MIP (or without one, when its time was over)."""

    chosen: np.ndarray  # indices into the block's candidates
    status: str  # optimal | time_limit
    objective: float
    bound: float
    columns: np.ndarray | None = None  # the part's options, kept while it may be revisited
    lp_bound: float = math.inf  # the part's portion of the LP bound, for reduced-cost fixing
    kept: int = 0  # options reduced-cost fixing kept for the part's final MIP (0: none was run)


@dataclass(frozen=True, eq=False)
class BlockResult:
    """A block's plan and proven bound."""

    chosen: np.ndarray  # indices into the block's candidates
    status: str  # optimal | time_limit | infeasible
    objective: float
    bound: float
    stats: dict
    parts: tuple[PartResult, ...] = ()  # its parts' results, when it was split into parts


@dataclass(frozen=True, eq=False)
class BlockBound:
    """A block after its first phase: proven LP bound, a plan, and its independent parts."""

    cand: CandidateSet
    label: str
    bound: float
    rc: np.ndarray  # every option's reduced cost at the proven LP's duals
    in_lp: np.ndarray  # bool per option: a column of the LP
    incumbent: np.ndarray | None  # a plan (indices into cand), or None if none was found
    parts: tuple[tuple[np.ndarray, float], ...]  # (options, portion of the LP bound) per part
    stats: dict
    cut_rows: Callable[[np.ndarray], list]  # options -> the proven LP's cuts over them, as MIP rows
    # the options in the support of the first LP proven optimal over every option (before any
    # cut): a start for other LPs over the same groups (the plan's stability)
    first_support: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class BlockRun:
    """Every block's result, however the blocks were run.

    ``results`` maps a block's number to (its chosen options as a CandidateSet, its
    BlockResult); ``jobs`` counts the processes that solved them; ``worker_peak_mb`` holds
    each worker's peak memory, or None when the blocks were solved in this process."""

    results: dict
    jobs: int = 1
    worker_peak_mb: tuple[float, ...] | None = None
