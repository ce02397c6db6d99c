"""Random tiny instances in the SPEC formats, and an independent brute-force optimum.

Nothing here imports the engine's candidates, master, problem or plan modules: the rules
and the arithmetic of SPEC section 3 are re-derived from the values this module wrote,
kept as plain Python structures, so that a bug in the engine shows up as a disagreement
instead of being repeated.

* :func:`random_case` draws a :class:`Case` (councils, adjacency, spend, platforms,
  existing partnerships, a savings model and run options) from a ``random.Random``;
* :func:`write_case` writes it as an instance folder and a model TOML file;
* :func:`write_random_instance` does both and returns ``(instance_dir, model_path)``;
* :func:`brute_force` finds the best total NPV by exhaustive search (branch and bound,
  exact); :func:`check_plan` checks a plan.json dict against the same rules.

Reproduce one case by hand::

    python tests/randomized.py SEED [FOLDER] [--profile coupled|wide]   # writes the case, prints the optimum
"""

from __future__ import annotations

import csv
import itertools
import math
import random
from dataclasses import dataclass, field, replace
from pathlib import Path

EARTH_RADIUS_KM = 6371.0088
TIER_LABELS = ("district", "county", "unitary")
PLATFORMS = ("alpha", "beta", "gamma")
FUNCTION_IDS = ("revenues", "waste", "ict")


# ---------------------------------------------------------------- the data


@dataclass
class Council:
    code: str
    name: str
    tier: str
    nation: str
    region: str
    county: str
    population: int
    lat: float
    lon: float
    commitment: float | None  # None: column left empty (default 1.0)
    max_partnerships: int | None  # None: no limit
    max_hosted: int | None
    withdrawal: float | None = None  # None: column left empty (the model's [risk] gives it)
    control: str = ""
    headroom: float | None = None  # None: no limit (SPEC section 8)

    @property
    def commit(self) -> float:
        return 1.0 if self.commitment is None else self.commitment


@dataclass
class Depth:
    id: str
    capture: float
    one_off: float
    min_commitment: float
    common_platform: bool
    ramp: tuple[float, ...] = (1.0,)  # shares of the yearly saving in years 1, 2, ... (SPEC section 8)

    def ramp_at(self, year: int) -> float:
        return self.ramp[min(year, len(self.ramp)) - 1]


@dataclass
class Function:
    id: str
    tiers: tuple[str, ...]
    per_capita: float
    scale_exponent: float
    coordination: float
    migration: float
    # resolved rules (the defaults of [rules] unless overridden) ...
    max_size: int
    geography: tuple[str, ...]
    host_min_commitment: float
    # ... and which of them the file overrides
    overrides: tuple[str, ...] = ()


@dataclass
class Model:
    name: str
    tiers: tuple[str, ...]
    horizon_years: int
    discount_rate: float
    default_max_size: int
    default_geography: tuple[str, ...]
    default_host_min_commitment: float
    depths: list[Depth]
    functions: list[Function]
    risk: dict | None = None  # the [risk] table as written; None: no table

    @property
    def annuity(self) -> float:
        return self.discounted(1, self.horizon_years)

    def discounted(self, first: int, last: int, depth: "Depth | None" = None) -> float:
        """One pound a year over years first..last, today; each year's pound scaled by the
        depth's ramp when one is given."""
        return sum((depth.ramp_at(t) if depth else 1.0) * (1.0 + self.discount_rate) ** -t for t in range(first, last + 1))

    def risk_figure(self, key: str):
        if self.risk and key in self.risk:
            return self.risk[key]
        return min(3, self.horizon_years - 1) if key == "exit_year" else 0.0

    def function(self, fid: str) -> Function:
        return next(f for f in self.functions if f.id == fid)


@dataclass
class Existing:
    id: str
    function: str
    members: tuple[str, ...]
    host: str | None
    locked: bool


@dataclass
class Options:
    budget: float | None = None
    exclude: tuple[tuple[str, str], ...] = ()
    apart: tuple[tuple[str, str], ...] = ()
    functions: tuple[str, ...] = ()
    area: tuple[str, ...] = ()
    max_size: int | None = None
    objective: str = "npv"
    robust: bool = False
    loan: tuple | None = None  # (rate, years, kind) of --loan (SPEC section 8)

    @property
    def loan_text(self) -> str | None:
        return None if self.loan is None else f"{self.loan[0]!r}:{self.loan[1]}:{self.loan[2]}"

    def run_options(self, method: str = "exact", solver: str = "highs"):
        from optimiser.problem import RunOptions

        return RunOptions(method=method, solver=solver, budget=self.budget, exclude=self.exclude, apart=self.apart,
                          functions=self.functions, area=self.area, max_size=self.max_size, objective=self.objective,
                          robust=self.robust, loan=self.loan_text)

    def describe(self) -> str:
        parts = []
        if self.budget is not None:
            parts.append(f"budget={self.budget!r}")
        for name in ("exclude", "apart", "functions", "area"):
            if getattr(self, name):
                parts.append(f"{name}={getattr(self, name)!r}")
        if self.max_size is not None:
            parts.append(f"max_size={self.max_size}")
        if self.objective != "npv":
            parts.append(f"objective={self.objective}")
        if self.robust:
            parts.append("robust")
        if self.loan:
            parts.append(f"loan={self.loan_text}")
        return ", ".join(parts) or "no options"


@dataclass
class Case:
    seed: int | None
    councils: list[Council]
    edges: list[tuple[str, str]]
    spend: dict[tuple[str, str], float]
    platforms: dict[tuple[str, str], str]
    partnerships: list[Existing]
    model: Model
    options: Options
    with_border: bool = False
    instance_dir: Path | None = None
    model_path: Path | None = None

    @property
    def codes(self) -> list[str]:
        return [c.code for c in self.councils]


# ---------------------------------------------------------------- the rules and arithmetic, by hand


def haversine(a: Council, b: Council) -> float:
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp = p2 - p1
    dl = math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Option:
    """One (depth, host, platform) choice for a member set, with its SPEC figures."""

    depth: str
    host: str
    platform: str | None
    annual: float
    one_off: float
    npv: float
    expected: float | None = None  # E(S), computed when the run asks for withdrawal figures
    worst: float | None = None  # W(S)
    value: float = 0.0  # what the plan maximises: npv, or expected under the expected objective
    cash: tuple[float, ...] = ()  # the partnership's net cash in years 0..T (SPEC section 8)


