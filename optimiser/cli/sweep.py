"""``optimiser sweep``: many runs across savings assumptions and run options."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import InputError
from ..report.terminal import printable, say
from .common import add_command, check_out

SWEEP_EXIT = ["0  every scenario was solved (none failed)",
              "1  some scenarios failed (each recorded with its error; the others are in the table)",
              "2  bad input: one line naming the sweep file and key, or the option; nothing is solved",
              "130  interrupted: the finished scenarios are kept; the same command resumes"]
BAR = 30


def register(sub) -> dict:
    p = add_command(sub, "sweep", "solve many scenarios: savings assumptions, sizes, models, areas, budgets",
                    "Solve every scenario of a sweep file (a grid of values, or a Latin-hypercube sample of ranges),\n"
                    "each in its own process, on a local pool or a Dask cluster. --out gets sweep.csv and\n"
                    "sweep.parquet (one row a scenario), sweep_functions.csv/.parquet (one row per scenario and\n"
                    "function), plots/*.png, and scenarios/KEY/plan.json for each. Started again with the same\n"
                    "file and folder it solves only the scenarios not yet finished.",
                    ["optimiser sweep examples/sweep-suffolk.toml --out results/sweep-suffolk",
                     "optimiser sweep examples/sweep-kent-lhs.toml --out results/kent --workers 2",
                     "optimiser sweep examples/sweep-suffolk.toml --out results/s --scheduler local",
                     "optimiser sweep examples/sweep-suffolk.toml --out results/s --scheduler tcp://10.0.0.5:8786"],
                    SWEEP_EXIT)
    p.add_argument("sweep", help="the sweep file (TOML: a [run] table and a [sweep] table; see README.md)")
    p.add_argument("--out", required=True, metavar="DIR", help="the sweep's folder: tables, plots and every scenario's plan")
    p.add_argument("--workers", metavar="N", help="scenarios solved side by side (default: one per core)")
    p.add_argument("--scheduler", metavar="ADDRESS|local",
                   help="solve on Dask: a scheduler's address (tcp://host:8786), or local for a LocalCluster of --workers")
    p.add_argument("--quiet", action="store_true", help="no progress, warnings or summary on the terminal")
    return {"sweep": sweep}


class SweepProgress:
    """Done / total and the time left: a bar rewritten in place on a terminal, a line per
    finished scenario elsewhere (a log file, a batch job), nothing with --quiet."""

    def __init__(self, enabled: bool, stream=None):
        self.enabled, self.stream = enabled, stream or sys.stderr
        self.terminal = self.stream.isatty()
        self.width = 0

    def __call__(self, event) -> None:
        if not self.enabled or event.stage != "sweep":
            return
        done, total = event.done or 0, event.total or 0
        detail = f", {event.detail}" if event.detail else ""
        if self.terminal:
            filled = round(BAR * done / total) if total else BAR
            line = printable(f"[{'#' * filled}{'.' * (BAR - filled)}] {done}/{total} scenarios{detail}", self.stream)
            self.stream.write("\r" + line.ljust(self.width))
            self.width = len(line)
            self.stream.flush()
        elif done:
            say(f"sweep: {done} of {total} scenarios finished{detail}", self.stream)

    def done(self) -> None:
        if self.terminal and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


def sweep(args) -> int:
    from ..io import values
    from ..io.sweep import read_sweep
    from ..research import run_sweep
    from ..processes import available_cores

    workers = values.whole(args.workers, "--workers", low=1, what="a number of processes") if args.workers else available_cores()
    scheduler = args.scheduler.strip() if args.scheduler else None
    if scheduler == "":
        raise InputError("--scheduler", "'' is empty: give a scheduler's address (tcp://host:8786) or local")
    check_out(args.out)
    plan = read_sweep(args.sweep)
    progress = SweepProgress(enabled=not args.quiet)
    try:
        result = run_sweep(plan, Path(args.out), workers=workers, scheduler=scheduler, progress=progress)
    except KeyboardInterrupt:
        progress.done()
        say(f"optimiser: interrupted; the finished scenarios are kept in {args.out} and its tables; "
            "the same command solves the rest", sys.stderr)
        return 130
    progress.done()
    if not args.quiet:
        resumed = f" ({result.resumed} finished before, {result.solved_now} now)" if result.resumed else ""
        failed = f"; {result.failed} failed (their errors are in sweep.csv)" if result.failed else ""
        say(f"{result.finished} of {result.total} scenarios finished{resumed}{failed} in {result.seconds:.1f}s")
        say(f"  written: {Path(args.out) / result.files[0]}, {', '.join(result.files[1:])}, scenarios/KEY/plan.json")
    return 1 if result.failed else 0
