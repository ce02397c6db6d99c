"""An independent check of a plan against its instance, savings model and options.

:func:`verify` reads a plan (``plan.json`` or the dict it holds) and re-derives, in plain
Python, everything the contract fixes: which councils are eligible for each function of
the run, every rule a partnership must obey, and every pound of the savings arithmetic
(SPEC section 3). It shares no code with candidate generation or the optimisation model,
so a bug there shows up here as a disagreement instead of being repeated.

It does not check that the plan is *optimal*, only that it is feasible and that every
figure in it is right. All problems are collected, not just the first::

    report = verify("instances/suffolk-2023", "out/plan.json")
    if not report.ok:
        print("\\n".join(report.problems))
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import InputError
from .io.instance import Instance, load_instance
from .io.model import SavingsModel, load_model, resolve_model_path
from .problem import RunOptions, resolve_area

EARTH_RADIUS_KM = 6371.0088
STATUSES = ("optimal", "time_limit", "infeasible")
PLAN_KEYS = ("instance", "model", "options", "solver", "partnerships", "councils", "totals")
SOLVER_KEYS = ("name", "status", "objective", "bound", "gap", "seconds")
MONEY_ABSOLUTE = 0.01  # pounds
KM_SLACK = 1e-9  # rounding slack on a within_km limit


@dataclass
class VerifyReport:
    """What :func:`verify` found: ``problems`` (empty when the plan is right) and counts."""

    problems: list[str] = field(default_factory=list)
    checked: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in self.checked.items())
        if self.ok:
            return f"plan verified: no problems ({counts})"
        lines = [f"plan has {len(self.problems)} problem(s) ({counts}):"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# ---------------------------------------------------------------- small helpers


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(max(0.0, h))))


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _pounds(value) -> str:
    return f"{value:.2f}" if _is_number(value) else repr(value)


def _load_plan(plan) -> tuple[dict, str]:
    if isinstance(plan, dict):
        return plan, "plan"
    if isinstance(getattr(plan, "data", None), dict):  # a Plan, as solve() returns it
        return plan.data, "plan"
    path = Path(plan)
    if path.is_dir():
        path = path / "plan.json"
    if not path.is_file():
        raise InputError(path, "file not found")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"malformed JSON: {exc.msg}", f"line {exc.lineno}, column {exc.colno}") from None
    if not isinstance(data, dict):
        raise InputError(path, f"must hold a JSON object, found {type(data).__name__}")
    return data, str(path)


def _pair_text(value) -> str | None:
    """An --exclude/--apart entry as 'X:Y' text, whether written as text or as a pair."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return f"{value[0]}:{value[1]}"
    return None


@dataclass
class _Council:
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


@dataclass
class _Figures:
    """Recomputed figures of one partnership."""

    baselines: dict[str, float]
    total: float
    annual: float
    one_off: float
    npv: float
    payback: float | None


# ---------------------------------------------------------------- the verifier