class Rules:
    """The rules of SPEC section 3 for one case, evaluated literally (no shortcuts)."""

    def __init__(self, case: Case):
        self.case = case
        self.model = case.model
        self.by_code = {c.code: c for c in case.councils}
        self.index = {c.code: i for i, c in enumerate(case.councils)}
        self.neighbours = {c.code: set() for c in case.councils}
        for a, b in case.edges:
            self.neighbours[a].add(b)
            self.neighbours[b].add(a)
        opts = case.options
        if opts.functions:
            seen = []
            for fid in opts.functions:
                if fid not in seen:
                    seen.append(fid)
            self.functions = [self.model.function(fid) for fid in seen]
        else:
            self.functions = list(self.model.functions)
        self.excluded = set(opts.exclude)
        self.apart = {frozenset(p) for p in opts.apart}

    # -- eligibility and baselines

    def in_area(self, c: Council) -> bool:
        if not self.case.options.area:
            return True
        return any(t in (c.code, c.county, c.region, c.nation) for t in self.case.options.area)

    def eligible(self, f: Function, code: str) -> bool:
        c = self.by_code[code]
        return c.tier in f.tiers and self.in_area(c) and (code, f.id) not in self.excluded

    def eligible_codes(self, f: Function) -> list[str]:
        return [c.code for c in self.case.councils if self.eligible(f, c.code)]

    def baseline(self, f: Function, code: str) -> float:
        value = self.case.spend.get((code, f.id))
        if value is None:
            return f.per_capita * self.by_code[code].population
        return value

    def platform(self, f: Function, code: str) -> str:
        return self.case.platforms.get((code, f.id), f"own:{code}")

    def max_size(self, f: Function) -> int:
        m = self.case.options.max_size
        return f.max_size if m is None else min(f.max_size, m)

    def within_km(self, f: Function) -> float | None:
        for rule in f.geography:
            if rule.startswith("within_km:"):
                return float(rule.split(":", 1)[1])
        return None

    # -- rules of a member set that do not depend on the host or depth

    def connected(self, members: tuple[str, ...]) -> bool:
        inside = set(members)
        seen = {members[0]}
        todo = [members[0]]
        while todo:
            code = todo.pop()
            for nb in self.neighbours[code]:
                if nb in inside and nb not in seen:
                    seen.add(nb)
                    todo.append(nb)
        return seen == inside

    def set_breaks(self, f: Function, members: tuple[str, ...]) -> list[str]:
        breaks = []
        if len(members) < 2:
            breaks.append("size<2")
        if len(members) > self.max_size(f):
            breaks.append("max_size")
        for code in members:
            if not self.eligible(f, code):
                breaks.append(f"ineligible {code}")
        for pair in itertools.combinations(members, 2):
            if frozenset(pair) in self.apart:
                breaks.append(f"apart {pair}")
        cs = [self.by_code[c] for c in members]
        for rule in f.geography:
            if rule == "contiguous" and not self.connected(members):
                breaks.append("contiguous")
            elif rule == "same_region" and len({c.region for c in cs}) > 1:
                breaks.append("same_region")
            elif rule == "same_county" and len({c.county for c in cs}) > 1:
                breaks.append("same_county")
            elif rule == "same_nation" and len({c.nation for c in cs}) > 1:
                breaks.append("same_nation")
        return breaks

    # -- every (depth, host, platform) option that passes the remaining rules

    def options(self, f: Function, members: tuple[str, ...]) -> list[Option]:
        """All options passing the depth/host rules, whatever their NPV (SPEC section 3)."""
        cs = [self.by_code[c] for c in members]
        b = {c: self.baseline(f, c) for c in members}
        total = sum(b.values())
        beta = f.scale_exponent
        pops = [c.population for c in cs]
        rate = 1.0 - sum(pops) ** beta / sum(p**beta for p in pops)
        limit = self.within_km(f)
        weakest = min(c.commit for c in cs)
        plats = sorted({self.platform(f, c) for c in members})
        result = []
        for host in cs:
            if host.commit < f.host_min_commitment:
                continue
            dist = {c.code: haversine(c, host) for c in cs}
            if limit is not None and max(dist.values()) > limit:
                continue
            coordination = f.coordination * sum(b[c] * dist[c] for c in members) / 100.0
            for d in self.model.depths:
                if weakest < d.min_commitment:
                    continue
                annual = d.capture * rate * total - coordination
                for p in plats if d.common_platform else [None]:
                    migration = 0.0 if p is None else f.migration * sum(b[c] for c in members if self.platform(f, c) != p)
                    one_off = d.one_off * total + migration
                    npv = annual * self.model.discounted(1, self.model.horizon_years, d) - one_off
                    option = Option(d.id, host.code, p, annual, one_off, npv, value=npv, cash=self.cash(annual, one_off, d))
                    if self.case.options.objective == "expected" or self.case.options.robust:
                        expected = self.expected_npv(f, members, option)
                        worst = min(self.after_leaving(f, members, option, set(members) - {c})[0] for c in members)
                        value = expected if self.case.options.objective == "expected" else npv
                        option = replace(option, expected=expected, worst=worst, value=value)
                    result.append(option)
        return result

    # -- invest to save (SPEC section 8)

    def cash(self, annual: float, one_off: float, depth: Depth) -> tuple[float, ...]:
        """Net cash of the whole partnership in years 0..T: A ramp_t less the loan's payment
        (the balance walked year by year), and -O in year 0 when nothing is borrowed."""
        horizon, loan = self.model.horizon_years, self.case.options.loan
        payments = [0.0] * horizon
        if loan is not None:
            rate, years, kind = loan
            level = one_off / years if rate == 0 else one_off * rate / (1 - (1 + rate) ** -years)
            balance = one_off
            for t in range(1, years + 1):
                interest = balance * rate
                if t == years:
                    principal = balance
                elif kind == "annuity":
                    principal = level - interest
                elif kind == "eip":
                    principal = one_off / years
                else:
                    principal = 0.0
                balance -= principal
                payments[t - 1] = interest + principal
        first = 0.0 if loan is not None else -one_off
        return (first, *(annual * depth.ramp_at(t) - payments[t - 1] for t in range(1, horizon + 1)))

    def shares(self, f: Function, members: tuple[str, ...]) -> dict[str, float]:
        b = {c: self.baseline(f, c) for c in members}
        total = sum(b.values())
        return {c: b[c] / total if total > 0 else 1.0 / len(members) for c in members}

    def council_cash(self, plan) -> dict[str, list[float]]:
        """{code: net cash in years 0..T} over a plan's (function id, members, option) choices."""
        found: dict[str, list[float]] = {}
        for fid, members, o in plan:
            for c, share in self.shares(self.model.function(fid), members).items():
                row = found.setdefault(c, [0.0] * len(o.cash))
                for t, amount in enumerate(o.cash):
                    row[t] += share * amount
        return found

    def headroom_breaks(self, plan, slack: float = 1e-9) -> list[str]:
        """Councils whose net cash in some year falls below minus their headroom."""
        out = []
        for code, cash in self.council_cash(plan).items():
            limit = self.by_code[code].headroom
            if limit is not None and min(cash) < -limit - slack * max(1.0, limit) - 1e-6:
                out.append(f"{code}: net cash {min(cash)} below -{limit}")
        return out

    # -- withdrawal (SPEC section 5), subset by subset

    def chances(self, members: tuple[str, ...]) -> dict[str, float]:
        """p_i(S) for every member."""
        model = self.model
        cs = [self.by_code[c] for c in members]
        cross = len({c.tier for c in cs}) > 1
        mismatch = len({c.control for c in cs if c.control}) > 1
        found = {}
        for c in cs:
            own = c.withdrawal if c.withdrawal is not None else model.risk_figure("base") + model.risk_figure("uncommitted") * (1 - c.commit)
            raised = own + model.risk_figure("cross_tier") * cross + model.risk_figure("control_mismatch") * mismatch
            found[c.code] = min(0.95, raised)
        return found

    def survivors_saving(self, f: Function, stay: tuple[str, ...], option: Option) -> tuple[float, str | None]:
        """A'(T) and who leads T after the exit year (None: the partnership ends)."""
        if len(stay) < 2 or self.set_breaks(f, stay):
            return 0.0, None
        depth = next(d for d in self.model.depths if d.id == option.depth)
        if min(self.by_code[c].commit for c in stay) < depth.min_commitment:
            return 0.0, None
        cs = [self.by_code[c] for c in stay]
        b = {c: self.baseline(f, c) for c in stay}
        pops = [c.population for c in cs]
        rate = 1.0 - sum(pops) ** f.scale_exponent / sum(p**f.scale_exponent for p in pops)
        limit = self.within_km(f)

        def cost(host: Council) -> float | None:
            dist = {c.code: haversine(c, host) for c in cs}
            if limit is not None and max(dist.values()) > limit:
                return None
            return f.coordination * sum(b[c] * dist[c] for c in stay) / 100.0

        if option.host in stay:
            leader, k = option.host, cost(self.by_code[option.host])
        else:
            priced = [(cost(h), h.code) for h in cs if h.commit >= f.host_min_commitment and cost(h) is not None]
            if not priced:
                return 0.0, None
            k, leader = min(priced)
        return depth.capture * rate * sum(b.values()) - k, leader

    def after_leaving(self, f: Function, members: tuple[str, ...], option: Option, stay: set[str]) -> tuple[float, str | None]:
        """NPV(S -> T) for the survivors ``stay``, and who leads them."""
        model = self.model
        k = model.risk_figure("exit_year")
        kept = tuple(c for c in members if c in stay)
        later, leader = self.survivors_saving(f, kept, option)
        depth = next(d for d in model.depths if d.id == option.depth)
        return (option.annual * model.discounted(1, k, depth) + later * model.discounted(k + 1, model.horizon_years, depth)
                - option.one_off, leader)

    def expected_npv(self, f: Function, members: tuple[str, ...], option: Option) -> float:
        chance = self.chances(members)
        total = 0.0
        for size in range(len(members) + 1):
            for stay in itertools.combinations(members, size):
                weight = math.prod(1 - chance[c] if c in stay else chance[c] for c in members)
                total += weight * self.after_leaving(f, members, option, set(stay))[0]
        return total


