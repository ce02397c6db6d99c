"""The checks of today's arrangements: under --keep-existing, every existing partnership that
is not locked is held whole by one partnership of the plan (it may have grown)."""

from __future__ import annotations

from ..errors import Finding
from .context import Context


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
