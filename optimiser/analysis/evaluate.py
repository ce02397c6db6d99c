"""Scoring a grouping someone proposes (today's arrangements, or an edited plan): each group's
best depth, host and platform, its figures, and every rule it breaks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..candidates import evaluate_sets, rule_breaks
from ..errors import InputError
from ..io.instance import Instance
from ..io.tables import CsvTable, csv_text
from ..problem import Problem, RunOptions, load_run, prepare


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


def read_groups(path: str | Path, instance: Instance, functions: list[str]) -> list[tuple[str, str, list[str]]]:
    """Reads a grouping file (columns id, function, code) into (id, function, members)."""
    path = Path(path)
    table = CsvTable(path, ("id", "function", "code"), ("host", "locked"))
    known = set(instance.codes)
    groups: dict[tuple[str, str], list[str]] = {}
    for line, row in table.rows:
        code = table.text(line, row, "code")
        if code not in known:
            raise InputError(path, f"code '{code}' is not a council of instance '{instance.name}'", table.where(line, "code"))
        function = table.text(line, row, "function")
        if function not in functions:
            raise InputError(path, f"unknown function '{function}' (the run's functions: {', '.join(functions)})", table.where(line, "function"))
        key = (table.text(line, row, "id"), function)
        if code in groups.setdefault(key, []):
            raise InputError(path, f"'{code}' is listed twice in group '{key[0]}' for '{key[1]}'", f"line {line}")
        groups[key].append(code)
    if not groups:
        raise InputError(path, "has no groups")
    return [(gid, fid, members) for (gid, fid), members in groups.items()]


def evaluate(instance, groups, model=None, options: RunOptions | None = None, **overrides) -> Evaluation:
    """Scores a grouping (a path to a CSV, or (id, function, [codes]) triples) with the model.

    Each group gets its best depth, host and platform, its yearly saving, one-off cost, NPV
    and payback, and every rule it breaks, named; so do the limits across groups
    (a council in two groups for one function, max_partnerships, max_hosted, --budget).
    """
    instance, model, options = load_run(instance, model, options, **overrides)
    problem = prepare(instance, model, options)
    if isinstance(groups, (str, Path)):
        groups = read_groups(groups, instance, [f.id for f in problem.functions])
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
        payback_years=one_off / annual if annual > 0 else None,
    )
    if npv <= 0:
        breaks.append(f"npv: {npv:,.0f} pounds is not positive")
    return row


def _cross_group_breaks(problem: Problem, rows: list[dict]) -> None:
    seen: dict[tuple[str, str], str] = {}
    joins: dict[str, list[str]] = {}
    hosted: dict[str, list[str]] = {}
    index = {c: i for i, c in enumerate(problem.codes)}
    for row in rows:
        for code in row["members"]:
            key = (row["function"], code)
            if key in seen:
                row["breaks"].append(f"overlap: {code} is also in group '{seen[key]}' for '{row['function']}'")
            else:
                seen[key] = row["id"]
            joins.setdefault(code, []).append(row["id"])
        if row["host"]:
            hosted.setdefault(row["host"], []).append(row["id"])
    for code, ids in joins.items():
        limit = problem.max_partnerships[index[code]]
        if 0 <= limit < len(ids):
            for row in rows:
                if row["id"] in ids and code in row["members"]:
                    row["breaks"].append(f"max_partnerships: {code} is in {len(ids)} partnerships, at most {limit} allowed")
    for code, ids in hosted.items():
        limit = problem.max_hosted[index[code]]
        if 0 <= limit < len(ids):
            for row in rows:
                if row["id"] in ids and row["host"] == code:
                    row["breaks"].append(f"max_hosted: {code} would host {len(ids)} partnerships, at most {limit} allowed")
    budget = problem.options.budget
    spent = sum(r["one_off_cost"] or 0.0 for r in rows)
    if budget is not None and spent > budget:
        for row in rows:
            row["breaks"].append(f"budget: the groups' one-off costs total {spent:,.0f}, above the budget of {budget:,.0f}")