# ---------------------------------------------------------------- brute force


@dataclass
class Group:
    function: int  # position in the run's functions
    members: tuple[str, ...]
    mask: int
    options: list[Option]
    locked: bool = False

    @property
    def best(self) -> float:
        return max(o.value for o in self.options)


@dataclass
class Optimum:
    """The brute-force answer: ``objective`` is None when no plan satisfies the rules."""

    objective: float | None
    plan: list[tuple[str, tuple[str, ...], Option]] = field(default_factory=list)
    nodes: int = 0

    @property
    def one_off(self) -> float:
        return sum(o.one_off for _, _, o in self.plan)

    def describe(self) -> str:
        if self.objective is None:
            return "infeasible"
        lines = [f"objective {self.objective:.6f}"]
        for fid, members, o in self.plan:
            lines.append(f"  {fid} {'+'.join(members)} host={o.host} depth={o.depth} platform={o.platform} "
                         f"npv={o.npv:.4f} one_off={o.one_off:.4f}")
        return "\n".join(lines)


def _prune(options: list[Option], unlimited_hosts: set[str], budgeted: bool, headroom: bool = False) -> list[Option]:
    """Drops options that another option of the same member set dominates.

    Exactness: option X may replace option Y (same members, so the same packing and
    max_partnerships use) in any plan when NPV(X) >= NPV(Y), X costs no more one-off (only
    checked under a budget: otherwise one-off cost constrains nothing) and X uses no more
    hosting capacity (same host, or a host with unlimited max_hosted). The swap keeps the
    plan feasible and does not lower its NPV, so the optimum over the kept options is the
    optimum over all. An option is dropped only if a *kept* option dominates it. Under headroom
    limits X must also bring no less net cash in any year (the members' shares are the same).
    """
    ranked = sorted(options, key=lambda o: (-o.value, o.one_off))
    kept: list[Option] = []
    for o in ranked:
        if not any(k.value >= o.value and (not budgeted or k.one_off <= o.one_off)
                   and (not headroom or all(a >= b for a, b in zip(k.cash, o.cash)))
                   and (k.host == o.host or k.host in unlimited_hosts) for k in kept):
            kept.append(o)
    return kept


def feasible_groups(case: Case, rules: Rules | None = None, *, prune: bool = True) -> tuple[list[Group], list[Group]]:
    """(candidate groups with their NPV > 0 options, locked groups with all their options).

    Raises ValueError if a locked group of the run breaks a rule (the engine must refuse it).
    """
    rules = rules or Rules(case)
    budgeted = case.options.budget is not None
    headroom = any(c.headroom is not None for c in case.councils)
    unlimited = {c.code for c in case.councils if c.max_hosted is None}
    position = {f.id: k for k, f in enumerate(rules.functions)}
    locked: list[Group] = []
    for p in case.partnerships:
        if not p.locked or p.function not in position:
            continue
        f = rules.functions[position[p.function]]
        members = tuple(sorted(p.members, key=rules.index.__getitem__))
        breaks = rules.set_breaks(f, members)
        options = rules.options(f, members) if not breaks else []
        if breaks or not options:
            raise ValueError(f"locked partnership {p.id} for {p.function} breaks a rule: {breaks or 'no host/depth'}")
        mask = sum(1 << rules.index[c] for c in members)
        locked.append(Group(position[p.function], members, mask, _prune(options, unlimited, budgeted, headroom) if prune else options, True))
    groups: list[Group] = []
    for k, f in enumerate(rules.functions):
        codes = rules.eligible_codes(f)
        for size in range(2, rules.max_size(f) + 1):
            for members in itertools.combinations(codes, size):
                if rules.set_breaks(f, members):
                    continue
                options = [o for o in rules.options(f, members) if o.value > 0 and (not case.options.robust or o.worst > 0)]
                if not options:
                    continue
                mask = sum(1 << rules.index[c] for c in members)
                groups.append(Group(k, members, mask, _prune(options, unlimited, budgeted, headroom) if prune else options))
    return groups, locked


