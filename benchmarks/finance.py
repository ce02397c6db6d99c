"""What SPEC §8 (invest to save) costs: the same area solved without headroom, with the shipped
headroom, with a headroom on every council, and with a loan, side by side in one run.

Each variant runs in a fresh Python process on the same instance, loaded once and changed in
memory only: ``none`` clears the headroom column (no limits, no second solve); ``shipped``
keeps it as built from the reserves (councils without a 2023-24 return unlimited);
``every`` gives those councils the area's median headroom, so that every council has one;
``tight`` is ``every`` at a tenth; ``loan`` is ``every`` with ``--loan 0.045:10``. A run with
headroom solves without the limits first (the financing gap is measured on that plan) and
again with the rows only if that plan leaves a council short, so the time reported is the
whole run's. Medians go to ``benchmarks/results/finance/`` (every run beside them, ``*-runs.csv``),
the machine beside them.

    python benchmarks/finance.py --repeats 3
    python benchmarks/finance.py --area Kent --repeats 1
    python benchmarks/finance.py --before /tmp/venv-before/bin/python --variant shipped

``--before PYTHON`` runs each variant with a second interpreter too (a venv with an earlier
commit installed), the two alternating, so both are measured under the same load; CPU seconds
(the child's and its worker processes') go beside wall seconds.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "finance"
VARIANTS = ("none", "shipped", "every", "tight", "loan")
#: (label, instance, area, time limit of the run, variants)
AREAS = [("Suffolk", "england-2023", "Suffolk", None, VARIANTS), ("Kent", "england-2023", "Kent", 60.0, VARIANTS),
         ("East of England", "england-2023", "East of England", 60.0, ("none", "every", "loan"))]
FIELDS = ["code", "area", "variant", "councils_limited", "partnerships", "npv", "bound", "status", "gap", "financing_gap", "binding",
          "borrowed", "peak_debt_service", "total_s", "cpu_s", "repeats"]


def measure(instance_name: str, area: str, variant: str, time_limit: float | None) -> dict:
    """In this process: one variant's whole solve."""
    import logging

    import numpy as np

    logging.disable(logging.WARNING)
    from optimiser.api import solve
    from optimiser.io.instance import load_instance
    from optimiser.io.names import resolve_area

    instance = load_instance(instance_name)
    councils = instance.councils
    inside = resolve_area(instance, (area,))
    if variant == "none":
        councils["headroom"] = np.nan
    elif variant in ("every", "tight", "loan"):
        median = float(councils.loc[inside, "headroom"].median())
        councils["headroom"] = councils["headroom"].fillna(median) * (0.1 if variant == "tight" else 1.0)
    options = dict(area=area, time_limit=time_limit)
    if variant == "loan":
        options["loan"] = "0.045:10"
    started = time.perf_counter()
    plan = solve(instance, **options)
    ended = time.perf_counter()
    finance = plan.finance or {}
    return {"councils_limited": int(councils.loc[inside, "headroom"].notna().sum()), "partnerships": len(plan.partnerships),
            "npv": round(plan.totals.npv, 2), "status": plan.status, "gap": plan.solver.gap, "bound": round(plan.solver.bound, 2),
            "financing_gap": round(finance.get("financing_gap", 0.0), 2),
            "binding": sum(1 for c in (finance.get("councils") or {}).values() if c.get("binds")),
            "borrowed": round(finance.get("borrowed", 0.0), 2), "peak_debt_service": round(finance.get("peak_debt_service", 0.0), 2),
            "total_s": ended - started}


def in_child(python: str, *args) -> dict:
    """One variant in a fresh process of ``python``, with the CPU seconds of it and its workers."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([python, __file__, "--child", json.dumps(args)], check=True, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["cpu_s"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--area", action="append", help="only these areas (labels above)")
    parser.add_argument("--variant", action="append", help="only these variants")
    parser.add_argument("--before", help="a second Python (an earlier commit installed) to measure beside this one")
    parser.add_argument("--out", default="finance.csv", help="file name under results/finance/")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*json.loads(args.child))))
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows, raw = [], []
    for label, instance, area, limit, variants in AREAS:
        if args.area and label not in args.area:
            continue
        for variant in variants:
            if args.variant and variant not in args.variant:
                continue
            codes = {"this": sys.executable, **({"before": args.before} if args.before else {})}
            runs: dict[str, list] = {code: [] for code in codes}
            for repeat in range(args.repeats):
                for code, python in codes.items():
                    runs[code].append(in_child(python, instance, area, variant, limit))
                    raw.append({"code": code, "area": label, "variant": variant, "repeats": repeat + 1, **runs[code][-1]})
            for code, done in runs.items():
                # the figures of the median run by time (a time-limited run's plan varies with load)
                middle = sorted(done, key=lambda r: r["total_s"])[len(done) // 2]
                row = {"code": code, "area": label, "variant": variant, "repeats": len(done),
                       **{k: middle[k] for k in middle if k not in ("total_s", "cpu_s")}}
                row["total_s"] = round(statistics.median(r["total_s"] for r in done), 3)
                row["cpu_s"] = round(statistics.median(r["cpu_s"] for r in done), 3)
                rows.append(row)
                print(row, flush=True)
    with (RESULTS / args.out).open("w", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    # every run, since the median by time of time-limited runs says little about their plans
    # (there the repeats column numbers the run)
    with (RESULTS / args.out.replace(".csv", "-runs.csv")).open("w", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS)
        writer.writeheader()
        writer.writerows(raw)
    (RESULTS / "machine.json").write_text(json.dumps({"python": platform.python_version(), "machine": platform.machine(),
                                                      "processor": platform.processor(), "cpus": os.cpu_count(),
                                                      "date": time.strftime("%Y-%m-%d")}, indent=2) + "\n")


if __name__ == "__main__":
    main()
