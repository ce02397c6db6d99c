"""The Plan: chosen partnerships, every council's share, totals; written as JSON and CSV.

Each member's share of a partnership's NPV, yearly saving and one-off cost is proportional
to its baseline for the function.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .candidates.table import CandidateSet
from .io.tables import csv_text, write_atomically
from .solve.master import Solution
from .problem import Problem

PARTNERSHIP_FIELDS = ["id", "function", "members", "host", "depth", "platform", "annual_saving", "one_off_cost", "npv", "payback_years"]
COUNCIL_FIELDS = ["code", "function", "partnership", "baseline", "baseline_estimated", "npv_share", "annual_saving_share", "one_off_share"]


@dataclass
class Plan:
    """A solved (or evaluated) plan: the data of plan.json, with helpers to read it."""

    data: dict
    #: how the solve went (method, blocks, LP columns, worker processes); not part of plan.json
    stats: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def partnerships(self) -> list[dict]:
        return self.data["partnerships"]

    @property
    def councils(self) -> list[dict]:
        return self.data["councils"]

    @property
    def totals(self) -> dict:
        return self.data["totals"]

    @property
    def solver(self) -> dict:
        return self.data["solver"]

    @property
    def status(self) -> str:
        return self.data["solver"]["status"]

    @property
    def objective(self) -> float:
        return self.data["solver"]["objective"]

    def to_json(self) -> str:
        return json.dumps(self.data, indent=2, allow_nan=False) + "\n"

    def partnershipscsv_text(self) -> str:
        rows = [{**p, "members": " ".join(p["members"])} for p in self.partnerships]
        return csv_text(PARTNERSHIP_FIELDS, rows)

    def councilscsv_text(self) -> str:
        return csv_text(COUNCIL_FIELDS, self.councils)

    def write(self, out: str | Path) -> list[Path]:
        """Writes plan.json, partnerships.csv and councils.csv into ``out`` atomically.

        The files are first written to a temporary folder beside ``out`` and then moved in,
        so an interrupted run never leaves a half-written plan.
        """
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        contents = {
            "plan.json": self.to_json(),
            "partnerships.csv": self.partnershipscsv_text(),
            "councils.csv": self.councilscsv_text(),
        }
        with tempfile.TemporaryDirectory(dir=out, prefix=".plan-") as tmp:
            for name, text in contents.items():
                Path(tmp, name).write_text(text, encoding="utf-8", newline="")
            for name in contents:
                os.replace(Path(tmp, name), out / name)
        return [out / name for name in contents]

    @classmethod
    def read(cls, path: str | Path) -> "Plan":
        from .errors import InputError

        path = Path(path)
        if not path.is_file():
            raise InputError(path, "file not found")
        try:
            return cls(json.loads(path.read_text(encoding="utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(path, f"not a valid plan.json: {exc}") from None


def _number(value: float) -> float:
    value = float(value)
    return value if math.isfinite(value) else None


def build_plan(problem: Problem, cand: CandidateSet, solution: Solution, *, solver_name: str | None = None) -> Plan:
    """Turns chosen candidates into the plan of SPEC §4."""
    codes = problem.codes
    labels = problem.platform_labels
    chosen = np.asarray(solution.chosen, dtype=np.int64)
    order = chosen[np.lexsort((-cand.npv[chosen], cand.function[chosen]))]

    partnerships = []
    membership: dict[tuple[int, int], tuple[str, int, float]] = {}
    for number, j in enumerate(order, start=1):
        k = int(cand.function[j])
        members = [int(i) for i in cand.members[j] if i >= 0]
        pid = f"P{number}"
        annual = float(cand.annual[j])
        one_off = float(cand.one_off[j])
        partnerships.append(
            {
                "id": pid,
                "function": problem.functions[k].id,
                "members": [codes[i] for i in members],
                "host": codes[int(cand.host[j])],
                "depth": problem.model.depths[int(cand.depth[j])].id,
                "platform": labels[int(cand.platform[j])] if cand.platform[j] >= 0 else None,
                "annual_saving": annual,
                "one_off_cost": one_off,
                "npv": float(cand.npv[j]),
                "payback_years": one_off / annual if annual > 0 else None,
            }
        )
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
            councils.append(
                {
                    "code": codes[i],
                    "function": function.id,
                    "partnership": pid,
                    "baseline": b,
                    "baseline_estimated": bool(problem.estimated[k, i]),
                    "npv_share": float(cand.npv[j]) * share if j >= 0 else 0.0,
                    "annual_saving_share": float(cand.annual[j]) * share if j >= 0 else 0.0,
                    "one_off_share": float(cand.one_off[j]) * share if j >= 0 else 0.0,
                }
            )
    totals = {
        "npv": float(sum(p["npv"] for p in partnerships)),
        "annual_saving": float(sum(p["annual_saving"] for p in partnerships)),
        "one_off_cost": float(sum(p["one_off_cost"] for p in partnerships)),
        "baseline": totals_baseline,
    }
    objective = totals["npv"]
    bound = solution.bound if solution.status != "infeasible" else None
    gap = solution.gap if solution.status != "infeasible" else None
    data = {
        "instance": problem.instance.name,
        "model": problem.model.name,
        "options": problem.options.to_dict(),
        "solver": {
            "name": solver_name or problem.options.solver,
            "status": solution.status,
            "objective": objective,
            "bound": _number(max(bound, objective)) if bound is not None else None,
            "gap": _number(gap) if gap is not None else None,
            "seconds": round(solution.seconds, 3),
        },
        "partnerships": partnerships,
        "councils": councils,
        "totals": totals,
    }
    return Plan(data)
