"""Interactive queries on a national plan, measured as a person runs them: ``optimiser withdraw``
and ``optimiser partners --plan`` from the command line, start-up (imports, reading the
instance) included, each in a fresh process.

Every command runs ``--repeats`` times (``--against-repeats`` for the other checkout, whose
withdraw may take minutes) in turn for this checkout and, with ``--against DIR``, for the
package of another checkout (say, the commit before a change), side by side in one run; wall
and CPU seconds (the child's user + system) are medians. Results go to
``benchmarks/results/interactive/`` with the machine and its load.

    optimiser solve instances/uk-2023 --time-limit 60 --out /tmp/ukplan    # the plan (2-3 minutes)
    python benchmarks/interactive.py --plan /tmp/ukplan/plan.json --against ../before --against-repeats 1
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "interactive"
FIELDS = ["code", "command", "council", "wall_s", "cpu_s", "repeats", "exit", "load_before"]


def commands(instance: str, plan: str, council: str) -> dict[str, list[str]]:
    return {"withdraw": ["withdraw", instance, plan, council, "--quiet"],
            "partners --plan": ["partners", instance, council, "--plan", plan]}


def timed(argv: list[str], source: str | None) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the child, exit status) of ``python -m optimiser argv``."""
    env = dict(os.environ)
    if source:
        env["PYTHONPATH"] = str(Path(source).resolve())
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    # ``-m`` puts the working directory first on the path: run from the checkout measured
    done = subprocess.run([sys.executable, "-m", "optimiser", *argv], env=env, cwd=Path(source).resolve() if source else ROOT,
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
    return wall, cpu, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plan", required=True, help="a plan.json of the instance (e.g. the UK plan at a 60-second limit)")
    parser.add_argument("--instance", default="instances/uk-2023")
    parser.add_argument("--council", action="append", help="councils to ask about (default: Leeds and Ipswich)")
    parser.add_argument("--command", action="append", choices=["withdraw", "partners --plan"], help="only these commands")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--against", metavar="DIR", help="also measure the package of another checkout, side by side")
    parser.add_argument("--against-repeats", type=int, default=None, help="repeats for --against (default: --repeats)")
    args = parser.parse_args()
    plan = str(Path(args.plan).resolve())
    args.instance = str(Path(args.instance).resolve())
    sources = [("this", None, args.repeats)]
    if args.against:
        sources.append(("against", args.against, args.against_repeats or args.repeats))
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = []
    for council in args.council or ["Leeds", "Ipswich"]:
        for name, argv in commands(args.instance, plan, council).items():
            if args.command and name not in args.command:
                continue
            for label, source, repeats in sources:
                load = os.getloadavg()[0]
                runs = [timed(argv, source) for _ in range(repeats)]
                rows.append({"code": label if source is None else f"{label} ({source})", "command": name, "council": council,
                             "wall_s": round(statistics.median(r[0] for r in runs), 2),
                             "cpu_s": round(statistics.median(r[1] for r in runs), 2), "repeats": repeats,
                             "exit": max(r[2] for r in runs), "load_before": round(load, 2)})
                print(rows[-1], flush=True)
    with (RESULTS / "interactive.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    (RESULTS / "machine.json").write_text(json.dumps({"python": platform.python_version(), "machine": platform.machine(),
                                                      "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M"),
                                                      "plan": plan, "load_average_at_end": os.getloadavg()}, indent=2) + "\n")


if __name__ == "__main__":
    main()
