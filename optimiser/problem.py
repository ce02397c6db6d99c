"""A run: an instance, a savings model and the run's options, resolved into arrays.

:func:`prepare` applies the options of a run (area, functions, exclusions, ...) and works
out, per function, which councils are eligible and what each spends. Everything later
(candidates, the master problem, the plan) reads a :class:`Problem`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .errors import InputError
from .io.instance import ExistingPartnership, Instance, check_against_model, load_instance
from .io.model import Function, SavingsModel, load_model
from .io.loans import LoanTerms, check_loan_horizon, parse_loan
from .io.names import REGION_NAMES, resolve_area  # noqa: F401  (resolve_area is part of this module's API)
# the run options are read with everything else people give; this module's API keeps them
from .io.run import METHODS, OBJECTIVES, SHARE_RULES, SOLVERS, RunOptions, check_share_rule  # noqa: F401


@dataclass
class LockedGroup:
    """A partnership every plan must contain: a locked one with exactly its members, or under
    --keep-existing (``grows``) one whose members are all in one chosen partnership that may
    hold more councils."""

    partnership: ExistingPartnership
    function_index: int
    members: np.ndarray  # council indices, sorted
    source: object = None  # the file or option that locks it, for messages
    where: str | None = None  # its place there (a line of partnerships.csv)
    grows: bool = False
    #: members whose set-up cost is sunk (--keep-existing: those already in an arrangement of it)
    sunk: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


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
    withdrawal: np.ndarray  # each council's chance of leaving, before a partnership's raises (SPEC §5)
    headroom: np.ndarray  # pounds each council can spend on its partnerships in any one year; inf: no limit (SPEC §8)
    tier_label: np.ndarray  # int per council: its tier
    control_label: np.ndarray  # int per council: its political control, -1 where unknown
    distance_km: np.ndarray = field(repr=False)  # (councils, councils) haversine
    #: arrays the rules derive from the instance once per run (see :meth:`remember`)
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    def remember(self, key: str, compute):
        """``compute()``, worked out once per run and kept under ``key``."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]

    @property
    def codes(self) -> list[str]:
        return self.instance.codes

    @property
    def annuity(self) -> float:
        return self.model.annuity

    @property
    def loan(self) -> LoanTerms | None:
        """The run's loan terms (SPEC §8), None when one-off costs are paid in cash."""
        return parse_loan(self.options.loan) if self.options.loan else None

    @property
    def horizon(self) -> int:
        return self.model.horizon_years

    @property
    def headroom_active(self) -> bool:
        """Whether some council of the run has a headroom limit (SPEC §8)."""
        return bool(np.isfinite(self.headroom[self.eligible.any(axis=0)]).any())

    def without_headroom(self) -> "Problem":
        """This run with every council's headroom unlimited: the plan the financing gap is
        measured on (SPEC §8)."""
        return replace(self, headroom=np.full(len(self.headroom), np.inf), memo={})

    @property
    def ramp_table(self) -> np.ndarray:
        """(depths, T): ramp_t of each depth for years 1..T."""
        def table():
            horizon = self.model.horizon_years
            return np.array([[d.ramp_at(t) for t in range(1, horizon + 1)] for d in self.model.depths]).reshape(-1, horizon)
        return self.remember("ramp_table", table)

    @property
    def depth_annuity(self) -> np.ndarray:
        """Per depth, sum over t = 1..T of ramp_t (1 + rho)^-t: NPV = A x this - O (SPEC §8;
        the plain annuity for a depth without a ramp)."""
        return self.remember("depth_annuity", lambda: np.array([self.model.ramped_annuity(d) for d in self.model.depths]))


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
    if isinstance(options, dict):
        options, overrides = None, {**options, **overrides}
    if options is None:
        options = RunOptions.create(**overrides)
    elif not isinstance(options, RunOptions):
        raise InputError("options", f"must be RunOptions or a dict of options, got {type(options).__name__}")
    elif overrides:
        options = RunOptions.create(**{**options.__dict__, **overrides})
    return instance, model, options


