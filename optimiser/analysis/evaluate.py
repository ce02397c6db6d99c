"""Scoring a grouping someone proposes (today's arrangements, or an edited plan): each group's
best depth, host and platform, its figures, and every rule it breaks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..economics.finance import payback_or_none
from ..candidates import evaluate_sets
from ..candidates.withdrawal import chances_matter, partnership_risk
from ..economics import allocation
from ..errors import InputError
from ..io.groups import read_groups
from ..io.tables import csv_text
from ..problem import Problem, RunOptions, load_run, prepare
from ..rules.group import NPV, ROBUST, rule_breaks
from ..rules.limits import LIMITS, ProposedGroup
from .shares import subgroup_values


@dataclass
class Evaluation:
    """Scores of a proposed grouping: one row per group, and the rules each breaks."""

    groups: list[dict]
    totals: dict
    rule: str = "proportional"  # the share rule npv_share follows

    @property
    def ok(self) -> bool:
        return all(not g["breaks"] for g in self.groups)

    def to_dict(self) -> dict:
        return {"shares_rule": self.rule, "groups": self.groups, "totals": self.totals}

    def to_csv(self) -> str:
        rows = [{**g, "members": " ".join(g["members"]), "breaks": "; ".join(g["breaks"]),
                 "withdrawal": " ".join(f"{c}:{p:.4g}" for c, p in (g["withdrawal"] or {}).items()),
                 "npv_share": _pairs(g["npv_share"]), "transfer": _pairs(g["transfer"]),
                 "core_excess": g["core_excess"][self.rule] if g["core_excess"] else None} for g in self.groups]
        fields = ["id", "function", "members", "host", "depth", "platform", "annual_saving", "one_off_cost", "npv", "payback_years",
                  "expected_npv", "worst_withdrawal", "worst_withdrawal_npv", "robust", "withdrawal", "npv_share", "transfer",
                  "core_excess", "breaks"]
        return csv_text(fields, rows)


def _pairs(by_code: dict | None) -> str:
    return " ".join(f"{code}:{pounds:.2f}" for code, pounds in (by_code or {}).items())


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
    _split(problem, rows)
    totals = {key: float(sum(r[key] or 0.0 for r in rows)) for key in ("annual_saving", "one_off_cost", "npv", "expected_npv")}
    return Evaluation(rows, totals, problem.options.shares)


def _evaluate_group(problem: Problem, gid: str, k: int, members: np.ndarray) -> dict:
    function = problem.functions[k]
    codes = problem.codes
    breaks = rule_breaks(problem, k, members) if len(members) >= 2 else ["size: a partnership needs at least two members"]
    row = {"id": gid, "function": function.id, "members": [codes[i] for i in members], "host": None, "depth": None,
           "platform": None, "annual_saving": None, "one_off_cost": None, "npv": None, "payback_years": None,
           "expected_npv": None, "worst_withdrawal": None, "worst_withdrawal_npv": None, "robust": None, "withdrawal": None,
           "breaks": breaks}
    if len(members) < 2:
        return row
    options = evaluate_sets(problem, k, members[None, :], require_positive=False, all_options=True, plain=True)
    if len(options) == 0:
        options = evaluate_sets(problem, k, members[None, :], require_positive=False, all_options=True, ignore_rules=True)
    sets = options.members.astype(np.int64)
    host_slot = np.argmax(sets == options.host[:, None], axis=1)
    risk = partnership_risk(problem, k, sets, host_slot, options.depth.astype(np.int64), options.one_off)
    expected = problem.options.objective == "expected" and chances_matter(problem)
    value = risk.expected if expected else options.npv
    robust = risk.worst > 0 if problem.options.robust else np.ones(len(options), dtype=bool)
    # the best option: robust first under --robust, then what the run maximises, then the least one-off cost
    best = int(np.lexsort((options.one_off, -value, ~robust))[0])
    annual, one_off, npv = float(options.annual[best]), float(options.one_off[best]), float(options.npv[best])
    worst_member = codes[int(sets[best, risk.worst_slot[best]])]
    row.update(
        host=codes[int(options.host[best])],
        depth=problem.model.depths[int(options.depth[best])].id,
        platform=problem.platform_labels[int(options.platform[best])] if options.platform[best] >= 0 else None,
        annual_saving=annual,
        one_off_cost=one_off,
        npv=npv,
        payback_years=payback_or_none(annual, one_off, problem.model.depths[int(options.depth[best])].ramp),
        expected_npv=float(risk.expected[best]),
        worst_withdrawal=worst_member,
        worst_withdrawal_npv=float(risk.worst[best]),
        robust=bool(risk.worst[best] > 0),
        withdrawal={codes[int(i)]: float(p) for i, p in zip(sets[best], risk.chances[best])},
    )
    breaks.extend(NPV.explain_value(float(value[best]), expected))
    if problem.options.robust:
        breaks.extend(ROBUST.explain_value(float(risk.worst[best]), worst_member))
    return row


def _cross_group_breaks(problem: Problem, rows: list[dict]) -> None:
    """Adds to each row the sentences of every limit across groups that the grouping breaks
    (``optimiser.rules.limits``: overlap, max_partnerships, max_hosted, budget)."""
    groups = [ProposedGroup(row["id"], row["function"], tuple(row["members"]), row["host"], row["one_off_cost"],
                            row["annual_saving"], row["depth"]) for row in rows]
    for limit in LIMITS:
        for position, sentence in limit.breaks(problem, groups):
            rows[position]["breaks"].append(sentence)


def _split(problem: Problem, rows: list[dict]) -> None:
    """Each group's NPV split by every share rule of SPEC §6, with each rule's core excess and
    each member's transfer (its share under the run's rule less its proportional share).
    v(T) of a subgroup is what T could earn on its own under the run's rules; the group's own
    value is its NPV as evaluated, whether or not it keeps every rule."""
    position = {f.id: k for k, f in enumerate(problem.functions)}
    index = {c: i for i, c in enumerate(problem.codes)}
    rule = problem.options.shares
    for row in rows:
        row.update(shares=None, core_excess=None, npv_share=None, transfer=None)
        if row["npv"] is None:
            continue
        k = position[row["function"]]
        members = np.array([index[c] for c in row["members"]])
        (game,) = subgroup_values(problem, k, [members], [row["npv"]])
        splits = allocation.all_shares(game, problem.baseline[k, members])
        excess = allocation.core_excesses(game, splits)
        codes = row["members"]
        row["shares"] = {name: dict(zip(codes, map(float, x))) for name, x in splits.items()}
        row["core_excess"] = {name: float(e) for name, e in excess.items()}
        row["npv_share"] = row["shares"][rule]
        row["transfer"] = {c: row["shares"][rule][c] - row["shares"]["proportional"][c] for c in codes}