class _Verifier:
    def __init__(self, instance: Instance, plan: dict, model: SavingsModel, tolerance: float):
        self.instance = instance
        self.plan = plan
        self.model = model
        self.tolerance = tolerance
        self.problems: list[str] = []
        self.checked: dict = {}
        self.councils: dict[str, _Council] = {}
        for row in instance.councils.to_dict("records"):
            mp, mh = row.get("max_partnerships"), row.get("max_hosted")
            self.councils[row["code"]] = _Council(
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
            )
        self.neighbours: dict[str, set[str]] = {code: set() for code in self.councils}
        for a, b in instance.graph.edges():
            if a != b:
                self.neighbours.setdefault(a, set()).add(b)
                self.neighbours.setdefault(b, set()).add(a)

    # -- reporting

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def money_ok(self, found, expected: float) -> bool:
        if not _is_number(found):
            return False
        return abs(found - expected) <= max(self.tolerance * abs(expected), MONEY_ABSOLUTE)

    def ratio_ok(self, found, expected: float) -> bool:
        if not _is_number(found):
            return False
        return abs(found - expected) <= max(self.tolerance * abs(expected), 1e-6)

    # -- the run: functions, area, exclusions, eligibility

    def check_shape(self) -> None:
        plan = self.plan
        for key in PLAN_KEYS:
            if key not in plan:
                self.problem(f"plan: missing key '{key}'")
        kinds = {"options": dict, "solver": dict, "partnerships": list, "councils": list, "totals": dict}
        for key, kind in kinds.items():
            if key in plan and not isinstance(plan[key], kind):
                self.problem(f"plan: '{key}' must be a JSON {'object' if kind is dict else 'array'}, found {type(plan[key]).__name__}")
        name = plan.get("instance")
        if "instance" in plan and name not in (self.instance.name, self.instance.folder.name, str(self.instance.folder)):
            self.problem(f"plan: instance is {name!r}, but it is being verified against instance '{self.instance.name}'")
        ref = plan.get("model")
        if "model" in plan:
            names = {self.model.name}
            if self.model.path is not None:
                names |= {self.model.path.stem, str(self.model.path), self.model.path.name}
            if ref not in names and not self.same_model_file(ref):
                self.problem(f"plan: model is {ref!r}, but it is being verified against model '{self.model.name}'")

    def same_model_file(self, ref) -> bool:
        """Whether the plan's model reference resolves to the file of the model in use."""
        if not isinstance(ref, str) or self.model.path is None:
            return False
        try:
            path = resolve_model_path(ref, near=self.instance.folder)
            return path.resolve() == Path(self.model.path).resolve()
        except (InputError, OSError):
            return False

    def resolve_run(self) -> None:
        raw = self.plan.get("options")
        raw = dict(raw) if isinstance(raw, dict) else {}
        for key in ("exclude", "apart"):
            values = raw.get(key) or []
            if not isinstance(values, list):
                self.problem(f"plan: options.{key} must be a list, found {values!r}")
                values = []
            texts = []
            for value in values:
                text = _pair_text(value)
                left, sep, right = (text or "").partition(":")
                if not sep or not left.strip() or not right.strip():
                    what = "CODE:FUNCTION" if key == "exclude" else "CODE:CODE"
                    self.problem(f"plan: options.{key} entry {value!r} is not {what}")
                    continue
                texts.append(f"{left.strip()}:{right.strip()}")
            raw[key] = texts
        for key in ("area", "functions"):
            values = raw.get(key)
            if isinstance(values, str):
                raw[key] = [v for v in values.split(",") if v.strip()]
            elif values is not None and not (isinstance(values, list) and all(isinstance(v, str) for v in values)):
                self.problem(f"plan: options.{key} must be a list of text, found {values!r}")
                raw[key] = []
        try:
            options = RunOptions.from_dict(raw)
        except (InputError, TypeError, ValueError) as exc:
            self.problem(f"plan: options cannot be read: {exc}")
            options = RunOptions()
        self.options = options

        # functions of the run
        model_ids = set(self.model.function_ids)
        if options.functions:
            run = []
            for fid in options.functions:
                if fid not in model_ids:
                    self.problem(f"plan: options.functions names '{fid}', which model '{self.model.name}' does not define")
                elif fid not in run:
                    run.append(fid)
        else:
            run = list(self.model.function_ids)
        self.run_functions = run
        self.functions = {fid: self.model.function(fid) for fid in run}

        # area
        try:
            mask = resolve_area(self.instance, tuple(options.area))
        except InputError as exc:
            self.problem(f"plan: options.area cannot be resolved: {exc}")
            mask = [True] * len(self.instance.councils)
        codes = self.instance.councils["code"].tolist()
        self.in_area = {code: bool(keep) for code, keep in zip(codes, mask)}

        # exclusions and apart pairs
        self.excluded: set[tuple[str, str]] = set()
        for code, fid in options.exclude:
            if code not in self.councils:
                self.problem(f"plan: options.exclude names council '{code}', which is not in instance '{self.instance.name}'")
            if fid not in model_ids:
                self.problem(f"plan: options.exclude names function '{fid}', which model '{self.model.name}' does not define")
            self.excluded.add((code, fid))
        self.apart: list[tuple[str, str]] = []
        for a, b in options.apart:
            for code in (a, b):
                if code not in self.councils:
                    self.problem(f"plan: options.apart names council '{code}', which is not in instance '{self.instance.name}'")
            if a == b:
                self.problem(f"plan: options.apart pair '{a}:{b}' names the same council twice")
            self.apart.append((a, b))

        # size caps
        self.max_size = {}
        for fid, f in self.functions.items():
            cap = f.max_size
            if options.max_size is not None:
                cap = min(cap, options.max_size)
            self.max_size[fid] = cap

        # tiers the model declares
        declared = set(self.model.tiers)
        for c in self.councils.values():
            if c.tier not in declared:
                self.problem(f"council {c.code}: tier '{c.tier}' is not declared by model '{self.model.name}'")

        # eligibility, in the instance's council order
        self.eligible: dict[str, list[str]] = {}
        self.eligible_set: dict[str, set[str]] = {}
        for fid, f in self.functions.items():
            keep = [
                code
                for code, c in self.councils.items()
                if c.tier in f.tiers and self.in_area[code] and (code, fid) not in self.excluded
            ]
            self.eligible[fid] = keep
            self.eligible_set[fid] = set(keep)
        self.checked["functions"] = len(run)
        self.checked["eligible_pairs"] = sum(len(v) for v in self.eligible.values())

    def why_ineligible(self, code: str, fid: str) -> str:
        c = self.councils[code]
        f = self.functions[fid]
        if c.tier not in f.tiers:
            return f"its tier '{c.tier}' is not one of {', '.join(f.tiers)}"
        if not self.in_area[code]:
            return "it is outside the run's --area"
        if (code, fid) in self.excluded:
            return f"--exclude {code}:{fid} keeps it out"
        return "it is not eligible"  # pragma: no cover

    # -- the arithmetic

    def baseline(self, code: str, fid: str) -> tuple[float, bool]:
        spent = self.instance.spend.get((code, fid))
        if spent is not None:
            return float(spent), False
        f = self.model.function(fid)
        return f.per_capita * self.councils[code].population, True

    def platform_of(self, code: str, fid: str) -> str:
        return self.instance.platforms.get((code, fid), f"own:{code}")

    def distance(self, a: str, b: str) -> float:
        ca, cb = self.councils[a], self.councils[b]
        return haversine_km(ca.lat, ca.lon, cb.lat, cb.lon)

    def figures(self, fid: str, members: list[str], depth, host: str, platform) -> _Figures:
        f = self.model.function(fid)
        beta = f.scale_exponent
        baselines = {code: self.baseline(code, fid)[0] for code in members}
        total = sum(baselines.values())
        population = [self.councils[code].population for code in members]
        rate = 1.0 - sum(population) ** beta / sum(p**beta for p in population)
        gross = depth.capture * rate * total
        coordination = f.coordination * sum(baselines[code] * self.distance(code, host) / 100.0 for code in members)
        annual = gross - coordination
        migration = 0.0
        if depth.common_platform:
            migration = f.migration * sum(baselines[code] for code in members if self.platform_of(code, fid) != platform)
        one_off = depth.one_off * total + migration
        annuity = sum((1.0 + self.model.discount_rate) ** -t for t in range(1, self.model.horizon_years + 1))
        npv = annual * annuity - one_off
        payback = one_off / annual if annual > 0 else None
        return _Figures(baselines, total, annual, one_off, npv, payback)

    # -- partnerships, one at a time

    def check_partnerships(self) -> None:
        entries = self.plan.get("partnerships")
        entries = entries if isinstance(entries, list) else []
        self.parts: list[dict] = []  # valid-enough entries, with what was worked out
        ids: dict[str, int] = {}
        locked_sets = self.locked_sets()
        for k, entry in enumerate(entries):
            if not isinstance(entry, dict):
                self.problem(f"partnerships[{k}]: must be a JSON object, found {type(entry).__name__}")
                continue
            pid = entry.get("id")
            fid = entry.get("function")
            label = f"partnership {pid!r}" if isinstance(pid, str) and pid else f"partnerships[{k}]"
            label += f" ({fid})" if isinstance(fid, str) else ""
            if not isinstance(pid, str) or not pid:
                self.problem(f"{label}: id must be non-empty text, found {pid!r}")
            elif pid in ids:
                self.problem(f"{label}: id '{pid}' is used again (first at partnerships[{ids[pid]}])")
            else:
                ids[pid] = k
            for key in ("id", "function", "members", "host", "depth", "platform", "annual_saving", "one_off_cost", "npv", "payback_years"):
                if key not in entry:
                    self.problem(f"{label}: missing key '{key}'")
            self.check_partnership(k, entry, label, locked_sets)
        self.checked["partnerships"] = len(entries)

    def check_partnership(self, k: int, entry: dict, label: str, locked_sets) -> None:
        pid = entry.get("id")
        fid = entry.get("function")
        computable = True

        function = None
        if not isinstance(fid, str) or fid not in self.model.function_ids:
            self.problem(f"{label}: function {fid!r} is not defined by model '{self.model.name}'")
            computable = False
        else:
            function = self.model.function(fid)
            if fid not in self.functions:
                self.problem(f"{label}: function '{fid}' is not one of the run's functions ({', '.join(self.run_functions)})")

        raw_members = entry.get("members")
        if not isinstance(raw_members, list) or not all(isinstance(m, str) for m in raw_members):
            self.problem(f"{label}: members must be a list of council codes, found {raw_members!r}")
            return
        members: list[str] = []
        for code in raw_members:
            if code in members:
                self.problem(f"{label}: member {code} is listed twice")
            else:
                members.append(code)
        if len(members) < 2:
            self.problem(f"{label}: has {len(members)} distinct member(s); a partnership needs at least 2")
        unknown = [c for c in members if c not in self.councils]
        for code in unknown:
            self.problem(f"{label}: member {code} is not a council of instance '{self.instance.name}'")
        if unknown:
            computable = False
        known = [c for c in members if c in self.councils]

        if function is not None and fid in self.functions:
            for code in known:
                if code not in self.eligible_set[fid]:
                    self.problem(f"{label}: member {code} is not eligible for '{fid}': {self.why_ineligible(code, fid)}")
            cap = self.max_size[fid]
            if len(members) > cap:
                self.problem(f"{label}: has {len(members)} members, more than the maximum size {cap}")

        is_locked = isinstance(fid, str) and (fid, frozenset(members)) in locked_sets

        # host
        host = entry.get("host")
        if not isinstance(host, str) or host not in members:
            self.problem(f"{label}: host {host!r} is not one of its members ({', '.join(members)})")
            computable = False
        elif host in self.councils and function is not None:
            commitment = self.councils[host].commitment
            if commitment < function.host_min_commitment:
                self.problem(
                    f"{label}: host {host} has commitment {commitment:g}, below the host minimum "
                    f"{function.host_min_commitment:g} for '{fid}'"
                )

        # depth
        depth_id = entry.get("depth")
        depth = next((d for d in self.model.depths if d.id == depth_id), None)
        if depth is None:
            known_depths = ", ".join(d.id for d in self.model.depths)
            self.problem(f"{label}: depth {depth_id!r} is not defined by model '{self.model.name}' (depths: {known_depths})")
            computable = False
        else:
            for code in known:
                commitment = self.councils[code].commitment
                if commitment < depth.min_commitment:
                    self.problem(
                        f"{label}: member {code} has commitment {commitment:g}, below the minimum "
                        f"{depth.min_commitment:g} of depth '{depth.id}'"
                    )

        # geography
        if function is not None and known:
            self.check_geography(label, function, known, host if isinstance(host, str) and host in self.councils and host in members else None)

        # apart
        member_set = set(members)
        for a, b in self.apart:
            if a in member_set and b in member_set:
                self.problem(f"{label}: members {a} and {b} are together, but --apart {a}:{b} keeps them apart")

        # platform
        platform = entry.get("platform")
        if depth is not None and function is not None:
            if not depth.common_platform:
                if platform is not None:
                    self.problem(f"{label}: platform is {platform!r}, but depth '{depth.id}' has no common platform (expected null)")
            else:
                choices = sorted({self.platform_of(c, fid) for c in known})
                if not isinstance(platform, str) or platform not in choices:
                    self.problem(
                        f"{label}: platform is {platform!r}, but depth '{depth.id}' needs one of its members' "
                        f"platforms ({', '.join(choices)})"
                    )

        # money
        figures = None
        if computable and function is not None:
            figures = self.figures(fid, members, depth, host, platform)
            for key, expected in (("annual_saving", figures.annual), ("one_off_cost", figures.one_off), ("npv", figures.npv)):
                found = entry.get(key)
                if not self.money_ok(found, expected):
                    self.problem(f"{label}: {key} is {_pounds(found)}, expected {_pounds(expected)}")
            found = entry.get("payback_years")
            if figures.payback is None:
                if found is not None:
                    self.problem(f"{label}: payback_years is {found!r}, expected null (annual saving {_pounds(figures.annual)} is not positive)")
            elif not self.ratio_ok(found, figures.payback):
                self.problem(f"{label}: payback_years is {found!r}, expected {figures.payback:.6g}")
            if figures.npv <= 0 and not is_locked:
                self.problem(f"{label}: npv {_pounds(figures.npv)} is not positive, and it is not a locked existing partnership")
        else:
            for key in ("annual_saving", "one_off_cost", "npv"):
                if not _is_number(entry.get(key)):
                    self.problem(f"{label}: {key} must be a number, found {entry.get(key)!r}")

        self.parts.append(
            {
                "index": k,
                "id": pid,
                "label": label,
                "function": fid,
                "members": members,
                "host": host,
                "figures": figures,
                "entry": entry,
            }
        )

    def check_geography(self, label: str, function, members: list[str], host: str | None) -> None:
        for rule in function.geography:
            kind = rule.kind
            if kind == "none":
                continue
            if kind == "contiguous":
                inside = set(members)
                start = members[0]
                seen, queue = {start}, [start]
                while queue:
                    code = queue.pop()
                    for other in self.neighbours.get(code, ()):
                        if other in inside and other not in seen:
                            seen.add(other)
                            queue.append(other)
                if len(seen) != len(inside):
                    cut = sorted(inside - seen)
                    self.problem(
                        f"{label}: members are not contiguous: {', '.join(cut)} not connected to {start} "
                        f"through adjacent members (geography rule contiguous)"
                    )
            elif kind == "within_km":
                if host is None:
                    continue
                for code in members:
                    km = self.distance(code, host)
                    if km > rule.km + KM_SLACK:
                        self.problem(f"{label}: member {code} is {km:.1f} km from host {host}, beyond within_km:{rule.km:g}")
            elif kind in ("same_region", "same_county", "same_nation"):
                attribute = kind[len("same_"):]
                values = {}
                for code in members:
                    values.setdefault(getattr(self.councils[code], attribute), []).append(code)
                if len(values) > 1:
                    detail = "; ".join(f"{v or '(empty)'}: {', '.join(cs)}" for v, cs in values.items())
                    self.problem(f"{label}: members are not all in one {attribute} ({detail}) (geography rule {kind})")

    # -- across partnerships

    def locked_sets(self) -> set[tuple[str, frozenset]]:
        sets = set()
        for group in self.instance.partnerships:
            if group.locked and group.function in self.functions and all(self.in_area.get(c, False) for c in group.members):
                sets.add((group.function, frozenset(group.members)))
        return sets

    def check_across(self) -> None:
        # each council in at most one partnership per function
        self.membership: dict[tuple[str, str], list[dict]] = {}
        for part in self.parts:
            if not isinstance(part["function"], str):
                continue
            for code in part["members"]:
                self.membership.setdefault((code, part["function"]), []).append(part)
        for (code, fid), parts in self.membership.items():
            if len(parts) > 1:
                names = ", ".join(repr(p["id"]) for p in parts)
                self.problem(f"council {code}: is in {len(parts)} partnerships for '{fid}' ({names}); at most one is allowed")

        # max_partnerships and max_hosted
        joined: dict[str, int] = {}
        hosted: dict[str, int] = {}
        for part in self.parts:
            for code in part["members"]:
                joined[code] = joined.get(code, 0) + 1
            if isinstance(part["host"], str) and part["host"] in part["members"]:
                hosted[part["host"]] = hosted.get(part["host"], 0) + 1
        for code, count in joined.items():
            limit = self.councils[code].max_partnerships if code in self.councils else None
            if limit is not None and count > limit:
                self.problem(f"council {code}: joins {count} partnerships, more than its max_partnerships {limit}")
        for code, count in hosted.items():
            limit = self.councils[code].max_hosted if code in self.councils else None
            if limit is not None and count > limit:
                self.problem(f"council {code}: hosts {count} partnerships, more than its max_hosted {limit}")

        # budget
        if self.options.budget is not None:
            spent = 0.0
            for part in self.parts:
                value = part["figures"].one_off if part["figures"] is not None else part["entry"].get("one_off_cost")
                spent += value if _is_number(value) else 0.0
            budget = self.options.budget
            if spent > budget + max(self.tolerance * abs(budget), MONEY_ABSOLUTE):
                self.problem(f"plan: one-off costs total {_pounds(spent)}, over the budget {_pounds(budget)}")

        # locked existing partnerships (an infeasible run has no plan to hold them)
        self.checked["locked_groups"] = 0
        if self.infeasible:
            return
        present = {(p["function"], frozenset(p["members"])) for p in self.parts if isinstance(p["function"], str)}
        count = 0
        for group in self.instance.partnerships:
            if not group.locked or group.function not in self.functions:
                continue
            inside = [c for c in group.members if self.in_area.get(c, False)]
            if not inside:
                continue
            count += 1
            label = f"locked partnership '{group.id}' ({group.function}: {', '.join(group.members)})"
            if len(inside) < len(group.members):
                outside = [c for c in group.members if c not in inside]
                self.problem(f"{label}: members {', '.join(outside)} are outside the run's --area, so no plan can keep it")
                continue
            if (group.function, frozenset(group.members)) not in present:
                overlapping = [
                    f"{p['id']!r} ({', '.join(p['members'])})"
                    for p in self.parts
                    if p["function"] == group.function and set(p["members"]) & set(group.members)
                ]
                instead = f"; its members are in {', '.join(overlapping)} instead" if overlapping else ""
                self.problem(f"{label}: is missing from the plan (it must appear with exactly these members){instead}")
        self.checked["locked_groups"] = count

    # -- council rows

    def check_councils(self) -> None:
        rows = self.plan.get("councils")
        rows = rows if isinstance(rows, list) else []
        infeasible = self.infeasible
        seen: dict[tuple[str, str], int] = {}
        self.row_baselines: list[float] = []
        for k, row in enumerate(rows):
            if not isinstance(row, dict):
                self.problem(f"councils[{k}]: must be a JSON object, found {type(row).__name__}")
                continue
            code, fid = row.get("code"), row.get("function")
            label = f"council row {code} / {fid}"
            for key in ("code", "function", "partnership", "baseline", "baseline_estimated", "npv_share"):
                if key not in row:
                    self.problem(f"{label}: missing key '{key}'")
            if not isinstance(code, str) or code not in self.councils:
                self.problem(f"{label}: council {code!r} is not in instance '{self.instance.name}'")
                continue
            if not isinstance(fid, str) or fid not in self.functions:
                self.problem(f"{label}: function {fid!r} is not one of the run's functions ({', '.join(self.run_functions)})")
                continue
            if code not in self.eligible_set[fid]:
                self.problem(f"{label}: {code} is not eligible for '{fid}' ({self.why_ineligible(code, fid)}), so it should have no row")
            if (code, fid) in seen:
                self.problem(f"{label}: repeats councils[{seen[(code, fid)]}]")
                continue
            seen[(code, fid)] = k

            baseline, estimated = self.baseline(code, fid)
            found = row.get("baseline")
            if not self.money_ok(found, baseline):
                self.problem(f"{label}: baseline is {_pounds(found)}, expected {_pounds(baseline)}")
            self.row_baselines.append(found if _is_number(found) else baseline)
            if row.get("baseline_estimated") is not estimated:
                source = "no spend.csv row: per_capita x population" if estimated else "from spend.csv"
                self.problem(f"{label}: baseline_estimated is {row.get('baseline_estimated')!r}, expected {str(estimated).lower()} ({source})")

            parts = self.membership.get((code, fid), [])
            stated = row.get("partnership")
            if not parts:
                if stated is not None:
                    self.problem(f"{label}: partnership is {stated!r}, but {code} is a member of no partnership for '{fid}' (expected null)")
                for key in ("npv_share", "annual_saving_share", "one_off_share"):
                    if key in row and not self.money_ok(row[key], 0.0):
                        self.problem(f"{label}: {key} is {_pounds(row[key])}, expected 0.00 (the council stays alone)")
                continue
            if stated not in [p["id"] for p in parts]:
                self.problem(f"{label}: partnership is {stated!r}, but {code} is a member of {parts[0]['id']!r}")
            part = next((p for p in parts if p["id"] == stated), parts[0])
            members = [c for c in part["members"] if c in self.councils]
            total = sum(self.baseline(c, fid)[0] for c in members)
            share = baseline / total if total > 0 else 1.0 / max(1, len(members))
            entry = part["entry"]
            figures = part["figures"]
            for key, field_name, fallback in (
                ("npv_share", "npv", figures.npv if figures else None),
                ("annual_saving_share", "annual_saving", figures.annual if figures else None),
                ("one_off_share", "one_off_cost", figures.one_off if figures else None),
            ):
                if key not in row:
                    continue
                value = entry.get(field_name)
                value = value if _is_number(value) else fallback
                if value is None:
                    continue
                expected = value * share
                if not self.money_ok(row[key], expected):
                    self.problem(
                        f"{label}: {key} is {_pounds(row[key])}, expected {_pounds(expected)} "
                        f"({field_name} of {part['id']!r} {_pounds(value)} x {_pounds(baseline)} / {_pounds(total)})"
                    )

        for fid in self.run_functions:
            for code in self.eligible[fid]:
                if (code, fid) not in seen and not infeasible:
                    self.problem(f"council row {code} / {fid}: missing (every eligible council has a row for each function of the run)")
        self.checked["council_rows"] = len(rows)

    # -- totals and solver

    def check_totals(self) -> dict:
        totals = self.plan.get("totals")
        totals = totals if isinstance(totals, dict) else {}
        sums = {"npv": 0.0, "annual_saving": 0.0, "one_off_cost": 0.0}
        fallback = {"npv": "npv", "annual_saving": "annual", "one_off_cost": "one_off"}
        for part in self.parts:
            for key in sums:
                value = part["entry"].get(key)
                if not _is_number(value) and part["figures"] is not None:
                    value = getattr(part["figures"], fallback[key])
                sums[key] += value if _is_number(value) else 0.0
        if self.infeasible:
            sums["baseline"] = sum(self.row_baselines)
        else:  # every eligible pair has a row: missing or wrong rows are reported where they are
            sums["baseline"] = sum(self.baseline(code, fid)[0] for fid in self.run_functions for code in self.eligible[fid])
        for key, expected in sums.items():
            found = totals.get(key)
            if key not in totals:
                self.problem(f"totals: missing key '{key}'")
            elif not self.money_ok(found, expected):
                what = "eligible councils' baselines" if key == "baseline" else f"partnerships' {key}"
                self.problem(f"totals: {key} is {_pounds(found)}, expected {_pounds(expected)} (the sum of the {what})")
        return sums

    def check_solver(self, sums: dict) -> None:
        solver = self.plan.get("solver")
        if not isinstance(solver, dict):
            return
        for key in SOLVER_KEYS:
            if key not in solver:
                self.problem(f"solver: missing key '{key}'")
        if "name" in solver and not isinstance(solver["name"], str):
            self.problem(f"solver: name must be text, found {solver['name']!r}")
        status = solver.get("status")
        if status not in STATUSES:
            self.problem(f"solver: status is {status!r}, expected one of {', '.join(STATUSES)}")
        seconds = solver.get("seconds")
        if "seconds" in solver and not (_is_number(seconds) and seconds >= 0):
            self.problem(f"solver: seconds must be a number >= 0, found {seconds!r}")
        if status == "infeasible":
            if self.parts or self.plan.get("partnerships"):
                self.problem(f"solver: status is infeasible, but the plan has {len(self.plan.get('partnerships') or [])} partnership(s)")
            return
        objective, bound, gap = solver.get("objective"), solver.get("bound"), solver.get("gap")
        expected = sums["npv"]
        if not self.money_ok(objective, expected):
            self.problem(f"solver: objective is {_pounds(objective)}, expected {_pounds(expected)} (the total npv of the partnerships)")
        if status not in ("optimal", "time_limit") or not _is_number(objective):
            return
        if bound is None and gap is None and status == "time_limit":
            return  # stopped before any bound was proven: honestly, neither bound nor gap
        if not _is_number(bound):
            self.problem(f"solver: bound must be a number when status is {status}, found {bound!r}")
            return
        slack = max(self.tolerance * abs(objective), MONEY_ABSOLUTE)
        if bound < objective - slack:
            self.problem(f"solver: bound {_pounds(bound)} is below the objective {_pounds(objective)}; a bound must be at least the objective")
        difference = max(0.0, bound - objective)
        if difference <= slack:
            ok = gap is None or (_is_number(gap) and abs(gap) <= 1e-6) or (
                _is_number(gap) and abs(objective) > 0 and abs(gap - difference / abs(objective)) <= 1e-6
            )
            wanted = "0"
        elif abs(objective) <= MONEY_ABSOLUTE:
            ok = gap is None or (isinstance(gap, (int, float)) and not isinstance(gap, bool) and gap > 0)
            wanted = "a positive number or null (the objective is 0)"
        else:
            want = difference / abs(objective)
            ok = _is_number(gap) and abs(gap - want) <= max(1e-6, self.tolerance * want)
            wanted = f"{want:.6g} ((bound - objective) / |objective|)"
        if not ok:
            self.problem(f"solver: gap is {gap!r}, expected {wanted}")

    def run(self) -> VerifyReport:
        solver = self.plan.get("solver")
        self.infeasible = isinstance(solver, dict) and solver.get("status") == "infeasible"
        self.check_shape()
        self.resolve_run()
        self.check_partnerships()
        self.check_across()
        self.check_councils()
        sums = self.check_totals()
        self.check_solver(sums)
        return VerifyReport(self.problems, self.checked)


