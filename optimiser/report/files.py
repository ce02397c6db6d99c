"""The files a solve writes for people and their tools: plan.json (SPEC §4, with the data's
attribution), partnerships.csv and councils.csv with names beside codes and money in whole
pounds, council_summary.csv (each council across functions), plan.geojson for GIS, and a
README.txt that says what each file is and whose data it holds."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..io.tables import csv_text, write_atomically
from ..plan import COUNCIL_FIELDS, PARTNERSHIP_FIELDS
from .labels import Labels, pounds

PARTNERSHIP_MONEY = ("annual_saving", "one_off_cost", "npv", "expected_npv", "worst_withdrawal_npv",
                     "core_excess_proportional", "core_excess_shapley", "core_excess_nucleolus")
COUNCIL_MONEY = ("baseline", "npv_share", "annual_saving_share", "one_off_share", "transfer")
#: partnerships.csv: the plan's fields (SPEC §4), each code followed by its name
PARTNERSHIP_COLUMNS = ["id", "function", "function_title", "members", "member_names", "host", "host_name", "depth",
                       "platform", "platform_name", *PARTNERSHIP_FIELDS[6:12], "worst_withdrawal_name", *PARTNERSHIP_FIELDS[12:]]
COUNCIL_COLUMNS = ["code", "name", "function", "function_title", "partnership", *COUNCIL_FIELDS[3:]]
SUMMARY_COLUMNS = ["code", "name", "tier", "functions", "partnerships_joined", "partnerships", "partnerships_hosted",
                   "hosts", "baseline", "baseline_estimated_functions", "annual_saving", "one_off_cost", "npv_share",
                   "transfer"]
OUTPUT_FILES = ("plan.json", "partnerships.csv", "councils.csv", "council_summary.csv", "cashflow.csv", "plan.geojson", "README.txt")


def plan_json(plan, labels: Labels) -> str:
    """plan.json as SPEC §4 defines it, with the instance's attribution statements."""
    data = plan.to_dict()
    data["attribution"] = list(labels.attribution)
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def partnerships_csv(plan, labels: Labels) -> str:
    rows = []
    for p in plan.partnerships:
        row = {**p.to_dict(), "members": " ".join(p.members),
               "withdrawal": " ".join(f"{code}:{chance:.4g}" for code, chance in (p.withdrawal or {}).items()),
               **{f"core_excess_{rule}": excess for rule, excess in (p.core_excess or {}).items()}}
        row.update(function_title=labels.function(p.function), member_names="; ".join(labels.council(c) for c in p.members),
                   host_name=labels.council(p.host), platform_name=labels.platform(p.platform),
                   worst_withdrawal_name=labels.council(p.worst_withdrawal) if p.worst_withdrawal else None)
        for key in PARTNERSHIP_MONEY:
            row[key] = pounds(row.get(key))
        if row.get("payback_years") is not None:
            row["payback_years"] = round(row["payback_years"], 2)
        rows.append(row)
    return csv_text(PARTNERSHIP_COLUMNS, rows)


def councils_csv(plan, labels: Labels) -> str:
    rows = []
    for c in plan.councils:
        row = {**c.to_dict(), "name": labels.council(c.code), "function_title": labels.function(c.function)}
        for key in COUNCIL_MONEY:
            row[key] = pounds(row[key])
        rows.append(row)
    return csv_text(COUNCIL_COLUMNS, rows)


@dataclass(frozen=True)
class CouncilRollUp:
    """One council across every function of a plan."""

    code: str
    name: str
    functions: tuple[str, ...]  # the functions it takes part in (eligible) in this run
    partnerships: tuple[str, ...]  # ids of the partnerships it joins
    hosted: tuple[str, ...]  # ids of those it leads
    baseline: float
    estimated: tuple[str, ...]  # functions whose baseline was estimated
    annual_saving: float
    one_off_cost: float
    npv_share: float
    transfer: float


