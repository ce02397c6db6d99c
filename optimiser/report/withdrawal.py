"""What a council's leaving does to a plan, in words (``optimiser withdraw``)."""

from __future__ import annotations

from .text import money


def withdrawal_report(report, names: dict) -> str:
    """The report of :func:`optimiser.api.withdraw` for a person: each partnership the
    council leaves, who loses what, the exit fee, and the repaired plan against carrying on."""
    who = f"{report.name} ({report.council})"
    if not report.exits:
        return f"{who} is in no partnership of this plan: nothing to report (its leaving changes nothing)."
    lines = [f"If {who} leaves at the end of year {report.exit_year}:"]
    for e in report.exits:
        others = ", ".join(names.get(c, c) + (" (host)" if c == e.host else "") for c in e.members if c != report.council)
        if e.continues:
            led = "" if e.host_after == e.host else f", now led by {names.get(e.host_after, e.host_after)}"
            fate = f"the others carry on{led}"
        else:
            fate = "the partnership ends"
        lines.append(f"  {e.id} {e.function} with {others}: {fate}; NPV {money(e.npv)} -> {money(e.npv_after)}")
        if e.losses:
            losses = ", ".join(f"{names.get(c, c)} {money(v)}" for c, v in sorted(e.losses.items(), key=lambda kv: -kv[1]))
            lines.append(f"      each member's loss: {losses}")
        lines.append(f"      exit fee that keeps the others whole: {money(e.exit_fee)}")
    r = report.repaired
    lines.append(f"  carrying on, the plan is worth {money(report.continuing_npv)}")
    if r is None:
        lines.append(f"  no repaired plan: {report.name} is committed to locked partnership {', '.join(report.committed)}, "
                     "which every plan must hold; unlock it in partnerships.csv to plan without it")
        return "\n".join(lines)
    status = "proven optimal" if r.status == "optimal" else f"{r.status}, gap {r.solver.gap:.2%}" if r.solver.gap is not None else r.status
    gain = report.gain_of_repair
    verdict = f"repair gains {money(gain)}" if gain > 0 else f"carrying on is better by {money(-gain)}"
    left = sorted({e.function for e in report.exits})
    functions = ", ".join(left) if len(left) <= 3 else f"the {len(left)} functions it shared"
    lines.append(f"  repaired ({report.name} out of {functions}; every other partnership kept): {len(r.partnerships)} "
                 f"partnerships, NPV {money(r.totals.npv)} ({status}); {verdict}")
    lines.append("  (the repaired plan is valued as a new plan over the whole horizon, set-up costs included)")
    return "\n".join(lines)
