"""Benchmarks of partnership-optimiser: exact against naive, and scaling.

Every configuration runs in a fresh Python subprocess (``run.py worker CONFIG``), so its
peak resident memory is the subprocess's own (``os.wait4`` rusage, which includes any
solver process it starts, such as CBC) and nothing is cached between runs. Each run has a
solver time limit and a hard wall-clock timeout after which the subprocess is killed.

    python benchmarks/run.py compare --repeats 3             # the default comparison suite
    python benchmarks/run.py compare --area "East of England" --functions ict,legal --repeats 3
    python benchmarks/run.py scaling --repeats 3 --time-limit 120
    python benchmarks/run.py regions --repeats 3 --time-limit 60    # every region and nation of the UK
    python benchmarks/run.py plot                            # benchmarks/scaling.png from the CSVs
    python benchmarks/run.py tables                          # the README's markdown tables from the CSVs
    python benchmarks/run.py machine                         # benchmarks/results/machine.csv

``--code REF`` measures a git commit exported to a temporary folder instead of the working
tree, so that edits made while a long benchmark runs do not change what is measured.

Run from the repository root with the package importable (``pip install .[bench]`` or
``PYTHONPATH=.``). Raw rows go to ``benchmarks/results/<suite>_raw.csv`` and medians to
``benchmarks/results/<suite>.csv``; rows are appended to the raw file as each run finishes.
"""

from __future__ import annotations

import argparse
import atexit
import csv
import datetime as _dt
import json
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
ENGLAND = "instances/england-2023"
UK = "instances/uk-2023"
EOE = "East of England"
FEW_FUNCTIONS = ("ict", "hr-payroll", "management-team", "waste-disposal", "highways")

RAW_FIELDS = [
    "suite", "config", "label", "instance", "area", "functions", "max_size", "model", "headroom", "method", "solver", "jobs",
    "time_limit", "repeat", "status", "objective", "bound", "gap", "wall_s", "solve_s", "solver_s", "cpu_s",
    "peak_mb", "workers_mb", "councils", "n_functions", "candidates", "lp_columns", "kept_columns", "parts",
    "loadavg_1m", "code_version", "returncode", "error",
]


SNAPSHOT: dict = {}  # set by --code: {"root": folder, "version": commit}


