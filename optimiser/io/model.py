"""Savings models: reading and validating a model TOML file (the format is in models/README.md).

A model says which functions councils can share, which tiers may deliver each, how deep a
partnership may integrate (its *depths*), and the figures of the savings arithmetic.
Loading checks every key, so a typo is reported instead of silently ignored.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from .shipped import model_homes
from .tables import TomlTable, parse_toml, read_text

GEOGRAPHY_KINDS = ("contiguous", "within_km", "same_region", "same_county", "same_nation", "none")


@dataclass(frozen=True)
class GeographyRule:
    """One geography rule: ``kind`` is one of GEOGRAPHY_KINDS, ``km`` only for within_km."""

    kind: str
    km: float | None = None

    def __str__(self) -> str:
        return f"within_km:{self.km:g}" if self.kind == "within_km" else self.kind


@dataclass(frozen=True)
class Depth:
    id: str
    capture: float
    one_off: float
    min_commitment: float
    common_platform: bool
    #: shares of the yearly net saving realised in years 1, 2, ...; the last holds after (SPEC §8)
    ramp: tuple[float, ...] = (1.0,)

    def ramp_at(self, year: int) -> float:
        """ramp_t: the share of the yearly net saving realised in year ``year`` (1, 2, ...)."""
        return self.ramp[min(year, len(self.ramp)) - 1]


@dataclass(frozen=True)
class Function:
    id: str
    title: str
    tiers: tuple[str, ...]
    per_capita: float
    scale_exponent: float
    coordination: float
    migration: float
    max_size: int
    geography: tuple[GeographyRule, ...]
    host_min_commitment: float
    sources: tuple[str, ...] = ()

    def rule(self, kind: str) -> GeographyRule | None:
        return next((r for r in self.geography if r.kind == kind), None)


@dataclass(frozen=True)
class Risk:
    """The ``[risk]`` table (SPEC §5): how likely each council is to leave a partnership
    during the horizon, and when leavers go. Every figure 0 (the default): nobody leaves."""

    base: float = 0.0
    uncommitted: float = 0.0  # added per unit of (1 - commitment)
    cross_tier: float = 0.0  # added when the members' tiers are not all the same
    control_mismatch: float = 0.0  # added when two members have different political control
    exit_year: int = 1  # leavers go at the end of this year

    @property
    def any(self) -> bool:
        return any((self.base, self.uncommitted, self.cross_tier, self.control_mismatch))


@dataclass(frozen=True)
class SavingsModel:
    name: str
    title: str
    tiers: tuple[str, ...]
    horizon_years: int
    discount_rate: float
    depths: tuple[Depth, ...]
    functions: tuple[Function, ...]
    path: Path | None = None
    risk: Risk = Risk()
    #: the TOML text the model was read from (None: built in memory); plans embed it
    text: str | None = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def annuity(self) -> float:
        """Present value of 1 pound a year for horizon_years at discount_rate."""
        return self.discounted(1, self.horizon_years)

    def discounted(self, first: int, last: int, depth: Depth | None = None) -> float:
        """Present value of 1 pound a year in years first..last (0 when last < first), each
        year's pound scaled by ``depth``'s ramp when one is given (SPEC §8)."""
        share = depth.ramp_at if depth is not None else (lambda t: 1.0)
        return sum(share(t) * (1.0 + self.discount_rate) ** -t for t in range(first, last + 1))

    def ramped_annuity(self, depth: Depth) -> float:
        """sum over t = 1..T of ramp_t (1 + rho)^-t: NPV = A x this - O at ``depth`` (SPEC §8)."""
        return self.discounted(1, self.horizon_years, depth)

    def function(self, function_id: str) -> Function:
        for f in self.functions:
            if f.id == function_id:
                return f
        raise KeyError(function_id)

    @property
    def function_ids(self) -> tuple[str, ...]:
        return tuple(f.id for f in self.functions)


def parse_geography_rule(text: object, source: str, where: str) -> GeographyRule:
    if not isinstance(text, str):
        raise InputError(source, f"a geography rule must be text, got {text!r}", where)
    kind, _, arg = text.strip().partition(":")
    if kind == "within_km":
        try:
            km = float(arg)
        except ValueError:
            raise InputError(source, f"'{text}' needs a distance in km, e.g. within_km:80", where) from None
        if not math.isfinite(km) or km <= 0:
            raise InputError(source, f"'{text}': the distance must be a positive number of km", where)
        return GeographyRule("within_km", km)
    if kind in GEOGRAPHY_KINDS and not arg:
        return GeographyRule(kind)
    raise InputError(
        source,
        f"unknown geography rule '{text}' (known: contiguous, within_km:N, same_region, "
        "same_county, same_nation, none)",
        where,
    )


def _geography(table: TomlTable, key: str) -> tuple[GeographyRule, ...]:
    texts = table.get(key, "strlist")
    where = table._where(key)
    rules = tuple(parse_geography_rule(t, table.source, where) for t in texts)
    kinds = [r.kind for r in rules]
    if "none" in kinds and len(rules) > 1:
        raise InputError(table.source, "'none' (a virtual centre) must be the only rule", where)
    if len(set(kinds)) != len(kinds):
        raise InputError(table.source, "a geography rule is listed twice", where)
    if not rules:
        raise InputError(table.source, "needs at least one rule ('none' for no geography rule)", where)
    return rules


def parse_model(data: dict, source: str, path: Path | None = None) -> SavingsModel:
    """Validates a parsed model TOML document; ``source`` names it in error messages."""
    top = TomlTable(data, source, "")
    name = top.get("name", "str")
    title = top.get("title", "str", default=name)
    tiers = top.get("tiers", "strlist")
    if not tiers:
        raise InputError(source, "must list at least one tier", "tiers")
    if len(set(tiers)) != len(tiers):
        raise InputError(source, "a tier is listed twice", "tiers")

    top.used.add("finance")
    finance = TomlTable(data.get("finance", {}), source, "finance")
    horizon = finance.get("horizon_years", "int", low=1, high=200)
    rate = finance.get("discount_rate", "float", low=0.0, high=1.0)
    finance.finish()

    top.used.add("rules")
    rules = TomlTable(data.get("rules", {}), source, "rules")
    default_max_size = rules.get("max_size", "int", low=2)
    default_geography = _geography(rules, "geography")
    default_host_min = rules.get("host_min_commitment", "float", low=0.0, high=1.0)
    rules.finish()

    top.used.add("depths")
    raw_depths = data.get("depths")
    if not isinstance(raw_depths, list) or not raw_depths:
        raise InputError(source, "needs at least one [[depths]] table", "depths")
    depths = []
    for k, raw in enumerate(raw_depths):
        t = TomlTable(raw, source, f"depths[{k}]")
        depth = Depth(
            id=t.get("id", "str"),
            capture=t.get("capture", "float", low=0.0, high=1.0),
            one_off=t.get("one_off", "float", low=0.0),
            min_commitment=t.get("min_commitment", "float", default=0.0, low=0.0, high=1.0),
            common_platform=t.get("common_platform", "bool", default=False),
            ramp=_ramp(t),
        )
        t.finish()
        if any(d.id == depth.id for d in depths):
            raise InputError(source, f"depth id '{depth.id}' is used twice", f"depths[{k}].id")
        depths.append(depth)

    top.used.add("functions")
    raw_functions = data.get("functions")
    if not isinstance(raw_functions, list) or not raw_functions:
        raise InputError(source, "needs at least one [[functions]] table", "functions")
    functions = []
    for k, raw in enumerate(raw_functions):
        t = TomlTable(raw, source, f"functions[{k}]")
        fid = t.get("id", "str")
        f_tiers = t.get("tiers", "strlist")
        for tier in f_tiers:
            if tier not in tiers:
                raise InputError(source, f"tier '{tier}' is not declared in the model's tiers", f"functions[{k}].tiers")
        if not f_tiers:
            raise InputError(source, "must list at least one tier", f"functions[{k}].tiers")
        function = Function(
            id=fid,
            title=t.get("title", "str", default=fid),
            tiers=tuple(f_tiers),
            per_capita=t.get("per_capita", "float", low=0.0),
            scale_exponent=t.get("scale_exponent", "float", low=0.0, high=1.0, low_open=True),
            coordination=t.get("coordination", "float", low=0.0),
            migration=t.get("migration", "float", low=0.0),
            max_size=t.get("max_size", "int", default=default_max_size, low=2),
            geography=_geography(t, "geography") if t.has("geography") else default_geography,
            host_min_commitment=t.get("host_min_commitment", "float", default=default_host_min, low=0.0, high=1.0),
            sources=tuple(t.get("sources", "strlist", default=[])),
        )
        t.finish()
        if any(f.id == fid for f in functions):
            raise InputError(source, f"function id '{fid}' is used twice", f"functions[{k}].id")
        functions.append(function)
    risk = _risk(data, top, source, horizon)
    top.finish()
    return SavingsModel(name, title, tuple(tiers), horizon, rate, tuple(depths), tuple(functions), path, risk)


def _ramp(table: TomlTable) -> tuple[float, ...]:
    """A depth's ``ramp``: a non-empty list of numbers in [0, 1] (default [1.0])."""
    table.used.add("ramp")
    if not table.has("ramp"):
        return (1.0,)
    value, where = table.data["ramp"], table._where("ramp")
    if not isinstance(value, list) or not value:
        raise InputError(table.source, f"must be a non-empty list of numbers in [0, 1], got {value!r}", where)
    for k, share in enumerate(value):
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not math.isfinite(share) or not 0.0 <= share <= 1.0:
            raise InputError(table.source, f"value {k + 1} is {share!r}; every ramp value must be a number in [0, 1]", where)
    return tuple(float(v) for v in value)


