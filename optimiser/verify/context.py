"""The frozen context every check reads: the run a plan claims, worked out again from the
instance, the savings model and the plan's own ``options``.

:func:`build_context` reads the plan's options the way the command line would (area,
functions, exclusions, apart pairs, size caps), works out which councils are eligible for
each function, and reads each partnership entry of the plan into a :class:`Part` with its
savings recomputed (:mod:`.figures`). Nothing is added to a context after it is built; what
went wrong while reading the options is kept on it (``option_findings``) for the
``options`` check to report. What SPEC section 6 needs (subgroup values, splits, every
allowed group) is derived from it on first use by ``games.games_of(ctx)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Mapping

import pandas as pd

from ..errors import Finding, InputError
from ..io.instance import Instance
from ..io.model import Depth, Function, SavingsModel
from ..problem import RunOptions, locked_partnerships, resolve_area
from .existing import existing_groups, sunk_members
from .figures import Figures, Member, figures

EARTH_RADIUS_KM = 6371.0088
MONEY_ABSOLUTE = 0.01  # pounds
RATIO_ABSOLUTE = 1e-6
KM_SLACK = 1e-9  # rounding slack on a within_km limit

#: the partnership rules that decide whether a council may join a function, in the order a
#: council is tested against them (the first it breaks is the reason it is given)
ELIGIBILITY_RULES = ("tier", "area", "exclude")


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points given in degrees.

    >>> round(haversine_km(51.5074, -0.1278, 48.8566, 2.3522), 1)  # London to Paris
    343.6
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(max(0.0, h))))


def is_number(value) -> bool:
    """A finite JSON number (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def pounds(value) -> str:
    return f"{value:.2f}" if is_number(value) else repr(value)


def _isna(value) -> bool:
    return value is None or bool(pd.isna(value))


def _pair_text(value) -> str | None:
    """An --exclude/--apart entry as 'X:Y' text, whether written as text or as a pair."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return f"{value[0]}:{value[1]}"
    return None


@dataclass(frozen=True)
class Council:
    """One council of the instance, as the checks read it."""

    code: str
    tier: str
    nation: str
    region: str
    county: str
    population: float
    lat: float
    lon: float
    commitment: float
    max_partnerships: int | None
    max_hosted: int | None
    withdrawal: float | None = None  # its own chance of leaving, when councils.csv gives one
    control: str = ""  # its political control, "" when unknown
    headroom: float | None = None  # pounds it can find in any one year (SPEC §8); None: no limit


@dataclass(frozen=True)
class Part:
    """One entry of the plan's ``partnerships``, read but not judged.

    ``members`` is None when the entry is not a JSON object or its members are not a list of
    council codes (nothing but its shape can be checked then); otherwise the distinct codes in
    the plan's order, known or not, with any code listed again in ``repeated``. ``figures`` is
    the recomputed arithmetic when the entry names a model function, known members, a member
    as host and a model depth (``computable``)."""

    index: int
    entry: object  # the JSON value as written
    label: str  # how messages name it: "partnership 'P4' (ict)" or "partnerships[3] (ict)"
    id: object
    function: object  # the function id as written
    model_function: Function | None  # the model's function of that id, if it defines one
    members: tuple[str, ...] | None
    repeated: tuple[str, ...]
    known: tuple[str, ...]  # members that are councils of the instance
    host: object
    depth: Depth | None
    platform: object
    computable: bool
    locked: bool  # it is one of the run's locked existing partnerships
    figures: Figures | None

    @property
    def readable(self) -> bool:
        return self.members is not None

    @property
    def valid_host(self) -> str | None:
        """The host when it is a known council among the members, else None."""
        host = self.host
        return host if isinstance(host, str) and host in self.members and host in self.known else None


@dataclass(frozen=True)
class Context:
    """The run a plan claims, resolved, and the plan's entries read. Built once by
    :func:`build_context`; never changed."""

    instance: Instance
    model: SavingsModel
    plan: Mapping
    tolerance: float
    infeasible: bool  # the solver's status is 'infeasible'
    options: RunOptions
    option_findings: tuple[Finding, ...]  # what was wrong with the plan's options
    councils: Mapping[str, Council]  # in the instance's order
    neighbours: Mapping[str, frozenset]
    run_functions: tuple[str, ...]
    functions: Mapping[str, Function]  # the run's functions
    in_area: Mapping[str, bool]
    excluded: frozenset  # (code, function) pairs
    apart: tuple[tuple[str, str], ...]
    max_size: Mapping[str, int]  # per run function, after --max-size
    eligible: Mapping[str, tuple[str, ...]]  # per run function, in the instance's order
    eligible_set: Mapping[str, frozenset]
    locked_sets: frozenset  # (function, frozenset(members)) of the run's locked partnerships
    existing_sets: frozenset = frozenset()  # --keep-existing: see verify.existing
    parts: tuple[Part, ...] = ()  # one per entry of plan['partnerships']
    first_with_id: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))  # where each id is first used
    membership: Mapping[tuple[str, str], tuple[Part, ...]] = field(default_factory=lambda: MappingProxyType({}))

    # -- what the checks ask

    @property
    def share_rule(self) -> str:
        """The share rule the plan's ``npv_share`` follows (``options.shares``)."""
        return getattr(self.options, "shares", "proportional")

    @property
    def readable_parts(self) -> tuple[Part, ...]:
        """The entries whose members could be read: the ones limits across partnerships see."""
        return tuple(p for p in self.parts if p.readable)

    def baseline(self, code: str, fid: str) -> tuple[float, bool]:
        """A council's yearly spend on a function and whether it is estimated (no spend.csv
        row: per_capita x population)."""
        spent = self.instance.spend.get((code, fid))
        if spent is not None:
            return float(spent), False
        return self.model.function(fid).per_capita * self.councils[code].population, True

    def platform_of(self, code: str, fid: str) -> str:
        return self.instance.platforms.get((code, fid), f"own:{code}")

    def distance(self, a: str, b: str) -> float:
        ca, cb = self.councils[a], self.councils[b]
        return haversine_km(ca.lat, ca.lon, cb.lat, cb.lon)

    def ineligibility(self, code: str, fid: str) -> tuple[str, str] | None:
        """The first eligibility rule (of ELIGIBILITY_RULES) a council breaks for a run
        function and why, or None when it is eligible."""
        c = self.councils[code]
        f = self.functions[fid]
        if c.tier not in f.tiers:
            return "tier", f"its tier '{c.tier}' is not one of {', '.join(f.tiers)}"
        if not self.in_area[code]:
            return "area", "it is outside the run's --area"
        if (code, fid) in self.excluded:
            return "exclude", f"--exclude {code}:{fid} keeps it out"
        return None

    def why_ineligible(self, code: str, fid: str) -> str:
        why = self.ineligibility(code, fid)
        return why[1] if why else "it is not eligible"

    def money_ok(self, found, expected: float) -> bool:
        return is_number(found) and abs(found - expected) <= max(self.tolerance * abs(expected), MONEY_ABSOLUTE)

    def ratio_ok(self, found, expected: float) -> bool:
        return is_number(found) and abs(found - expected) <= max(self.tolerance * abs(expected), RATIO_ABSOLUTE)

    def money_slack(self, amount: float) -> float:
        return max(self.tolerance * abs(amount), MONEY_ABSOLUTE)


# ---------------------------------------------------------------- building it


def build_context(instance: Instance, plan: dict, model: SavingsModel, tolerance: float) -> Context:
    """The context of ``plan`` against ``instance`` and ``model``; what is wrong with the
    plan's options is recorded on it as ``option_findings``, in the order found."""
    councils = _councils(instance)
    neighbours: dict[str, set[str]] = {code: set() for code in councils}
    for a, b in instance.graph.edges():
        if a != b:
            neighbours.setdefault(a, set()).add(b)
            neighbours.setdefault(b, set()).add(a)
    solver = plan.get("solver")
    found: list[Finding] = []

    def problem(message: str) -> None:
        found.append(Finding("options", "plan", message))

    options = _read_options(plan.get("options"), problem)
    existing = tuple(instance.partnerships)  # partnerships.csv alone, before the --lock groups
    # the run's --lock groups bind like locked existing partnerships
    extra = []
    for group, source, _ in locked_partnerships(instance, options):
        if source != "--lock":
            continue
        unknown = [code for code in group.members if code not in councils]
        if unknown:
            problem(f"options.lock group {group.function}:{'+'.join(group.members)} names councils not in instance "
                    f"'{instance.name}': {', '.join(unknown)}")
        elif group.function not in model.function_ids:
            problem(f"options.lock group names function '{group.function}', which model '{model.name}' does not define")
        else:
            extra.append(group)
    instance = replace(instance, partnerships=tuple(instance.partnerships) + tuple(extra))

    # functions of the run
    model_ids = set(model.function_ids)
    if options.functions:
        run: list[str] = []
        for fid in options.functions:
            if fid not in model_ids:
                problem(f"options.functions names '{fid}', which model '{model.name}' does not define")
            elif fid not in run:
                run.append(fid)
    else:
        run = list(model.function_ids)
    functions = {fid: model.function(fid) for fid in run}

    # area
    try:
        mask = resolve_area(instance, tuple(options.area))
    except InputError as exc:
        problem(f"options.area cannot be resolved: {exc}")
        mask = [True] * len(instance.councils)
    in_area = {code: bool(keep) for code, keep in zip(instance.councils["code"].tolist(), mask)}

    # exclusions and apart pairs
    excluded = set()
    for code, fid in options.exclude:
        if code not in councils:
            problem(f"options.exclude names council '{code}', which is not in instance '{instance.name}'")
        if fid not in model_ids:
            problem(f"options.exclude names function '{fid}', which model '{model.name}' does not define")
        excluded.add((code, fid))
    apart = []
    for a, b in options.apart:
        for code in (a, b):
            if code not in councils:
                problem(f"options.apart names council '{code}', which is not in instance '{instance.name}'")
        if a == b:
            problem(f"options.apart pair '{a}:{b}' names the same council twice")
        apart.append((a, b))

    # size caps and eligibility, in the instance's council order
    max_size = {fid: f.max_size if options.max_size is None else min(f.max_size, options.max_size) for fid, f in functions.items()}
    eligible = {fid: tuple(code for code, c in councils.items() if c.tier in f.tiers and in_area[code] and (code, fid) not in excluded)
                for fid, f in functions.items()}
    locked_sets = frozenset((group.function, frozenset(group.members)) for group in instance.partnerships
                            if group.locked and group.function in functions and all(in_area.get(c, False) for c in group.members))

    base = Context(
        instance=instance,
        model=model,
        plan=MappingProxyType(plan),
        tolerance=tolerance,
        infeasible=isinstance(solver, dict) and solver.get("status") == "infeasible",
        options=options,
        option_findings=tuple(found),
        councils=MappingProxyType(councils),
        neighbours=MappingProxyType({code: frozenset(v) for code, v in neighbours.items()}),
        run_functions=tuple(run),
        functions=MappingProxyType(functions),
        in_area=MappingProxyType(in_area),
        excluded=frozenset(excluded),
        apart=tuple(apart),
        max_size=MappingProxyType(max_size),
        eligible=MappingProxyType(eligible),
        eligible_set=MappingProxyType({fid: frozenset(v) for fid, v in eligible.items()}),
        locked_sets=locked_sets,
        existing_sets=existing_groups(existing, options, functions, in_area),
    )
    entries = plan.get("partnerships")
    parts = tuple(read_part(base, k, entry) for k, entry in enumerate(entries if isinstance(entries, list) else []))
    membership: dict[tuple[str, str], list[Part]] = {}
    for part in parts:
        if part.readable and isinstance(part.function, str):
            for code in part.members:
                membership.setdefault((code, part.function), []).append(part)
    first_with_id: dict[str, int] = {}
    for part in parts:
        if isinstance(part.id, str) and part.id:
            first_with_id.setdefault(part.id, part.index)
    return replace(
        base,
        parts=parts,
        first_with_id=MappingProxyType(first_with_id),
        membership=MappingProxyType({k: tuple(v) for k, v in membership.items()}),
    )


def _councils(instance: Instance) -> dict[str, Council]:
    councils = {}
    for row in instance.councils.to_dict("records"):
        mp, mh, chance, control, room = (row.get(k) for k in ("max_partnerships", "max_hosted", "withdrawal", "control", "headroom"))
        councils[row["code"]] = Council(
            code=row["code"],
            tier=row["tier"],
            nation=row["nation"],
            region=row["region"],
            county=row.get("county") or "",
            population=float(row["population"]),
            lat=float(row["lat"]),
            lon=float(row["lon"]),
            commitment=float(row["commitment"]),
            max_partnerships=None if _isna(mp) else int(mp),
            max_hosted=None if _isna(mh) else int(mh),
            withdrawal=None if _isna(chance) else float(chance),
            control="" if _isna(control) else str(control).strip(),
            headroom=None if _isna(room) else float(room),
        )
    return councils


def _read_options(raw, problem) -> RunOptions:
    """The plan's options as RunOptions, reporting (and leaving out) what cannot be read."""
    raw = dict(raw) if isinstance(raw, dict) else {}
    for key in ("exclude", "apart"):
        values = raw.get(key) or []
        if not isinstance(values, list):
            problem(f"options.{key} must be a list, found {values!r}")
            values = []
        texts = []
        for value in values:
            text = _pair_text(value)
            left, sep, right = (text or "").partition(":")
            if not sep or not left.strip() or not right.strip():
                what = "CODE:FUNCTION" if key == "exclude" else "CODE:CODE"
                problem(f"options.{key} entry {value!r} is not {what}")
                continue
            texts.append(f"{left.strip()}:{right.strip()}")
        raw[key] = texts
    for key in ("area", "functions"):
        values = raw.get(key)
        if isinstance(values, str):
            raw[key] = [v for v in values.split(",") if v.strip()]
        elif values is not None and not (isinstance(values, list) and all(isinstance(v, str) for v in values)):
            problem(f"options.{key} must be a list of text, found {values!r}")
            raw[key] = []
    try:
        return RunOptions.from_dict(raw)
    except (InputError, TypeError, ValueError) as exc:
        problem(f"options cannot be read: {exc}")
        return RunOptions()


def read_part(ctx: Context, k: int, entry) -> Part:
    """Entry ``k`` of the plan's partnerships, read against the run of ``ctx``."""
    if not isinstance(entry, dict):
        return Part(k, entry, f"partnerships[{k}]", None, None, None, None, (), (), None, None, None, False, False, None)
    pid, fid = entry.get("id"), entry.get("function")
    label = f"partnership {pid!r}" if isinstance(pid, str) and pid else f"partnerships[{k}]"
    label += f" ({fid})" if isinstance(fid, str) else ""
    function = ctx.model.function(fid) if isinstance(fid, str) and fid in ctx.model.function_ids else None
    host, platform = entry.get("host"), entry.get("platform")
    depth = next((d for d in ctx.model.depths if d.id == entry.get("depth")), None)

    raw_members = entry.get("members")
    if not isinstance(raw_members, list) or not all(isinstance(m, str) for m in raw_members):
        return Part(k, entry, label, pid, fid, function, None, (), (), host, depth, platform, False, False, None)
    members: list[str] = []
    repeated: list[str] = []
    for code in raw_members:
        (repeated if code in members else members).append(code)
    known = tuple(c for c in members if c in ctx.councils)
    computable = function is not None and len(known) == len(members) and isinstance(host, str) and host in members and depth is not None
    result = None
    if computable:
        result = figures(
            function,
            depth,
            [Member(c, ctx.baseline(c, fid)[0], ctx.councils[c].population, ctx.distance(c, host), ctx.platform_of(c, fid)) for c in members],
            platform,
            discount_rate=ctx.model.discount_rate,
            horizon_years=ctx.model.horizon_years,
            sunk=sunk_members(ctx.existing_sets, fid, frozenset(members)),
        )
    locked = isinstance(fid, str) and (fid, frozenset(members)) in ctx.locked_sets
    return Part(k, entry, label, pid, fid, function, tuple(members), tuple(repeated), known, host, depth, platform, computable, locked, result)
