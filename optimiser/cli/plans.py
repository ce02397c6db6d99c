"""``optimiser solve``, ``verify`` and ``evaluate``: making, checking and scoring plans."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import InputError
from ..report.terminal import TerminalProgress, say
from .common import add_command, add_run_options, check_out, load_instance_and_model, plan_model, run_options, write_out
from .report import report_page
from .stopping import stop_on_signals


INTERRUPTED_EXIT = 4  # a plan, verified and written, but from a solve stopped on request
PROGRESS_EVERY = 30.0  # seconds between progress lines when stderr is not a terminal
#: the exit statuses of a solve that Ctrl-C or SIGTERM stops (solve and match)
STOPPED_EXIT = [f"{INTERRUPTED_EXIT}  stopped by Ctrl-C or SIGTERM: the best plan so far, verified, is written with status",
                "   interrupted and its proven gap",
                "130  aborted by a second Ctrl-C (or SIGTERM): nothing is written"]
SOLVE_EXIT = ["0  a plan: optimal, or the best at --time-limit with its proven gap",
              "1  no plan satisfies the locked partnerships together with the run's limits",
              "2  bad input: one line naming the file, line or option; nothing is written",
              "3  internal error, such as a plan failing its own verification (it is not written)", *STOPPED_EXIT]
VERIFY_EXIT = ["0  the plan is valid", "1  problems were found (listed on stdout)",
               "2  bad input: one line naming the file, line or key", "3  internal error"]
EVALUATE_EXIT = ["0  every group keeps every rule", "1  a group breaks a rule (listed under it)",
                 "2  bad input: one line naming the file, line or option; nothing is written", "3  internal error"]


def register(sub) -> dict:
    p = add_command(sub, "solve", "find the best plan for an instance",
                    "Find the plan of partnerships with the highest total NPV (expected NPV with --objective expected),\n"
                    "prove it optimal (or report its gap), verify it and write plan.json, partnerships.csv, councils.csv,\n"
                    "council_summary.csv, cashflow.csv, plan.geojson and README.txt into --out (and report.html with\n"
                    "--report).",
                    ["optimiser solve england-2023 --area Suffolk --out results/suffolk",
                     "optimiser solve england-2023 --area Kent --loan 0.045:10 --report --out results/kent",
                     "optimiser solve england-2023 --area 'Norfolk; Suffolk' --functions ict,legal --budget 5m",
                     "optimiser solve england-2023 --area 'Greater Manchester' --withdraw Bolton --time-limit 10m",
                     "optimiser solve uk-2023 --area Wales --exclude 'Cardiff:*' --apart 'Swansea:Neath Port Talbot'"],
                    SOLVE_EXIT, names=True)
    p.add_argument("instance", help="instance folder, or the name of a shipped instance (see 'optimiser instances')")
    add_run_options(p, solving=True)
    p.add_argument("--report", action="store_true", help="also write report.html into --out: the plan as one page that opens offline")
    p.add_argument("--top", default="10", metavar="N", help="largest partnerships to list in the summary (default 10)")

    p = add_command(sub, "verify", "check a plan against the instance and model, independently",
                    "Recompute every rule and every pound of a plan from the input files.",
                    ["optimiser verify england-2023 results/suffolk/plan.json"], VERIFY_EXIT)
    p.add_argument("instance", help="instance folder, or the name of a shipped instance")
    p.add_argument("plan", help="a plan.json")
    p.add_argument("--model", metavar="NAME|PATH", help="savings model (default: the plan's)")

    p = add_command(sub, "evaluate", "score a given grouping, such as today's arrangements",
                    "Score each group of a grouping file: best depth, host and platform, its NPV and every rule\n"
                    "it breaks. The file has columns id, function, code (one row per member, as an instance's\n"
                    "partnerships.csv, host true on the host's row) or id, function, members (one row per\n"
                    "group, as a solve's own partnerships.csv: edit a plan in a spreadsheet and score it again).\n"
                    "A recorded host is honoured; an optional status column marks arrangements already in place\n"
                    "(existing: their set-up cost is sunk). A plan.json is read as its partnerships, each keeping its\n"
                    "host, depth and platform where the model allows, under the plan's own model unless --model.\n"
                    "Groups with no member in --area, or of functions the\n"
                    "run leaves out, are skipped and counted. Totals count only the groups that keep every rule.\n"
                    "--out gets evaluation.json and evaluation.csv.",
                    ["optimiser evaluate england-2023 instances/england-2023/partnerships.csv --area Suffolk --sunk",
                     "optimiser evaluate suffolk-2023 results/suffolk/partnerships.csv --out results/edited",
                     "optimiser evaluate suffolk-2023 groups.csv --budget 750k --out results/today"],
                    EVALUATE_EXIT, names=True)
    p.add_argument("instance", help="instance folder, or the name of a shipped instance")
    p.add_argument("groups", help="CSV with columns id, function, code (one row per member) or id, function, members; or a plan.json")
    p.add_argument("--sunk", action="store_true", help="every group is in place already: do not charge its set-up cost again")
    add_run_options(p, solving=False)
    return {"solve": solve, "verify": verify, "evaluate": evaluate}


def solve(args) -> int:
    from ..api import solve as solve_run

    return solve_and_report(args, solve_run)


def solve_and_report(args, solve_run) -> int:
    """Solves with ``solve_run(instance, model, options, progress=..., stop=...)``, verifies the
    plan, writes it into --out when it passes and says how it went (``solve`` and ``match``).

    The first Ctrl-C or SIGTERM stops the solve with the best plan so far, which is verified
    and written like any other; the second aborts (KeyboardInterrupt: exit status 130)."""
    from ..report.files import OUTPUT_FILES
    from ..report.geo import read_boundaries

    options = run_options(args)
    wants_report = getattr(args, "report", False)
    if wants_report and not args.out:
        raise InputError("--report", "needs --out DIR, the folder report.html goes into")
    check_out(args.out, args.force, OUTPUT_FILES + ("report.html",))
    instance, model = load_instance_and_model(args)
    boundaries = read_boundaries(instance) if args.out else {}  # a bad boundaries file stops the run before the work
    progress = TerminalProgress(enabled=not args.quiet and sys.stderr.isatty(), time_limit=options.time_limit,
                                every=None if args.quiet else PROGRESS_EVERY)
    with stop_on_signals(args.quiet) as stopper:
        try:
            plan = solve_run(instance, model, options, progress=progress, stop=stopper.event)
        finally:
            progress.done()
        return _verify_and_write(args, instance, model, plan, boundaries, wants_report)


def _verify_and_write(args, instance, model, plan, boundaries, wants_report) -> int:
    from ..report.files import plan_files, write_plan_files
    from ..report.geo import plan_geojson
    from ..report.labels import Labels, area_names
    from ..report.text import plan_summary
    from ..verify import verify as verify_plan

    report = verify_plan(instance, plan, model)  # the plan and its cash-flow rows
    labels = Labels.of(instance, model)
    written = []
    if args.out and report.ok:  # a plan that fails verification is a bug, never a result
        geojson = plan_geojson(plan, labels, instance, boundaries) if boundaries else None
        page = report_page(plan, instance, model, boundaries) if wants_report else None
        files = plan_files(plan, labels, geojson, page)
        write_out(args.out, lambda: write_plan_files(args.out, files))
        written = list(files)
    if not args.quiet:
        say(plan_summary(plan, instance, args.top, model, area_names(instance, plan.options.area)))
        say()
        say(f"  verified: {'every rule and every pound recomputed from the input files' if report.ok else 'FAILED'}")
        if args.out and report.ok:
            say(f"  written: {Path(args.out) / written[0]}, {', '.join(written[1:])}")
    if not report.ok:
        for problem in report.problems[:20]:
            say(f"verify: {problem}", sys.stderr)
        say("optimiser: internal error: the plan failed independent verification and was not written; please report it", sys.stderr)
        return 3
    if plan.status == "infeasible":
        say("optimiser: no plan satisfies the locked partnerships together with the run's limits (budget, max_partnerships, max_hosted)", sys.stderr)
        return 1
    return INTERRUPTED_EXIT if plan.status == "interrupted" else 0


def verify(args) -> int:
    from ..io.instance import load_instance
    from ..verify import verify as verify_plan

    instance = load_instance(args.instance)
    report = verify_plan(instance, Path(args.plan), args.model)  # verify reads and checks the file itself
    if report.ok:
        counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in report.checked.items())
        say(f"{args.plan}: valid ({counts})")
        return 0
    for problem in report.problems:
        say(f"{args.plan}: {problem}")
    say(f"{args.plan}: {len(report.problems)} problem(s) found", sys.stderr)
    return 1


def evaluate(args) -> int:
    from ..api import evaluate as evaluate_groups
    from ..io.groups import read_groups
    from ..io.tables import write_atomically
    from ..report.text import evaluation_summary

    options = run_options(args)
    check_out(args.out, args.force, ("evaluation.json", "evaluation.csv"))
    if Path(args.groups).suffix.lower() == ".json":  # a plan's partnerships, scored under the plan's own model
        instance, model, groups = _plan_groups(args)
    else:
        instance, model = load_instance_and_model(args)
        groups = read_groups(args.groups, instance, model)
    result = evaluate_groups(instance, groups, model, options, sunk=args.sunk)
    if args.out:
        files = {"evaluation.json": json.dumps(result.to_dict(), indent=2) + "\n", "evaluation.csv": result.to_csv()}
        write_out(args.out, lambda: write_atomically(Path(args.out), files))
    if not args.quiet:
        say(evaluation_summary(result, instance))
    return 0 if result.ok else 1


def _plan_groups(args):
    """The instance, the model (--model, else the plan's own) and the partnerships of the plan.json
    ``args.groups``, each keeping its host, depth and platform where the model allows them."""
    from ..io.groups import GroupRow
    from ..io.instance import load_instance
    from ..plan import Plan

    instance = load_instance(args.instance)
    plan = Plan.read(args.groups)
    if plan.instance != instance.name:
        raise InputError(args.groups, f"is a plan for instance '{plan.instance}', not '{instance.name}'")
    model = plan_model(plan, instance, args.model)
    return instance, model, [GroupRow(p.id, p.function, list(p.members), p.host, False, p.depth, p.platform) for p in plan.partnerships]