def snapshot(ref: str) -> dict:
    """Exports commit `ref` (optimiser/, models/, instances/) to a temporary folder, so the
    runs measure that commit whatever happens to the working tree meanwhile."""
    commit = subprocess.run(["git", "rev-parse", "--short", ref], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    folder = Path(tempfile.mkdtemp(prefix=f"optimiser-{commit}-"))
    atexit.register(shutil.rmtree, folder, True)
    archive = subprocess.run(["git", "archive", commit, "optimiser", "models", "instances"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return {"root": str(folder), "version": commit}


def code_version() -> str:
    """The commit of the code measured, with '+dirty' if optimiser/ differs from it."""
    if SNAPSHOT:
        return SNAPSHOT["version"]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "optimiser"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"
    return head + ("+dirty" if dirty else "")


# ---------------------------------------------------------------- the worker (one run, in its own process)


def worker(config: dict) -> None:
    """Solves one configuration and prints one JSON line with what was measured."""
    code_root = config.get("code_root") or str(ROOT)
    sys.path.insert(0, code_root)
    os.chdir(code_root)
    import resource

    import optimiser.api as api

    captured: dict = {}
    original = api.solve_master

    def recording(problem, generator, progress=None, run_blocks=None):
        # older code roots (``code_root``) take no runner
        runner = {} if run_blocks is None else {"run_blocks": run_blocks}
        cand, solution = original(problem, generator, progress, **runner)
        captured["councils"] = int(problem.in_area.sum())
        captured["n_functions"] = len(problem.functions)
        stats = solution.stats or {}
        if stats.get("method") == "exact":
            blocks = stats.get("blocks", [])
            captured["candidates"] = sum(b.get("candidates", 0) for b in blocks)
            captured["lp_columns"] = sum(b.get("lp_columns", 0) for b in blocks)
            captured["kept_columns"] = sum(b.get("kept_columns", 0) for b in blocks)
            captured["parts"] = sum(b.get("components", 0) for b in blocks)
            captured["jobs"] = stats.get("jobs", 1)
            captured["workers_mb"] = sum(stats.get("worker_peak_mb", []))
        else:
            captured["candidates"] = len(cand)
        return cand, solution

    api.solve_master = recording
    options = {k: v for k, v in config["options"].items() if v is not None}
    for key in ("area", "functions"):
        if key in options:
            options[key] = tuple(options[key])
    instance = config["instance"]
    if config.get("headroom") == "none":
        # the shipped instance without its headroom column: no council's cash is limited
        from optimiser.io.instance import load_instance

        instance = load_instance(instance)
        instance.councils["headroom"] = float("nan")
    started = time.perf_counter()
    plan = api.solve(instance, model=config.get("model"), **options)
    solve_s = time.perf_counter() - started
    usage_self = resource.getrusage(resource.RUSAGE_SELF)
    usage_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    solver = plan.solver
    print(json.dumps({
        **captured,
        "status": solver["status"],
        "objective": solver["objective"],
        "bound": solver["bound"],
        # a time-limited run without a finite proven bound has no gap, whatever the plan says
        "gap": solver["gap"] if solver["bound"] is not None or solver["status"] == "optimal" else None,
        "solver_s": solver["seconds"],
        "solve_s": solve_s,
        "self_mb": usage_self.ru_maxrss / 1024,
        "children_mb": usage_children.ru_maxrss / 1024,
    }), flush=True)


# ---------------------------------------------------------------- the parent: run, measure, record


def run_one(config: dict, timeout: float) -> dict:
    """Runs one configuration in a fresh subprocess; wall time, CPU time and peak RSS from wait4."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        code_root = SNAPSHOT.get("root", str(ROOT))
        config = {**config, "code_root": code_root}
        env = {**os.environ, "PYTHONPATH": code_root}
        load = os.getloadavg()[0]
        version = code_version()
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "worker", json.dumps(config)],
                                cwd=code_root, stdout=out, stderr=err, env=env, start_new_session=True)
        killed = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - started > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        lines = [line for line in out.read().splitlines() if line.startswith("{")]
        error_text = err.read().strip().splitlines()
    row = {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
           "loadavg_1m": load, "code_version": version, "returncode": proc.returncode}
    if killed:
        row.update(status="killed", error=f"killed after {timeout:.0f}s wall-clock timeout")
    elif proc.returncode != 0 or not lines:
        row.update(status="error", error=(error_text[-1] if error_text else f"exit {proc.returncode}")[:300])
    else:
        result = json.loads(lines[-1])
        self_mb = result.pop("self_mb", None)
        result.pop("children_mb", None)
        if result.get("workers_mb"):
            # worker processes run side by side: the sum of the peaks bounds the total from
            # above (the processes need not peak at the same moment)
            row["peak_mb"] = self_mb + result["workers_mb"]
        row.update(result)
    return row


def _cell(value):
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1e6 else f"{value:.2f}"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return "" if value is None else value


def append_csv(path: Path, fields: list[str], row: dict) -> None:
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow({k: _cell(row.get(k)) for k in fields})


def write_csv(path: Path, fields: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(row.get(k)) for k in fields})


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def make_config(suite, name, label, instance, *, area=(), functions=(), max_size=None, model=None, method="exact",
                solver="highs", time_limit=None, jobs=None, headroom="shipped") -> dict:
    return {
        "suite": suite, "config": name, "label": label, "instance": instance, "model": model, "headroom": headroom,
        "options": {"area": list(area) or None, "functions": list(functions) or None, "max_size": max_size,
                    "method": method, "solver": solver, "time_limit": time_limit,
                    # naive has one block: worker processes never apply to it
                    "jobs": jobs if method == "exact" else None},
    }


def describe(config: dict) -> dict:
    o = config["options"]
    return {"suite": config["suite"], "config": config["config"], "label": config["label"], "instance": config["instance"],
            "area": ";".join(o["area"] or []) or "(all)", "functions": ";".join(o["functions"] or []) or "(all)",
            "max_size": o["max_size"] or "", "model": Path(config["model"]).name if config.get("model") else "(default)",
            "headroom": config.get("headroom", "shipped"),
            "method": o["method"], "solver": o["solver"], "jobs": o.get("jobs") or "", "time_limit": o["time_limit"] or ""}


def limited(row: dict) -> bool:
    return row.get("status") in ("time_limit", "killed", "error")


def run_suite(configs: list[dict], repeats: int, timeout_for, raw_path: Path, all_repeats: bool,
              naive_repeats: int | None = None) -> list[dict]:
    """Runs each configuration `repeats` times, interleaved (1st repeat of all, then 2nd ...).

    A configuration that hits its time limit (or is killed) is not repeated unless
    `all_repeats`: its time is the limit, and repeating it costs the limit again.
    `naive_repeats` caps the naive method's runs separately: where naive takes many
    minutes to prove what exact proves in seconds, one naive run settles the ratio.
    """
    rows, stop = [], set()
    for repeat in range(repeats):
        for config in configs:
            key = config["config"] + "/" + config["options"]["method"]
            if key in stop:
                continue
            if config["options"]["method"] == "naive" and naive_repeats is not None and repeat >= naive_repeats:
                continue
            print(f"[{_dt.datetime.now():%H:%M:%S}] {config['suite']} {key} repeat {repeat + 1}/{repeats} ...", end=" ", flush=True)
            row = {**describe(config), "repeat": repeat + 1, **run_one(config, timeout_for(config))}
            print(f"{row['status']} wall {row['wall_s']:.1f}s cpu {row['cpu_s']:.1f}s {row['peak_mb']:.0f} MB"
                  + (f" gap {row['gap']:.2e}" if isinstance(row.get("gap"), float) else "")
                  + (f" ({row['error']})" if row.get("error") else ""), flush=True)
            append_csv(raw_path, RAW_FIELDS, row)
            rows.append(row)
            if limited(row) and not all_repeats:
                stop.add(key)
    return rows


def _float(value):
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x


def medians(rows: list[dict]) -> list[dict]:
    """One row per (config, method): medians of the repeats, and the statuses seen."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["config"], row["method"]), []).append(row)
    out = []
    for (_, _), group in groups.items():
        first = group[0]
        summary = {k: first[k] for k in ("code_version", "suite", "config", "label", "instance", "area", "functions", "max_size", "model", "headroom",
                                          "method", "solver", "jobs", "time_limit", "councils", "n_functions", "candidates",
                                          "lp_columns", "kept_columns", "parts") if k in first}
        statuses = sorted({r["status"] for r in group})
        summary["status"] = statuses[0] if len(statuses) == 1 else "mixed:" + "/".join(statuses)
        summary["repeats"] = len(group)
        for key in ("wall_s", "solve_s", "solver_s", "cpu_s", "peak_mb", "objective", "bound", "gap", "loadavg_1m"):
            values = [v for v in (_float(r.get(key)) for r in group) if v is not None and not math.isnan(v)]
            summary[key] = statistics.median(values) if values else None
        walls = [_float(r.get("wall_s")) for r in group]
        summary["wall_min_s"] = min(walls)
        summary["wall_max_s"] = max(walls)
        out.append(summary)
    return out


MEDIAN_FIELDS = ["suite", "config", "label", "instance", "area", "functions", "max_size", "model", "headroom", "method", "solver", "jobs",
                 "time_limit", "repeats", "status", "objective", "bound", "gap", "wall_s", "wall_min_s", "wall_max_s",
                 "solve_s", "solver_s", "cpu_s", "peak_mb", "councils", "n_functions", "candidates", "lp_columns",
                 "kept_columns", "parts", "loadavg_1m", "code_version"]


# ---------------------------------------------------------------- compare


def compare_configs(args) -> list[dict]:
    methods = ("exact", "naive")
    if args.area or args.instance != ENGLAND or args.functions:
        area = tuple(a for a in (args.area or "").split(";") if a)
        functions = tuple(f for f in (args.functions or "").split(",") if f)
        name = args.name or "-".join([Path(args.instance).name, *(area or ("all",)), *(functions or ("all-functions",))]).replace(" ", "_")
        what = ", ".join(functions) if 0 < len(functions) <= 2 else f"{len(functions) or 'all 15'} functions"
        label = f"{', '.join(area) or Path(args.instance).name}, {what}" + (f" ({args.solver})" if args.solver != "highs" else "")
        return [make_config("compare", name, label, args.instance, area=area, functions=functions, max_size=args.max_size,
                            method=m, solver=args.solver, time_limit=args.time_limit, jobs=args.jobs[0]) for m in methods]
    # the default suite: areas where naive finishes, and one function where both are slow
    suite = [
        ("suffolk-all", "Suffolk (county), all 15 functions", ("Suffolk",), (), None),
        ("eoe-5", "East of England, 5 functions", (EOE,), FEW_FUNCTIONS, None),
        ("eoe-all", "East of England, all 15 functions", (EOE,), (), args.time_limit or 120.0),
        ("eoe-revben", "East of England, revenues-benefits", (EOE,), ("revenues-benefits",), args.time_limit or 120.0),
    ]
    configs = []
    for name, label, area, functions, limit in suite:
        if args.solver != "highs":
            name, label = f"{name}-{args.solver}", f"{label} ({args.solver})"
        for m in methods:
            configs.append(make_config("compare", name, label, ENGLAND, area=area, functions=functions,
                                       max_size=args.max_size, method=m, solver=args.solver,
                                       time_limit=limit if limit is not None else args.time_limit, jobs=args.jobs[0]))
    return configs


def compare_table(median_rows: list[dict], raw_rows: list[dict]) -> list[dict]:
    """Exact and naive side by side per configuration, with the speed ratio and the agreement check."""
    by = {(r["config"], r["method"]): r for r in median_rows}
    out = []
    for config in dict.fromkeys(r["config"] for r in median_rows):
        e, n = by.get((config, "exact")), by.get((config, "naive"))
        if not e or not n:
            continue
        row = {"config": config, "label": e["label"], "solver": e["solver"], "time_limit": e["time_limit"],
               "councils": e.get("councils"), "candidates": n.get("candidates") or e.get("candidates"),
               "kept_columns": e.get("kept_columns"),
               "exact_status": e["status"], "exact_solve_s": e["solve_s"], "exact_s": e["wall_s"], "exact_cpu_s": e["cpu_s"], "exact_mb": e["peak_mb"],
               "exact_objective": e["objective"], "exact_gap": e["gap"],
               "naive_status": n["status"], "naive_solve_s": n["solve_s"], "naive_s": n["wall_s"], "naive_cpu_s": n["cpu_s"], "naive_mb": n["peak_mb"],
               "naive_objective": n["objective"], "naive_gap": n["gap"],
               "repeats": f"{e['repeats']}/{n['repeats']}"}
        row["speedup_solve"] = (n["solve_s"] / e["solve_s"]) if e["solve_s"] and n["solve_s"] else None
        row["speedup_wall"] = (n["wall_s"] / e["wall_s"]) if e["wall_s"] else None
        row["speedup_cpu"] = (n["cpu_s"] / e["cpu_s"]) if e["cpu_s"] else None
        # agreement: every pair of runs in which both methods proved optimality
        pairs = [(float(a["objective"]), float(b["objective"])) for a in raw_rows for b in raw_rows
                 if a["config"] == config == b["config"] and a["method"] == "exact" and b["method"] == "naive"
                 and a["status"] == "optimal" == b["status"]]
        if pairs:
            worst = max(abs(a - b) for a, b in pairs)
            rel = max(abs(a - b) / max(1.0, abs(b)) for a, b in pairs)
            row["max_abs_diff"] = worst
            row["max_rel_diff"] = rel
            row["agree_1e-6"] = "yes" if rel <= 1e-6 else "NO"
        else:
            row["agree_1e-6"] = "n/a (not both optimal)"
        out.append(row)
    return out


COMPARE_FIELDS = ["config", "label", "solver", "time_limit", "councils", "candidates", "kept_columns", "repeats",
                  "exact_status", "exact_solve_s", "exact_s", "exact_cpu_s", "exact_mb", "exact_objective", "exact_gap",
                  "naive_status", "naive_solve_s", "naive_s", "naive_cpu_s", "naive_mb", "naive_objective", "naive_gap",
                  "speedup_solve", "speedup_wall", "speedup_cpu", "max_abs_diff", "max_rel_diff", "agree_1e-6"]


# ---------------------------------------------------------------- scaling


def widened_model(max_size: int) -> str:
    """The default model with the rules' group-size cap raised, so --max-size above 6 means something.

    --max-size only lowers a function's cap (min of the model's and the option), so the
    size series uses a copy of models/uk-central.toml whose [rules] max_size is `max_size`;
    functions with their own smaller cap (management-team: 3) keep it.
    """
    text = (Path(SNAPSHOT.get("root", ROOT)) / "models" / "uk-central.toml").read_text()
    head, sep, tail = text.partition("[rules]")
    rules, sep2, rest = tail.partition("[[depths]]")
    lines = [f"max_size = {max_size}" if line.strip().startswith("max_size") else line for line in rules.splitlines()]
    assert any(line.startswith("max_size =") for line in lines), "models/uk-central.toml has no [rules] max_size"
    folder = Path(tempfile.mkdtemp(prefix="optimiser-bench-"))
    atexit.register(shutil.rmtree, folder, True)
    path = folder / f"uk-central-max{max_size}.toml"
    path.write_text(head + sep + "\n".join(lines) + "\n" + sep2 + rest)
    return str(path)


def _jobs_suffix(args, jobs) -> str:
    return f"/jobs{jobs}" if len(args.jobs) > 1 else ""


def _jobs_label(args, jobs) -> str:
    return f", {jobs} worker{'s' if jobs != 1 else ''}" if len(args.jobs) > 1 else ""


def scaling_configs(args) -> list[dict]:
    configs = []
    parts = args.part.split(",")
    limit = args.time_limit or 120.0
    if "councils" in parts:
        for name, label, instance, area in [
            ("suffolk", "Suffolk (county)", ENGLAND, ("Suffolk",)),
            ("east-of-england", "East of England (region)", ENGLAND, (EOE,)),
            ("england", "England", ENGLAND, ()),
            ("uk", "UK", UK, ()),
        ]:
            for jobs in args.jobs:
                configs.append(make_config("scaling", f"councils/{name}" + _jobs_suffix(args, jobs), label + _jobs_label(args, jobs),
                                           instance, area=area, solver=args.solver, time_limit=limit, jobs=jobs))
    if "size" in parts:
        model = widened_model(max(args.sizes))
        for size in args.sizes:
            for jobs in args.jobs:
                configs.append(make_config("scaling", f"size/{size}" + _jobs_suffix(args, jobs),
                                           f"East of England, max_size {size}" + _jobs_label(args, jobs), ENGLAND,
                                           area=(EOE,), max_size=size, model=model, solver=args.solver, time_limit=limit,
                                           jobs=jobs))
    return configs


def regions() -> tuple[str, ...]:
    """Every English region, then the three other nations, as ``--area`` names them."""
    from optimiser.io.names import REGION_NAMES

    return tuple(REGION_NAMES.values())


def regions_configs(args) -> list[dict]:
    """Each region and nation of the UK, all functions, with the instance's headroom and without
    it (English councils carry a headroom derived from their reserves; SPEC section 8)."""
    configs = []
    chosen = [a for a in (args.area or "").split(";") if a] or regions()
    unknown = sorted(set(chosen) - set(regions()))
    if unknown:
        raise SystemExit(f"--area: not a region or nation of the UK: {', '.join(unknown)}")
    for headroom in args.headroom.split(","):
        if headroom not in ("shipped", "none"):
            raise SystemExit(f"--headroom: {headroom!r} is neither shipped nor none")
        for area in chosen:
            name = f"{area.lower().replace(' ', '-')}/{headroom}"
            label = f"{area}, {'shipped headroom' if headroom == 'shipped' else 'no headroom'}"
            configs.append(make_config("regions", name, label, UK, area=(area,), solver=args.solver,
                                       time_limit=args.time_limit or 60.0, jobs=args.jobs[0], headroom=headroom))
    return configs


REGION_FIELDS = ["config", "label", "area", "headroom", "councils", "n_functions", "candidates", "repeats", "status", "wall_s",
                 "wall_min_s", "wall_max_s", "solve_s", "cpu_s", "peak_mb", "objective", "bound", "gap", "time_limit",
                 "loadavg_1m", "code_version"]


def regions_table(median_rows: list[dict]) -> str:
    """The README's markdown table of the regions suite: the instance's headroom beside none."""
    by = {(r["area"], r["headroom"]): r for r in median_rows}
    lines = ["| area | councils | headroom | runs | status | solve s (median; min-max wall) | peak MB | gap | plan NPV £m |",
             "|---|---|---|---|---|---|---|---|---|"]
    for area in regions():
        for headroom in ("shipped", "none"):
            row = by.get((area, headroom))
            if row is None:
                continue
            gap = _float(row.get("gap"))
            lines.append(f"| {area} | {_fmt_int(row.get('councils'))} | {headroom} | {row['repeats']} | {row['status']} | "
                         f"{_fmt_s(row.get('solve_s'))} ({_fmt_s(row.get('wall_min_s'))}-{_fmt_s(row.get('wall_max_s'))}) | "
                         f"{_fmt_int(row.get('peak_mb'))} | {_fmt_gap(row['status'], gap)} | "
                         f"{_fmt_int((_float(row.get('objective')) or 0) / 1e6)} |")
    return "\n".join(lines)


SCALING_FIELDS = ["config", "label", "max_size", "jobs", "councils", "n_functions", "candidates", "lp_columns", "kept_columns",
                  "repeats", "status", "solve_s", "wall_s", "wall_min_s", "wall_max_s", "cpu_s", "peak_mb", "objective", "bound",
                  "gap", "time_limit", "loadavg_1m", "code_version"]


# ---------------------------------------------------------------- plot


def plot(results: Path = RESULTS, out: Path = HERE / "scaling.png") -> None:
    """Wall time, peak memory and proven gap against councils and against max_size, one line
    per worker count when the runs compared several."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_csv(results / "scaling.csv")
    councils = [r for r in rows if r["config"].startswith("councils/")]
    sizes = [r for r in rows if r["config"].startswith("size/")]
    fig, axes = plt.subplots(3, 2, figsize=(11, 11))
    style = {"optimal": ("o", "tab:blue", 50, "proven optimal"),
             "time_limit": ("X", "tab:red", 90, "stopped at the time limit"),
             "mixed": ("D", "tab:purple", 60, "proven optimal in some runs only"),
             "killed": ("s", "black", 60, "killed at the wall-clock timeout")}

    def gap_percent(r) -> float:
        return 0.0 if r["status"] == "optimal" else 100 * float(r["gap"]) if r.get("gap") else float("nan")

    def series(ax, data, x_of, y_of, xlabel, ylabel, logx, logy=True, annotate=False):
        by_jobs: dict = {}
        for r in data:
            # the series a run belongs to is the worker count it asked for (a small run may use fewer)
            asked = r["config"].rsplit("/jobs", 1)[1] if "/jobs" in r["config"] else (r.get("jobs") or "1")
            by_jobs.setdefault(asked, []).append(r)
        labelled = set()
        for line, (jobs, group) in zip(("-", "--", ":"), sorted(by_jobs.items())):
            group = sorted(group, key=x_of)
            xs, ys = [x_of(r) for r in group], [y_of(r) for r in group]
            name = f"{jobs} worker{'s' if str(jobs) != '1' else ''}" if len(by_jobs) > 1 else None
            ax.plot(xs, ys, line, color="0.5", zorder=1, label=name)
            for r, x, y in zip(group, xs, ys):
                kind = r["status"] if r["status"] in style else "mixed" if r["status"].startswith("mixed") else "killed"
                marker, color, size, label = style[kind]
                ax.scatter([x], [y], marker=marker, s=size, color=color, zorder=3, label=None if kind in labelled else label)
                labelled.add(kind)
            if annotate and jobs == min(by_jobs):  # one label per point, from the first line
                for number, (r, x, y) in enumerate(zip(group, xs, ys)):
                    text = r["label"].split(" (")[0].split(",")[0] if "max_size" not in r["label"] else f"max_size {r['max_size']}"
                    if r.get("candidates"):
                        text += f"\n{int(float(r['candidates'])):,} options"
                    offset = (6, -22) if number % 2 == 0 else (6, 6)
                    ax.annotate(text, (x, y), textcoords="offset points", xytext=offset, fontsize=7)
        if ylabel.startswith("wall") and data and data[0].get("time_limit"):
            ax.axhline(float(data[0]["time_limit"]), color="tab:red", ls=":", lw=1, label="solver time limit")
        if logy:
            ax.set_yscale("log")
        if logx:
            ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
        ax.margins(x=0.2, y=0.3)
        if not logy:
            ax.set_ylim(bottom=0)

    by_councils, by_size = (lambda r: int(r["councils"])), (lambda r: int(r["max_size"]))
    series(axes[0, 0], councils, by_councils, lambda r: float(r["wall_s"]), "councils in the run (log)", "wall seconds (log)", True, annotate=True)
    series(axes[0, 1], sizes, by_size, lambda r: float(r["wall_s"]), "group size limit (max_size)", "wall seconds (log)", False, annotate=True)
    series(axes[1, 0], councils, by_councils, lambda r: float(r["peak_mb"]), "councils in the run (log)", "peak memory MB (log)", True)
    series(axes[1, 1], sizes, by_size, lambda r: float(r["peak_mb"]), "group size limit (max_size)", "peak memory MB (log)", False)
    series(axes[2, 0], councils, by_councils, gap_percent, "councils in the run (log)", "proven gap %", True, logy=False)
    series(axes[2, 1], sizes, by_size, gap_percent, "group size limit (max_size)", "proven gap %", False, logy=False)
    axes[0, 0].set_title("all 15 functions, groups up to 6, exact/HiGHS")
    axes[0, 1].set_title("East of England, all 15 functions, exact/HiGHS")
    for ax in axes[0]:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="lower right")
    for ax in axes[:, 1]:
        ax.set_xticks(sorted({int(r["max_size"]) for r in sizes}))
    fig.suptitle("partnership-optimiser: wall time, peak memory and proven gap per run (median of repeats)", fontsize=11)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


# ---------------------------------------------------------------- markdown tables for the README


def _fmt_s(value) -> str:
    x = _float(value)
    return "" if x is None else (f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:.0f}")


def _fmt_gap(status: str, gap) -> str:
    x = _float(gap)
    if status == "optimal":
        return "0"
    return "no bound" if x is None else f"{100 * x:.2f}%"


def _fmt_int(value) -> str:
    x = _float(value)
    return "" if x is None else f"{int(x):,}"


def tables(results: Path = RESULTS) -> None:
    """Prints the README's tables from results/compare.csv and results/scaling.csv."""
    if (results / "compare.csv").exists():
        print("| configuration | solver | limit s | options | exact: status | exact s | exact MB | naive: status | naive s "
              "| naive MB | naive s / exact s | objectives agree (1e-6) |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in read_csv(results / "compare.csv"):
            ratio = _float(r["speedup_solve"]) if r["exact_status"] == "optimal" == r["naive_status"] else None
            print(f"| {r['label']} | {r['solver']} | {_fmt_s(r['time_limit']) or 'none'} | {_fmt_int(r['candidates'])} "
                  f"| {r['exact_status']} ({_fmt_gap(r['exact_status'], r['exact_gap'])}) | {_fmt_s(r['exact_solve_s'])} "
                  f"| {_fmt_int(r['exact_mb'])} | {r['naive_status']} ({_fmt_gap(r['naive_status'], r['naive_gap'])}) "
                  f"| {_fmt_s(r['naive_solve_s'])} | {_fmt_int(r['naive_mb'])} | {'n/a (not both optimal)' if ratio is None else f'{ratio:.2f}x'} "
                  f"| {r['agree_1e-6']} |")
        print()
    if (results / "scaling.csv").exists():
        print("| configuration | councils | max_size | workers | options | LP columns | options kept | runs | status | solve s "
              "| wall s | peak MB | gap | plan NPV £m |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in read_csv(results / "scaling.csv"):
            print(f"| {r['label']} | {r['councils']} | {r['max_size'] or '6 (model)'} | {r.get('jobs') or 1} | {_fmt_int(r['candidates'])} "
                  f"| {_fmt_int(r['lp_columns'])} | {_fmt_int(r['kept_columns'])} | {r['repeats']} | {r['status']} "
                  f"| {_fmt_s(r['solve_s'])} | {_fmt_s(r['wall_s'])} | {_fmt_int(r['peak_mb'])} "
                  f"| {_fmt_gap(r['status'], r['gap'])} | {_fmt_int(_float(r['objective']) / 1e6) if _float(r['objective']) else ''} |")


# ---------------------------------------------------------------- machine


def machine(results: Path = RESULTS) -> None:
    from importlib import metadata

    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_kb = line.split()[1]
    except OSError:
        pass
    rows = [
        ("date_utc", _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("nproc", subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()),
        ("cpu_model", model),
        ("memory_gb", f"{int(mem_kb) / 1024 / 1024:.1f}" if mem_kb else ""),
        ("os", platform.platform()),
        ("python", platform.python_version()),
        ("loadavg_at_record", " ".join(f"{x:.2f}" for x in os.getloadavg())),
    ]
    for package in ("partnership-optimiser", "highspy", "pulp", "numpy", "pandas", "networkx", "matplotlib"):
        try:
            rows.append((package, metadata.version(package)))
        except metadata.PackageNotFoundError:
            rows.append((package, "not installed"))
    rows.append(("code_measured", code_version()))
    results.mkdir(parents=True, exist_ok=True)
    write_csv(results / "machine.csv", ["key", "value"], [{"key": k, "value": v} for k, v in rows])
    for k, v in rows:
        print(f"{k:24} {v}")


# ---------------------------------------------------------------- command line


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    w = sub.add_parser("worker", help="(internal) one run in this process; prints a JSON line")
    w.add_argument("config")

    def common(p):
        p.add_argument("--repeats", type=int, default=3)
        p.add_argument("--solver", default="highs", choices=("highs", "cbc"))
        p.add_argument("--time-limit", type=float, default=None, help="solver time limit per run (seconds)")
        p.add_argument("--timeout", type=float, default=None,
                       help="kill a run after this many wall seconds (default: 3 x time limit + 120, or 1800)")
        p.add_argument("--all-repeats", action="store_true", help="repeat runs that hit the time limit too")
        p.add_argument("--naive-repeats", type=int, default=None,
                       help="run the naive method at most this many times (default: --repeats)")
        p.add_argument("--jobs", type=lambda t: [int(x) for x in t.split(",")], default=[None], metavar="N[,N...]",
                       help="worker processes for the exact method (default: the engine's, one per core); "
                            "scaling runs each count given as its own series, compare takes one")
        p.add_argument("--results", type=Path, default=RESULTS)
        p.add_argument("--append", action="store_true", help="add to the existing raw CSV instead of starting afresh")
        p.add_argument("--code", default=None, metavar="REF",
                       help="measure this git commit (exported to a temporary folder) instead of the working tree")

    c = sub.add_parser("compare", help="exact against naive, same solver, side by side")
    common(c)
    c.add_argument("--instance", default=ENGLAND)
    c.add_argument("--area", default=None, help="areas separated by ';' (default: the built-in suite)")
    c.add_argument("--functions", default=None, help="function ids separated by ','")
    c.add_argument("--max-size", type=int, default=None)
    c.add_argument("--name", default=None, help="configuration name in the CSVs")

    s = sub.add_parser("scaling", help="time and memory against councils and against max_size (exact)")
    common(s)
    s.add_argument("--part", default="councils,size", help="councils, size or both (comma-separated)")
    s.add_argument("--sizes", type=lambda t: [int(x) for x in t.split(",")], default=[4, 5, 6, 8])

    r = sub.add_parser("regions", help="every region and nation of the UK within a time limit (exact)")
    common(r)
    r.add_argument("--headroom", default="shipped,none", help="shipped, none or both (comma-separated)")
    r.add_argument("--area", default=None, help="only these of the regions and nations, separated by ';'")

    pl = sub.add_parser("plot", help="benchmarks/scaling.png from results/scaling.csv")
    pl.add_argument("--results", type=Path, default=RESULTS)
    pl.add_argument("--out", type=Path, default=HERE / "scaling.png")
    sub.add_parser("machine", help="record the machine in results/machine.csv")
    t = sub.add_parser("tables", help="print the README's markdown tables from the result CSVs")
    t.add_argument("--results", type=Path, default=RESULTS)

    args = parser.parse_args(argv)
    if args.command == "worker":
        worker(json.loads(args.config))
        return
    if args.command == "plot":
        plot(args.results, args.out)
        return
    if args.command == "machine":
        machine()
        return
    if args.command == "tables":
        tables(args.results)
        return

    args.results.mkdir(parents=True, exist_ok=True)
    if args.code:
        SNAPSHOT.update(snapshot(args.code))
        print(f"measuring commit {SNAPSHOT['version']} exported to {SNAPSHOT['root']}")
    if args.command == "compare" and len(args.jobs) > 1:
        parser.error("compare takes one --jobs value")
    configs = {"compare": compare_configs, "scaling": scaling_configs, "regions": regions_configs}[args.command](args)
    suite = args.command
    raw_path = args.results / f"{suite}_raw.csv"
    if raw_path.exists() and not args.append:
        raw_path.unlink()

    def timeout_for(config):
        if args.timeout:
            return args.timeout
        limit = config["options"]["time_limit"]
        return 3 * limit + 120 if limit else 1800

    machine(args.results)
    run_suite(configs, args.repeats, timeout_for, raw_path, args.all_repeats, args.naive_repeats)
    raw = read_csv(raw_path)
    median_rows = medians(raw)
    write_csv(args.results / f"{suite}_medians.csv", MEDIAN_FIELDS, median_rows)
    if suite == "compare":
        table = compare_table(median_rows, raw)
        write_csv(args.results / "compare.csv", COMPARE_FIELDS, table)
        for row in table:
            print(f"{row['label']:45} exact {row['exact_status']:10} {float(row['exact_solve_s'] or 0):8.2f}s  naive "
                  f"{row['naive_status']:10} {float(row['naive_solve_s'] or 0):8.2f}s  ratio {float(row['speedup_solve'] or 0):6.2f}  "
                  f"agree {row['agree_1e-6']}")
    elif suite == "regions":
        write_csv(args.results / "regions.csv", REGION_FIELDS, median_rows)
        print(regions_table(median_rows))
    else:
        write_csv(args.results / "scaling.csv", SCALING_FIELDS, median_rows)
        for row in median_rows:
            print(f"{row['label']:40} {row['status']:10} {float(row['wall_s']):8.1f}s {float(row['peak_mb']):7.0f} MB "
                  f"gap {row['gap']}")
        try:
            plot(args.results, args.results / "scaling.png")  # the README's plot changes only by `run.py plot`
        except ImportError:
            print("matplotlib is not installed: pip install matplotlib (the bench extra) for the plot")


if __name__ == "__main__":
    main()
