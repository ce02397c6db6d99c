"""Today's arrangements as the verifier reads them (--keep-existing), from partnerships.csv
alone: which existing partnerships a run keeps, and whose set-up cost a partnership sinks."""

from __future__ import annotations


def existing_groups(existing, options, functions, in_area) -> frozenset:
    """Under --keep-existing, (function, frozenset(members)) of every existing partnership of a
    run function wholly inside the area: their set-up cost is sunk, and those not locked are
    kept together, free to grow (empty without the option)."""
    if not getattr(options, "keep_existing", False):
        return frozenset()
    return frozenset((g.function, frozenset(g.members)) for g in existing
                     if g.function in functions and all(in_area.get(c, False) for c in g.members))


def holds_kept_group(ctx, part) -> bool:
    """Whether the partnership holds whole an existing partnership that --keep-existing keeps
    (not a locked one): kept whatever its NPV, like a locked one."""
    return part.readable and bool(sunk_members(ctx.existing_sets - ctx.locked_sets, part.function, frozenset(part.members)))


def sunk_members(groups: frozenset, function, members: frozenset) -> frozenset:
    """The members of every group of ``groups`` (for ``function``) that ``members`` holds whole."""
    return frozenset(c for f, group in groups if f == function and group <= members for c in group)
