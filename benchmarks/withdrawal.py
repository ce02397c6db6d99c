"""What SPEC §5 (withdrawal) costs: candidates and solves under each objective, and
``withdraw`` on a solved plan, measured side by side in one run.

For each area, each repeat runs in a fresh Python process: it builds every candidate and
solves the master problem under ``--objective npv``, ``--robust``, ``--objective expected``
and both, timing the candidates (where the withdrawal figures are worked out, over every
subset of members) and the solve apart. Then ``withdraw`` is timed on one plan per area for a
few councils. Medians go to ``benchmarks/results/withdrawal/``, the machine beside them; a
run of some areas replaces only their rows. The UK rows (the national plan at a 60-second
limit) are also the calibration of models/README.md.

    python benchmarks/withdrawal.py --area Kent --area "East Midlands" --loan 0.045:10 --repeats 3
    python benchmarks/withdrawal.py --area UK --repeats 1
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
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "withdrawal"
AREAS = [("Kent", "england-2023", "Kent", None), ("East Midlands", "england-2023", "East Midlands", None),
         ("UK", "uk-2023", None, 60.0)]
VARIANTS = {"npv": {}, "robust": {"robust": True}, "expected": {"objective": "expected"},
            "expected+robust": {"objective": "expected", "robust": True}}
FIELDS = ["area", "variant", "candidates", "partnerships", "robust_partnerships", "mean_size", "sizes", "npv", "expected_npv",
          "status", "gap", "candidates_s", "solve_s", "total_s", "repeats"]


def measure(instance: str, model: str | None, area: str | None, variant: str, time_limit: float | None,
            loan: str | None = None) -> dict:
    """In this process: build the candidates and solve one variant."""
    import logging

    logging.disable(logging.WARNING)
    from optimiser.api import build, solve

    options = dict(area=area, time_limit=time_limit, loan=loan, **VARIANTS[variant])
    started = time.perf_counter()
    problem, cand = build(instance, model, **{k: v for k, v in options.items() if k != "time_limit"})
    built = time.perf_counter()
    plan = solve(instance, model, **options)
    ended = time.perf_counter()
    sizes = [len(p.members) for p in plan.partnerships]
    return {"candidates": len(cand), "partnerships": len(plan.partnerships),
            "robust_partnerships": sum(1 for p in plan.partnerships if p.robust),
            "mean_size": round(statistics.mean(sizes), 2) if sizes else 0,
            "sizes": " ".join(f"{n}:{sizes.count(n)}" for n in sorted(set(sizes))), "npv": plan.totals.npv,
            "expected_npv": plan.totals.expected_npv, "status": plan.status, "gap": plan.solver.gap,
            "candidates_s": built - started, "solve_s": plan.solver.seconds, "total_s": ended - started}


def time_withdraw(instance: str, model: str | None, plan_path: str, councils: list[str]) -> list[dict]:
    import logging

    logging.disable(logging.WARNING)
    from optimiser.api import withdraw

    rows = []
    for council in councils:
        started = time.perf_counter()
        report = withdraw(instance, plan_path, council, model)
        rows.append({"council": council, "partnerships_left": len(report.exits), "seconds": time.perf_counter() - started})
    return rows


def _merge(path: Path, fields: list[str], rows: list[dict]) -> None:
    """Writes ``rows`` over the earlier rows of the same areas, keeping the other areas'."""
    measured = {row["area"] for row in rows}
    kept = []
    if path.is_file():
        with path.open(newline="") as fh:
            kept = [row for row in csv.DictReader(fh) if row["area"] not in measured]
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fields)
        writer.writeheader()
        writer.writerows(kept + rows)


def in_child(*args) -> object:
    out = subprocess.run([sys.executable, __file__, "--child", json.dumps(args)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--area", action="append", help="only these areas (labels above)")
    parser.add_argument("--variant", action="append", choices=list(VARIANTS), help="only these variants (default: all)")
    parser.add_argument("--model", default=None, help="savings model (default: the instance's)")
    parser.add_argument("--loan", default=None, help="--loan for every run (with a loan the shipped headrooms rarely bind)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = json.loads(args.child)
        print(json.dumps(measure(*rest) if kind == "measure" else time_withdraw(*rest)))
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows, withdraws = [], []
    for label, instance, area, limit in AREAS:
        if args.area and label not in args.area:
            continue
        for variant in args.variant or VARIANTS:
            runs = [in_child("measure", instance, args.model, area, variant, limit, args.loan) for _ in range(args.repeats)]
            row = {"area": label, "variant": variant, "repeats": len(runs), **{k: runs[0][k] for k in runs[0] if not k.endswith("_s")}}
            row.update({k: round(statistics.median(r[k] for r in runs), 3) for k in ("candidates_s", "solve_s", "total_s")})
            rows.append(row)
            print(row, flush=True)
        plan_dir = Path(tempfile.mkdtemp(prefix="withdrawal-bench-")) / label.replace(" ", "-").lower()
        command = [sys.executable, "-m", "optimiser", "solve", instance, "--quiet", "--force", "--out", str(plan_dir)]
        command += (["--area", area] if area else []) + (["--time-limit", str(limit)] if limit else [])
        command += ["--model", args.model] if args.model else []
        command += ["--loan", args.loan] if args.loan else []
        subprocess.run(command, check=True)
        plan = json.loads((plan_dir / "plan.json").read_text())
        members = sorted({c for p in plan["partnerships"] for c in p["members"]})
        chosen = members[:: max(1, len(members) // 3)][:3]
        timings = [in_child("withdraw", instance, args.model, str(plan_dir / "plan.json"), chosen) for _ in range(args.repeats)]
        for n, council in enumerate(chosen):
            seconds = statistics.median(t[n]["seconds"] for t in timings)
            withdraws.append({"area": label, "council": council, "partnerships_left": timings[0][n]["partnerships_left"],
                              "seconds": round(seconds, 3), "repeats": len(timings)})
            print(withdraws[-1], flush=True)
    _merge(RESULTS / "withdrawal.csv", FIELDS, rows)
    _merge(RESULTS / "withdraw.csv", ["area", "council", "partnerships_left", "seconds", "repeats"], withdraws)
    (RESULTS / "machine.json").write_text(json.dumps({"python": platform.python_version(), "machine": platform.machine(),
                                                      "processor": platform.processor(), "cpus": os.cpu_count(),
                                                      "date": time.strftime("%Y-%m-%d"),
                                                      "load_average_at_end": os.getloadavg()}, indent=2) + "\n")


if __name__ == "__main__":
    main()
