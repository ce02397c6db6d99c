"""A run: an instance, a savings model and the run's options, resolved into arrays.

:func:`prepare` applies the options of a run (area, functions, exclusions, ...) and works
out, per function, which councils are eligible and what each spends. Everything later
(candidates, the master problem, the plan) reads a :class:`Problem`.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field, asdict

import numpy as np

from .errors import InputError
from .io.instance import ExistingPartnership, Instance, check_against_model, load_instance
from .io.model import Function, SavingsModel, load_model

SOLVERS = ("highs", "cbc")
METHODS = ("exact", "naive")

# ONS names for the region and nation codes the shipped instances use, so that areas can be
# given by name as well as by code.
REGION_NAMES = {
    "E12000001": "North East",
    "E12000002": "North West",
    "E12000003": "Yorkshire and The Humber",
    "E12000004": "East Midlands",
    "E12000005": "West Midlands",
    "E12000006": "East of England",
    "E12000007": "London",
    "E12000008": "South East",
    "E12000009": "South West",
    "W92000004": "Wales",
    "S92000003": "Scotland",
    "N92000002": "Northern Ireland",
}


@dataclass(frozen=True)
class RunOptions:
    """The options of a run; the command line offers each under the same name."""

    area: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    budget: float | None = None
    exclude: tuple[tuple[str, str], ...] = ()
    apart: tuple[tuple[str, str], ...] = ()
    solver: str = "highs"
    time_limit: float | None = None
    method: str = "exact"
    max_size: int | None = None
    jobs: int | None = None  # worker processes for independent blocks (None: one per core)

    def __post_init__(self) -> None:
        if self.solver not in SOLVERS:
            raise InputError("--solver", f"unknown solver '{self.solver}' (choose highs or cbc)")
        if self.method not in METHODS:
            raise InputError("--method", f"unknown method '{self.method}' (choose exact or naive)")
        if self.budget is not None and (not math.isfinite(self.budget) or self.budget < 0):
            raise InputError("--budget", f"must be a number of pounds >= 0, got {self.budget}")
        if self.time_limit is not None and (not math.isfinite(self.time_limit) or self.time_limit <= 0):
            raise InputError("--time-limit", f"must be a positive number of seconds, got {self.time_limit}")
        if self.max_size is not None and self.max_size < 2:
            raise InputError("--max-size", f"must be at least 2, got {self.max_size}")
        if self.jobs is not None and (isinstance(self.jobs, bool) or not isinstance(self.jobs, int) or self.jobs < 1):
            raise InputError("--jobs", f"must be a whole number of processes >= 1, got {self.jobs}")

    def to_dict(self) -> dict:
        """The options as plan.json records them; ``jobs`` is left out: it changes how fast a
        plan is found, never which plan is optimal."""
        data = asdict(self)
        del data["jobs"]
        data["exclude"] = [f"{c}:{f}" for c, f in self.exclude]
        data["apart"] = [f"{a}:{b}" for a, b in self.apart]
        data["area"] = list(self.area)
        data["functions"] = list(self.functions)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "RunOptions":
        data = dict(data)
        data["area"] = tuple(data.get("area") or ())
        data["functions"] = tuple(data.get("functions") or ())
        data["exclude"] = tuple(tuple(x.split(":", 1)) for x in data.get("exclude") or ())
        data["apart"] = tuple(tuple(x.split(":", 1)) for x in data.get("apart") or ())
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class LockedGroup:
    """A locked existing partnership that every plan must contain."""

    partnership: ExistingPartnership
    function_index: int
    members: np.ndarray  # council indices, sorted


@dataclass
class Problem:
    """Everything a solve needs, as arrays over the instance's councils (index 0..n-1)."""

    instance: Instance
    model: SavingsModel
    options: RunOptions
    functions: list[Function]
    in_area: np.ndarray  # bool per council
    eligible: np.ndarray  # bool, (functions, councils)
    baseline: np.ndarray  # pounds a year, (functions, councils); 0 where not eligible
    spend: np.ndarray  # the same for every council, eligible or not
    estimated: np.ndarray  # bool, (functions, councils): baseline from per_capita
    platform: np.ndarray  # int platform label per (function, council)
    platform_labels: list[str]
    max_size: np.ndarray  # per function, after --max-size
    locked: list[LockedGroup]
    apart: list[tuple[int, int]]
    population: np.ndarray
    commitment: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    max_partnerships: np.ndarray  # -1 where unlimited
    max_hosted: np.ndarray  # -1 where unlimited
    distance_km: np.ndarray = field(repr=False)  # (councils, councils) haversine

    @property
    def codes(self) -> list[str]:
        return self.instance.codes

    @property
    def annuity(self) -> float:
        return self.model.annuity


