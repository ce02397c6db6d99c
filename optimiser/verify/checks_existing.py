"""The checks of today's arrangements: under --keep-existing, every existing partnership that
is not locked is held whole by one partnership of the plan (it may have grown); and the
plan's ``existing`` section, worked out again from partnerships.csv and the plan's own
partnerships."""

from __future__ import annotations

from ..errors import Finding
from .context import Context, pounds
from .figures import Member, figures


def check_keep_existing(ctx: Context) -> list[Finding]:
    """Under --keep-existing, each existing partnership of a run function inside the area that
    is not locked has all its members in one partnership of the plan, and none elsewhere."""
    if ctx.infeasible or not getattr(ctx.options, "keep_existing", False):
        return []
    out = []
    for group in ctx.instance.partnerships:
        if group.locked or group.function not in ctx.functions:
            continue
        inside = [c for c in group.members if ctx.in_area.get(c, False)]
        if not inside:
            continue
        label = f"existing partnership '{group.id}' ({group.function}: {', '.join(group.members)})"
        if len(inside) < len(group.members):
            outside = ", ".join(c for c in group.members if c not in inside)
            out.append(Finding("keep_existing", label, f"members {outside} are outside the run's --area, so no plan can keep it"))
            continue
        holding = [p for p in ctx.readable_parts if p.function == group.function and set(p.members) & set(group.members)]
        if not holding:
            out.append(Finding("keep_existing", label, "is not in the plan: its members stay alone"))
        elif len(holding) > 1 or not set(group.members) <= set(holding[0].members):
            where = "; ".join(f"{p.id!r} holds {', '.join(sorted(set(p.members) & set(group.members)))}" for p in holding)
            alone = sorted(set(group.members) - {c for p in holding for c in p.members})
            out.append(Finding("keep_existing", label, f"is split: {where}" + (f"; {', '.join(alone)} alone" if alone else "")))
    return out


def worth_as_it_is(ctx: Context, function: str, members: tuple[str, ...], host: str | None) -> float:
    """What an arrangement is worth as it stands: the best NPV over its hosts (the recorded
    one, if any), depths and platforms, the depths' set-up share sunk (a move to a common
    platform still charged); over every option when the rules allow none."""
    f = ctx.model.function(function)
    km = f.rule("within_km")
    weakest = min(ctx.councils[c].commitment for c in members)
    every, allowed = [], []
    for h in [host] if host else members:
        team = [Member(c, ctx.baseline(c, function)[0], ctx.councils[c].population, ctx.distance(c, h), ctx.platform_of(c, function))
                for c in members]
        host_ok = ctx.councils[h].commitment >= f.host_min_commitment and (km is None or max(m.km_to_host for m in team) <= km.km)
        for depth in ctx.model.depths:
            for platform in sorted({m.platform for m in team}) if depth.common_platform else [None]:
                npv = figures(f, depth, team, platform, discount_rate=ctx.model.discount_rate, horizon_years=ctx.model.horizon_years,
                              sunk=frozenset(members)).npv
                every.append(npv)
                if host_ok and weakest >= depth.min_commitment:
                    allowed.append(npv)
    return max(allowed or every)


def expected_arrangements(ctx: Context) -> tuple[list[dict], int]:
    """Each arrangement of the run's functions wholly inside the area with a member taking
    part, as the plan's ``existing`` section should describe it, and how many others there are."""
    parts = [p for p in ctx.readable_parts if isinstance(p.function, str)]
    found, outside = [], 0
    for group in ctx.instance.partnerships:
        if group.function not in ctx.functions or group.line == 0:  # line 0: a --lock group, not a row of partnerships.csv
            continue
        if not all(ctx.in_area.get(c, False) for c in group.members) or not set(group.members) & ctx.eligible_set[group.function]:
            outside += 1
            continue
        holding = [p for p in parts if p.function == group.function and set(p.members) & set(group.members)]
        together = len(holding) == 1 and set(group.members) <= set(holding[0].members)
        added = [c for c in holding[0].members if c not in group.members] if together else []
        if together:
            status = "grown" if added else "kept" if group.host is None or holding[0].host == group.host else "changed"
            left = []
        else:
            most = max((len(set(p.members) & set(group.members)), -n, p) for n, p in enumerate(holding))[2] if holding else None
            status = "split" if most is not None and len(set(most.members) & set(group.members)) >= 2 else "dissolved"
            left = [c for c in group.members if status == "dissolved" or c not in most.members]
        found.append({"id": group.id, "function": group.function, "members": list(group.members), "host": group.host,
                      "status": status, "partnerships": [p.id for p in holding], "added": added, "left": left,
                      "today_npv": worth_as_it_is(ctx, group.function, tuple(group.members), group.host)})
    return found, outside


def check_existing(ctx: Context) -> list[Finding]:
    """The plan's ``existing`` section, when it has one: each arrangement's status, the
    partnerships holding it, what was added and who left, what it is worth as it is; the
    totals today and in the plan."""
    section = ctx.plan.get("existing")
    if section is None:
        return []
    if not isinstance(section, dict) or not isinstance(section.get("arrangements"), list):
        return [Finding("existing", "existing", "must be an object with a list of arrangements")]
    want, outside = expected_arrangements(ctx)
    out = []
    given = {(a.get("id"), a.get("function")): a for a in section["arrangements"] if isinstance(a, dict)}
    if len(given) != len(section["arrangements"]) or set(given) != {(a["id"], a["function"]) for a in want}:
        out.append(Finding("existing", "existing", f"lists {sorted(map(str, given))}, expected "
                                                   f"{sorted(str((a['id'], a['function'])) for a in want)}"))
    for a in want:
        entry = given.get((a["id"], a["function"]))
        if entry is None:
            continue
        where = f"existing arrangement '{a['id']}' ({a['function']})"
        for key in ("members", "host", "status", "partnerships", "added", "left"):
            if entry.get(key) != a[key]:
                out.append(Finding("existing", where, f"{key} is {entry.get(key)!r}, expected {a[key]!r}"))
        if not ctx.money_ok(entry.get("today_npv"), a["today_npv"]):
            out.append(Finding("existing", where, f"today_npv is {pounds(entry.get('today_npv'))}, expected {pounds(a['today_npv'])}"))
    totals = ctx.plan.get("totals") if isinstance(ctx.plan.get("totals"), dict) else {}
    today = sum(a["today_npv"] for a in want)
    if not ctx.money_ok(section.get("today_npv"), today):
        out.append(Finding("existing", "existing", f"today_npv is {pounds(section.get('today_npv'))}, expected {pounds(today)}"))
    if not ctx.money_ok(section.get("plan_npv"), totals.get("npv", 0.0)):
        out.append(Finding("existing", "existing", f"plan_npv is {pounds(section.get('plan_npv'))}, expected the plan's npv"))
    if section.get("outside_run") != outside:
        out.append(Finding("existing", "existing", f"outside_run is {section.get('outside_run')!r}, expected {outside}"))
    return out
