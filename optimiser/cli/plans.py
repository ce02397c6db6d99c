"""``optimiser solve``, ``verify`` and ``evaluate``: making, checking and scoring plans."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..report.terminal import TerminalProgress, say
from .common import add_command, add_run_options, check_out, load_instance_and_model, run_options, write_out

SOLVE_EXIT = ["0  a plan: optimal, or the best at --time-limit with its proven gap",
              "1  no plan satisfies the locked partnerships together with the run's limits",
              "2  bad input: one line naming the file, line or option; nothing is written",
              "3  internal error, such as a plan failing its own verification (it is not written)"]
VERIFY_EXIT = ["0  the plan is valid", "1  problems were found (listed on stdout)",
               "2  bad input: one line naming the file, line or key", "3  internal error"]
EVALUATE_EXIT = ["0  every group keeps every rule", "1  a group breaks a rule (listed under it)",
                 "2  bad input: one line naming the file, line or option; nothing is written", "3  internal error"]


def register(sub) -> dict:
    p = add_command(sub, "solve", "find the best plan for an instance",
                    "Find the plan of partnerships with the highest total NPV, prove it optimal (or report its gap),\n"
                    "verify it and write plan.json, partnerships.csv and councils.csv into --out.",
                    ["optimiser solve england-2023 --area Suffolk --out results/suffolk",
                     "optimiser solve england-2023 --area 'Norfolk; Suffolk' --functions ict,legal --budget 5m",
                     "optimiser solve england-2023 --area 'Greater Manchester' --withdraw Bolton --time-limit 10m",
                     "optimiser solve uk-2023 --area Wales --exclude 'Cardiff:*' --apart 'Swansea:Neath Port Talbot'"],
                    SOLVE_EXIT, names=True)
    p.add_argument("instance", help="instance folder, or the name of a shipped instance (see 'optimiser instances')")
    add_run_options(p, solving=True)
    p.add_argument("--top", default="10", metavar="N", help="largest partnerships to list in the summary (default 10)")

    p = add_command(sub, "verify", "check a plan against the instance and model, independently",
                    "Recompute every rule and every pound of a plan from the input files.",
                    ["optimiser verify england-2023 results/suffolk/plan.json"], VERIFY_EXIT)
    p.add_argument("instance", help="instance folder, or the name of a shipped instance")
    p.add_argument("plan", help="a plan.json")
    p.add_argument("--model", metavar="NAME|PATH", help="savings model (default: the plan's)")

    p = add_command(sub, "evaluate", "score a given grouping, such as today's arrangements",
                    "Score each group of a grouping file (columns id, function, code; one row per member, the\n"
                    "code a council code or name): best depth, host and platform, its NPV and every rule it\n"
                    "breaks. --out gets evaluation.json and evaluation.csv.",
                    ["optimiser evaluate england-2023 instances/england-2023/partnerships.csv",
                     "optimiser evaluate suffolk-2023 groups.csv --budget 750k --out results/today"],
                    EVALUATE_EXIT, names=True)
    p.add_argument("instance", help="instance folder, or the name of a shipped instance")
    p.add_argument("groups", help="CSV with columns id, function, code (one row per member)")
    add_run_options(p, solving=False)
    return {"solve": solve, "verify": verify, "evaluate": evaluate}


def solve(args) -> int:
    from ..api import solve as solve_run
    from ..plan import PLAN_FILES
    from ..report.text import plan_summary
    from ..verify import verify as verify_plan

    options = run_options(args)
    check_out(args.out, args.force, PLAN_FILES)
    instance, model = load_instance_and_model(args)
    progress = TerminalProgress(enabled=not args.quiet and sys.stderr.isatty())
    try:
        plan = solve_run(instance, model, options, progress=progress)
    finally:
        progress.done()
    report = verify_plan(instance, plan, model)  # the plan and its cash-flow rows
    if args.out and report.ok:  # a plan that fails verification is a bug, never a result
        write_out(args.out, lambda: plan.write(args.out))
    if not args.quiet:
        say(plan_summary(plan, instance, args.top))
        say()
        say(f"  verified: {'every rule and every pound recomputed from the input files' if report.ok else 'FAILED'}")
        if args.out and report.ok:
            say(f"  written: {Path(args.out) / 'plan.json'}, partnerships.csv, councils.csv, cashflow.csv")
    if not report.ok:
        for problem in report.problems[:20]:
            say(f"verify: {problem}", sys.stderr)
        say("optimiser: internal error: the plan failed independent verification and was not written; please report it", sys.stderr)
        return 3
    if plan.status == "infeasible":
        say("optimiser: no plan satisfies the locked partnerships together with the run's limits (budget, max_partnerships, max_hosted)", sys.stderr)
        return 1
    return 0


def verify(args) -> int:
    from ..io.instance import load_instance
    from ..verify import verify as verify_plan

    instance = load_instance(args.instance)
    report = verify_plan(instance, Path(args.plan), args.model)  # verify reads and checks the file itself
    if report.ok:
        counts = ", ".join(f"{v} {k}" for k, v in report.checked.items())
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
    instance, model = load_instance_and_model(args)
    result = evaluate_groups(instance, read_groups(args.groups, instance, model, options.functions), model, options)
    if args.out:
        files = {"evaluation.json": json.dumps(result.to_dict(), indent=2) + "\n", "evaluation.csv": result.to_csv()}
        write_out(args.out, lambda: write_atomically(Path(args.out), files))
    if not args.quiet:
        say(evaluation_summary(result, instance))
    return 0 if result.ok else 1
