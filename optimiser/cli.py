"""The ``optimiser`` command: solve, verify, evaluate, and what there is to choose from
(instances, functions, councils, areas).

A thin layer over the library: it parses options, shows progress on a terminal, prints a
summary and turns every input problem into one line on stderr and exit status 2.
Exit status: 0 success; 1 infeasible run, `verify` finding a problem, or a grouping that
breaks rules; 2 bad input; 3 internal error (including a solved plan failing verification).
"""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import os
import re
import sys
import tempfile
import traceback
from pathlib import Path

from .version import __version__
from .errors import InputError, SolveError
from .report.terminal import TerminalProgress, can_print_pounds, log_handler, printable, say

log = logging.getLogger("optimiser")


# ---------------------------------------------------------------- argument parsing


NAMES = """Councils and areas may be given by code (any case) or by name: 'Mid Suffolk', Hull, Durham,
'Bristol, City of', 'Greater Manchester'. Join several with ';' (names may hold commas);
',' works too where it cannot split a name. See 'optimiser councils INSTANCE' and
'optimiser areas INSTANCE' for what an instance has."""
EXIT = {
    "solve": ["0  a plan: optimal, or the best at --time-limit with its proven gap",
              "1  no plan satisfies the locked partnerships together with the run's limits",
              "2  bad input: one line naming the file, line or option; nothing is written",
              "3  internal error, such as a plan failing its own verification (it is not written)"],
    "verify": ["0  the plan is valid", "1  problems were found (listed on stdout)",
               "2  bad input: one line naming the file, line or key", "3  internal error"],
    "evaluate": ["0  every group keeps every rule", "1  a group breaks a rule (listed under it)",
                 "2  bad input: one line naming the file, line or option; nothing is written", "3  internal error"],
    "list": ["0  success", "2  bad input: an unknown instance, model or area (one line)", "3  internal error"],
    "optimiser": ["0  success", "1  no feasible plan, a plan with problems, or a grouping that breaks rules",
                  "2  bad input: one line naming the file, line or option", "3  internal error"],
}
EXAMPLES = {
    "solve": ["optimiser solve england-2023 --area Suffolk --out results/suffolk",
              "optimiser solve england-2023 --area 'Norfolk; Suffolk' --functions ict,legal --budget 5m",
              "optimiser solve england-2023 --area 'Greater Manchester' --withdraw Bolton --time-limit 10m",
              "optimiser solve uk-2023 --area Wales --exclude 'Cardiff:*' --apart 'Swansea:Neath Port Talbot'"],
    "verify": ["optimiser verify england-2023 results/suffolk/plan.json"],
    "evaluate": ["optimiser evaluate england-2023 instances/england-2023/partnerships.csv",
                 "optimiser evaluate suffolk-2023 groups.csv --budget 750k --out results/today"],
    "instances": ["optimiser instances"],
    "functions": ["optimiser functions", "optimiser functions england-2023", "optimiser functions --model uk-central-sceptical"],
    "councils": ["optimiser councils england-2023 --area Suffolk", "optimiser councils uk-2023 --area Wales"],
    "areas": ["optimiser areas england-2023"],
    "optimiser": ["optimiser solve england-2023 --area Suffolk --out results/suffolk",
                  "optimiser areas england-2023", "optimiser solve --help"],
}


def _epilog(command: str) -> str:
    examples = "\n".join(f"  {line}" for line in EXAMPLES[command])
    names = f"\n\n{NAMES}" if command in ("solve", "evaluate", "councils") else ""
    status = "\n".join(f"  {line}" for line in EXIT.get(command, EXIT["list"]))
    return f"examples:\n{examples}{names}\n\nexit status:\n{status}"


