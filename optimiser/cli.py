"""The ``optimiser`` command: solve, verify, evaluate, instances.

A thin layer over the library: it parses options, shows progress on a terminal, prints a
summary and turns every input problem into one line on stderr and exit status 2.
Exit status: 0 success; 1 infeasible run, `verify` finding a problem, or a grouping that
breaks rules; 2 bad input; 3 internal error (including a solved plan failing verification).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import traceback
from pathlib import Path

from . import __version__
from .errors import InputError, SolveError

log = logging.getLogger("optimiser")


# ---------------------------------------------------------------- progress and output


class Progress:
    """One status line on stderr, rewritten in place; silent unless stderr is a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.started = time.perf_counter()
        self.width = 0

    def __call__(self, stage: str, *details) -> None:
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.started
        if stage == "candidates":
            function_id, groups, columns = details
            text = f"candidates  {function_id:<28} {groups:>10,} groups  {columns:>10,} options"
        elif stage == "pricing":
            label, rounds, columns, bound = details
            text = f"LP bound    {label:<28} round {rounds:<3} {columns:>8,} columns  bound £{bound:,.0f}"
        elif stage == "fixing":
            label, kept, total, incumbent = details
            text = f"MIP         {label:<28} {kept:,} of {total:,} options can be optimal; plan so far £{incumbent:,.0f}"
        else:
            text = " ".join(str(d) for d in (stage, *details))
        line = f"[{elapsed:6.1f}s] {text}"
        sys.stderr.write("\r" + line.ljust(self.width))
        self.width = len(line)
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled and self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()


def _money(value: float | None) -> str:
    if value is None:
        return "-"
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value >= 1e9:
        return f"{sign}£{value / 1e9:,.2f}bn"
    if value >= 1e6:
        return f"{sign}£{value / 1e6:,.2f}m"
    if value >= 1e3:
        return f"{sign}£{value / 1e3:,.0f}k"
    return f"{sign}£{value:,.0f}"


def summary(plan, instance, top: int = 10) -> str:
    """A readable account of a plan: totals, per function, the largest partnerships."""
    names = dict(zip(instance.councils["code"], instance.councils["name"]))
    s = plan.solver
    totals = plan.totals
    gap = "-" if s["gap"] is None else f"{s['gap']:.2e}"
    lines = [
        f"{plan.data['instance']} with model {plan.data['model']}: {s['status']} "
        f"({s['name']}, {s['seconds']:.1f}s, gap {gap})",
        f"  {len(plan.partnerships)} partnerships; NPV {_money(totals['npv'])}; yearly saving "
        f"{_money(totals['annual_saving'])} of {_money(totals['baseline'])} baseline "
        f"({100 * totals['annual_saving'] / totals['baseline'] if totals['baseline'] else 0:.1f}%); "
        f"one-off cost {_money(totals['one_off_cost'])}",
        "",
        f"  {'function':<28}{'partnerships':>13}{'councils':>10}{'yearly saving':>15}{'% of spend':>11}{'NPV':>12}",
    ]
    by_function: dict[str, dict] = {}
    for row in plan.councils:
        entry = by_function.setdefault(row["function"], {"baseline": 0.0, "partnerships": set(), "councils": 0, "annual": 0.0, "npv": 0.0})
        entry["baseline"] += row["baseline"]
        if row["partnership"]:
            entry["partnerships"].add(row["partnership"])
            entry["councils"] += 1
            entry["annual"] += row.get("annual_saving_share", 0.0)
            entry["npv"] += row["npv_share"]
    for function, e in by_function.items():
        share = 100 * e["annual"] / e["baseline"] if e["baseline"] else 0.0
        lines.append(f"  {function:<28}{len(e['partnerships']):>13}{e['councils']:>10}{_money(e['annual']):>15}{share:>10.1f}%{_money(e['npv']):>12}")
    largest = sorted(plan.partnerships, key=lambda p: -p["npv"])[:top]
    if largest:
        lines += ["", f"  largest partnerships (of {len(plan.partnerships)}):"]
        for p in largest:
            members = ", ".join(names.get(c, c) + (" (host)" if c == p["host"] else "") for c in p["members"])
            payback = "-" if p["payback_years"] is None else f"{p['payback_years']:.1f}y"
            lines.append(f"  {p['id']:>5} {p['function']:<26} NPV {_money(p['npv']):>9}  {p['depth']:<18} payback {payback:>5}  {members}")
    return "\n".join(lines)


# ---------------------------------------------------------------- argument parsing


def _pair(text: str) -> tuple[str, str]:
    left, sep, right = text.partition(":")
    if not sep or not left.strip() or not right.strip():
        raise argparse.ArgumentTypeError(f"'{text}' should be two parts joined by ':'")
    return left.strip(), right.strip()


