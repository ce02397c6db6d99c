"""The Plan: chosen partnerships, every council's share, totals, and how the solve went.

In memory a plan is frozen, typed records (:class:`Plan`, :class:`Partnership`,
:class:`CouncilShare`, :class:`SolverReport`, :class:`Totals`); JSON and CSV exist only at the
file edge (:meth:`Plan.to_dict`, :meth:`Plan.write`, :meth:`Plan.read`). Each record also reads
like its plan.json object (``partnership["npv"]``), and :meth:`Plan.to_frame` gives pandas
tables for library users.

Each member's share of a partnership's NPV, yearly saving and one-off cost is proportional
to its baseline for the function (SPEC §3).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import numpy as np

from .candidates.table import CandidateSet
from .candidates.withdrawal import chosen_risk
from .economics.finance import payback_or_none
from .errors import InputError
from .io.provenance import Provenance, instance_drift, model_from_plan
from .io.plan_records import partnership_id, shape_problem
from .io.tables import csv_text, write_atomically
from .problem import Problem, RunOptions

PARTNERSHIP_FIELDS = ["id", "function", "members", "host", "depth", "platform", "annual_saving", "one_off_cost", "npv", "payback_years",
                      "expected_npv", "worst_withdrawal", "worst_withdrawal_npv", "robust", "withdrawal",
                      "core_excess_proportional", "core_excess_shapley", "core_excess_nucleolus"]
COUNCIL_FIELDS = ["code", "function", "partnership", "baseline", "baseline_estimated", "npv_share", "annual_saving_share", "one_off_share",
                  "transfer"]
CASHFLOW_FIELDS = ["level", "id", "name", "function", "year", "saving", "one_off", "debt_service", "net"]
PLAN_FILES = ("plan.json", "partnerships.csv", "councils.csv", "cashflow.csv")


class Record:
    """A frozen record that also reads like its JSON object: ``record["key"]``."""

    def to_dict(self) -> dict:
        return {f.name: _json_value(getattr(self, f.name)) for f in fields(self) if f.metadata.get("json", True)}

    def __getitem__(self, key: str):
        if key not in {f.name for f in fields(self)}:
            raise KeyError(key)
        return _json_value(getattr(self, key))

    def get(self, key: str, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    @classmethod
    def from_dict(cls, data: Mapping):
        names = {f.name for f in fields(cls)}
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in names})


def _json_value(value):
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, (Record, Provenance)):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {k: _json_value(v) for k, v in value.items()}
    return value


def frozen_mapping(data: Mapping | None) -> Mapping | None:
    """A read-only copy of a (nested) mapping, for records that must not change."""
    if data is None:
        return None
    return MappingProxyType({k: frozen_mapping(v) if isinstance(v, Mapping) else v for k, v in data.items()})


@dataclass(frozen=True)
class SolverReport(Record):
    """How the master problem was solved: ``status`` is optimal, time_limit, interrupted
    (stopped on request, with the best plan so far) or infeasible; ``gap`` is the relative gap
    between the plan's objective and the proven ``bound``."""

    name: str
    status: str
    objective: float
    bound: float | None
    gap: float | None
    seconds: float


@dataclass(frozen=True)
class Partnership(Record):
    id: str
    function: str
    members: tuple[str, ...]
    host: str
    depth: str
    platform: str | None
    annual_saving: float
    one_off_cost: float
    npv: float
    payback_years: float | None
    #: {rule: {member: pounds}}: the partnership's NPV split by every share rule (SPEC §6)
    shares: Mapping | None = None
    #: {rule: pounds}: the largest excess v(T) - sum of T's shares over proper subgroups T
    core_excess: Mapping | None = None
    #: {member: p_i(S)}: each member's chance of leaving during the horizon (SPEC §5)
    withdrawal: Mapping | None = None
    expected_npv: float | None = None  # E(S) over every subset of members who stay
    worst_withdrawal: str | None = None  # the member whose leaving hurts most (ties: smallest code)
    worst_withdrawal_npv: float | None = None  # NPV(S -> S without that member)
    robust: bool | None = None  # it still pays whoever leaves: worst_withdrawal_npv > 0

    def __post_init__(self):
        object.__setattr__(self, "shares", frozen_mapping(self.shares))
        object.__setattr__(self, "core_excess", frozen_mapping(self.core_excess))
        object.__setattr__(self, "withdrawal", frozen_mapping(self.withdrawal))


