"""Invest to save (SPEC §8): what each council pays and saves, year by year, and how it is financed.

For a plan's partnerships, year 0 is the day the one-off costs are spent and years 1..T
those of the horizon. A partnership saves A ramp_t in year t; without a loan it pays its
one-off cost O in year 0; with ``--loan`` it borrows O and pays the debt service D_t of the
loan's schedule instead. Each member carries its baseline share b_i / B of all three, and a
council's net cash in a year is the sum over its partnerships (every function together). Its
*worst year* is the year of its lowest net cash (the earliest of equals); the headroom of
``councils.csv`` bounds that from below, and the plan's rows hold it (``rules.limits``).

The *financing gap* is measured on the plan of the same run without headroom limits: the
sum over councils of how far their worst year falls below minus their headroom.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..economics.finance import financed_npv, loan_schedule, ramp_factors
from ..plan import Plan
from ..problem import Problem

#: a shortfall below this share of the headroom (or a pound) is rounding, not a shortfall
BINDING_SLACK = 1e-6


@dataclass(frozen=True)
class Flows:
    """Yearly amounts for years 0..T, each an array of T + 1 non-negative pounds (saving may
    be negative only for a locked partnership that loses money every year)."""

    saving: np.ndarray
    one_off: np.ndarray  # the part of the one-off cost not financed by a loan
    debt_service: np.ndarray

    @property
    def net(self) -> np.ndarray:
        return self.saving - self.one_off - self.debt_service

    def __add__(self, other: "Flows") -> "Flows":
        return Flows(self.saving + other.saving, self.one_off + other.one_off, self.debt_service + other.debt_service)

    def __mul__(self, share: float) -> "Flows":
        return Flows(self.saving * share, self.one_off * share, self.debt_service * share)

    @classmethod
    def zero(cls, horizon: int) -> "Flows":
        return cls(np.zeros(horizon + 1), np.zeros(horizon + 1), np.zeros(horizon + 1))


def partnership_flows(problem: Problem, annual: float, one_off: float, depth: str) -> Flows:
    """One partnership's saving, unfinanced one-off cost and debt service in years 0..T."""
    horizon = problem.model.horizon_years
    ramp = next(d.ramp for d in problem.model.depths if d.id == depth)
    saving = np.r_[0.0, annual * ramp_factors(ramp, horizon)]
    terms = problem.loan
    paid = np.zeros(horizon + 1)
    debt = np.zeros(horizon + 1)
    if terms is None:
        paid[0] = one_off
    else:
        debt[1:] = loan_schedule(one_off, terms, horizon).payment
    return Flows(saving, paid, debt)


def member_shares(problem: Problem, function: str, members) -> dict[str, float]:
    """b_i / B of each member (an even split when the group has no baseline at all)."""
    k = next(n for n, f in enumerate(problem.functions) if f.id == function)
    index = {c: i for i, c in enumerate(problem.codes)}
    b = {c: float(problem.baseline[k, index[c]]) for c in members}
    total = sum(b.values())
    return {c: b[c] / total if total > 0 else 1.0 / len(members) for c in members}


@dataclass(frozen=True)
class PlanFlows:
    """Every partnership's flows (by id), every member council's (by code, in the instance's
    order) and the plan's together."""

    partnerships: dict
    councils: dict
    total: Flows


def plan_flows(problem: Problem, partnerships) -> PlanFlows:
    horizon = problem.model.horizon_years
    by_partnership, by_council = {}, {}
    total = Flows.zero(horizon)
    for p in partnerships:
        flows = partnership_flows(problem, p.annual_saving, p.one_off_cost, p.depth)
        by_partnership[p.id] = flows
        total = total + flows
        for code, share in member_shares(problem, p.function, p.members).items():
            by_council[code] = by_council.get(code, Flows.zero(horizon)) + flows * share
    order = {c: i for i, c in enumerate(problem.codes)}
    return PlanFlows(by_partnership, dict(sorted(by_council.items(), key=lambda kv: order[kv[0]])), total)


