"""Calibration of a savings model on a whole instance, function by function.

Solves the instance once per function (functions are independent when no budget or
cross-function limit is set), then tabulates for each function the partnerships chosen,
the councils joining, the yearly saving as a share of the function's baseline and of the
baseline of the councils that join (the "shared cost base" of the published figures),
the one-off cost, payback, NPV and the solver's status and proven gap; then the back
office taken together, against the published figures of /work/shared/DOMAIN.md (quoted
in models/README.md, "Calibration against published figures").

    cd /work/main && PYTHONPATH=. python benchmarks/calibrate.py
    PYTHONPATH=. python benchmarks/calibrate.py --functions revenues-benefits --time-limit 90
    PYTHONPATH=. python benchmarks/calibrate.py --model path/to/other.toml --json /tmp/cal.json

Whole-England solves with groups of up to six are hard MIPs: a function may stop at the
time limit with a proven gap of 1-3%; the plan is then feasible and its bound proven,
and the gap is printed beside every figure. The defaults (75 s a function, two at a
time) take about ten minutes for the fifteen functions of uk-central.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BACK_OFFICE = ("ict", "hr-payroll", "finance-audit", "legal", "procurement",
               "revenues-benefits", "customer-services", "management-team")

# Published range each function's saving is judged against, in %: (low, high), note.
# A share of the cost base that is shared (the members' baseline), except for the
# functions in NATIONAL_SHARE, judged on the share of the function's whole baseline.
PUBLISHED = {
    "ict": ((10, 25), "shared services 10–25% (Orbis 17–20%, Hampshire ~20%, Hoople 10–25%, Clyde Valley 10–20%)"),
    "hr-payroll": ((10, 25), "as ict (Hampshire Shared Services ~20%)"),
    "finance-audit": ((10, 25), "as ict"),
    "legal": ((10, 25), "shared services 10–25%"),
    "procurement": ((10, 25), "shared services 10–25%"),
    "customer-services": ((10, 25), "shared services 10–25% (Hoople business case)"),
    "management-team": ((43, 45), "shared management −43% (Babergh & Mid Suffolk) to −45% (Tri-borough)"),
    "revenues-benefits": ((2.1, 6.3), "about 4.2% of the national administration cost (Audit Commission 2005), "
                                      "taken as 4.2% ± half, on the function's whole baseline"),
    "waste-collection": ((10, 25), "East Kent ≥10% within 2 years; shared services 10–25%"),
}
NATIONAL_SHARE = {"revenues-benefits"}  # judged on the function's whole baseline, not the shared base
# NLGN "Shared Necessities" (2011): back office ~8.9% of council spend; sharing saves
# 1.8% (likely) to 3.6% (best case) of total spend, i.e. 20-40% of back-office cost.
BACK_OFFICE_RANGE = (20, 40)
PAYBACK_MAX = 3.0

# instances/README.md: Central services gross is about £13.3bn, 9.1% of English
# councils' 2024-25 gross service spend: a cross-check of the total spend base only.
CENTRAL_SERVICES_GROSS = 13.3e9
CENTRAL_SHARE_OF_SPEND = 0.091


def solve_function(instance: str, model: str | None, function: str, time_limit: float) -> dict:
    """Solves one function and returns the figures of the report (runs in a worker process)."""
    from optimiser.api import solve

    started = time.perf_counter()
    plan = solve(str(ROOT / instance) if not Path(instance).is_absolute() else instance, model,
                 functions=(function,), time_limit=time_limit)
    data = plan.data
    parts = [p for p in data["partnerships"] if p["function"] == function]
    councils = [c for c in data["councils"] if c["function"] == function]
    joined = [c for c in councils if c.get("partnership")]
    sizes = Counter(len(p["members"]) for p in parts)
    depths = Counter(p["depth"] for p in parts)
    big = [p for p in parts if len(p["members"]) >= 5]
    saving = sum(p["annual_saving"] for p in parts)
    one_off = sum(p["one_off_cost"] for p in parts)
    npv = sum(p["npv"] for p in parts)
    baseline = sum(c["baseline"] for c in councils)
    shared_base = sum(c["baseline"] for c in joined)
    paybacks = [p["payback_years"] for p in parts if p.get("payback_years") is not None]
    return {
        "function": function,
        "model": data.get("model"),
        "status": plan.solver["status"],
        "gap": plan.solver["gap"],
        "objective": plan.solver["objective"],
        "bound": plan.solver["bound"],
        "solver_seconds": plan.solver["seconds"],
        "wall_seconds": time.perf_counter() - started,
        "partnerships": len(parts),
        "sizes": dict(sorted(sizes.items())),
        "depths": dict(depths),
        "councils_eligible": len(councils),
        "councils_joining": len(joined),
        "baseline_estimated": sum(1 for c in councils if c.get("baseline_estimated")),
        "baseline": baseline,
        "shared_base": shared_base,
        "annual_saving": saving,
        "one_off_cost": one_off,
        "npv": npv,
        "payback_max": max(paybacks) if paybacks else None,
        "payback_over_3": sum(1 for x in paybacks if x > PAYBACK_MAX),
        "saving_in_groups_of_5_6": sum(p["annual_saving"] for p in big),
        "totals": plan.totals,
    }


def _pct(x: float, base: float) -> float:
    return 100.0 * x / base if base else float("nan")


def _m(x: float) -> str:
    return f"{x / 1e6:,.1f}"


def _gap(r: dict) -> str:
    gap = r["gap"]
    if gap is None:
        return "–"
    return f"{100 * gap:.2f}%"


def _sizes(r: dict) -> str:
    return " ".join(f"{n}×{k}" for k, n in sorted(r["sizes"].items(), key=lambda kv: int(kv[0])))


def _depths(r: dict) -> str:
    short = {"shared-management": "SM", "shared-service": "SS", "standardised": "ST"}
    return " ".join(f"{short.get(d, d)} {n}" for d, n in sorted(r["depths"].items()))


def judge(r: dict) -> str:
    if r["function"] not in PUBLISHED:
        return "no direct published figure"
    (lo, hi), _ = PUBLISHED[r["function"]]
    base = r["baseline"] if r["function"] in NATIONAL_SHARE else r["shared_base"]
    share = _pct(r["annual_saving"], base)
    verdict = "in range" if lo <= share <= hi else ("below" if share < lo else "above")
    return f"{share:.1f}% vs {lo:g}–{hi:g}%: {verdict}"


def report(results: list[dict]) -> str:
    out = []
    out.append("| function | β | partnerships (sizes) | depths | councils joining / eligible | baseline £m | yearly saving £m | % of function baseline | % of shared base | one-off £m | payback (years) | NPV £m | status | gap | seconds |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        payback = r["one_off_cost"] / r["annual_saving"] if r["annual_saving"] > 0 else float("nan")
        out.append(
            f"| {r['function']} | {r.get('beta', '–')} | {r['partnerships']} ({_sizes(r)}) | {_depths(r)} | {r['councils_joining']} / {r['councils_eligible']} "
            f"| {_m(r['baseline'])} | {_m(r['annual_saving'])} | {_pct(r['annual_saving'], r['baseline']):.1f}% "
            f"| {_pct(r['annual_saving'], r['shared_base']):.1f}% | {_m(r['one_off_cost'])} | {payback:.2f} "
            f"| {_m(r['npv'])} | {r['status']} | {_gap(r)} | {r['solver_seconds']:.0f} |")
    out.append("")
    out.append("| function | published figure | model against it | slowest partnership payback (years) | partnerships over 3 years | saving from groups of 5–6 |")
    out.append("|---|---|---|---|---|---|")
    for r in results:
        pub = PUBLISHED.get(r["function"], (None, "–"))[1]
        pmax = "–" if r["payback_max"] is None else f"{r['payback_max']:.2f}"
        out.append(f"| {r['function']} | {pub} | {judge(r)} | {pmax} | {r['payback_over_3']} "
                   f"| {_pct(r['saving_in_groups_of_5_6'], r['annual_saving']):.0f}% |")

    by = {r["function"]: r for r in results}
    back = [by[f] for f in BACK_OFFICE if f in by]
    out.append("")
    if back:
        bo_base = sum(r["baseline"] for r in back)
        bo_saving = sum(r["annual_saving"] for r in back)
        bo_oneoff = sum(r["one_off_cost"] for r in back)
        bo_npv = sum(r["npv"] for r in back)
        bo_bound = sum(r["bound"] for r in back)
        all_base = sum(r["baseline"] for r in results)
        total_spend = CENTRAL_SERVICES_GROSS / CENTRAL_SHARE_OF_SPEND
        missing = [f for f in BACK_OFFICE if f not in by]
        out.append(f"Back office ({len(back)} of {len(BACK_OFFICE)} functions{'; missing ' + ', '.join(missing) if missing else ''}):")
        out.append("")
        out.append("| figure | value | published |")
        out.append("|---|---|---|")
        out.append(f"| back-office baseline | £{_m(bo_base)}m | — |")
        out.append(f"| yearly saving | £{_m(bo_saving)}m | — |")
        out.append(f"| saving / back-office baseline | {_pct(bo_saving, bo_base):.1f}% | 20–40% (NLGN 2011) |")
        out.append(f"| modelled spend base (all baselines of the {len(results)} functions solved) | £{_m(all_base)}m | — |")
        out.append(f"| back office / modelled spend base | {_pct(bo_base, all_base):.1f}% | 8.9% of total spend (NLGN) |")
        out.append(f"| saving / modelled spend base | {_pct(bo_saving, all_base):.2f}% | 1.8–3.6% of total spend (NLGN) |")
        out.append(f"| cross-check: saving / England gross service spend (£{total_spend / 1e9:,.0f}bn, Central services £13.3bn = 9.1%) | {_pct(bo_saving, total_spend):.2f}% | 1.8–3.6% |")
        out.append(f"| one-off cost | £{_m(bo_oneoff)}m | — |")
        out.append(f"| payback (one-off / yearly saving) | {bo_oneoff / bo_saving:.2f} years | under 2–3 years |")
        out.append(f"| NPV (bound) | £{_m(bo_npv)}m (£{_m(bo_bound)}m) | — |")
    all_saving = sum(r["annual_saving"] for r in results)
    all_oneoff = sum(r["one_off_cost"] for r in results)
    all_npv = sum(r["npv"] for r in results)
    all_bound = sum(r["bound"] for r in results)
    all_base = sum(r["baseline"] for r in results)
    out.append("")
    out.append(f"All {len(results)} functions: baseline £{_m(all_base)}m, yearly saving £{_m(all_saving)}m "
               f"({_pct(all_saving, all_base):.1f}%), one-off £{_m(all_oneoff)}m, payback "
               f"{all_oneoff / all_saving if all_saving else float('nan'):.2f} years, NPV £{_m(all_npv)}m "
               f"(bound £{_m(all_bound)}m, gap {_pct(all_bound - all_npv, all_npv):.2f}%), {sum(r['partnerships'] for r in results)} partnerships.")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instance", default="instances/england-2023")
    parser.add_argument("--model", default=None, help="model name or path (default: the instance's own)")
    parser.add_argument("--functions", default=None, help="comma-separated; default: every function of the model")
    parser.add_argument("--time-limit", type=float, default=75.0, help="seconds per function (default 75)")
    parser.add_argument("--jobs", type=int, default=2, help="functions solved at once (default 2)")
    parser.add_argument("--json", default=None, help="also write the raw figures to this file")
    parser.add_argument("--from-json", default=None, help="print the report from figures saved with --json (no solve)")
    args = parser.parse_args(argv)

    if args.from_json:
        results = json.loads(Path(args.from_json).read_text())["results"]
        print(report(results))
        return 0

    from optimiser.problem import load_run
    from optimiser.problem import RunOptions

    instance_path = str(ROOT / args.instance) if not Path(args.instance).is_absolute() else args.instance
    _, model, _ = load_run(instance_path, args.model, RunOptions())
    if args.functions:
        functions = [f.strip() for f in args.functions.split(",") if f.strip()]
    else:
        functions = [f.id for f in model.functions]

    results: dict[str, dict] = {}
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(solve_function, args.instance, args.model, f, args.time_limit): f for f in functions}
        for future in as_completed(futures):
            r = future.result()
            f = model.function(r["function"])
            r.update(beta=f.scale_exponent, max_size=f.max_size)
            results[r["function"]] = r
            if args.json:  # saved as each function finishes, so a long run can be reported part-way
                Path(args.json).write_text(json.dumps({"instance": args.instance, "model": args.model,
                                                       "time_limit": args.time_limit,
                                                       "results": [results[f] for f in functions if f in results]}, indent=1))
            print(f"{r['function']}: {r['status']}, gap {_gap(r)}, NPV £{_m(r['npv'])}m, "
                  f"{r['wall_seconds']:.0f} s", file=sys.stderr, flush=True)
    ordered = [results[f] for f in functions]
    print(report(ordered))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