def brute_force(case: Case, *, prune: bool = True, bound: bool = True, budget: float | None | str = "case",
                headroom: bool = True) -> Optimum:
    """The best total NPV over every plan the rules allow, by exhaustive search.

    The search goes function by function: first one option for each locked group, then,
    repeatedly, the lowest-numbered undecided eligible council either stays alone or joins
    a feasible group (of undecided councils) with one of its options; every council limit
    (max_partnerships, max_hosted) and the budget are checked as choices are made.

    With ``bound``, a branch is abandoned when even the best packing of every remaining
    council, each function on its own and ignoring the council limits and the budget (a
    relaxation, computed by a subset DP), could not beat the best plan found: exact.
    ``prune`` drops dominated options (see :func:`_prune`): also exact. Both can be turned
    off to check each other on small cases.

    Headroom limits (SPEC section 8) are checked on whole plans only: a later partnership's
    savings can cover an earlier one's costs in the same year, so a partial plan that breaks
    them may still be completed into one that does not. ``headroom=False`` ignores them (the
    plan the financing gap is measured on).
    """
    if not headroom:
        case = replace(case, councils=[replace(c, headroom=None) for c in case.councils])
    rules = Rules(case)
    limited = any(c.headroom is not None for c in case.councils)
    if budget == "case":
        budget = case.options.budget
    case_for_groups = case if budget == case.options.budget else replace(case, options=replace(case.options, budget=budget))
    groups, locked = feasible_groups(case_for_groups, rules, prune=prune)
    F = len(rules.functions)
    n = len(case.councils)
    codes = case.codes
    limit_joins = [c.max_partnerships for c in case.councils]
    limit_hosts = {c.code: c.max_hosted for c in case.councils}
    slack = 1e-9 * max(1.0, abs(budget)) if budget is not None else 0.0

    eligible_mask = [sum(1 << rules.index[c] for c in rules.eligible_codes(f)) for f in rules.functions]
    by_lowest = [[[] for _ in range(n)] for _ in range(F)]
    for g in groups:
        low = (g.mask & -g.mask).bit_length() - 1
        by_lowest[g.function][low].append(g)
    locked_by_function = [[g for g in locked if g.function == k] for k in range(F)]

    # best[k][mask]: best packing of the councils in mask for function k alone (no limits)
    best = []
    for k in range(F):
        table = [0.0] * (1 << n)
        for mask in range(1, 1 << n):
            low = (mask & -mask).bit_length() - 1
            value = table[mask & ~(1 << low)]
            for g in by_lowest[k][low]:
                if g.mask & mask == g.mask:
                    value = max(value, g.best + table[mask & ~g.mask])
            table[mask] = value
        best.append(table)
    # an upper bound on what functions k.. can still add (locked groups at their best NPV)
    rest = [0.0] * (F + 1)
    for k in range(F - 1, -1, -1):
        locked_mask = sum(g.mask for g in locked_by_function[k])
        rest[k] = rest[k + 1] + sum(g.best for g in locked_by_function[k]) + best[k][eligible_mask[k] & ~locked_mask]

    joins = [0] * n
    hosted = {c: 0 for c in codes}
    state = {"best": None, "plan": None, "nodes": 0, "spent": 0.0}
    chosen: list[tuple[str, tuple[str, ...], Option]] = []

    def fits(g: Group, o: Option) -> bool:
        for c in g.members:
            lim = limit_joins[rules.index[c]]
            if lim is not None and joins[rules.index[c]] + 1 > lim:
                return False
        lim = limit_hosts[o.host]
        if lim is not None and hosted[o.host] + 1 > lim:
            return False
        return budget is None or state["spent"] + o.one_off <= budget + slack

    def take(g: Group, o: Option, sign: int) -> None:
        for c in g.members:
            joins[rules.index[c]] += sign
        hosted[o.host] += sign
        state["spent"] += sign * o.one_off
        if sign > 0:
            chosen.append((rules.functions[g.function].id, g.members, o))
        else:
            chosen.pop()

    def finish(value: float) -> None:
        if limited and rules.headroom_breaks(chosen):
            return
        if state["best"] is None or value > state["best"]:
            state["best"] = value
            state["plan"] = list(chosen)

    def start_function(k: int, value: float) -> None:
        if k == F:
            finish(value)
            return
        place_locked(k, 0, value, 0)

    def place_locked(k: int, li: int, value: float, decided: int) -> None:
        if li == len(locked_by_function[k]):
            pack(k, decided, value)
            return
        g = locked_by_function[k][li]
        for o in g.options:
            if fits(g, o):
                take(g, o, +1)
                place_locked(k, li + 1, value + o.value, decided | g.mask)
                take(g, o, -1)

    def pack(k: int, decided: int, value: float) -> None:
        state["nodes"] += 1
        undecided = eligible_mask[k] & ~decided
        if bound and state["best"] is not None:
            if value + best[k][undecided] + rest[k + 1] <= state["best"]:
                return
        if not undecided:
            start_function(k + 1, value)
            return
        low = (undecided & -undecided).bit_length() - 1
        for g in by_lowest[k][low]:
            if g.mask & decided:
                continue
            for o in g.options:
                if fits(g, o):
                    take(g, o, +1)
                    pack(k, decided | g.mask, value + o.value)
                    take(g, o, -1)
        pack(k, decided | (1 << low), value)  # the council stays alone for this function

    start_function(0, 0.0)
    return Optimum(state["best"], state["plan"] or [], state["nodes"])


# ---------------------------------------------------------------- checking a plan.json by hand