def _risk(data: dict, top: TomlTable, source: str, horizon: int) -> Risk:
    top.used.add("risk")
    raw = data.get("risk", {})
    if not isinstance(raw, dict):
        raise InputError(source, f"must be a table of keys, got {raw!r}", "risk")
    table = TomlTable(raw, source, "risk")
    figures = {key: table.get(key, "float", default=0.0, low=0.0, high=1.0)
               for key in ("base", "uncommitted", "cross_tier", "control_mismatch")}
    default_exit = min(3, horizon - 1)
    if table.has("exit_year") and horizon < 2:
        raise InputError(source, f"a horizon of {horizon} year leaves no year to leave in", "risk.exit_year")
    exit_year = table.get("exit_year", "int", default=default_exit, low=1, high=horizon - 1) if table.has("exit_year") else default_exit
    table.finish()
    return Risk(**figures, exit_year=exit_year)


def resolve_model_path(ref: str | Path, near: Path | None = None) -> Path:
    """A model given as a path, or as a file stem looked up in the models folders."""
    candidate = Path(ref)
    if candidate.suffix == ".toml" or len(candidate.parts) > 1:
        if near is not None and not candidate.is_absolute() and not candidate.exists():
            beside = near / candidate
            if beside.exists():
                return beside
        return candidate
    for folder in model_homes(near):
        path = folder / f"{ref}.toml"
        if path.is_file():
            return path
    searched = ", ".join(str(d) for d in model_homes(near))
    raise InputError(f"model '{ref}'", f"no such model (looked for {ref}.toml in {searched})")


def load_model(ref: str | Path, near: Path | None = None) -> SavingsModel:
    """Loads a savings model from a path or a name in models/.

    Examples
    --------
    >>> model = load_model("uk-central")  # doctest: +SKIP
    >>> model.function("ict").scale_exponent  # doctest: +SKIP
    """
    path = resolve_model_path(ref, near)
    text = read_text(path)
    return dataclasses.replace(parse_model(parse_toml(text, path), str(path), path), text=text)