def _isna(value) -> bool:
    return value is None or bool(pd.isna(value))


# ---------------------------------------------------------------- entry point


def verify(instance, plan, model=None, *, tolerance: float = 1e-6) -> VerifyReport:
    """Checks a plan against its instance, savings model and run options.

    ``instance`` is an :class:`~optimiser.instance.Instance` or an instance folder;
    ``plan`` a dict as held in plan.json, or the path of plan.json (or of the folder that
    holds it); ``model`` a :class:`~optimiser.model.SavingsModel`, a model name or path,
    or None for the model the plan names. Money agrees when within ``tolerance``
    (relative) or 0.01 pounds, whichever is larger.

    Raises :class:`~optimiser.errors.InputError` when the plan, instance or model cannot
    be read at all; everything wrong *in* a readable plan is listed in the report.
    """
    if not isinstance(instance, Instance):
        instance = load_instance(instance)
    data, source = _load_plan(plan)
    if model is None:
        ref = data.get("model")
        if not isinstance(ref, str) or not ref.strip():
            if instance.model_ref is None:
                return VerifyReport([f"{source}: names no model (key 'model'), and instance '{instance.name}' has no default model"], {})
            ref = instance.model_ref
        model = load_model(ref, near=instance.folder)
    elif not isinstance(model, SavingsModel):
        model = load_model(model, near=instance.folder)
    return _Verifier(instance, data, model, tolerance).run()


def main(argv: list[str] | None = None) -> int:
    """``python -m optimiser.verify INSTANCE PLAN [--model NAME|PATH]``: exit 0 when right, 1 when not."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m optimiser.verify", description="Checks a plan.json against its instance and model.")
    parser.add_argument("instance", help="instance folder")
    parser.add_argument("plan", help="plan.json, or the folder that holds it")
    parser.add_argument("--model", default=None, help="savings model (default: the one the plan names)")
    args = parser.parse_args(argv)
    try:
        report = verify(args.instance, args.plan, args.model)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