@dataclass(frozen=True)
class CouncilShare(Record):
    """One eligible (council, function) pair of the run: its partnership (None: alone) and
    its share of that partnership's figures."""

    code: str
    function: str
    partnership: str | None
    baseline: float
    baseline_estimated: bool
    npv_share: float  # under the run's share rule (options.shares)
    annual_saving_share: float
    one_off_share: float
    #: npv_share minus the proportional share: what the council receives (+) or pays (-)
    transfer: float = 0.0


@dataclass(frozen=True)
class Stability(Record):
    """Groups that would rather break away from one function's plan (SPEC §6): feasible
    groups whose best NPV beats the sum of their members' shares under the run's rule."""

    function: str
    rule: str
    groups_checked: int
    blocking_groups: int
    largest_surplus: float
    largest_surplus_members: tuple[str, ...]
    lp_bound: float | None
    objective: float
    cost_of_stability: float | None  # the function's LP relaxation bound minus its objective


@dataclass(frozen=True)
class Totals(Record):
    npv: float
    annual_saving: float
    one_off_cost: float
    baseline: float
    expected_npv: float | None = None  # the partnerships' expected NPVs together (SPEC §5)


@dataclass(frozen=True)
class Arrangement(Record):
    """What the plan does to one existing arrangement (partnerships.csv) of the run: ``status``
    is kept (one partnership with exactly its members and its recorded host), changed (exactly
    its members, another host), grown (all its members and others), split (some partnership
    holds two or more of its members, not all) or dissolved (none holds two)."""

    id: str
    function: str
    members: tuple[str, ...]
    host: str | None  # the host partnerships.csv records
    status: str
    partnerships: tuple[str, ...]  # the plan's partnerships holding any of its members
    added: tuple[str, ...]  # councils the plan adds to it (when it is held whole)
    left: tuple[str, ...]  # members not in the partnership holding most of them
    today_npv: float  # what it is worth as it is: its best NPV with its set-up cost sunk (whatever the objective)


@dataclass(frozen=True)
class Today(Record):
    """Today's arrangements against the plan: each arrangement of the run's functions wholly
    inside the area with a member taking part, what they are worth as they are, and what the
    plan is worth."""

    arrangements: tuple[Arrangement, ...]
    today_npv: float
    plan_npv: float
    outside_run: int  # arrangements of the run's functions with a member outside --area, or none taking part

    @classmethod
    def from_dict(cls, data: Mapping) -> "Today":
        return cls(tuple(Arrangement.from_dict(a) for a in data["arrangements"]), data["today_npv"], data["plan_npv"],
                   data["outside_run"])


