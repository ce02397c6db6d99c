"""Scoring a grouping someone proposes (today's arrangements, or an edited plan): each group's
best depth, host and platform, its figures, and every rule it breaks.

A group is scored within the run: one with no member inside ``--area``, or of a function the
run leaves out, is skipped and counted, not reported as breaking a rule. A host the group
records is honoured (and judged); an arrangement already in place (``sunk``) is scored
without charging its set-up cost again: the depth's one-off share is ``sunk_cost``, and its
one-off cost is only what moving members to a common platform still costs. Totals count only the groups that keep every rule; the others are totalled
apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..candidates import evaluate_sets
from ..candidates.withdrawal import chances_matter, partnership_risk
from ..economics import allocation
from ..economics.finance import payback_or_none
from ..errors import InputError
from ..io.groups import GroupRow, read_groups
from ..io.tables import csv_text
from ..problem import Problem, RunOptions, load_run, prepare
from ..rules.group import NPV, ROBUST, rule_breaks
from ..rules import LIMITS
from ..rules.limits import ProposedGroup
from .shares import subgroup_values

FIGURES = ("annual_saving", "one_off_cost", "npv", "expected_npv")


@dataclass
class Evaluation:
    """Scores of a proposed grouping: one row per group scored, and the rules each breaks;
    ``skipped`` counts the groups the run leaves out (outside --area, other functions)."""

    groups: list[dict]
    totals: dict
    totals_breaking: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict)
    rule: str = "proportional"  # the share rule npv_share follows

    @property
    def ok(self) -> bool:
        return all(not g["breaks"] for g in self.groups)

    def to_dict(self) -> dict:
        return {"shares_rule": self.rule, "groups": self.groups, "totals": self.totals, "totals_breaking": self.totals_breaking,
                "skipped": self.skipped}

    def to_csv(self) -> str:
        rows = [{**g, "members": " ".join(g["members"]), "breaks": "; ".join(g["breaks"]),
                 "withdrawal": " ".join(f"{c}:{p:.4g}" for c, p in (g["withdrawal"] or {}).items()),
                 "npv_share": _pairs(g["npv_share"]), "transfer": _pairs(g["transfer"]),
                 "core_excess": g["core_excess"][self.rule] if g["core_excess"] else None} for g in self.groups]
        fields = ["id", "function", "members", "host", "depth", "platform", "annual_saving", "one_off_cost", "npv", "payback_years",
                  "sunk", "sunk_cost", "expected_npv", "worst_withdrawal", "worst_withdrawal_npv", "robust", "withdrawal", "npv_share",
                  "transfer", "core_excess", "breaks"]
        return csv_text(fields, rows)


def _pairs(by_code: dict | None) -> str:
    return " ".join(f"{code}:{pounds:.2f}" for code, pounds in (by_code or {}).items())


def evaluate(instance, groups, model=None, options: RunOptions | None = None, *, sunk: bool = False, **overrides) -> Evaluation:
    """Scores a grouping (a path to a grouping file, or groups as :class:`GroupRow` or
    (id, function, [codes]) triples) with the model.

    Each group gets its best depth, host (its recorded host, where it has one) and platform,
    its yearly saving, one-off cost, NPV and payback, and every rule it breaks, named; so do
    the limits across groups (a council in two groups for one function, max_partnerships,
    max_hosted, --budget). With ``sunk`` every group is an arrangement already in place.
    """
    instance, model, options = load_run(instance, model, options, **overrides)
    problem = prepare(instance, model, options)
    if isinstance(groups, (str, Path)):
        groups = read_groups(groups, instance, problem.model)
    function_pos = {f.id: k for k, f in enumerate(problem.functions)}
    index = {c: i for i, c in enumerate(problem.codes)}
    rows = []
    skipped = {"outside_area": 0, "other_functions": 0}
    for group in groups:
        group = GroupRow(*group)
        if group.function not in function_pos:
            if group.function not in problem.model.function_ids:
                known = ", ".join(f.id for f in problem.functions)
                raise InputError(f"group '{group.id}'", f"unknown function '{group.function}' (the run's functions: {known})")
            skipped["other_functions"] += 1
            continue
        members = np.array(sorted(index[c] for c in group.members))
        if not problem.in_area[members].any():
            skipped["outside_area"] += 1
            continue
        host = None if group.host is None else index[group.host]
        rows.append(score_group(problem, group.id, function_pos[group.function], members, host, sunk or group.sunk,
                                prefer=_preference(problem, group)))
    _cross_group_breaks(problem, rows)
    _split(problem, rows)
    return Evaluation(rows, _totals(r for r in rows if not r["breaks"]), _totals(r for r in rows if r["breaks"]), skipped,
                      problem.options.shares)


def _totals(rows) -> dict:
    rows = list(rows)
    return {"groups": len(rows), **{key: float(sum(r[key] or 0.0 for r in rows)) for key in FIGURES}}


def _preference(problem: Problem, group: GroupRow) -> tuple[int, int | None] | None:
    """(depth, platform: -1 for none) indexes of the option ``group`` would rather keep; None
    when it names no depth or the model has no depth of that id (the platform: None when the
    run knows no such platform)."""
    depths = [d.id for d in problem.model.depths]
    if group.depth is None or group.depth not in depths:
        return None
    labels = list(problem.platform_labels)
    platform = -1 if group.platform is None else labels.index(group.platform) if group.platform in labels else None
    return depths.index(group.depth), platform


def score_group(problem: Problem, gid: str, k: int, members: np.ndarray, host: int | None = None, sunk: bool = False,
                by_npv: bool = False, prefer: tuple[int, int | None] | None = None) -> dict:
    """One group's row: its best option (with ``host``, if given), figures and rule breaks.
    ``sunk``: an arrangement in place, its depth's set-up cost paid (migration to a platform a
    member is not on today is still charged, as --keep-existing does). ``by_npv``: the best
    option is the one of largest NPV, whatever the run's --objective and --robust. ``prefer``:
    (depth, platform) indexes to keep where an option (with ``host``) has them and passes the
    rules; else that depth on any platform; else the best option."""
    function = problem.functions[k]
    codes = problem.codes
    breaks = rule_breaks(problem, k, members) if len(members) >= 2 else ["size: a partnership needs at least two members"]
    row = {"id": gid, "function": function.id, "members": [codes[i] for i in members], "host": None, "depth": None,
           "platform": None, "annual_saving": None, "one_off_cost": None, "npv": None, "payback_years": None,
           "sunk": sunk, "sunk_cost": None,
           "expected_npv": None, "worst_withdrawal": None, "worst_withdrawal_npv": None, "robust": None, "withdrawal": None,
           "breaks": breaks}
    if len(members) < 2:
        return row
    paid = np.full(1, float(problem.spend[k][members].sum())) if sunk else None

    def priced(**how):
        charged = evaluate_sets(problem, k, members[None, :], require_positive=False, all_options=True, **how)
        scored = evaluate_sets(problem, k, members[None, :], require_positive=False, all_options=True, sunk=paid, **how) if sunk else charged
        keep = charged.host == host if host is not None else np.ones(len(charged), dtype=bool)
        if prefer is not None:
            depth, platform = prefer
            for wanted in ((charged.depth == depth) & (charged.platform == platform) if platform is not None else None,
                           charged.depth == depth):
                if wanted is not None and (keep & wanted).any():
                    keep = keep & wanted
                    break
        led = np.flatnonzero(keep)
        return charged, charged.take(led), scored.take(led)

    every, charged, options = priced(plain=True)
    if host is not None and len(every) and not len(options):  # the group could run, but not under this host
        breaks.extend(_host_breaks(problem, k, members, host))
    if len(options) == 0:
        _, charged, options = priced(ignore_rules=True, plain=True)
    sets = options.members.astype(np.int64)
    host_slot = np.argmax(sets == options.host[:, None], axis=1)
    risk = partnership_risk(problem, k, sets, host_slot, options.depth.astype(np.int64), options.one_off)
    expected = problem.options.objective == "expected" and chances_matter(problem) and not by_npv
    value = risk.expected if expected else options.npv
    robust = risk.worst > 0 if problem.options.robust and not by_npv else np.ones(len(options), dtype=bool)
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
        sunk_cost=float(charged.one_off[best]) - one_off if sunk else None,
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


def _host_breaks(problem: Problem, k: int, members: np.ndarray, host: int) -> list[str]:
    """Why the recorded host may not lead the group, in words."""
    function = problem.functions[k]
    code = problem.codes[host]
    found = []
    if problem.commitment[host] < function.host_min_commitment:
        found.append(f"host_min_commitment: the recorded host {code} has commitment {problem.commitment[host]:g}, "
                     f"below {function.host_min_commitment:g}")
    within = function.rule("within_km")
    if within is not None:
        far = problem.distance_km[host, members]
        if far.max() > within.km:
            found.append(f"within_km:{within.km:g}: {problem.codes[members[far.argmax()]]} is {far.max():.0f} km from the "
                         f"recorded host {code}")
    return found or [f"host: the recorded host {code} may not lead this group"]


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
    priced = [row for row in rows if row["npv"] is not None]
    for k in sorted({position[row["function"]] for row in priced}):
        # every subgroup of one size of every group of the function valued at once
        of_function = [row for row in priced if position[row["function"]] == k]
        groups = [np.array([index[c] for c in row["members"]]) for row in of_function]
        games = subgroup_values(problem, k, groups, [row["npv"] for row in of_function])
        for row, members, game in zip(of_function, groups, games):
            splits = allocation.all_shares(game, problem.baseline[k, members])
            excess = allocation.core_excesses(game, splits)
            codes = row["members"]
            row["shares"] = {name: dict(zip(codes, map(float, x))) for name, x in splits.items()}
            row["core_excess"] = {name: float(e) for name, e in excess.items()}
            row["npv_share"] = row["shares"][rule]
            row["transfer"] = {c: row["shares"][rule][c] - row["shares"]["proportional"][c] for c in codes}