def locked_partnerships(instance: Instance, options: RunOptions) -> list[tuple[ExistingPartnership, object, str | None]]:
    """Every locked partnership of the run, with the file (or option) and place that name it:
    the instance's locked existing partnerships, then the run's ``--lock`` groups (one that
    repeats an existing lock is that lock)."""
    found = []
    path = instance.files.get("partnerships")
    for group in instance.partnerships:
        if group.locked:
            found.append((group, path, f"line {group.line}"))
    seen = {(g.function, frozenset(g.members)) for g, _, _ in found}
    for n, (function, members) in enumerate(options.lock, start=1):
        if (function, frozenset(members)) not in seen:
            found.append((ExistingPartnership(f"lock-{n}", function, tuple(members), None, True, 0), "--lock",
                          f"{function}:{'+'.join(members)}"))
    return found


def _with_sunk(instance: Instance, function_pos: dict, locked: list[LockedGroup]) -> list[LockedGroup]:
    """Locked groups with the members of every existing arrangement inside them sunk."""
    index = {c: i for i, c in enumerate(instance.codes)}
    out = []
    for group in locked:
        inside = set(group.members.tolist())
        sunk = {index[c] for e in instance.partnerships if function_pos.get(e.function) == group.function_index
                for c in e.members if {index[m] for m in e.members} <= inside}
        out.append(replace(group, sunk=np.array(sorted(sunk), dtype=np.int64)))
    return out


def _kept_groups(instance: Instance, functions: list[Function], in_area, eligible, apart, locked) -> list[LockedGroup]:
    """--keep-existing: every existing partnership that is not locked, of the run's functions
    and inside the area, as a group that every plan holds within one partnership (it may
    grow). One inside a locked group of its function is kept by it; any other overlap, or a
    member the run keeps out, is an InputError."""
    codes, path = instance.codes, instance.files.get("partnerships")
    index = {c: i for i, c in enumerate(codes)}
    function_pos = {f.id: k for k, f in enumerate(functions)}
    tiers = instance.councils["tier"].to_numpy()
    kept: list[LockedGroup] = []
    for group in instance.partnerships:
        if group.locked or group.function not in function_pos:
            continue
        k, where = function_pos[group.function], f"line {group.line}"
        members = np.array(sorted(index[c] for c in group.members))
        label = f"existing partnership '{group.id}' for '{group.function}'"
        if not in_area[members].any():
            continue
        if not in_area[members].all():
            outside = ", ".join(codes[i] for i in members[~in_area[members]])
            raise InputError("--area", f"{label} has members outside the area ({outside}); widen --area, or leave out --keep-existing")
        for i in members:
            if not eligible[k, i]:
                if tiers[i] in functions[k].tiers:
                    raise InputError("--exclude", f"{codes[i]}:{group.function} conflicts with --keep-existing, which keeps {label} together")
                raise InputError(path, f"{label}: {codes[i]} is a {tiers[i]} council, and '{group.function}' is for tiers "
                                       f"{', '.join(functions[k].tiers)}", where)
        for a, b in apart:
            if a in members and b in members:
                raise InputError("--apart", f"{codes[a]}:{codes[b]} conflicts with --keep-existing, which keeps {label} together")
        for other in (*locked, *kept):
            shared = set(members.tolist()) & set(other.members.tolist())
            if other.function_index != k or not shared:
                continue
            if not other.grows and set(members.tolist()) <= set(other.members.tolist()):
                break  # inside a locked group: kept by it
            raise InputError(path, f"{label} shares {codes[min(shared)]} with partnership '{other.partnership.id}' for the same "
                                   "function, so --keep-existing cannot keep both; merge them in partnerships.csv", where)
        else:
            kept.append(LockedGroup(group, k, members, path, where, grows=True, sunk=members))
    return kept