@dataclass(frozen=True)
class Plan(Record):
    """A solved (or read) plan: the contents of plan.json (SPEC §4) as frozen records.

    ``stats`` says how the solve went (method, blocks, LP columns, worker processes); it is not
    part of plan.json.
    """

    instance: str
    model: str
    options: RunOptions
    solver: SolverReport
    partnerships: tuple[Partnership, ...]
    councils: tuple[CouncilShare, ...]
    totals: Totals
    stability: tuple[Stability, ...] = ()
    existing: Today | None = None  # None: the instance records no arrangements
    #: SPEC §8: loan terms, borrowing, each council's worst year and the financing gap
    finance: Mapping | None = None
    provenance: Provenance | None = None  # None: a plan read from a file written before plans recorded it
    #: the rows of cashflow.csv (plan, partnership and council rows, years 0..T); not in plan.json
    cashflow: tuple = field(default=(), compare=False, repr=False, metadata={"json": False})
    stats: Mapping = field(default_factory=lambda: MappingProxyType({}), compare=False, repr=False, metadata={"json": False})
    #: the plan.json it was read from ("plan": made in memory); messages about it name this
    source: str = field(default="plan", compare=False, repr=False, metadata={"json": False})

    @property
    def status(self) -> str:
        return self.solver.status

    @property
    def objective(self) -> float:
        return self.solver.objective

    @property
    def data(self) -> dict:
        """The plan as plan.json holds it (a new dict each time)."""
        return self.to_dict()

    def __post_init__(self):
        object.__setattr__(self, "finance", frozen_mapping(self.finance))

    def savings_model(self, instance, model=None):
        """``model`` if given, else the model the plan embeds, else (an older plan) the one it names."""
        return model_from_plan(self.to_dict(), self.source, instance, model)

    def instance_drift(self, instance) -> str | None:
        """A sentence when ``instance``'s files no longer hash as this plan's provenance records."""
        return instance_drift(self.to_dict(), instance, self.source)

    def to_dict(self) -> dict:
        data = super().to_dict()
        for optional in ("finance", "provenance"):
            if data.get(optional) is None:
                del data[optional]
        data["options"] = self.options.to_dict()
        data["stability"] = {s.function: {k: v for k, v in s.to_dict().items() if k != "function"} for s in self.stability}
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"

    def to_frame(self, table: str = "partnerships"):
        """The plan's ``partnerships`` or ``councils`` as a pandas DataFrame, one row a record."""
        import pandas as pd

        if table == "partnerships":
            return pd.DataFrame([p.to_dict() for p in self.partnerships], columns=PARTNERSHIP_FIELDS)
        if table == "councils":
            return pd.DataFrame([c.to_dict() for c in self.councils], columns=COUNCIL_FIELDS)
        raise ValueError(f"table must be 'partnerships' or 'councils', not {table!r}")

    def partnerships_csv(self) -> str:
        rows = [{**p.to_dict(), "members": " ".join(p.members),
                 "withdrawal": " ".join(f"{code}:{chance:.4g}" for code, chance in (p.withdrawal or {}).items()),
                 **{f"core_excess_{rule}": excess for rule, excess in (p.core_excess or {}).items()}} for p in self.partnerships]
        return csv_text(PARTNERSHIP_FIELDS, rows)

    def councils_csv(self) -> str:
        return csv_text(COUNCIL_FIELDS, [c.to_dict() for c in self.councils])

    def cashflow_csv(self) -> str:
        return csv_text(CASHFLOW_FIELDS, [dict(row) for row in self.cashflow])

    def write(self, out: str | Path) -> list[Path]:
        """Writes plan.json, partnerships.csv, councils.csv and cashflow.csv into ``out``
        atomically: an interrupted run never leaves a half-written plan."""
        texts = (self.to_json(), self.partnerships_csv(), self.councils_csv(), self.cashflow_csv())
        return write_atomically(Path(out), dict(zip(PLAN_FILES, texts)))

    @classmethod
    def from_dict(cls, data: Mapping) -> "Plan":
        """A plan from the contents of a plan.json; raises KeyError or TypeError when a part is
        missing or malformed (:meth:`read` turns those into an InputError)."""
        return cls(
            instance=data["instance"],
            model=data["model"],
            options=RunOptions.from_dict(data.get("options") or {}),
            solver=SolverReport.from_dict(data["solver"]),
            partnerships=tuple(Partnership.from_dict(p) for p in data["partnerships"]),
            councils=tuple(CouncilShare.from_dict(c) for c in data["councils"]),
            totals=Totals.from_dict(data["totals"]),
            stability=tuple(Stability.from_dict({"function": f, **s}) for f, s in (data.get("stability") or {}).items()),
            existing=Today.from_dict(data["existing"]) if data.get("existing") else None,
            finance=data.get("finance"),
            provenance=Provenance.from_dict(data["provenance"]) if data.get("provenance") else None,
        )

    @classmethod
    def read(cls, path: str | Path) -> "Plan":
        path = Path(path)
        if not path.is_file():
            raise InputError(path, "file not found")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(path, f"not a valid plan.json: {exc}") from None
        problem = shape_problem(data)
        if problem:
            raise InputError(path, problem)
        try:
            plan = cls.from_dict(data)
        except InputError:
            raise
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise InputError(path, f"not a plan.json of this tool: missing or malformed {exc}") from None
        return dataclasses.replace(plan, source=str(path))


