"""Checks of one partnership: ``check_x(ctx, part) -> list[Finding]``.

The partnership rules carry the names of the engine's rules registry (``tier``, ``area``,
``exclude``, ``max_size``, ``same_region``, ``same_county``, ``same_nation``,
``contiguous``, ``within_km``, ``apart``, ``commitment``, ``host_min_commitment``; ``npv``
and ``robust``, which judge what a partnership is worth, are in :mod:`.checks_worth`)
but are stated here again in their own code. The other checks are about the entry itself:
``partnership`` (id, keys, function, members), ``host``, ``depth``, ``platform`` and
``money`` (its figures against :mod:`.figures`).

Each check returns nothing for an entry it cannot judge (members unreadable, function
unknown, ...): that entry's ``partnership``, ``host`` or ``depth`` finding says why.
"""

from __future__ import annotations

from ..errors import Finding
from .context import ELIGIBILITY_RULES, KM_SLACK, Context, Part, is_number, pounds

MONEY_KEYS = ("annual_saving", "one_off_cost", "npv")
ENTRY_KEYS = ("id", "function", "members", "host", "depth", "platform", *MONEY_KEYS, "payback_years")


def _finding(rule: str, part: Part, message: str) -> Finding:
    return Finding(rule, part.label, message)


def _in_run(ctx: Context, part: Part) -> bool:
    """The entry's members are readable and its function is one of the run's."""
    return part.readable and part.model_function is not None and part.function in ctx.functions


# ---------------------------------------------------------------- the entry itself


def check_partnership(ctx: Context, part: Part) -> list[Finding]:
    """A JSON object with a unique id, every key, a model function of the run, and a list of
    at least two distinct council codes of the instance."""
    entry = part.entry
    if not isinstance(entry, dict):
        return [_finding("partnership", part, f"must be a JSON object, found {type(entry).__name__}")]
    out = []

    def problem(message: str) -> None:
        out.append(_finding("partnership", part, message))

    pid, fid = part.id, part.function
    if not isinstance(pid, str) or not pid:
        problem(f"id must be non-empty text, found {pid!r}")
    else:
        first = ctx.first_with_id[pid]
        if first < part.index:
            problem(f"id '{pid}' is used again (first at partnerships[{first}])")
    for key in ENTRY_KEYS:
        if key not in entry:
            problem(f"missing key '{key}'")
    if part.model_function is None:
        problem(f"function {fid!r} is not defined by model '{ctx.model.name}'")
    elif fid not in ctx.functions:
        problem(f"function '{fid}' is not one of the run's functions ({', '.join(ctx.run_functions)})")
    if not part.readable:
        problem(f"members must be a list of council codes, found {entry.get('members')!r}")
        return out
    for code in part.repeated:
        problem(f"member {code} is listed twice")
    if len(part.members) < 2:
        problem(f"has {len(part.members)} distinct member(s); a partnership needs at least 2")
    for code in part.members:
        if code not in ctx.councils:
            problem(f"member {code} is not a council of instance '{ctx.instance.name}'")
    return out


def check_host(ctx: Context, part: Part) -> list[Finding]:
    """The host is one of the members."""
    if not part.readable or (isinstance(part.host, str) and part.host in part.members):
        return []
    return [_finding("host", part, f"host {part.host!r} is not one of its members ({', '.join(part.members)})")]


def check_depth(ctx: Context, part: Part) -> list[Finding]:
    """The depth is one the model defines."""
    if not part.readable or part.depth is not None:
        return []
    known_depths = ", ".join(d.id for d in ctx.model.depths)
    return [_finding("depth", part, f"depth {part.entry.get('depth')!r} is not defined by model '{ctx.model.name}' (depths: {known_depths})")]


def check_platform(ctx: Context, part: Part) -> list[Finding]:
    """No platform at a depth without a common one; else one of the members' platforms."""
    depth, platform = part.depth, part.platform
    if not part.readable or depth is None or part.model_function is None:
        return []
    if not depth.common_platform:
        if platform is not None:
            return [_finding("platform", part, f"platform is {platform!r}, but depth '{depth.id}' has no common platform (expected null)")]
        return []
    choices = sorted({ctx.platform_of(c, part.function) for c in part.known})
    if not isinstance(platform, str) or platform not in choices:
        return [
            _finding(
                "platform",
                part,
                f"platform is {platform!r}, but depth '{depth.id}' needs one of its members' platforms ({', '.join(choices)})",
            )
        ]
    return []


def check_money(ctx: Context, part: Part) -> list[Finding]:
    """Yearly saving, one-off cost, NPV and payback as SPEC section 3 computes them, or at
    least numbers when they cannot be recomputed."""
    if not part.readable:
        return []
    entry = part.entry
    out = []
    fig = part.figures
    if fig is None:
        for key in MONEY_KEYS:
            if not is_number(entry.get(key)):
                out.append(_finding("money", part, f"{key} must be a number, found {entry.get(key)!r}"))
        return out
    for key, expected in (("annual_saving", fig.annual), ("one_off_cost", fig.one_off), ("npv", fig.npv)):
        found = entry.get(key)
        if not ctx.money_ok(found, expected):
            out.append(_finding("money", part, f"{key} is {pounds(found)}, expected {pounds(expected)}"))
    found = entry.get("payback_years")
    if fig.payback is None:
        if found is not None:
            why = f"annual saving {pounds(fig.annual)} is not positive" if not fig.annual > 0 else "the ramped savings never reach the one-off cost"
            out.append(_finding("money", part, f"payback_years is {found!r}, expected null ({why})"))
    elif not ctx.ratio_ok(found, fig.payback):
        out.append(_finding("money", part, f"payback_years is {found!r}, expected {fig.payback:.6g}"))
    return out