def load_run(instance, model=None, options: "RunOptions | None" = None, **overrides) -> tuple[Instance, SavingsModel, "RunOptions"]:
    """The instance, model and options of a run, each given as an object, a name or a path
    (the model defaults to the instance's own), loaded and validated."""
    if not isinstance(instance, Instance):
        instance = load_instance(instance)
    if model is None:
        if instance.model_ref is None:
            raise InputError(instance.folder / "instance.toml", "names no default model; pass --model", "model")
        model = load_model(instance.model_ref, near=instance.folder)
    elif not isinstance(model, SavingsModel):
        model = load_model(model, near=instance.folder)
    if options is None:
        options = RunOptions(**overrides)
    elif overrides:
        options = RunOptions(**{**options.__dict__, **overrides})
    return instance, model, options


EARTH_RADIUS_KM = 6371.0088


def haversine_matrix(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Great-circle distances in km between every pair of points (degrees)."""
    phi = np.radians(lat)
    lam = np.radians(lon)
    dphi = phi[:, None] - phi[None, :]
    dlam = lam[:, None] - lam[None, :]
    h = np.sin(dphi / 2) ** 2 + np.cos(phi)[:, None] * np.cos(phi)[None, :] * np.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def _normalise(text: str) -> str:
    text = text.lower().replace("&", "and")
    text = re.sub(r"\b(council|county council|borough|district|city of|metropolitan)\b", " ", text)
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def resolve_area(instance: Instance, area: tuple[str, ...]) -> np.ndarray:
    """Councils kept by --area: councils, counties (with their districts), regions, nations."""
    councils = instance.councils
    n = len(councils)
    if not area:
        return np.ones(n, dtype=bool)
    codes = councils["code"].to_numpy()
    county_values = councils["county"].to_numpy()
    regions = councils["region"].to_numpy()
    nations = councils["nation"].to_numpy()
    names: dict[str, np.ndarray] = {}
    labels: list[str] = []  # as written, for suggestions

    normalised: list[tuple[str, np.ndarray]] = []

    def add(label: str, mask: np.ndarray) -> None:
        labels.append(label)
        names.setdefault(label, mask)
        names.setdefault(label.lower(), mask)
        normalised.append((_normalise(label), mask))

    for i, (code, name) in enumerate(zip(codes, councils["name"])):
        mask = (codes == code) | (county_values == code)
        add(code, mask)
        add(name, mask)
    for county in set(county_values) - {""} - set(codes):
        add(county, county_values == county)
    for region in set(regions):
        mask = regions == region
        add(region, mask)
        if region in REGION_NAMES:
            add(REGION_NAMES[region], mask)
    for nation in set(nations):
        add(nation, nations == nation)
        add(nation.replace("-", " "), nations == nation)

    # loose forms ("london" for "City of London") only where no name matches exactly
    for label, mask in normalised:
        names.setdefault(label, mask)

    keep = np.zeros(n, dtype=bool)
    for token in area:
        token = token.strip()
        mask = names.get(token)
        if mask is None:
            mask = names.get(token.lower())
        if mask is None:
            mask = names.get(_normalise(token))
        if mask is None:
            by_lower = {label.lower(): label for label in labels}
            close = [by_lower[c] for c in difflib.get_close_matches(token.lower(), list(by_lower), n=5, cutoff=0.6)]
            hint = f" (close matches: {', '.join(close)})" if close else ""
            raise InputError("--area", f"unknown area '{token}' in instance '{instance.name}'{hint}")
        keep |= mask
    return keep


def _parse_pairs(values, option: str, what: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        if isinstance(value, str):
            left, sep, right = value.partition(":")
            if not sep or not left or not right:
                raise InputError(option, f"'{value}' is not {what}")
            value = (left.strip(), right.strip())
        pairs.append(tuple(value))
    return pairs


def prepare(instance: Instance, model: SavingsModel, options: RunOptions | None = None) -> Problem:
    """Resolves a run's options against an instance and model into a :class:`Problem`."""
    options = options or RunOptions()
    check_against_model(instance, model)
    councils = instance.councils
    n = len(councils)
    codes = councils["code"].tolist()
    index = {c: i for i, c in enumerate(codes)}

    if options.functions:
        functions = []
        for fid in options.functions:
            if fid not in model.function_ids:
                close = difflib.get_close_matches(fid, model.function_ids, n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else f" (known: {', '.join(model.function_ids)})"
                raise InputError("--functions", f"model '{model.name}' has no function '{fid}'{hint}")
            if model.function(fid) not in functions:
                functions.append(model.function(fid))
    else:
        functions = list(model.functions)
    function_pos = {f.id: k for k, f in enumerate(functions)}

    in_area = resolve_area(instance, options.area)
    tiers = councils["tier"].to_numpy()
    population = councils["population"].to_numpy(dtype=float)
    eligible = np.zeros((len(functions), n), dtype=bool)
    for k, f in enumerate(functions):
        eligible[k] = np.isin(tiers, list(f.tiers)) & in_area

    for code, fid in _parse_pairs(options.exclude, "--exclude", "CODE:FUNCTION"):
        if code not in index:
            raise InputError("--exclude", f"unknown council code '{code}' in instance '{instance.name}'")
        if fid not in model.function_ids:
            raise InputError("--exclude", f"model '{model.name}' has no function '{fid}'")
        if fid in function_pos:
            eligible[function_pos[fid], index[code]] = False

    apart = []
    for a, b in _parse_pairs(options.apart, "--apart", "CODE:CODE"):
        for code in (a, b):
            if code not in index:
                raise InputError("--apart", f"unknown council code '{code}' in instance '{instance.name}'")
        if a == b:
            raise InputError("--apart", f"'{a}:{b}' names the same council twice")
        apart.append((min(index[a], index[b]), max(index[a], index[b])))

    baseline = np.zeros((len(functions), n))
    estimated = np.zeros((len(functions), n), dtype=bool)
    labels: list[str] = []
    label_index: dict[str, int] = {}
    platform = np.zeros((len(functions), n), dtype=np.int32)

    def label_of(name: str) -> int:
        if name not in label_index:
            label_index[name] = len(labels)
            labels.append(name)
        return label_index[name]

    for k, f in enumerate(functions):
        for i, code in enumerate(codes):
            spent = instance.spend.get((code, f.id))
            if spent is None:
                baseline[k, i] = f.per_capita * population[i]
                estimated[k, i] = True
            else:
                baseline[k, i] = spent
            platform[k, i] = label_of(instance.platforms.get((code, f.id), f"own:{code}"))
    spend = baseline.copy()
    baseline[~eligible] = 0.0

    max_size = np.array([min(f.max_size, options.max_size or f.max_size) for f in functions], dtype=np.int64)

    locked = []
    taken: dict[tuple[int, int], str] = {}
    path = instance.files.get("partnerships")
    for group in instance.partnerships:
        if not group.locked or group.function not in function_pos:
            continue
        k = function_pos[group.function]
        members = np.array(sorted(index[c] for c in group.members))
        inside = in_area[members]
        where = f"line {group.line}"
        label = f"locked partnership '{group.id}' for '{group.function}'"
        if not inside.any():
            continue
        if not inside.all():
            outside = [codes[i] for i in members[~inside]]
            raise InputError("--area", f"{label} has members outside the area ({', '.join(outside)}); widen --area or unlock it")
        for i in members:
            if not eligible[k, i]:
                if np.isin(tiers[i], list(functions[k].tiers)):
                    raise InputError("--exclude", f"{codes[i]}:{group.function} conflicts with {label}, which it is committed to")
                raise InputError(path, f"{label}: {codes[i]} is a {tiers[i]} council, and '{group.function}' is for tiers {', '.join(functions[k].tiers)}", where)
            if (k, i) in taken:
                raise InputError(path, f"{label}: {codes[i]} is also in locked partnership '{taken[(k, i)]}' for the same function", where)
            taken[(k, i)] = group.id
        for a, b in apart:
            if a in members and b in members:
                raise InputError("--apart", f"{codes[a]}:{codes[b]} conflicts with {label}, which both are committed to")
        locked.append(LockedGroup(group, k, members))

    def limits(column: str) -> np.ndarray:
        values = councils[column]
        return np.where(values.isna(), -1, values.fillna(-1)).astype(np.int64)

    lat = councils["lat"].to_numpy(dtype=float)
    lon = councils["lon"].to_numpy(dtype=float)
    return Problem(
        instance=instance,
        model=model,
        options=options,
        functions=functions,
        in_area=in_area,
        eligible=eligible,
        baseline=baseline,
        spend=spend,
        estimated=estimated,
        platform=platform,
        platform_labels=labels,
        max_size=max_size,
        locked=locked,
        apart=apart,
        population=population,
        commitment=councils["commitment"].to_numpy(dtype=float),
        lat=lat,
        lon=lon,
        max_partnerships=limits("max_partnerships"),
        max_hosted=limits("max_hosted"),
        distance_km=haversine_matrix(lat, lon),
    )
