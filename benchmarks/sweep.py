"""What ``optimiser sweep`` costs: a 24-scenario county sweep on the process pool and on a Dask
LocalCluster, with 1 and 2 workers, and what each costs to start.

Each repeat runs ``optimiser sweep`` in a fresh process into an empty folder and times it
whole (reading, every scenario solved and verified, the tables and plots), in wall-clock
seconds and in the CPU seconds of the process and its workers (on a shared machine the CPU
seconds show the work done, the wall-clock ones how much of the machine it got). The start-up cost
of each runner is timed apart, also in a fresh process: the pool's worker processes started
and each given one task that only imports the package, or a LocalCluster started, that task run on each worker,
and closed. Medians go to ``benchmarks/results/sweep/``, the machine beside them.

    python benchmarks/sweep.py --repeats 3
    python benchmarks/sweep.py --sweep examples/sweep-suffolk.toml --repeats 1
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
ROOT = HERE.parent
RESULTS = HERE / "results" / "sweep"
SWEEP = ROOT / "examples" / "sweep-kent-lhs.toml"
RUNNERS = {"pool": [], "dask-local": ["--scheduler", "local"]}
FIELDS = ["runner", "workers", "scenarios", "sweep_s", "cpu_s", "per_scenario_s", "startup_s", "speedup_vs_1", "repeats"]


def nothing(_=None) -> None:
    """The empty task the start-up measurement hands each worker: the package imported, as a
    scenario's first task imports it."""
    import optimiser.api  # noqa: F401
    import optimiser.verify  # noqa: F401


def startup(runner: str, workers: int) -> float:
    """In this process: seconds until ``workers`` workers of ``runner`` have each run an empty task."""
    started = time.perf_counter()
    if runner == "pool":
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            pool.map(nothing, range(workers), chunksize=1)
    else:
        import logging

        logging.getLogger("distributed").setLevel(logging.ERROR)
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            with Client(cluster) as client:
                client.gather(client.map(nothing, range(workers), pure=False))
    return time.perf_counter() - started


def env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))}


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def time_sweep(sweep: Path, runner: str, workers: int) -> tuple[float, float, int]:
    """Seconds of one whole ``optimiser sweep`` in a fresh process, the CPU seconds of it and
    its workers, and its scenarios."""
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as out:
        command = [sys.executable, "-m", "optimiser", "sweep", str(sweep), "--out", out, "--workers", str(workers),
                   "--quiet", *RUNNERS[runner]]
        started, cpu = time.perf_counter(), children_cpu()
        done = subprocess.run(command, env=env(), capture_output=True, text=True)
        seconds, cpu = time.perf_counter() - started, children_cpu() - cpu
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()}")
        with open(Path(out) / "sweep.csv", encoding="utf-8") as handle:
            scenarios = sum(1 for _ in csv.DictReader(handle))
    return seconds, cpu, scenarios


def time_startup(runner: str, workers: int) -> float:
    code = f"import sys; sys.path.insert(0, {str(HERE)!r}); import sweep; print(sweep.startup({runner!r}, {workers}))"
    done = subprocess.run([sys.executable, "-c", code], env=env(), capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def machine() -> dict:
    import highspy  # noqa: F401
    from importlib.metadata import version

    load = os.getloadavg() if hasattr(os, "getloadavg") else (None,)
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "python": platform.python_version(),
            "platform": platform.platform(), "cores": len(os.sched_getaffinity(0)), "processor": cpu,
            "highspy": version("highspy"), "dask": version("dask"), "load_before": load[0],
            "commit": subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sweep", type=Path, default=SWEEP, help="the sweep file (default: Kent's 24-scenario sample)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    info = machine()
    raw, rows = [], []
    for runner in RUNNERS:
        single = None
        for workers in args.workers:
            times, cpus, starts, count = [], [], [], 0
            for repeat in range(args.repeats):
                starts.append(time_startup(runner, workers))
                seconds, cpu, count = time_sweep(args.sweep, runner, workers)
                times.append(seconds)
                cpus.append(cpu)
                raw.append({"runner": runner, "workers": workers, "repeat": repeat + 1, "sweep_s": round(seconds, 2),
                            "cpu_s": round(cpu, 2), "startup_s": round(starts[-1], 2), "load": round(os.getloadavg()[0], 2)})
                print(f"{runner:<10} {workers} worker(s), repeat {repeat + 1}: {seconds:.1f}s, {cpu:.1f} CPU s "
                      f"(start-up {starts[-1]:.2f}s)", flush=True)
            median = statistics.median(times)
            single = median if workers == 1 else single
            rows.append({"runner": runner, "workers": workers, "scenarios": count, "sweep_s": round(median, 2),
                         "cpu_s": round(statistics.median(cpus), 2), "per_scenario_s": round(median / count, 3), "startup_s": round(statistics.median(starts), 2),
                         "speedup_vs_1": round(single / median, 2) if single else "", "repeats": args.repeats})
    info["load_after"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    info["sweep"] = str(args.sweep.relative_to(ROOT) if args.sweep.is_relative_to(ROOT) else args.sweep)
    with open(RESULTS / "medians.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    with open(RESULTS / "raw.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["runner", "workers", "repeat", "sweep_s", "cpu_s", "startup_s", "load"])
        writer.writeheader()
        writer.writerows(raw)
    (RESULTS / "machine.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