def check_plan(case: Case, data: dict, *, rel: float = 1e-6) -> list[str]:
    """Problems with a plan.json dict under this module's reading of the rules (empty: fine)."""
    rules = Rules(case)
    problems = []
    position = {f.id: k for k, f in enumerate(rules.functions)}
    budget = case.options.budget
    locked = {(p.function, frozenset(p.members)) for p in case.partnerships if p.locked and p.function in position}
    seen: dict[tuple[str, str], str] = {}
    joins: dict[str, int] = {}
    hosted: dict[str, int] = {}
    spent = npv_sum = 0.0
    chosen = []

    def close(a, b):
        return isinstance(a, (int, float)) and abs(a - b) <= rel * abs(b) + 1e-6

    for p in data.get("partnerships", []):
        fid, members, pid = p["function"], tuple(p["members"]), p["id"]
        if fid not in position:
            problems.append(f"{pid}: function {fid} is not in the run")
            continue
        f = rules.functions[position[fid]]
        breaks = rules.set_breaks(f, members)
        if breaks:
            problems.append(f"{pid}: breaks {breaks}")
            continue
        match = [o for o in rules.options(f, members) if (o.host, o.depth, o.platform) == (p["host"], p["depth"], p["platform"])]
        if not match:
            problems.append(f"{pid}: host {p['host']} / depth {p['depth']} / platform {p['platform']} is not a valid option")
            continue
        o = match[0]
        expected = o.expected if o.expected is not None else rules.expected_npv(f, members, o)
        worst = o.worst if o.worst is not None else min(rules.after_leaving(f, members, o, set(members) - {c})[0] for c in members)
        for key, want in (("npv", o.npv), ("annual_saving", o.annual), ("one_off_cost", o.one_off),
                          ("expected_npv", expected), ("worst_withdrawal_npv", worst)):
            if not close(p[key], want):
                problems.append(f"{pid}: {key} {p[key]!r}, expected {want!r}")
        if p["robust"] != (worst > 0) and abs(worst) > 1e-6:
            problems.append(f"{pid}: robust is {p['robust']}, but the worst withdrawal leaves {worst}")
        if (fid, frozenset(members)) not in locked and not o.value > 0:
            problems.append(f"{pid}: NPV {o.value} is not positive")
        if case.options.robust and (fid, frozenset(members)) not in locked and not o.worst > 0:
            problems.append(f"{pid}: not robust (worst withdrawal leaves {o.worst})")
        for c in members:
            if (fid, c) in seen:
                problems.append(f"{pid}: {c} is also in {seen[(fid, c)]} for {fid}")
            seen[(fid, c)] = pid
            joins[c] = joins.get(c, 0) + 1
        hosted[p["host"]] = hosted.get(p["host"], 0) + 1
        spent += o.one_off
        npv_sum += o.value
        chosen.append((fid, members, o))
        locked.discard((fid, frozenset(members)))
    for fid, members in locked:
        problems.append(f"locked group {sorted(members)} for {fid} is missing")
    for c in case.councils:
        if c.max_partnerships is not None and joins.get(c.code, 0) > c.max_partnerships:
            problems.append(f"{c.code} joins {joins[c.code]} > max_partnerships {c.max_partnerships}")
        if c.max_hosted is not None and hosted.get(c.code, 0) > c.max_hosted:
            problems.append(f"{c.code} hosts {hosted[c.code]} > max_hosted {c.max_hosted}")
    if budget is not None and spent > budget * (1 + 1e-9) + 1e-6:
        problems.append(f"one-off {spent} above budget {budget}")
    problems += rules.headroom_breaks(chosen, slack=1e-6)
    if not close(data["solver"]["objective"], npv_sum):
        problems.append(f"objective {data['solver']['objective']} but partnerships' NPV sums to {npv_sum}")
    return problems


# ---------------------------------------------------------------- random cases


def _geography(rng: random.Random) -> tuple[str, ...]:
    if rng.random() < 0.12:
        return ("none",)
    rules = []
    if rng.random() < 0.5:
        rules.append("contiguous")
    if rng.random() < 0.45:
        rules.append(f"within_km:{rng.choice([25, 40, 60, 80, 100, 150])}")
    for kind in ("same_region", "same_county", "same_nation"):
        if rng.random() < 0.2:
            rules.append(kind)
    if not rules:
        return ("none",) if rng.random() < 0.5 else ("contiguous",)
    rng.shuffle(rules)
    return tuple(rules)


def random_model(rng: random.Random, tiers: tuple[str, ...]) -> Model:
    depths = []
    for k in range(rng.randint(1, 3)):
        depths.append(Depth(
            id=f"depth-{k + 1}",
            capture=round(rng.uniform(0.2, 1.0), 3),
            one_off=round(rng.choice([0.0, rng.uniform(0.02, 0.5)]), 3),
            min_commitment=0.0 if k == 0 and rng.random() < 0.7 else rng.choice([0.0, 0.3, 0.5, 0.6, 0.8]),
            common_platform=rng.random() < 0.5,
        ))
    default_max = rng.randint(2, 4)
    default_geo = _geography(rng)
    default_host = rng.choice([0.0, 0.3, 0.5, 0.5, 0.7])
    functions = []
    for fid in FUNCTION_IDS[: rng.randint(2, 3)]:
        f_tiers = tuple(t for t in tiers if rng.random() < 0.7) or (rng.choice(tiers),)
        overrides = []
        max_size, geo, host = default_max, default_geo, default_host
        if rng.random() < 0.3:
            max_size = rng.randint(2, 4)
            overrides.append("max_size")
        if rng.random() < 0.35:
            geo = _geography(rng)
            overrides.append("geography")
        if rng.random() < 0.2:
            host = rng.choice([0.0, 0.5, 0.8])
            overrides.append("host_min_commitment")
        functions.append(Function(
            id=fid,
            tiers=f_tiers,
            per_capita=round(rng.uniform(5, 60), 2),
            scale_exponent=round(rng.uniform(0.6, 0.95), 3),
            coordination=rng.choice([0.0, round(rng.uniform(0.0, 0.05), 4)]),
            migration=round(rng.uniform(0.0, 0.5), 3),
            max_size=max_size,
            geography=geo,
            host_min_commitment=host,
            overrides=tuple(overrides),
        ))
    extra = ("metropolitan",) if rng.random() < 0.3 else ()
    return Model(
        name="random-model",
        tiers=tiers + extra,
        horizon_years=rng.randint(3, 15),
        discount_rate=round(rng.uniform(0.0, 0.08), 4),
        default_max_size=default_max,
        default_geography=default_geo,
        default_host_min_commitment=default_host,
        depths=depths,
        functions=functions,
    )