def worst_year(net: np.ndarray) -> int:
    """The year of the lowest net cash, the earliest of equals."""
    return int(np.argmin(net))


def shortfalls(problem: Problem, flows: PlanFlows) -> dict[str, float]:
    """How far each council's worst year falls below minus its headroom (only councils that fall short)."""
    index = {c: i for i, c in enumerate(problem.codes)}
    found = {}
    for code, f in flows.councils.items():
        limit = float(problem.headroom[index[code]])
        short = -float(f.net.min()) - limit
        if np.isfinite(limit) and short > BINDING_SLACK * max(1.0, limit):
            found[code] = short
    return found


def _pennies(x) -> float:
    return float(round(float(x), 2))


def finance_section(problem: Problem, plan: Plan, flows: PlanFlows, free: Plan | None, free_flows: PlanFlows | None) -> dict:
    """plan.json's ``finance`` (see the module docstring and README)."""
    index = {c: i for i, c in enumerate(problem.codes)}
    names = problem.instance.councils["name"].tolist()
    terms = problem.loan
    short = shortfalls(problem, free_flows if free_flows is not None else flows)
    councils = {}
    for code, f in flows.councils.items():
        year = worst_year(f.net)
        limit = float(problem.headroom[index[code]])
        net = float(f.net[year])
        used = max(0.0, -net) / limit if np.isfinite(limit) and limit > 0 else None
        # binds: the headroom shapes the plan (the council would fall short without the limits)
        councils[code] = {"name": names[index[code]], "worst_year": year, "net_cash": net,
                          "headroom": limit if np.isfinite(limit) else None, "headroom_used": used, "binds": code in short,
                          "financed_npv": float(financed_npv(f.net, problem.model.discount_rate))}
    section = {
        "loan": terms.to_dict() if terms else None,
        "borrowed": float(sum(p.one_off_cost for p in plan.partnerships)) if terms else 0.0,
        "peak_debt_service": float(flows.total.debt_service.max()),
        "financed_npv": float(financed_npv(flows.total.net, problem.model.discount_rate)),
        "councils": councils,
        "financing_gap": float(sum(short.values())),
        "shortfalls": short,
    }
    if free is not None:
        section["without_headroom"] = {
            "npv": free.totals.npv,
            "partnerships": [{"function": p.function, "members": list(p.members), "host": p.host, "depth": p.depth,
                              "platform": p.platform} for p in free.partnerships],
        }
    return section


def cashflow_rows(problem: Problem, plan: Plan, flows: PlanFlows) -> list[dict]:
    """cashflow.csv: the plan's rows, then each partnership's, then each member council's."""
    names = dict(zip(problem.codes, problem.instance.councils["name"].tolist()))
    rows = []

    def add(level: str, ident: str, name: str, function: str, f: Flows) -> None:
        for year in range(len(f.saving)):
            # in pounds and pence, net from the rounded parts so that each row adds up
            saving, one_off, debt = (_pennies(x[year]) for x in (f.saving, f.one_off, f.debt_service))
            rows.append({"level": level, "id": ident, "name": name, "function": function, "year": year,
                         "saving": saving, "one_off": one_off, "debt_service": debt,
                         "net": _pennies(saving - one_off - debt)})

    add("plan", "plan", "all partnerships", "", flows.total)
    for p in plan.partnerships:
        add("partnership", p.id, " + ".join(names[c] for c in p.members), p.function, flows.partnerships[p.id])
    for code, f in flows.councils.items():
        add("council", code, names[code], "", f)
    return rows


def with_finance(problem: Problem, plan: Plan, free: Plan | None = None) -> Plan:
    """``plan`` with its ``finance`` section and cash-flow rows; ``free`` is the plan of the same
    run without headroom limits (None when no council of the run has a headroom)."""
    flows = plan_flows(problem, plan.partnerships)
    free_flows = plan_flows(problem, free.partnerships) if free is not None else None
    return replace(plan, finance=finance_section(problem, plan, flows, free, free_flows),
                   cashflow=tuple(cashflow_rows(problem, plan, flows)))