def _list(text: str) -> tuple[str, ...]:
    items = tuple(t.strip() for t in text.split(",") if t.strip())
    if not items:
        raise argparse.ArgumentTypeError("an empty list")
    return items


def _run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="NAME|PATH", help="savings model (default: the instance's)")
    parser.add_argument("--area", type=_list, metavar="CODE[,CODE...]", help="keep only these councils, counties (with their districts), regions or nations; codes or names")
    parser.add_argument("--functions", type=_list, metavar="ID[,ID...]", help="only these functions")
    parser.add_argument("--budget", type=float, metavar="POUNDS", help="one-off investment budget for all partnerships together")
    parser.add_argument("--exclude", type=_pair, action="append", default=[], metavar="CODE:FUNCTION", help="keep a council out of a function (repeatable)")
    parser.add_argument("--apart", type=_pair, action="append", default=[], metavar="CODE:CODE", help="two councils that must not share any partnership (repeatable)")
    parser.add_argument("--max-size", type=int, metavar="N", help="cap every function's group size")
    parser.add_argument("--solver", choices=("highs", "cbc"), default="highs", help="MIP solver (default highs)")
    parser.add_argument("--method", choices=("exact", "naive"), default="exact", help="exact: LP pricing and reduced-cost fixing (default); naive: every candidate in one MIP")
    parser.add_argument("--time-limit", type=float, metavar="SECONDS", help="stop with the best plan so far and its gap")
    parser.add_argument("--jobs", type=int, metavar="N", help="worker processes for functions solved apart (default: one per core)")
    parser.add_argument("--quiet", action="store_true", help="no progress or summary on the terminal")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit status 2), like any bad input."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="optimiser", description="Which shared-service partnerships should councils form? Exact optimisation of savings under commitment, geography and democratic-structure rules.")
    parser.add_argument("--version", action="version", version=f"optimiser {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each stage to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("solve", help="find the best plan for an instance", description="Find the plan of partnerships with the highest total NPV, prove it optimal (or report its gap), verify it and write it.")
    p.add_argument("instance", help="instance folder, or the name of a shipped instance")
    _run_options(p)
    p.add_argument("--out", metavar="DIR", help="write plan.json, partnerships.csv and councils.csv here")
    p.add_argument("--top", type=int, default=10, metavar="N", help="largest partnerships to list in the summary (default 10)")

    p = sub.add_parser("verify", help="check a plan against the instance and model, independently", description="Recompute every rule and every pound of a plan from the input files.")
    p.add_argument("instance")
    p.add_argument("plan", help="a plan.json")
    p.add_argument("--model", metavar="NAME|PATH", help="savings model (default: the plan's)")

    p = sub.add_parser("evaluate", help="score a given grouping, such as today's arrangements", description="Score each group of a grouping file (columns id, function, code): best depth, host and platform, its NPV, and every rule it breaks.")
    p.add_argument("instance")
    p.add_argument("groups", help="CSV with columns id, function, code (one row per member)")
    _run_options(p)
    p.add_argument("--out", metavar="DIR", help="write evaluation.json and evaluation.csv here")

    p = sub.add_parser("instances", help="list the shipped instances")
    p.add_argument("--dir", default=None, help="folder holding instance folders (default ./instances)")
    return parser


def _options_from(args) -> dict:
    return dict(
        area=args.area or (),
        functions=args.functions or (),
        budget=args.budget,
        exclude=tuple(args.exclude),
        apart=tuple(args.apart),
        solver=args.solver,
        time_limit=args.time_limit,
        method=args.method,
        max_size=args.max_size,
        jobs=args.jobs,
    )


# ---------------------------------------------------------------- commands


def _check_out(out: str | None) -> None:
    """Fails early (before any solving) when --out cannot be a folder."""
    if not out:
        return
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise InputError("--out", f"'{out}' exists and is not a folder")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise InputError("--out", f"'{out}' cannot be made: '{parent}' is not a folder")


def _load(args):
    from .io.instance import load_instance
    from .io.model import load_model

    instance = load_instance(args.instance)
    ref = args.model or instance.model_ref
    if ref is None:
        raise InputError(instance.folder / "instance.toml", "names no default model; pass --model", "model")
    try:
        return instance, load_model(ref, near=instance.folder)
    except InputError as exc:
        if args.model or exc.source != f"model '{ref}'":
            raise
        # the instance names a model that is not there: point at the key that names it
        raise InputError(instance.folder / "instance.toml", f"{exc.problem}; pass --model or fix the key", "model") from None


def cmd_solve(args) -> int:
    from .api import solve
    from .problem import RunOptions
    from .verify import verify

    _check_out(args.out)
    instance, model = _load(args)
    options = RunOptions(**_options_from(args))
    progress = Progress(enabled=not args.quiet and sys.stderr.isatty())
    try:
        plan = solve(instance, model, options, progress=progress)
    finally:
        progress.done()
    report = verify(instance, plan.data, model)
    if args.out and report.ok:  # a plan that fails verification is a bug, never a result
        plan.write(args.out)
    if not args.quiet:
        print(summary(plan, instance, args.top))
        print()
        print(f"  verified: {'every rule and every pound recomputed from the input files' if report.ok else 'FAILED'}")
        if args.out and report.ok:
            print(f"  written: {Path(args.out) / 'plan.json'}, partnerships.csv, councils.csv")
    if not report.ok:
        for problem in report.problems[:20]:
            print(f"verify: {problem}", file=sys.stderr)
        print("optimiser: internal error: the plan failed independent verification and was not written; please report it", file=sys.stderr)
        return 3
    if plan.status == "infeasible":
        print("optimiser: no plan satisfies the locked partnerships together with the run's limits (budget, max_partnerships, max_hosted)", file=sys.stderr)
        return 1
    return 0


def cmd_verify(args) -> int:
    from .io.instance import load_instance
    from .verify import verify

    instance = load_instance(args.instance)
    report = verify(instance, Path(args.plan), args.model)  # verify reads and checks the file itself
    if report.ok:
        counts = ", ".join(f"{v} {k}" for k, v in report.checked.items())
        print(f"{args.plan}: valid ({counts})")
        return 0
    for problem in report.problems:
        print(f"{args.plan}: {problem}")
    print(f"{args.plan}: {len(report.problems)} problem(s) found", file=sys.stderr)
    return 1


def cmd_evaluate(args) -> int:
    from .api import evaluate
    from .problem import RunOptions

    _check_out(args.out)
    instance, model = _load(args)
    result = evaluate(instance, args.groups, model, RunOptions(**_options_from(args)))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        tmp_json, tmp_csv = out / ".evaluation.json.tmp", out / ".evaluation.csv.tmp"
        tmp_json.write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
        tmp_csv.write_text(result.to_csv(), encoding="utf-8")
        os.replace(tmp_json, out / "evaluation.json")
        os.replace(tmp_csv, out / "evaluation.csv")
    if not args.quiet:
        names = dict(zip(instance.councils["code"], instance.councils["name"]))
        for g in result.groups:
            members = ", ".join(names.get(c, c) for c in g["members"])
            payback = "-" if g["payback_years"] is None else f"{g['payback_years']:.1f}y"
            print(f"{g['id']} {g['function']}: {members}")
            print(f"    best: {g['depth']} hosted by {names.get(g['host'], g['host'])}, platform {g['platform'] or '-'}; "
                  f"yearly saving {_money(g['annual_saving'])}, one-off {_money(g['one_off_cost'])}, NPV {_money(g['npv'])}, payback {payback}")
            for b in g["breaks"]:
                print(f"    breaks {b}")
        t = result.totals
        print(f"{len(result.groups)} groups: NPV {_money(t['npv'])}, yearly saving {_money(t['annual_saving'])}, one-off {_money(t['one_off_cost'])}; "
              f"{sum(1 for g in result.groups if g['breaks'])} break rules")
    return 0 if result.ok else 1


def cmd_instances(args) -> int:
    from .io.instance import load_instance, shipped_instances
    from .io.shipped import instance_homes

    homes = [Path(args.dir)] if args.dir else instance_homes()
    rows = []
    for path in shipped_instances(homes):
        inst = load_instance(path)
        nations = inst.councils["nation"].value_counts()
        rows.append(f"{inst.name:<16} {len(inst.councils):>5} councils  {inst.graph.number_of_edges():>5} borders  "
                    f"{', '.join(f'{n} {c}' for n, c in nations.items())}  {path}")
    if not rows:
        raise InputError(homes[0], "no instance folders found")
    print("\n".join(rows))
    return 0


COMMANDS = {"solve": cmd_solve, "verify": cmd_verify, "evaluate": cmd_evaluate, "instances": cmd_instances}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except InputError as exc:
        print(f"optimiser: {exc}", file=sys.stderr)
        return 2
    except SolveError as exc:
        print(f"optimiser: solver error: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("optimiser: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader (e.g. `| head`) stopped early: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug, not the input's fault: exit 3, traceback only with --verbose
        if args.verbose:
            traceback.print_exc()
        detail = " ".join(str(exc).split())
        print(f"optimiser: internal error: {type(exc).__name__}: {detail} (run with --verbose for details)", file=sys.stderr)
        return 3