def council_roll_up(plan, labels: Labels) -> list[CouncilRollUp]:
    """Every council of the plan, in the order its rows first appear."""
    hosts = {p.id: p.host for p in plan.partnerships}
    found: dict[str, dict] = {}
    for c in plan.councils:
        e = found.setdefault(c.code, {"functions": [], "partnerships": [], "hosted": [], "baseline": 0.0, "estimated": [],
                                      "annual": 0.0, "one_off": 0.0, "npv": 0.0, "transfer": 0.0})
        e["functions"].append(c.function)
        e["baseline"] += c.baseline
        if c.baseline_estimated:
            e["estimated"].append(c.function)
        if c.partnership:
            e["partnerships"].append(c.partnership)
            if hosts.get(c.partnership) == c.code:
                e["hosted"].append(c.partnership)
            e["annual"] += c.annual_saving_share
            e["one_off"] += c.one_off_share
            e["npv"] += c.npv_share
            e["transfer"] += c.transfer
    return [CouncilRollUp(code, labels.council(code), tuple(e["functions"]), tuple(e["partnerships"]), tuple(e["hosted"]),
                          e["baseline"], tuple(e["estimated"]), e["annual"], e["one_off"], e["npv"], e["transfer"])
            for code, e in found.items()]


def council_summary_csv(plan, labels: Labels) -> str:
    rows = [{"code": r.code, "name": r.name, "tier": labels.tiers.get(r.code), "functions": len(r.functions),
             "partnerships_joined": len(r.partnerships), "partnerships": " ".join(r.partnerships),
             "partnerships_hosted": len(r.hosted), "hosts": " ".join(r.hosted), "baseline": pounds(r.baseline),
             "baseline_estimated_functions": len(r.estimated), "annual_saving": pounds(r.annual_saving),
             "one_off_cost": pounds(r.one_off_cost), "npv_share": pounds(r.npv_share), "transfer": pounds(r.transfer)}
            for r in council_roll_up(plan, labels)]
    return csv_text(SUMMARY_COLUMNS, rows)


def readme_text(plan, labels: Labels, files: list[str]) -> str:
    described = {
        "plan.json": "the whole plan as the optimiser reads and verifies it (codes only; money to the penny)",
        "partnerships.csv": "one row a partnership: its members, host, depth and platform by code and by name, its figures "
                            "in whole pounds, and how it holds if a member leaves",
        "councils.csv": "one row a council and function: its partnership, spend and share of the figures, in whole pounds",
        "council_summary.csv": "one row a council: the partnerships it joins and leads, its yearly saving, one-off cost "
                               "and share of the NPV across every function",
        "cashflow.csv": "the money year by year (year 0 to the horizon) for the plan, each partnership and each member "
                        "council: saving, one-off cost not borrowed, debt service and net; to the penny, as verify "
                        "recomputes it",
        "plan.geojson": "councils and partnerships as map features (WGS84) for QGIS or any GIS: one feature per council "
                        "with its partnership in each function, and one per partnership with its members' areas",
        "report.html": "the plan for people: maps, headline figures, a section per council, the caveats; opens offline",
    }
    lines = [f"Partnership plan for {labels.title} ({labels.instance}), savings model {labels.model}.", "",
             "Files:"]
    lines += [f"  {name}: {described[name]}" for name in files if name in described]
    lines += ["", "Money is in pounds; NPV is the net present value of savings less one-off costs over the model's horizon.",
              "Partnership ids are the function and a short code derived from the members, the same in every run.",
              "", "Data: " + labels.attribution_text(), ""]
    return "\n".join(lines)


def plan_files(plan, labels: Labels, geojson: str | None = None, report: str | None = None) -> dict[str, str]:
    """{file name: text} of everything a solve writes; plan.geojson and report.html when given."""
    files = {"plan.json": plan_json(plan, labels), "partnerships.csv": partnerships_csv(plan, labels),
             "councils.csv": councils_csv(plan, labels), "council_summary.csv": council_summary_csv(plan, labels),
             "cashflow.csv": plan.cashflow_csv()}
    if geojson is not None:
        files["plan.geojson"] = geojson
    if report is not None:
        files["report.html"] = report
    files["README.txt"] = readme_text(plan, labels, list(files))
    return files


def write_plan_files(out: str | Path, files: dict[str, str]) -> list[Path]:
    return write_atomically(Path(out), files)