def random_councils(rng: random.Random, n: int, tiers: tuple[str, ...], functions: list[Function], limits: float = 0.2) -> list[Council]:
    lat0, lon0 = 52.0 + rng.uniform(-1, 1), -1.0 + rng.uniform(-1, 1)
    regions = ["RGN-A", "RGN-B"][: rng.randint(1, 2)]
    nations = ["england", "wales"] if rng.random() < 0.3 else ["england"]
    counties = ["CTY-1", "CTY-2"][: rng.randint(1, 2)]
    councils = []
    for i in range(n):
        # mostly a tier some function serves, so that most instances have groups to choose
        tier = rng.choice(rng.choice(functions).tiers) if rng.random() < 0.8 else rng.choice(tiers)
        code = f"X{i + 1:02d}"
        county = rng.choice(counties) if tier == "district" or rng.random() < 0.2 else ""
        councils.append(Council(
            code=code,
            name=f"Place {i + 1}",
            tier=tier,
            nation=rng.choice(nations),
            region=rng.choice(regions),
            county=county,
            population=rng.randint(20_000, 600_000),
            lat=round(lat0 + rng.uniform(-0.75, 0.75), 5),
            lon=round(lon0 + rng.uniform(-0.75, 0.75), 5),
            commitment=None if rng.random() < 0.35 else rng.choice([0.2, 0.5, 0.6, 0.75, 0.9, 1.0, 1.0, round(rng.random(), 2)]),
            max_partnerships=rng.choice([0, 1, 1, 2]) if rng.random() < limits else None,
            max_hosted=rng.choice([0, 1, 1]) if rng.random() < limits else None,
        ))
    return councils


def random_case(rng: random.Random, seed: int | None = None, *, n_range=(3, 8), budget: bool | None = None,
                lock: bool | None = None, coupled: bool = False, withdrawal: bool = False, finance: bool = False) -> Case:
    """A random tiny case; ``budget``/``lock`` force a budget or a locked group (None: random).

    ``coupled`` draws cases where the functions compete for the same councils: three
    functions open to every tier, council limits (max_partnerships, max_hosted) on about
    half the councils, more coordination cost (so which member hosts matters), several
    depths (so one-off cost trades against NPV) and usually a budget.

    ``withdrawal`` adds SPEC section 5: a [risk] table, some councils' own withdrawal chance
    and political control, and the expected objective and --robust, each at random.

    ``finance`` adds SPEC section 8: ramps on most depths, half the time the withdrawal
    figures of section 5 too (which follow the ramps), half the time a loan, and headroom
    limits on most councils.
    """
    tiers = tuple(rng.sample(TIER_LABELS, rng.randint(2, 3)))
    model = random_model(rng, tiers)
    n = rng.randint(*n_range)
    if coupled:
        model.functions = [replace(f, tiers=tiers, coordination=round(rng.uniform(0.02, 0.08), 4)) for f in model.functions]
        while len(model.depths) < 2:
            k = len(model.depths)
            model.depths.append(Depth(f"depth-{k + 1}", round(rng.uniform(0.5, 1.0), 3), round(rng.uniform(0.1, 0.6), 3), 0.0, rng.random() < 0.5))
        if len(model.functions) < 3:
            f = model.functions[0]
            model.functions.append(replace(f, id=FUNCTION_IDS[2], per_capita=round(rng.uniform(5, 60), 2)))
    if finance:
        _draw_ramps(rng, model)
        withdrawal = withdrawal or rng.random() < 0.5
    councils = random_councils(rng, n, tiers, model.functions, limits=0.5 if coupled else 0.2)
    codes = [c.code for c in councils]

    density = rng.choice([0.25, 0.4, 0.6, 0.8])
    edges = [(a, b) for a, b in itertools.combinations(codes, 2) if rng.random() < density]
    if edges and rng.random() < 0.2:  # a repeated pair (reversed) is one edge
        a, b = rng.choice(edges)
        edges.append((b, a))

    spend, platforms = {}, {}
    for f in model.functions:
        for c in councils:
            if rng.random() < 0.5:
                spend[(c.code, f.id)] = 0.0 if rng.random() < 0.03 else round(f.per_capita * c.population * rng.uniform(0.4, 1.6), 2)
            if rng.random() < 0.5:
                platforms[(c.code, f.id)] = rng.choice(PLATFORMS)

    fids = [f.id for f in model.functions]
    options = Options()
    if not coupled and rng.random() < 0.2:
        options.functions = tuple(rng.sample(fids, rng.randint(1, len(fids))))
    if rng.random() < 0.3:
        options.exclude = tuple((rng.choice(codes), rng.choice(fids)) for _ in range(rng.randint(1, 2)))
    if rng.random() < 0.3:
        options.apart = tuple(tuple(rng.sample(codes, 2)) for _ in range(rng.randint(1, 2)))
    if rng.random() < 0.12:
        c = rng.choice(councils)
        options.area = (rng.choice([c.region, c.nation, c.code] + ([c.county] if c.county else [])),)
    if rng.random() < 0.1:
        options.max_size = rng.randint(2, 3)

    if withdrawal:
        _draw_withdrawal(rng, model, councils, options)
    case = Case(seed, councils, edges, spend, platforms, [], model, options, with_border=rng.random() < 0.5)
    rules = Rules(case)

    # existing partnerships: unlocked ones are informational; a locked one must obey the rules
    if rng.random() < 0.3:
        f = rng.choice(model.functions)
        members = tuple(rng.sample(codes, rng.randint(2, min(3, n))))
        host = rng.choice(members + (None,))
        case.partnerships.append(Existing("old-1", f.id, members, host, False))
    outside = [f for f in model.functions if f not in rules.functions]
    if outside and rng.random() < 0.5:
        # a locked group for a function the run leaves out: ignored, whatever rule it breaks
        f = rng.choice(outside)
        case.partnerships.append(Existing("lock-out", f.id, tuple(rng.sample(codes, 2)), None, True))
    if lock if lock is not None else rng.random() < 0.45:
        for attempt in range(20):
            f = rng.choice(rules.functions)
            pool = rules.eligible_codes(f)
            if len(pool) < 2:
                continue
            size = rng.randint(2, min(len(pool), rules.max_size(f)))
            members = tuple(rng.sample(pool, size))
            if rules.set_breaks(f, members) or not rules.options(f, members):
                continue
            case.partnerships.append(Existing(f"lock-{attempt}", f.id, members, rng.choice(members + (None,)), True))
            break

    if budget if budget is not None else rng.random() < (0.8 if coupled else 0.4):
        free = brute_force(case, budget=None)
        total = free.one_off if free.objective is not None else 0.0
        roll = rng.random()
        if roll < 0.1:
            options.budget = 0.0
        elif roll < 0.25 or total <= 0:
            options.budget = round(total * 1.5 + rng.uniform(0, 1e5), 2)
        else:
            options.budget = round(total * rng.uniform(0.15, 0.95), 2)
    if finance:
        _draw_finance(rng, case)
    return case