def _number(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def build_plan(problem: Problem, cand: CandidateSet, solution, *, solver_name: str | None = None) -> Plan:
    """The plan of SPEC §4 from the chosen options (``solution.chosen`` indexes ``cand``)."""
    codes = problem.codes
    labels = problem.platform_labels
    chosen = np.asarray(solution.chosen, dtype=np.int64)
    order = chosen[np.lexsort((-cand.npv[chosen], cand.function[chosen]))]

    risk = chosen_risk(problem, cand, order)
    partnerships = []
    membership: dict[tuple[int, int], tuple[str, int, float]] = {}
    ids: set[str] = set()
    for j in order:
        k = int(cand.function[j])
        members = [int(i) for i in cand.members[j] if i >= 0]
        pid = partnership_id(problem.functions[k].id, [codes[i] for i in members], ids)
        ids.add(pid)
        annual = float(cand.annual[j])
        one_off = float(cand.one_off[j])
        depth = problem.model.depths[int(cand.depth[j])]
        partnerships.append(Partnership(
            id=pid,
            function=problem.functions[k].id,
            members=tuple(codes[i] for i in members),
            host=codes[int(cand.host[j])],
            depth=depth.id,
            platform=labels[int(cand.platform[j])] if cand.platform[j] >= 0 else None,
            annual_saving=annual,
            one_off_cost=one_off,
            npv=float(cand.npv[j]),
            payback_years=payback_or_none(annual, one_off, depth.ramp),
            **risk[int(j)],
        ))
        baselines = problem.baseline[k, members]
        total = float(baselines.sum())
        for i, b in zip(members, baselines):
            # shares follow baselines; a group with no baseline at all splits evenly
            membership[(k, i)] = (pid, int(j), float(b) / total if total > 0 else 1.0 / len(members))

    councils = []
    totals_baseline = 0.0
    for k, function in enumerate(problem.functions):
        for i in np.flatnonzero(problem.eligible[k]):
            b = float(problem.baseline[k, i])
            totals_baseline += b
            pid, j, share = membership.get((k, int(i)), (None, -1, 0.0))
            councils.append(CouncilShare(
                code=codes[i],
                function=function.id,
                partnership=pid,
                baseline=b,
                baseline_estimated=bool(problem.estimated[k, i]),
                npv_share=float(cand.npv[j]) * share if j >= 0 else 0.0,
                annual_saving_share=float(cand.annual[j]) * share if j >= 0 else 0.0,
                one_off_share=float(cand.one_off[j]) * share if j >= 0 else 0.0,
            ))
    totals = Totals(
        npv=float(sum(p.npv for p in partnerships)),
        annual_saving=float(sum(p.annual_saving for p in partnerships)),
        one_off_cost=float(sum(p.one_off_cost for p in partnerships)),
        baseline=totals_baseline,
        expected_npv=float(sum(p.expected_npv for p in partnerships)),
    )
    objective = totals.expected_npv if problem.options.objective == "expected" else totals.npv
    feasible = solution.status != "infeasible"
    solver = SolverReport(
        name=solver_name or problem.options.solver,
        status=solution.status,
        objective=objective,
        bound=_number(max(solution.bound, objective)) if feasible else None,
        gap=_number(solution.gap) if feasible else None,
        seconds=round(solution.seconds, 3),
    )
    return Plan(problem.instance.name, problem.model.name, problem.options, solver, tuple(partnerships), tuple(councils),
                totals, stats=MappingProxyType(dict(getattr(solution, "stats", None) or {})))

