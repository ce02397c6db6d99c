"""Plans and evaluations as text for a terminal: money a person reads, names beside codes."""

from __future__ import annotations

from ..analysis.summary import function_figures
from .finance import finance_lines


#: the sign money() writes before an amount; the command line sets "GBP " while it writes to
#: a terminal that cannot print "£" (an ASCII-only locale)
CURRENCY = "£"


def money(value: float | None) -> str:
    """Pounds as a person writes them: £1.23bn, £4.56m, £789k, £12."""
    if value is None:
        return "-"
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value >= 1e9:
        return f"{sign}{CURRENCY}{value / 1e9:,.2f}bn"
    if value >= 1e6:
        return f"{sign}{CURRENCY}{value / 1e6:,.2f}m"
    if value >= 1e3:
        return f"{sign}{CURRENCY}{value / 1e3:,.0f}k"
    return f"{sign}{CURRENCY}{value:,.0f}"


def _years(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}y"


def plan_summary(plan, instance, top: int = 10) -> str:
    """A readable account of a plan: totals, per function, the largest partnerships."""
    names = dict(zip(instance.councils["code"], instance.councils["name"]))
    s = plan.solver
    totals = plan.totals
    gap = "-" if s.gap is None else f"{s.gap:.2e}"
    share = 100 * totals.annual_saving / totals.baseline if totals.baseline else 0.0
    lines = [
        f"{plan.instance} with model {plan.model}: {s.status} ({s.name}, {s.seconds:.1f}s, gap {gap})",
        f"  {len(plan.partnerships)} partnerships; NPV {money(totals.npv)}; yearly saving "
        f"{money(totals.annual_saving)} of {money(totals.baseline)} baseline ({share:.1f}%); "
        f"one-off cost {money(totals.one_off_cost)}",
        "",
        f"  {'function':<28}{'partnerships':>13}{'councils':>10}{'yearly saving':>15}{'% of spend':>11}{'NPV':>12}",
    ]
    for f in function_figures(plan):
        lines.append(f"  {f.function:<28}{f.partnerships:>13}{f.councils:>10}{money(f.annual_saving):>15}"
                     f"{100 * f.saving_share:>10.1f}%{money(f.npv):>12}")
    largest = sorted(plan.partnerships, key=lambda p: -p.npv)[:top]
    if largest:
        lines += ["", f"  largest partnerships (of {len(plan.partnerships)}):"]
        for p in largest:
            members = ", ".join(names.get(c, c) + (" (host)" if c == p.host else "") for c in p.members)
            lines.append(f"  {p.id:>5} {p.function:<26} NPV {money(p.npv):>9}  {p.depth:<18} payback {_years(p.payback_years):>5}  {members}")
    lines += withdrawal_lines(plan, names, top)
    lines += stability_lines(plan, names)
    lines += finance_lines(plan, names, money, top)
    return "\n".join(lines)


def withdrawal_lines(plan, names: dict, top: int = 10) -> list[str]:
    """In words: what the plan is expected to deliver when members may leave, how many
    partnerships survive any one member leaving, and who the fragile ones hinge on (SPEC §5)."""
    parts = [p for p in plan.partnerships if p.robust is not None]
    if not parts:
        return []
    lines = [""]
    totals = plan.totals
    if totals.expected_npv is not None and any(any(v > 0 for v in (p.withdrawal or {}).values()) for p in parts):
        kept = 100 * totals.expected_npv / totals.npv if totals.npv else 100.0
        lines.append(f"  if members may leave: expected NPV {money(totals.expected_npv)} of the {money(totals.npv)} promised "
                     f"({kept:.0f}%)" + (", which this plan maximises" if plan.options.objective == "expected" else ""))
    robust = sum(1 for p in parts if p.robust)
    lines.append(f"  {robust} of {len(parts)} partnerships still pay whoever leaves (N-1 robust)"
                 + ("; --robust allowed no other" if plan.options.robust else ""))
    fragile = sorted((p for p in parts if not p.robust), key=lambda p: p.worst_withdrawal_npv - p.npv)
    for p in fragile[:top]:
        who = names.get(p.worst_withdrawal, p.worst_withdrawal)
        lines.append(f"  {p.id} {p.function} hinges on {who}: if it leaves, the NPV falls from {money(p.npv)} "
                     f"to {money(p.worst_withdrawal_npv)}")
    if len(fragile) > top:
        lines.append(f"  ... and {len(fragile) - top} more fragile partnerships (robust = false in partnerships.csv)")
    return lines