def _draw_finance(rng: random.Random, case: Case) -> None:
    """A loan half the time, and headrooms on most councils: drawn around what the plan
    without them would ask of each council in its worst year, so that they often bind."""
    model = case.model
    if rng.random() < 0.5:
        years = rng.randint(1, model.horizon_years)
        case.options.loan = (rng.choice([0.0, round(rng.uniform(0.0, 0.08), 4)]), years, rng.choice(["annuity", "eip", "maturity"]))
    free = brute_force(case, headroom=False)
    worst = {code: min(cash) for code, cash in Rules(case).council_cash(free.plan).items()} if free.objective is not None else {}
    for c in case.councils:
        if rng.random() < 0.7:
            need = max(0.0, -worst.get(c.code, 0.0))
            c.headroom = 0.0 if rng.random() < 0.15 else round(need * rng.uniform(0.2, 1.3) + rng.choice([0.0, 1e3]), 2)


def _draw_ramps(rng: random.Random, model: Model) -> None:
    """Ramps of one to four years on most depths; some end below 1, a few fall back to 0."""
    for k, d in enumerate(model.depths):
        if rng.random() < 0.8:
            ramp = sorted(round(rng.uniform(0.0, 1.0), 3) for _ in range(rng.randint(1, 4)))
            if rng.random() < 0.5:
                ramp.append(1.0)
            elif rng.random() < 0.15:
                ramp.append(0.0)
            model.depths[k] = replace(d, ramp=tuple(ramp))


def _draw_withdrawal(rng: random.Random, model: Model, councils: list[Council], options: Options) -> None:
    if rng.random() < 0.85:
        model.risk = {key: rng.choice([0.0, round(rng.uniform(0.0, 0.4), 3)])
                      for key in ("base", "uncommitted", "cross_tier", "control_mismatch") if rng.random() < 0.7}
        if model.horizon_years >= 2 and rng.random() < 0.6:
            model.risk["exit_year"] = rng.randint(1, model.horizon_years - 1)
    for c in councils:
        if rng.random() < 0.3:
            c.withdrawal = rng.choice([0.0, round(rng.uniform(0.0, 0.9), 3)])
        c.control = rng.choice(["", "Red", "Blue", "Blue", "no overall control"])
    options.objective = rng.choice(["npv", "expected", "expected"])
    options.robust = rng.random() < 0.5


# ---------------------------------------------------------------- writing the files


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in rows:
            writer.writerow([_fmt(v) for v in row])


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def model_toml(model: Model) -> str:
    lines = [f"name = {_toml_value(model.name)}", 'title = "A random model for property tests"',
             f"tiers = {_toml_value(list(model.tiers))}", "", "[finance]",
             f"horizon_years = {model.horizon_years}", f"discount_rate = {float(model.discount_rate)!r}", "", "[rules]",
             f"max_size = {model.default_max_size}", f"geography = {_toml_value(list(model.default_geography))}",
             f"host_min_commitment = {float(model.default_host_min_commitment)!r}"]
    for d in model.depths:
        lines += ["", "[[depths]]", f"id = {_toml_value(d.id)}", f"capture = {float(d.capture)!r}",
                  f"one_off = {float(d.one_off)!r}", f"min_commitment = {float(d.min_commitment)!r}",
                  f"common_platform = {_toml_value(d.common_platform)}"]
        if d.ramp != (1.0,):
            lines.append(f"ramp = {_toml_value([float(v) for v in d.ramp])}")
    for f in model.functions:
        lines += ["", "[[functions]]", f"id = {_toml_value(f.id)}", f"tiers = {_toml_value(list(f.tiers))}",
                  f"per_capita = {float(f.per_capita)!r}", f"scale_exponent = {float(f.scale_exponent)!r}",
                  f"coordination = {float(f.coordination)!r}", f"migration = {float(f.migration)!r}"]
        if "max_size" in f.overrides:
            lines.append(f"max_size = {f.max_size}")
        if "geography" in f.overrides:
            lines.append(f"geography = {_toml_value(list(f.geography))}")
        if "host_min_commitment" in f.overrides:
            lines.append(f"host_min_commitment = {float(f.host_min_commitment)!r}")
    if model.risk is not None:
        lines += ["", "[risk]"] + [f"{key} = {_toml_value(value)}" for key, value in model.risk.items()]
    return "\n".join(lines) + "\n"


def write_case(case: Case, folder: str | Path) -> tuple[Path, Path]:
    """Writes the case as ``folder/instance/`` and ``folder/model.toml``; returns both paths."""
    folder = Path(folder)
    inst = folder / "instance"
    inst.mkdir(parents=True, exist_ok=True)
    model_path = folder / "model.toml"
    model_path.write_text(model_toml(case.model), encoding="utf-8")
    tables = ['councils = "councils.csv"', 'adjacency = "adjacency.csv"']
    if case.spend:
        tables.append('spend = "spend.csv"')
    if case.platforms:
        tables.append('platforms = "platforms.csv"')
    if case.partnerships:
        tables.append('partnerships = "partnerships.csv"')
    (inst / "instance.toml").write_text(
        f'name = "random-{case.seed}"\ntitle = "Random case, seed {case.seed}"\nmodel = {_toml_value(str(model_path.resolve()))}\n\n'
        "[tables]\n" + "\n".join(tables) + "\n", encoding="utf-8")
    _write_csv(inst / "councils.csv",
               ["code", "name", "tier", "nation", "region", "county", "population", "lat", "lon", "commitment", "max_partnerships", "max_hosted",
                "control", "withdrawal", "headroom"],
               [[c.code, c.name, c.tier, c.nation, c.region, c.county, c.population, c.lat, c.lon, c.commitment,
                 c.max_partnerships, c.max_hosted, c.control, c.withdrawal, c.headroom] for c in case.councils])
    by_code = {c.code: c for c in case.councils}
    if case.with_border:
        _write_csv(inst / "adjacency.csv", ["a", "b", "border_km"],
                   [[a, b, round(haversine(by_code[a], by_code[b]) / 3, 3)] for a, b in case.edges])
    else:
        _write_csv(inst / "adjacency.csv", ["a", "b"], [[a, b] for a, b in case.edges])
    if case.spend:
        _write_csv(inst / "spend.csv", ["code", "function", "baseline"], [[c, f, v] for (c, f), v in case.spend.items()])
    if case.platforms:
        _write_csv(inst / "platforms.csv", ["code", "function", "platform"], [[c, f, v] for (c, f), v in case.platforms.items()])
    if case.partnerships:
        rows = [[p.id, p.function, code, code == p.host, p.locked] for p in case.partnerships for code in p.members]
        _write_csv(inst / "partnerships.csv", ["id", "function", "code", "host", "locked"], rows)
    case.instance_dir, case.model_path = inst, model_path
    return inst, model_path


def write_random_instance(rng: random.Random, folder: str | Path) -> tuple[Path, Path]:
    """Draws a random tiny case from ``rng`` and writes it under ``folder``."""
    return write_case(random_case(rng), folder)


