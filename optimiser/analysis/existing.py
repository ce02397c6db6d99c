"""Today's arrangements against a plan: what the plan does to each existing arrangement of
partnerships.csv (kept, changed, grown, split or dissolved), what the arrangements are worth as
they are (their set-up cost sunk), and what the plan is worth."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..plan import Arrangement, Plan, Today
from ..problem import Problem
from .evaluate import score_group


def outcome(members: tuple[str, ...], host: str | None, parts: list) -> tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(status, the ids of the partnerships holding any member, councils added, members left)
    of an arrangement whose members the plan's ``parts`` (its partnerships of the function, in
    plan order) hold as they do."""
    holding = [p for p in parts if set(p.members) & set(members)]
    ids = tuple(p.id for p in holding)
    if len(holding) == 1 and set(members) <= set(holding[0].members):
        whole = holding[0]
        added = tuple(c for c in whole.members if c not in members)
        if added:
            return "grown", ids, added, ()
        return ("kept" if host is None or whole.host == host else "changed"), ids, (), ()
    most = max(holding, key=lambda p: len(set(p.members) & set(members)), default=None)
    if most is None or len(set(most.members) & set(members)) < 2:
        return "dissolved", ids, (), tuple(members)
    return "split", ids, (), tuple(c for c in members if c not in most.members)


def with_today(problem: Problem, plan: Plan) -> Plan:
    """``plan`` with its ``existing`` section: every arrangement of partnerships.csv of the
    run's functions wholly inside the area, with a member taking part (None when the instance
    records none)."""
    instance = problem.instance
    if not instance.partnerships:
        return plan
    function_pos = {f.id: k for k, f in enumerate(problem.functions)}
    index = {c: i for i, c in enumerate(problem.codes)}
    arrangements, outside = [], 0
    for group in instance.partnerships:
        if group.function not in function_pos:
            continue
        members = np.array(sorted(index[c] for c in group.members))
        if not problem.in_area[members].all() or not problem.eligible[function_pos[group.function], members].any():
            outside += 1  # not this run's: partly outside its area, or none of its members takes part
            continue
        host = None if group.host is None else index[group.host]
        today = score_group(problem, group.id, function_pos[group.function], members, host, sunk=True, by_npv=True)
        parts = [p for p in plan.partnerships if p.function == group.function]
        status, ids, added, left = outcome(tuple(group.members), group.host, parts)
        arrangements.append(Arrangement(group.id, group.function, tuple(group.members), group.host, status, ids, added, left,
                                        float(today["npv"])))
    existing = Today(tuple(arrangements), float(sum(a.today_npv for a in arrangements)), plan.totals.npv, outside)
    return replace(plan, existing=existing)