def stability_lines(plan, names: dict) -> list[str]:
    """In words: the share rule, partnerships whose split some subgroup would leave, and the
    groups that would do better breaking away from the plan."""
    if not plan.stability:
        return []
    rule = plan.options.shares
    lines = ["", f"  shares follow the {rule} rule" + ("" if rule == "proportional" else "; each council's transfer against "
                                                      "the proportional split is in councils.csv")]
    unstable = [p for p in plan.partnerships if p.core_excess and p.core_excess[rule] > 1e-6 * abs(p.npv)]
    for p in unstable:
        lines.append(f"  {p.id} {p.function}: under {rule} shares a subgroup would gain {money(p.core_excess[rule])} by leaving")
    blocked = [s for s in plan.stability if s.blocking_groups]
    if not blocked:
        lines.append("  stable: no group of councils would do better on its own than its members' shares")
    for s in blocked:
        members = ", ".join(names.get(c, c) for c in s.largest_surplus_members)
        cost = "" if s.cost_of_stability is None else f"; LP bound is {money(s.cost_of_stability)} above the plan"
        lines.append(f"  {s.function}: {s.blocking_groups:,} of {s.groups_checked:,} possible groups would do better on their "
                     f"own; the most, {members}, by {money(s.largest_surplus)}{cost}")
    return lines


def evaluation_summary(result, instance) -> str:
    """Each evaluated group: members by name, its best option and figures, the rules it breaks."""
    names = dict(zip(instance.councils["code"], instance.councils["name"]))
    lines = []
    for g in result.groups:
        lines.append(f"{g['id']} {g['function']}: {', '.join(names.get(c, c) for c in g['members'])}")
        lines.append(f"    best: {g['depth']} hosted by {names.get(g['host'], g['host'])}, platform {g['platform'] or '-'}; "
                     f"yearly saving {money(g['annual_saving'])}, one-off {money(g['one_off_cost'])}, NPV {money(g['npv'])}, "
                     f"payback {_years(g['payback_years'])}")
        if any((g["withdrawal"] or {}).values()):
            lines.append(f"    expected NPV {money(g['expected_npv'])} if members may leave; "
                         f"if {names.get(g['worst_withdrawal'], g['worst_withdrawal'])} leaves, NPV {money(g['worst_withdrawal_npv'])} "
                         f"({'still pays: robust' if g['robust'] else 'not robust'})")
        if g["npv_share"] and result.rule != "proportional":
            lines.append(f"    {result.rule} shares: " + ", ".join(
                f"{names.get(c, c)} {money(v)} ({'+' if g['transfer'][c] >= 0 else '-'}{money(abs(g['transfer'][c]))} against proportional)"
                for c, v in g["npv_share"].items()))
        if g["core_excess"] and g["core_excess"][result.rule] > 0:
            lines.append(f"    under the {result.rule} split a subgroup would do {money(g['core_excess'][result.rule])} better on its own")
        lines += [f"    breaks {b}" for b in g["breaks"]]
    t = result.totals
    lines.append(f"{len(result.groups)} groups: NPV {money(t['npv'])}, yearly saving {money(t['annual_saving'])}, "
                 f"one-off {money(t['one_off_cost'])}; {sum(1 for g in result.groups if g['breaks'])} break rules")
    return "\n".join(lines)