def withdrawal_chances(councils, model: SavingsModel, commitment: np.ndarray) -> np.ndarray:
    """Each council's chance of leaving (SPEC §5): its ``withdrawal`` column, else
    base + uncommitted x (1 - commitment) from the model's [risk]."""
    given = councils["withdrawal"].to_numpy(dtype=float) if "withdrawal" in councils else np.full(len(councils), np.nan)
    risk = model.risk
    return np.where(np.isnan(given), risk.base + risk.uncommitted * (1.0 - commitment), given)


def _labels(column) -> np.ndarray:
    values = column.fillna("").astype(str).str.strip().to_numpy()
    labels = np.unique(values, return_inverse=True)[1]
    return np.where(values == "", -1, labels)


EARTH_RADIUS_KM = 6371.0088


def haversine_matrix(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Great-circle distances in km between every pair of points (degrees)."""
    phi = np.radians(lat)
    lam = np.radians(lon)
    dphi = phi[:, None] - phi[None, :]
    dlam = lam[:, None] - lam[None, :]
    h = np.sin(dphi / 2) ** 2 + np.cos(phi)[:, None] * np.cos(phi)[None, :] * np.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def prepare(instance: Instance, model: SavingsModel, options: RunOptions | None = None) -> Problem:
    """Resolves a run's options against an instance and model into a :class:`Problem`;
    ``problem.options`` are the resolved ones (codes, function ids, explicit pairs)."""
    options = options or RunOptions()
    check_against_model(instance, model)
    options = options.resolved(instance, model)
    if options.loan:
        check_loan_horizon(parse_loan(options.loan), model.horizon_years)
    councils = instance.councils
    n = len(councils)
    codes = councils["code"].tolist()
    index = {c: i for i, c in enumerate(codes)}

    # names, case and wildcards are resolved: functions are ids, exclude and apart are codes
    functions = [model.function(fid) for fid in options.functions] if options.functions else list(model.functions)
    function_pos = {f.id: k for k, f in enumerate(functions)}

    in_area = resolve_area(instance, options.area)
    tiers = councils["tier"].to_numpy()
    population = councils["population"].to_numpy(dtype=float)
    eligible = np.zeros((len(functions), n), dtype=bool)
    for k, f in enumerate(functions):
        eligible[k] = np.isin(tiers, list(f.tiers)) & in_area

    for code, fid in options.exclude:
        if fid in function_pos:
            eligible[function_pos[fid], index[code]] = False

    apart = [(min(index[a], index[b]), max(index[a], index[b])) for a, b in options.apart]

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
    for group, path, where in locked_partnerships(instance, options):
        if group.function not in function_pos:
            continue
        k = function_pos[group.function]
        members = np.array(sorted(index[c] for c in group.members))
        inside = in_area[members]
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
        locked.append(LockedGroup(group, k, members, path, where))
    if options.keep_existing:
        locked = _with_sunk(instance, function_pos, locked) + _kept_groups(instance, functions, in_area, eligible, apart, locked)

    def limits(column: str) -> np.ndarray:
        values = councils[column]
        return np.where(values.isna(), -1, values.fillna(-1)).astype(np.int64)

    lat = councils["lat"].to_numpy(dtype=float)
    lon = councils["lon"].to_numpy(dtype=float)
    commitment = councils["commitment"].to_numpy(dtype=float)
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
        commitment=commitment,
        lat=lat,
        lon=lon,
        max_partnerships=limits("max_partnerships"),
        max_hosted=limits("max_hosted"),
        withdrawal=withdrawal_chances(councils, model, commitment),
        headroom=np.nan_to_num(councils["headroom"].to_numpy(dtype=float), nan=np.inf) if "headroom" in councils else np.full(n, np.inf),
        tier_label=np.unique(tiers.astype(str), return_inverse=True)[1],
        control_label=_labels(councils["control"]),
        distance_km=haversine_matrix(lat, lon),
    )
