"""What `optimiser verify` costs on one plan, for one or more checkouts of the code side by side.

    python benchmarks/verify.py instances/england-2023 /tmp/eng/plan.json --code OLD_DIR NEW_DIR --runs 3

Each run is the whole command in a fresh process (``PYTHONPATH`` pointing at the checkout):
wall seconds, CPU seconds (user + system of the process) and peak resident memory, with the
load average at its start. Then, once per checkout, every stability figure the verifier
recomputes (groups allowed, blocking groups, the largest surplus and its members, the LP bound)
is written out, so that two checkouts can be shown to agree figure by figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

FIGURES = r"""
import json, sys
import optimiser
print(optimiser.__file__, file=sys.stderr)
from optimiser.io.instance import load_instance
from optimiser.verify.context import build_context
from optimiser.verify import games, stability
from optimiser.verify.checks_shares import plan_shares, locked_values
instance = load_instance(sys.argv[1])
plan = json.load(open(sys.argv[2]))
from optimiser.io.provenance import embedded_model
from optimiser.io.model import load_model
model = embedded_model(plan, sys.argv[2]) or load_model(plan.get("model") or instance.model_ref, near=instance.folder)
ctx = build_context(instance, plan, model, 1e-6)
out = {}
for fid in ctx.run_functions:
    table = games.games_of(ctx).table(fid)
    found = stability.blocking(table, plan_shares(ctx, fid))
    locked = locked_values(ctx, fid)
    try:
        bound = stability.lp_bound(table, locked)
    except TypeError:  # the checkout whose LP bound takes a PuLP solver
        bound = stability.lp_bound(table, locked, games.games_of(ctx).solver)
    out[fid] = {"allowed": found.allowed, "surely": found.surely, "possibly": found.possibly,
                "largest": found.largest, "largest_members": list(found.largest_members), "lp_bound": bound}
print(json.dumps(out))
"""


def imported_from(code: str) -> str:
    """Where ``optimiser`` comes from in a process run as :func:`run_once` runs one."""
    code = os.path.abspath(code)
    done = subprocess.run([sys.executable, "-c", "import optimiser; print(optimiser.__file__)"], env={**os.environ, "PYTHONPATH": code},
                          cwd=code, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def run_once(code: str, instance: str, plan: str) -> dict:
    code = os.path.abspath(code)  # also the working directory: ``-m`` puts it first on sys.path
    env = {**os.environ, "PYTHONPATH": code}
    load = os.getloadavg()[0]
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        child = subprocess.Popen([sys.executable, "-m", "optimiser", "verify", instance, plan], env=env, cwd=code,
                                 stdout=out, stderr=subprocess.DEVNULL, text=True)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own CPU and peak memory
        wall = time.perf_counter() - start
        out.seek(0)
        verdict = out.read().strip().splitlines()[-1:] or [""]
    cpu = usage.ru_utime + usage.ru_stime
    return {"code": code, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_mb": round(usage.ru_maxrss / 1024),
            "load": round(load, 2), "exit": os.waitstatus_to_exitcode(status), "verdict": verdict}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instance")
    parser.add_argument("plan")
    parser.add_argument("--code", nargs="+", default=["."], help="checkouts to time (each a directory holding optimiser/)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--figures", action="store_true", help="also write every stability figure of each checkout")
    args = parser.parse_args()
    args.instance, args.plan = os.path.abspath(args.instance), os.path.abspath(args.plan)
    args.code = [os.path.abspath(code) for code in args.code]
    for code in args.code:
        where = imported_from(code)
        if not where.startswith(os.path.abspath(code) + os.sep):
            raise SystemExit(f"{code}: optimiser is imported from {where}, not from the checkout")
    rows = []
    for _ in range(args.runs):
        for code in args.code:  # interleaved, so that a change in load falls on every checkout alike
            rows.append(run_once(code, args.instance, args.plan))
            print(json.dumps(rows[-1]), flush=True)
    for code in args.code:
        mine = [r for r in rows if r["code"] == code]
        print(f"{code}: median wall {statistics.median(r['wall_s'] for r in mine):.1f} s, "
              f"CPU {statistics.median(r['cpu_s'] for r in mine):.1f} s, peak {max(r['peak_mb'] for r in mine)} MB, "
              f"load {min(r['load'] for r in mine)}-{max(r['load'] for r in mine)}")
    if args.figures:
        for code in args.code:
            env = {**os.environ, "PYTHONPATH": os.path.abspath(code)}
            done = subprocess.run([sys.executable, "-c", FIGURES, args.instance, args.plan], env=env, cwd=os.path.abspath(code),
                                  capture_output=True, text=True, check=True)
            print(json.dumps({"code": code, "figures": json.loads(done.stdout)}))


if __name__ == "__main__":
    main()
