"""What SPEC §6 (shares and stability) adds to a solve: time and memory, measured.

One plan is solved and written once per configuration; then each repeat, in a fresh Python
process, reads it back and adds every partnership's three splits and core excesses and every
function's stability (``optimiser.analysis.shares.with_shares``) two ways:

* as for a plan read back (``evaluate``), every group enumerated and priced afresh: once in
  that one process (``--jobs 1``) and once shared among two worker processes, timing each
  with the CPU seconds of the workers included;
* as a solve does it: the solve's candidate generation records every group's worth as it
  prices them (timed without and with the record, side by side), and each function's first
  LP (the solve's first phase) its support; the record is pickled and read back, as it comes
  from a worker process (timed, with its size); then SPEC §6 from it (``after_solve``), the
  figures checked against those worked out afresh.

Medians of the repeats go to ``benchmarks/results/shares/shares.csv``, the machine beside it.

    python benchmarks/shares.py --repeats 3                      # England (all functions) and two regions
    python benchmarks/shares.py --area Kent --repeats 3
    python benchmarks/shares.py --area England --time-limit 60 --repeats 3   # England alone
    python benchmarks/shares.py --repeats 3 --against ../before   # another checkout, side by side

``--against DIR`` measures a second checkout of the package (say, the commit before a change) on
the same plans, its repeats alternating with this one's. CPU seconds are recorded beside wall
seconds: on a machine shared with other work they vary less.
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
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "shares"
# label, area, time limit for the solve that makes the plan; the plans borrow (--loan 0.045:10),
# as paid in cash the shipped headrooms keep a county's proof running for many minutes
CONFIGS = [
    ("Kent", "Kent", None),
    ("East Midlands", "East Midlands", 120.0),
    ("England", None, 60.0),
]
LOAN = "0.045:10"
FIELDS = ["config", "code", "councils", "partnerships", "largest_partnership", "groups_checked", "blocking_groups",
          "shares_s", "one_process_s", "one_process_cpu_s", "two_workers_s", "two_workers_cpu_s",
          "generate_s", "generate_recording_s", "worth_mb", "worth_transfer_s", "after_solve_s", "after_solve_cpu_s",
          "peak_mb", "worker_peak_mb", "repeats"]


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the worker processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(plan_path: str) -> dict:
    """In this process: read the plan, time the splits alone, then the whole of SPEC §6 (splits
    and stability) as a plan read back gets it (the groups enumerated and priced afresh), in
    this one process and shared among two worker processes; then as the solve gets it: the
    solve's candidate generation timed without and with recording the groups' worth, each
    function's first LP bound (as the solve's first phase, whose support is recorded), and
    SPEC §6 with that record."""
    import dataclasses
    import pickle

    from optimiser.analysis import shares
    from optimiser.plan import Plan
    from optimiser.problem import load_run, prepare

    plan = Plan.read(plan_path)
    instance, model, options = load_run(plan.instance, None, plan.options)
    problem = prepare(instance, model, dataclasses.replace(options, jobs=1))
    started = time.perf_counter()
    shares.partnership_shares(problem, plan)
    shares_s = time.perf_counter() - started
    timings = {}
    for label, jobs in (("one_process", 1), ("two_workers", 2)):
        problem = prepare(instance, model, dataclasses.replace(options, jobs=jobs))
        started, cpu_started = time.perf_counter(), cpu_seconds()
        full = shares.with_shares(problem, plan)
        timings[f"{label}_s"] = time.perf_counter() - started
        timings[f"{label}_cpu_s"] = cpu_seconds() - cpu_started
    problem = prepare(instance, model, dataclasses.replace(options, jobs=1))
    worth = recorded_worth(problem, timings)
    if worth is not None:
        started = time.perf_counter()
        moved = pickle.loads(pickle.dumps(worth, protocol=pickle.HIGHEST_PROTOCOL))  # as from a worker to the parent
        timings["worth_transfer_s"] = time.perf_counter() - started
        timings["worth_mb"] = len(pickle.dumps(worth, protocol=pickle.HIGHEST_PROTOCOL)) / 1e6
        started, cpu_started = time.perf_counter(), cpu_seconds()
        after = shares.with_shares(problem, plan, worth=moved)
        timings["after_solve_s"] = time.perf_counter() - started
        timings["after_solve_cpu_s"] = cpu_seconds() - cpu_started
        for a, b in zip(after.stability, full.stability):
            same_lp = (a.lp_bound is None) == (b.lp_bound is None) and abs((a.lp_bound or 0.0) - (b.lp_bound or 0.0)) <= 1e-9 * max(1.0, abs(b.lp_bound or 0.0))
            if (a.groups_checked, a.blocking_groups, a.largest_surplus, a.largest_surplus_members) != (
                    b.groups_checked, b.blocking_groups, b.largest_surplus, b.largest_surplus_members) or not same_lp:
                raise SystemExit(f"{a.function}: the stability from the recorded worth differs from that worked out afresh")
    return {
        "councils": int(problem.eligible.any(axis=0).sum()),
        "partnerships": len(plan.partnerships),
        "largest_partnership": max((len(p.members) for p in plan.partnerships), default=0),
        "groups_checked": sum(s.groups_checked for s in full.stability),
        "blocking_groups": sum(s.blocking_groups for s in full.stability),
        "shares_s": shares_s,
        **timings,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def recorded_worth(problem, timings: dict) -> dict | None:
    """The groups' worth as the solve's candidate generation records it (None where the code
    measured has no such record), with the generation's time without and with recording in
    ``timings``, and each function's first LP bound (the solve's first phase: it records the
    LP's support), not timed: the solve does it whatever this section needs."""
    from optimiser.candidates import CandidateGenerator
    from optimiser.solve.bound import bound_block

    free = problem.without_headroom() if problem.headroom_active else problem  # the solve's first, as the API's
    try:
        recording = CandidateGenerator(free, record_worth=True)
    except TypeError:
        return None
    for label, generator in (("generate_s", CandidateGenerator(free)), ("generate_recording_s", recording)):
        started = time.perf_counter()
        generated = [generator.function(k) for k in range(len(free.functions))]
        timings[label] = time.perf_counter() - started
    for k, cand in enumerate(generated):
        state = bound_block(free, cand, [k], None, cut_deadline=time.perf_counter())  # the support is the uncut LP's
        recording.note_lp_support([k], getattr(state, "first_support", None))
    return recording.worth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--area", help="one area instead of the default configurations")
    parser.add_argument("--time-limit", type=float, help="with --area: the time limit of the solve that makes its plan")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # a repeat, in its own process
    parser.add_argument("--against", metavar="DIR", help="also measure the package of another checkout, side by side")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    from optimiser.api import solve

    configs = [(args.area, args.area, args.time_limit)] if args.area else CONFIGS
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, area, limit in configs:
            plan = solve("england-2023", area=(area,) if area else (), time_limit=limit, loan=LOAN)
            folder = Path(tmp, label.replace(" ", "-"))
            plan.write(folder)
            sources = {"this": None, **({"against": args.against} if args.against else {})}
            runs = {code: [] for code in sources}
            for _ in range(args.repeats):
                for code, checkout in sources.items():
                    env = dict(os.environ, PYTHONPATH=str(Path(checkout).resolve())) if checkout else None
                    done = subprocess.run([sys.executable, __file__, "--measure", str(folder / "plan.json")],
                                          capture_output=True, text=True, check=True, env=env)
                    runs[code].append(json.loads(done.stdout.strip().splitlines()[-1]))
            for code, found in runs.items():
                row = {"config": label, "code": code, "repeats": args.repeats}
                for key in FIELDS[2:-1]:
                    values = [r[key] for r in found if key in r]
                    if not values:
                        row[key] = ""  # not measured: the code has no such path
                    else:
                        row[key] = round(statistics.median(values), 3) if isinstance(values[0], float) else values[0]
                rows.append(row)
                print(row, flush=True)
    with open(RESULTS / ("shares.csv" if not args.area else f"shares-{args.area.replace(' ', '-')}.csv"), "w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    with open(RESULTS / "machine.csv", "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["python", "platform", "cpus", "date"])
        writer.writerow([platform.python_version(), platform.platform(), os.cpu_count(), time.strftime("%Y-%m-%d")])


if __name__ == "__main__":
    main()
