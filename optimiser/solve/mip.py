"""The master MIP over some options, solved by HiGHS (handed the arrays directly,
``highs_mip.py``) or CBC (built in PuLP).

:func:`solve_mip` states the rows of :func:`optimiser.solve.rows.mip_rows` (every limit's
binding rows, and any cuts) over binary columns, solves, and reads the solver's status and
proven bound back into a :class:`MipResult`.
"""

from __future__ import annotations

import logging
import math
import re
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pulp

from ..candidates.table import CandidateSet
from ..errors import SolveError
from ..problem import Problem
from ..highs import silence_banner
from . import stop
from .highs_mip import solve_highs
from .rows import coupled, mip_rows

log = logging.getLogger(__name__)

MIP_REL_GAP = 1e-9


class StoppableHiGHS(pulp.HiGHS):
    """PuLP's HiGHS, left at once (with its best plan and bound) when a stop is requested."""

    def createAndConfigureSolver(self, lp):
        super().createAndConfigureSolver(lp)
        stop.listen(lp.solverModel)


def solver(name: str, time_limit: float | None, log_path: str | None = None):
    """A PuLP solver object: ``highs`` or ``cbc``, silent, with the master's gap tolerance."""
    if name == "highs":
        silence_banner()
        return StoppableHiGHS(msg=False, timeLimit=time_limit, gapRel=MIP_REL_GAP)
    if name == "cbc":
        # CBC's preprocessing has been seen to discard the optimum of these set-packing models
        # and report a worse plan as optimal (a random instance with a budget row); it is off.
        # PuLP 3.3 marks its bundled CBC deprecated in favour of a separately installed one; the
        # bundled binary is the one every install has, so the notice is silenced here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, gapRel=MIP_REL_GAP, logPath=log_path, options=["preprocess off"])
    raise SolveError(f"unknown solver {name}")


@dataclass(frozen=True, eq=False)
class MipResult:
    status: str  # optimal | time_limit | infeasible
    values: np.ndarray | None  # None when the solver found no plan
    objective: float
    bound: float

    @property
    def chosen(self) -> np.ndarray:
        """Positions of the chosen options (only when ``values`` is not None)."""
        return np.flatnonzero(self.values > 0.5)


def solve_mip(problem: Problem, cand: CandidateSet, *, solver_name: str, time_limit: float | None,
              cuts: list[tuple[np.ndarray, float]] = (), start: np.ndarray | None = None,
              held: CandidateSet | None = None, window: bool = False) -> MipResult:
    """Solves the master MIP over ``cand`` within ``time_limit`` seconds (None: no limit).

    ``cuts`` are valid inequalities (coefficients over ``cand``, right-hand side) that every
    plan satisfies; they leave the optimum unchanged and help the solver prove it. ``start``
    (positions in ``cand`` of a plan that keeps every row) is HiGHS's first plan; CBC, through
    PuLP, goes without. ``held`` are options that stay in the plan whatever this MIP chooses
    (the rest of the plan around a window): the rows keep what they leave. A ``window``'s
    short MIP keeps HiGHS's default share of heuristics even where a limit ties the options:
    there more heuristics left the windows' plans worse (East of England, headroom on every
    council: a 7.1% median gap at 60 s against 6.0%).
    """
    rows = mip_rows(problem, cand, cuts, held)
    if time_limit is not None:
        time_limit = max(1.0, time_limit)
    if solver_name == "highs":
        outcome = solve_highs(cand.value, rows, time_limit, MIP_REL_GAP, start, tied=coupled(problem) and not window)
        return result_of(cand, outcome.status, outcome.values, outcome.bound)
    solver(solver_name, time_limit)  # an unknown solver's name fails before the model is built
    lp = pulp.LpProblem("partnerships", pulp.LpMaximize)
    x = [lp.add_variable(f"x{j}", lowBound=0, upBound=1, cat=pulp.LpBinary) for j in range(len(cand))]
    lp += pulp.LpAffineExpression(zip(x, cand.value.tolist())), "npv"
    for r, (cols, vals, sense, rhs) in enumerate(zip(rows.columns, rows.values, rows.senses, rows.rhs)):
        expression = pulp.LpAffineExpression([(x[c], v) for c, v in zip(cols.tolist(), vals.tolist())])
        constraint = expression <= rhs if sense == "<=" else expression >= rhs if sense == ">=" else expression == rhs
        lp += constraint, f"r{r}"
    with tempfile.TemporaryDirectory() as tmp:
        log_path = str(Path(tmp) / "cbc.log") if solver_name == "cbc" else None
        started = time.perf_counter()
        try:
            lp.solve(solver(solver_name, time_limit, log_path))
        except pulp.PulpSolverError as exc:
            raise SolveError(f"{solver_name} failed: {exc}") from exc
        log.debug("%s MIP: %d columns, %d rows, %.2fs", solver_name, len(cand), len(rows), time.perf_counter() - started)
        cbc_log = Path(log_path).read_text(errors="replace") if log_path and Path(log_path).exists() else ""
    status, bound = read_status(lp, solver_name, cbc_log)
    values = np.array([v.varValue if v.varValue is not None else 0.0 for v in x]) if len(x) else np.zeros(0)
    return result_of(cand, status, values, bound)


def result_of(cand: CandidateSet, status: str, values: np.ndarray | None, bound: float) -> MipResult:
    """A MipResult from a solver's status (optimal / time_limit / no_solution / infeasible),
    plan and bound (NaN: none reported)."""
    if status == "infeasible":
        return MipResult("infeasible", None, -math.inf, -math.inf)
    if status == "no_solution" or values is None:
        return MipResult("time_limit", None, -math.inf, math.inf if math.isnan(bound) else bound)
    objective = float(cand.value @ values) if len(values) else 0.0
    if status == "optimal":
        bound = max(bound, objective) if not math.isnan(bound) else objective
    return MipResult(status, values, objective, bound)


def read_status(lp: pulp.LpProblem, solver_name: str, cbc_log: str) -> tuple[str, float]:
    """Maps CBC's outcome to optimal / time_limit / no_solution / infeasible and a bound."""
    if lp.status == pulp.LpStatusInfeasible:
        return "infeasible", math.nan
    if lp.status == pulp.LpStatusOptimal and lp.sol_status == pulp.LpSolutionOptimal:
        return "optimal", math.nan
    # CBC stopped early: its log reports the best possible objective of the minimisation
    # PuLP hands it, so the sign flips for our maximisation
    bound = math.inf
    match = re.search(r"best possible\s*(-?[\d.eE+-]+)", cbc_log) or re.search(r"Lower bound:\s*(-?[\d.eE+-]+)", cbc_log)
    if match:
        bound = -float(match.group(1))
    if lp.sol_status in (pulp.LpSolutionIntegerFeasible, pulp.LpSolutionOptimal):
        return "time_limit", bound
    if lp.status == pulp.LpStatusNotSolved:
        return "no_solution", bound
    raise SolveError(f"CBC stopped with status {pulp.LpStatus[lp.status]}")
