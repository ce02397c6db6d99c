"""The partner marketplace as people read it: per function, the partnerships a council could
join, members by name, what each gains; and the same as CSV rows for a spreadsheet."""

from __future__ import annotations

from ..io.tables import csv_text
from .text import money

CSV_FIELDS = ["council", "function", "rank", "members", "names", "host", "depth", "platform", "npv", "annual_saving", "one_off_cost",
              "payback_years", "share", "gain", "mutual", "shares", "gains", "km_to_host", "same_platform", "tiers"]


def _because(s, names: dict) -> str:
    why = s.why
    parts = [f"host {why['km_to_host']:.0f} km away" if why["km_to_host"] else "it hosts"]
    if why["neighbours"]:
        parts.append(f"borders {', '.join(names.get(c, c) for c in why['neighbours'])}")
    if why["same_platform"]:
        parts.append(f"{', '.join(names.get(c, c) for c in why['same_platform'])} on its platform already")
    parts.append("all " + why["tiers"][0] if len(why["tiers"]) == 1 else "tiers " + " and ".join(why["tiers"]))
    return "; ".join(parts)


def market_text(result, names: dict, show_one_sided: bool = False) -> str:
    """Per function, the ranked suggestions: members (host marked), figures, every member's share
    and gain, and why the group is a natural one."""
    me = result.council
    lines = [f"Partners for {names.get(me, me)} ({me}) on {result.instance}, model {result.model}: ranked by its "
             f"{result.rule} share" + (f"; gains over its shares in {result.plan}" if result.plan else "; gains over staying alone")]
    for f in result.functions:
        lines.append("")
        if not f.eligible:
            lines.append(f"  {f.function}: {names.get(me, me)} does not take part in this run (tier, area or --exclude)")
            continue
        kind = "groups" if show_one_sided else "mutual groups"
        lines.append(f"  {f.function}: {f.mutual} mutual of {f.groups} possible groups"
                     + (f"; outside option {money(f.outside_option)}" if f.outside_option else ""))
        if not f.suggestions:
            lines.append(f"    no {kind} to suggest")
        for rank, s in enumerate(f.suggestions, start=1):
            members = ", ".join(names.get(c, c) + (" (host)" if c == s.host else "") for c in s.members)
            payback = "-" if s.payback_years is None else f"{s.payback_years:.1f}y"
            lines.append(f"   {rank}. {members}")
            lines.append(f"      NPV {money(s.npv)}, {s.depth}" + (f" on {s.platform}" if s.platform else "") + f", payback {payback}"
                         + ("" if s.mutual else "; NOT mutual"))
            lines.append("      share / gain: " + "; ".join(f"{names.get(c, c)} {money(s.shares[c])} / {money(s.gains[c])}"
                                                        for c in s.members))
            lines.append(f"      why: {_because(s, names)}")
    return "\n".join(lines)


def market_csv(result, names: dict) -> str:
    rows = []
    for f in result.functions:
        for rank, s in enumerate(f.suggestions, start=1):
            rows.append({
                "council": result.council, "function": f.function, "rank": rank, "members": " ".join(s.members),
                "names": "; ".join(names.get(c, c) for c in s.members), "host": s.host, "depth": s.depth, "platform": s.platform,
                "npv": s.npv, "annual_saving": s.annual_saving, "one_off_cost": s.one_off_cost, "payback_years": s.payback_years,
                "share": s.shares[result.council], "gain": s.gains[result.council], "mutual": s.mutual,
                "shares": " ".join(f"{c}:{x:.2f}" for c, x in s.shares.items()),
                "gains": " ".join(f"{c}:{x:.2f}" for c, x in s.gains.items()),
                "km_to_host": s.why["km_to_host"], "same_platform": " ".join(s.why["same_platform"]),
                "tiers": " ".join(s.why["tiers"]),
            })
    return csv_text(CSV_FIELDS, rows)
