"""Scoring a grouping someone proposes (today's arrangements, or an edited plan): each group's
best depth, host and platform, its figures, and every rule it breaks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..economics.finance import payback_or_none
from ..candidates import evaluate_sets
from ..errors import InputError
from ..io.groups import read_groups
from ..io.tables import csv_text
from ..problem import Problem, RunOptions, load_run, prepare
from ..rules.group import NPV, rule_breaks
from ..rules.limits import LIMITS, ProposedGroup


@dataclass
class Evaluation:
    """Scores of a proposed grouping: one row per group, and the rules each breaks."""

    groups: list[dict]
    totals: dict

    @property
    def ok(self) -> bool:
        return all(not g["breaks"] for g in self.groups)

    def to_dict(self) -> dict:
        return {"groups": self.groups, "totals": self.totals}

    def to_csv(self) -> str:
        rows = [{**g, "members": " ".join(g["members"]), "breaks": "; ".join(g["breaks"])} for g in self.groups]
        fields = ["id", "function", "members", "host", "depth", "platform", "annual_saving", "one_off_cost", "npv", "payback_years", "breaks"]
        return csv_text(fields, rows)


def evaluate(instance, groups, model=None, options: RunOptions | None = None, **overrides) -> Evaluation:
    """Scores a grouping (a path to a CSV, or (id, function, [codes]) triples) with the model.

    Each group gets its best depth, host and platform, its yearly saving, one-off cost, NPV
    and payback, and every rule it breaks, named; so do the limits across groups
    (a council in two groups for one function, max_partnerships, max_hosted, --budget).
    """
    instance, model, options = load_run(instance, model, options, **overrides)
    problem = prepare(instance, model, options)
    if isinstance(groups, (str, Path)):
        groups = read_groups(groups, instance, problem.model, [f.id for f in problem.functions])
    function_pos = {f.id: k for k, f in enumerate(problem.functions)}
    index = {c: i for i, c in enumerate(problem.codes)}
    rows = []
    for gid, fid, codes in groups:
        if fid not in function_pos:
            known = ", ".join(f.id for f in problem.functions)
            raise InputError(f"group '{gid}'", f"unknown function '{fid}' (the run's functions: {known})")
        rows.append(_evaluate_group(problem, gid, function_pos[fid], np.array(sorted(index[c] for c in codes))))
    _cross_group_breaks(problem, rows)
    totals = {key: float(sum(r[key] or 0.0 for r in rows)) for key in ("annual_saving", "one_off_cost", "npv")}
    return Evaluation(rows, totals)


def _evaluate_group(problem: Problem, gid: str, k: int, members: np.ndarray) -> dict:
    function = problem.functions[k]
    codes = problem.codes
    breaks = rule_breaks(problem, k, members) if len(members) >= 2 else ["size: a partnership needs at least two members"]
    row = {"id": gid, "function": function.id, "members": [codes[i] for i in members], "host": None, "depth": None,
           "platform": None, "annual_saving": None, "one_off_cost": None, "npv": None, "payback_years": None, "breaks": breaks}
    if len(members) < 2:
        return row
    options = evaluate_sets(problem, k, members[None, :], require_positive=False, all_options=True)
    if len(options) == 0:
        options = evaluate_sets(problem, k, members[None, :], require_positive=False, all_options=True, ignore_rules=True)
    best = int(np.lexsort((options.one_off, -options.npv))[0])
    annual, one_off, npv = float(options.annual[best]), float(options.one_off[best]), float(options.npv[best])
    row.update(
        host=codes[int(options.host[best])],
        depth=problem.model.depths[int(options.depth[best])].id,
        platform=problem.platform_labels[int(options.platform[best])] if options.platform[best] >= 0 else None,
        annual_saving=annual,
        one_off_cost=one_off,
        npv=npv,
        payback_years=payback_or_none(annual, one_off, problem.model.depths[int(options.depth[best])].ramp),
    )
    breaks.extend(NPV.explain_value(npv))
    return row


def _cross_group_breaks(problem: Problem, rows: list[dict]) -> None:
    """Adds to each row the sentences of every limit across groups that the grouping breaks
    (``optimiser.rules.limits``: overlap, max_partnerships, max_hosted, budget)."""
    groups = [ProposedGroup(row["id"], row["function"], tuple(row["members"]), row["host"], row["one_off_cost"],
                            row["annual_saving"], row["depth"]) for row in rows]
    for limit in LIMITS:
        for position, sentence in limit.breaks(problem, groups):
            rows[position]["breaks"].append(sentence)