#: named kinds of random case: keyword arguments of :func:`random_case`
PROFILES = {
    "default": {},
    "coupled": {"coupled": True},  # functions competing for councils: limits, budgets, hosts
    "wide": {"n_range": (9, 12)},  # more councils: more candidates than any starting set
    "risky": {"withdrawal": True},  # withdrawal chances, the expected objective, --robust
    "finance": {"finance": True},  # ramps (SPEC section 8), often with withdrawal figures
}


def make_case(seed: int, folder: str | Path, profile: str = "default", **kwargs) -> Case:
    """The case of one seed and profile, written under ``folder`` (the seed is the whole story)."""
    case = random_case(random.Random(seed), seed, **{**PROFILES[profile], **kwargs})
    write_case(case, folder)
    return case


def _without_council(case: Case, code: str) -> Case:
    o = case.options
    options = replace(o, exclude=tuple(e for e in o.exclude if e[0] != code), apart=tuple(a for a in o.apart if code not in a),
                      area=tuple(t for t in o.area if t != code))
    if o.area and not options.area:
        options = replace(options, area=())
    partnerships = []
    for p in case.partnerships:
        members = tuple(m for m in p.members if m != code)
        if len(members) >= 2:
            partnerships.append(replace(p, members=members, host=p.host if p.host in members else None))
    return replace(case, councils=[c for c in case.councils if c.code != code], edges=[e for e in case.edges if code not in e],
                   spend={k: v for k, v in case.spend.items() if k[0] != code},
                   platforms={k: v for k, v in case.platforms.items() if k[0] != code}, partnerships=partnerships, options=options)


def _without_function(case: Case, fid: str) -> Case:
    o = case.options
    model = replace(case.model, functions=[f for f in case.model.functions if f.id != fid])
    options = replace(o, exclude=tuple(e for e in o.exclude if e[1] != fid), functions=tuple(f for f in o.functions if f != fid))
    if o.functions and not options.functions:
        return case
    return replace(case, model=model, options=options, spend={k: v for k, v in case.spend.items() if k[1] != fid},
                   platforms={k: v for k, v in case.platforms.items() if k[1] != fid},
                   partnerships=[p for p in case.partnerships if p.function != fid])


def _simplifications(case: Case):
    """Smaller or plainer variants of a case, most drastic first (for :func:`shrink`)."""
    for c in case.councils:
        if len(case.councils) > 2:
            yield _without_council(case, c.code)
    for f in case.model.functions:
        if len(case.model.functions) > 1:
            yield _without_function(case, f.id)
    for d in case.model.depths:
        if len(case.model.depths) > 1:
            yield replace(case, model=replace(case.model, depths=[x for x in case.model.depths if x is not d]))
    if case.partnerships:
        yield replace(case, partnerships=[])
    o = case.options
    for name, empty in (("budget", None), ("exclude", ()), ("apart", ()), ("area", ()), ("functions", ()), ("max_size", None)):
        if getattr(o, name) != empty:
            yield replace(case, options=replace(o, **{name: empty}))
    for name in ("exclude", "apart"):
        for k in range(len(getattr(o, name))):
            values = getattr(o, name)
            yield replace(case, options=replace(o, **{name: values[:k] + values[k + 1:]}))
    for k, f in enumerate(case.model.functions):
        simpler = [("geography", ("none",)), ("coordination", 0.0), ("migration", 0.0), ("host_min_commitment", 0.0),
                   ("tiers", tuple(case.model.tiers))]
        for name, value in simpler:
            if getattr(f, name) != value:
                functions = list(case.model.functions)
                overrides = f.overrides + ((name,) if name in ("geography", "host_min_commitment") else ())
                functions[k] = replace(f, **{name: value}, overrides=overrides)
                yield replace(case, model=replace(case.model, functions=functions))
    for k, d in enumerate(case.model.depths):
        for name, value in (("min_commitment", 0.0), ("common_platform", False), ("one_off", 0.0)):
            if getattr(d, name) != value:
                depths = list(case.model.depths)
                depths[k] = replace(d, **{name: value})
                yield replace(case, model=replace(case.model, depths=depths))
    for k, c in enumerate(case.councils):
        for name, value in (("max_partnerships", None), ("max_hosted", None), ("commitment", None), ("county", ""),
                            ("region", "RGN-A"), ("nation", "england")):
            if getattr(c, name) != value:
                councils = list(case.councils)
                councils[k] = replace(c, **{name: value})
                yield replace(case, councils=councils)
    for k in range(len(case.edges)):
        yield replace(case, edges=case.edges[:k] + case.edges[k + 1:])
    for key in list(case.spend):
        yield replace(case, spend={k: v for k, v in case.spend.items() if k != key})
    for key in list(case.platforms):
        yield replace(case, platforms={k: v for k, v in case.platforms.items() if k != key})


def shrink(case: Case, fails, *, rounds: int = 50) -> Case:
    """A smallest variant of ``case`` for which ``fails(case)`` still holds (greedy, one step at a time).

    ``fails`` gets an unwritten case (write it yourself); variants whose locked groups break
    a rule are skipped.
    """
    for _ in range(rounds):
        for variant in _simplifications(case):
            try:
                feasible_groups(variant)
            except ValueError:
                continue
            if fails(variant):
                case = variant
                break
        else:
            return case
    return case


def cli_command(case: Case, method: str = "exact", solver: str = "highs") -> str:
    """The ``optimiser solve`` command line that runs this case (for reproductions)."""
    o = case.options
    parts = ["python -m optimiser solve", str(case.instance_dir), "--model", str(case.model_path),
             "--method", method, "--solver", solver]
    if o.budget is not None:
        parts += ["--budget", repr(o.budget)]
    for c, f in o.exclude:
        parts += ["--exclude", f"{c}:{f}"]
    for a, b in o.apart:
        parts += ["--apart", f"{a}:{b}"]
    if o.functions:
        parts += ["--functions", ",".join(o.functions)]
    if o.loan:
        parts += ["--loan", o.loan_text]
    if o.area:
        parts += ["--area", ",".join(o.area)]
    if o.max_size is not None:
        parts += ["--max-size", str(o.max_size)]
    return " ".join(parts)


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - a reproduction helper
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description="Writes the random case of a seed and prints its brute-force optimum.")
    parser.add_argument("seed", type=int)
    parser.add_argument("folder", nargs="?")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="default", help="kind of case (test_property's test names say which)")
    args = parser.parse_args(argv)
    out = Path(args.folder) if args.folder else Path(tempfile.mkdtemp(prefix=f"case-{args.seed}-"))
    case = make_case(args.seed, out, args.profile)
    print(f"written to {out}; options: {case.options.describe()}")
    print(cli_command(case))
    print(brute_force(case).describe())


if __name__ == "__main__":  # pragma: no cover
    main()