SOLVE_ONLY = ("--solver", "--method", "--time-limit", "--jobs", "--top")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit status 2) in the style of every
    other bad input, ``optimiser solve: --OPTION: problem``, and help prints on any terminal."""

    def error(self, message: str):
        match = re.match(r"argument (\S+?)(?:/\S+)?: (.*)", message)
        if match:
            message = f"{match[1]}: {match[2]}"
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")

    def unknown(self, extra: list[str]):
        first = extra[0]
        if first.split("=")[0] in SOLVE_ONLY and self.prog.endswith(" evaluate"):
            self.error(f"{first.split('=')[0]}: not an option of evaluate, which solves no MIP (it is an option of solve)")
        if first.startswith("-"):
            known = [o for action in self._actions for o in action.option_strings]
            close = difflib.get_close_matches(first.split("=")[0], known, n=1)
            self.error(f"{first.split('=')[0]}: unknown option" + (f"; did you mean {close[0]}?" if close else ""))
        self.error(f"'{first}': unexpected argument")

    def _print_message(self, message, file=None):
        if message:
            stream = file or sys.stderr
            stream.write(printable(message, stream))


def _subparser(sub, name: str, help: str, description: str):
    p = sub.add_parser(name, help=help, description=description, epilog=_epilog(name),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log each stage to stderr")
    return p


def _run_options(parser, solving: bool) -> None:
    add = parser.add_argument
    add("--model", metavar="NAME|PATH", help="savings model (default: the instance's)")
    add("--area", action="append", metavar="AREA[;AREA...]",
        help="keep only these councils, counties (with their districts), regions, nations or combined authorities")
    add("--functions", action="append", metavar="ID[,ID...]", help="only these functions (see 'optimiser functions')")
    add("--budget", metavar="POUNDS", help="one-off investment budget for all partnerships together: 5m, £750k, 5,000,000")
    add("--exclude", action="append", default=[], metavar="COUNCIL:FUNCTION",
        help="keep a council out of a function; COUNCIL:* out of all, COUNCIL:ict,legal out of two (repeatable)")
    add("--withdraw", action="append", default=[], metavar="COUNCIL", help="keep a council out of every function (repeatable)")
    add("--apart", action="append", default=[], metavar="COUNCIL:COUNCIL", help="two councils that must not share any partnership (repeatable)")
    add("--max-size", metavar="N", help="cap every function's group size")
    if solving:
        add("--solver", metavar="highs|cbc", default="highs", help="MIP solver (default highs)")
        add("--method", metavar="exact|naive", default="exact",
            help="exact: LP pricing and reduced-cost fixing (default); naive: every candidate in one MIP")
        add("--time-limit", metavar="SECONDS", help="stop with the best plan so far and its gap: 60, 90s, 10m, 1h")
        add("--jobs", metavar="N", help="worker processes for functions solved apart (default: one per core)")
        add("--shares", metavar="RULE", default="proportional", help="how npv_share splits each partnership: proportional (default), shapley, nucleolus")
    add("--out", metavar="DIR", help="write the results here (the folder is checked before any work)")
    add("--force", action="store_true", help="replace results already in --out")
    add("--quiet", action="store_true", help="no progress, warnings or summary on the terminal")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="optimiser", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_epilog("optimiser"),
                     description="Which shared-service partnerships should councils form? Exact optimisation of savings\n"
                                 "under commitment, geography and democratic-structure rules. Each command has its own\n"
                                 "--help, with examples.")
    parser.add_argument("--version", action="version", version=f"optimiser {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each stage to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    parser.commands = sub.choices  # each command's parser, for messages about its options

    p = _subparser(sub, "solve", "find the best plan for an instance",
                   "Find the plan of partnerships with the highest total NPV, prove it optimal (or report its gap),\n"
                   "verify it and write plan.json, partnerships.csv and councils.csv into --out.")
    p.add_argument("instance", help="instance folder, or the name of a shipped instance (see 'optimiser instances')")
    _run_options(p, solving=True)
    p.add_argument("--top", default="10", metavar="N", help="largest partnerships to list in the summary (default 10)")

    p = _subparser(sub, "verify", "check a plan against the instance and model, independently",
                   "Recompute every rule and every pound of a plan from the input files.")
    p.add_argument("instance", help="instance folder, or the name of a shipped instance")
    p.add_argument("plan", help="a plan.json")
    p.add_argument("--model", metavar="NAME|PATH", help="savings model (default: the plan's)")

    p = _subparser(sub, "evaluate", "score a given grouping, such as today's arrangements",
                   "Score each group of a grouping file (columns id, function, code; one row per member, the\n"
                   "code a council code or name): best depth, host and platform, its NPV and every rule it\n"
                   "breaks. --out gets evaluation.json and evaluation.csv.")
    p.add_argument("instance", help="instance folder, or the name of a shipped instance")
    p.add_argument("groups", help="CSV with columns id, function, code (one row per member)")
    _run_options(p, solving=False)

    p = _subparser(sub, "instances", "list the shipped instances", "List the instances found by name.")
    p.add_argument("--dir", default=None, help="folder holding instance folders (default ./instances, then the shipped ones)")

    p = _subparser(sub, "functions", "list a savings model's functions",
                   "List the functions of a savings model: the ids --functions and --exclude take, titles, tiers.")
    p.add_argument("instance", nargs="?", help="an instance: its model, and how many of its councils take part")
    p.add_argument("--model", metavar="NAME|PATH", help="savings model (default: the instance's, or the shipped instances')")

    p = _subparser(sub, "councils", "list an instance's councils", "List councils: code, name, tier, county, region, population.")
    p.add_argument("instance", help="instance folder, or the name of a shipped instance")
    p.add_argument("--area", action="append", metavar="AREA[;AREA...]", help="only the councils of these areas")

    p = _subparser(sub, "areas", "list the areas --area takes",
                   "List the areas of an instance --area takes: nations, regions, combined authorities,\n"
                   "metropolitan counties, counties, with codes and how many councils each holds.")
    p.add_argument("instance", help="instance folder, or the name of a shipped instance")
    return parser


def _options(args):
    from .io import values
    from .problem import RunOptions

    for option, given in (("--area", args.area), ("--functions", args.functions), ("--exclude", args.exclude),
                          ("--withdraw", args.withdraw), ("--apart", args.apart)):
        if any(not text.strip(" ;,") for text in given or ()):
            raise InputError(option, "'' is empty: give a code or a name")
    given = dict(area=args.area, functions=args.functions, budget=args.budget, exclude=args.exclude,
                 withdraw=args.withdraw, apart=args.apart, max_size=args.max_size)
    if args.command == "solve":
        given.update(solver=args.solver, method=args.method, time_limit=args.time_limit, jobs=args.jobs, shares=args.shares)
        args.top = values.whole(args.top, "--top", low=0)
    return RunOptions.create(**given)


# ---------------------------------------------------------------- commands


def _check_out(out: str | None, force: bool = False, files: tuple[str, ...] = ()) -> None:
    """Fails early (before any work) when --out cannot be a folder we may write into, or
    already holds results and --force is not given."""
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
    target = path if path.exists() else parent
    try:
        handle, probe = tempfile.mkstemp(dir=target, prefix=".optimiser-check-")
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise InputError("--out", f"'{out}' cannot be written: {exc.strerror or exc} in '{target}'") from None
    held = [name for name in files if (path / name).exists()]
    if held and not force:
        raise InputError("--out", f"'{out}' already holds {', '.join(held)}; pass --force to replace them, or choose another folder")


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


def _write(out: str, write) -> None:
    try:
        write()
    except OSError as exc:
        raise InputError("--out", f"'{out}' cannot be written: {exc.strerror or exc}") from None


def cmd_solve(args) -> int:
    from .api import solve
    from .plan import PLAN_FILES
    from .report.text import plan_summary
    from .verify import verify

    options = _options(args)
    _check_out(args.out, args.force, PLAN_FILES)
    instance, model = _load(args)
    progress = TerminalProgress(enabled=not args.quiet and sys.stderr.isatty())
    try:
        plan = solve(instance, model, options, progress=progress)
    finally:
        progress.done()
    report = verify(instance, plan.data, model)
    if args.out and report.ok:  # a plan that fails verification is a bug, never a result
        _write(args.out, lambda: plan.write(args.out))
    if not args.quiet:
        say(plan_summary(plan, instance, args.top))
        say()
        say(f"  verified: {'every rule and every pound recomputed from the input files' if report.ok else 'FAILED'}")
        if args.out and report.ok:
            say(f"  written: {Path(args.out) / 'plan.json'}, partnerships.csv, councils.csv")
    if not report.ok:
        for problem in report.problems[:20]:
            say(f"verify: {problem}", sys.stderr)
        say("optimiser: internal error: the plan failed independent verification and was not written; please report it", sys.stderr)
        return 3
    if plan.status == "infeasible":
        say("optimiser: no plan satisfies the locked partnerships together with the run's limits (budget, max_partnerships, max_hosted)", sys.stderr)
        return 1
    return 0


def cmd_verify(args) -> int:
    from .io.instance import load_instance
    from .verify import verify

    instance = load_instance(args.instance)
    report = verify(instance, Path(args.plan), args.model)  # verify reads and checks the file itself
    if report.ok:
        counts = ", ".join(f"{v} {k}" for k, v in report.checked.items())
        say(f"{args.plan}: valid ({counts})")
        return 0
    for problem in report.problems:
        say(f"{args.plan}: {problem}")
    say(f"{args.plan}: {len(report.problems)} problem(s) found", sys.stderr)
    return 1


def cmd_evaluate(args) -> int:
    from .api import evaluate
    from .io.groups import read_groups
    from .io.tables import write_atomically
    from .report.text import evaluation_summary

    options = _options(args)
    _check_out(args.out, args.force, ("evaluation.json", "evaluation.csv"))
    instance, model = _load(args)
    result = evaluate(instance, read_groups(args.groups, instance, model, options.functions), model, options)
    if args.out:
        files = {"evaluation.json": json.dumps(result.to_dict(), indent=2) + "\n", "evaluation.csv": result.to_csv()}
        _write(args.out, lambda: write_atomically(Path(args.out), files))
    if not args.quiet:
        say(evaluation_summary(result, instance))
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
    say("\n".join(rows))
    return 0


def cmd_functions(args) -> int:
    from .io.instance import load_instance, shipped_instances
    from .io.model import load_model
    from .report.listings import functions_listing

    instance = None
    if args.instance:
        instance, model = _load(args)
    elif args.model:
        model = load_model(args.model)
    else:  # the model the shipped instances use
        refs = sorted({load_instance(p).model_ref for p in shipped_instances()} - {None})
        if len(refs) != 1:
            raise InputError("--model", f"name a model or an instance (the shipped instances use {', '.join(refs) or 'none'})")
        model = load_model(refs[0])
    say(functions_listing(model, instance))
    return 0


def cmd_councils(args) -> int:
    from .io.instance import load_instance
    from .report.listings import councils_listing

    say(councils_listing(load_instance(args.instance), tuple(args.area or ())))
    return 0


def cmd_areas(args) -> int:
    from .io.instance import load_instance
    from .report.listings import areas_listing

    say(areas_listing(load_instance(args.instance)))
    return 0


COMMANDS = {"solve": cmd_solve, "verify": cmd_verify, "evaluate": cmd_evaluate, "instances": cmd_instances,
            "functions": cmd_functions, "councils": cmd_councils, "areas": cmd_areas}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        parser.commands[args.command].unknown(extra)
    quiet = getattr(args, "quiet", False)
    handler = log_handler()
    saved = (log.level, log.propagate)
    log.addHandler(handler)
    log.setLevel(logging.INFO if args.verbose else logging.ERROR if quiet else logging.WARNING)
    log.propagate = False
    from .report import text

    pounds = text.CURRENCY
    if not can_print_pounds(sys.stdout):
        text.CURRENCY = "GBP "
    try:
        return COMMANDS[args.command](args)
    except InputError as exc:
        say(f"optimiser: {exc}", sys.stderr)
        return 2
    except SolveError as exc:
        say(f"optimiser: solver error: {exc}", sys.stderr)
        return 3
    except KeyboardInterrupt:
        say("optimiser: interrupted", sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader (e.g. `| head`) stopped early: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug, not the input's fault: exit 3, traceback only with --verbose
        if args.verbose:
            traceback.print_exc()
        detail = " ".join(str(exc).split())
        say(f"optimiser: internal error: {type(exc).__name__}: {detail} (run with --verbose for details)", sys.stderr)
        return 3
    finally:
        text.CURRENCY = pounds
        log.removeHandler(handler)
        log.setLevel(saved[0])
        log.propagate = saved[1]