# ---------------------------------------------------------------- partnership rules


def eligibility(ctx: Context, part: Part, rules: tuple[str, ...] = ELIGIBILITY_RULES) -> list[Finding]:
    """Members not eligible for the run's function, member by member; each finding is named
    after the first of ``tier``, ``area``, ``exclude`` the member breaks (the reason given),
    and only those of ``rules`` are returned."""
    if not _in_run(ctx, part):
        return []
    fid = part.function
    out = []
    for code in part.known:
        why = ctx.ineligibility(code, fid)
        if why is not None and why[0] in rules:
            out.append(_finding(why[0], part, f"member {code} is not eligible for '{fid}': {why[1]}"))
    return out


def check_tier(ctx: Context, part: Part) -> list[Finding]:
    """Every member's tier is one the function allows."""
    return eligibility(ctx, part, ("tier",))


def check_area(ctx: Context, part: Part) -> list[Finding]:
    """Every member (of an allowed tier) is inside the run's --area."""
    return eligibility(ctx, part, ("area",))


def check_exclude(ctx: Context, part: Part) -> list[Finding]:
    """No member (of an allowed tier, inside the area) is kept out by --exclude."""
    return eligibility(ctx, part, ("exclude",))


def check_max_size(ctx: Context, part: Part) -> list[Finding]:
    """At most the function's maximum size (after --max-size) of members."""
    if not _in_run(ctx, part):
        return []
    cap = ctx.max_size[part.function]
    if len(part.members) > cap:
        return [_finding("max_size", part, f"has {len(part.members)} members, more than the maximum size {cap}")]
    return []


def check_seek(ctx: Context, part: Part) -> list[Finding]:
    """The host is not a council that only seeks the function (options.seek, from ``match``)."""
    host = part.host
    if not part.readable or not isinstance(host, str) or (host, part.function) not in set(getattr(ctx.options, "seek", ())):
        return []
    return [_finding("seek", part, f"host {host} only seeks '{part.function}' (its listing); it may join, not host")]


def check_host_min_commitment(ctx: Context, part: Part) -> list[Finding]:
    """The host's commitment reaches the function's host minimum."""
    host, function = part.host, part.model_function
    if not part.readable or function is None or not isinstance(host, str) or host not in part.members or host not in ctx.councils:
        return []
    commitment = ctx.councils[host].commitment
    if commitment < function.host_min_commitment:
        return [
            _finding(
                "host_min_commitment",
                part,
                f"host {host} has commitment {commitment:g}, below the host minimum {function.host_min_commitment:g} for '{part.function}'",
            )
        ]
    return []


def check_commitment(ctx: Context, part: Part) -> list[Finding]:
    """Every member's commitment reaches the depth's minimum."""
    depth = part.depth
    if not part.readable or depth is None:
        return []
    out = []
    for code in part.known:
        commitment = ctx.councils[code].commitment
        if commitment < depth.min_commitment:
            out.append(
                _finding(
                    "commitment",
                    part,
                    f"member {code} has commitment {commitment:g}, below the minimum {depth.min_commitment:g} of depth '{depth.id}'",
                )
            )
    return out


def _geography(part: Part, kind: str):
    """The function's geography rule of ``kind``, when the entry can be judged by it."""
    if not part.readable or part.model_function is None or not part.known:
        return None
    return part.model_function.rule(kind)


def check_contiguous(ctx: Context, part: Part) -> list[Finding]:
    """The members are connected through adjacent members."""
    if _geography(part, "contiguous") is None:
        return []
    inside = set(part.known)
    start = part.known[0]
    seen, queue = {start}, [start]
    while queue:
        code = queue.pop()
        for other in ctx.neighbours.get(code, ()):
            if other in inside and other not in seen:
                seen.add(other)
                queue.append(other)
    if len(seen) == len(inside):
        return []
    cut = sorted(inside - seen)
    return [
        _finding(
            "contiguous",
            part,
            f"members are not contiguous: {', '.join(cut)} not connected to {start} through adjacent members (geography rule contiguous)",
        )
    ]


def check_within_km(ctx: Context, part: Part) -> list[Finding]:
    """Every member is within the rule's km of the host."""
    rule = _geography(part, "within_km")
    host = part.valid_host if rule is not None else None
    if host is None:
        return []
    out = []
    for code in part.known:
        km = ctx.distance(code, host)
        if km > rule.km + KM_SLACK:
            out.append(_finding("within_km", part, f"member {code} is {km:.1f} km from host {host}, beyond within_km:{rule.km:g}"))
    return out


def _same(kind: str):
    attribute = kind[len("same_") :]

    def check(ctx: Context, part: Part) -> list[Finding]:
        if _geography(part, kind) is None:
            return []
        values: dict[str, list[str]] = {}
        for code in part.known:
            values.setdefault(getattr(ctx.councils[code], attribute), []).append(code)
        if len(values) <= 1:
            return []
        detail = "; ".join(f"{v or '(empty)'}: {', '.join(cs)}" for v, cs in values.items())
        return [_finding(kind, part, f"members are not all in one {attribute} ({detail}) (geography rule {kind})")]

    check.__name__ = f"check_{kind}"
    check.__qualname__ = check.__name__
    check.__doc__ = f"The members are all in one {attribute}."
    return check


check_same_region = _same("same_region")
check_same_county = _same("same_county")
check_same_nation = _same("same_nation")


def check_apart(ctx: Context, part: Part) -> list[Finding]:
    """No --apart pair is together."""
    if not part.readable:
        return []
    member_set = set(part.members)
    return [
        _finding("apart", part, f"members {a} and {b} are together, but --apart {a}:{b} keeps them apart")
        for a, b in ctx.apart
        if a in member_set and b in member_set
    ]

