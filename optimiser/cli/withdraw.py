"""``optimiser withdraw``: what a council's leaving costs the others, and the plan repaired."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import InputError
from ..report.terminal import TerminalProgress, say
from .common import add_command, check_out, plan_model, write_out

WITHDRAW_EXIT = ["0  a report for every council named (also when one is in no partnership: nothing to report)",
                 "2  bad input: a council not in the plan's run, a plan that is not one, an --out that cannot be written",
                 "3  internal error, such as a repaired plan failing its own verification (nothing is written)"]


def register(sub) -> dict:
    p = add_command(sub, "withdraw", "what if a council leaves a plan?",
                    "For every partnership of the plan that the council belongs to: whether the others carry on\n"
                    "after it leaves (at the end of the model's exit year), the NPV after, each remaining member's\n"
                    "loss and the exit fee that would keep them whole; then the plan repaired: solved again with\n"
                    "the council out of those functions and every other partnership kept as it is. With --out,\n"
                    "withdrawal.json and each repaired plan's files (in repaired-CODE/).",
                    ["optimiser withdraw england-2023 k/plan.json E07000110",
                     "optimiser withdraw suffolk-2023 s/plan.json Babergh Ipswich --out s/withdrawals"],
                    WITHDRAW_EXIT, names=True)
    p.add_argument("instance", help="instance folder, or the name of a shipped instance")
    p.add_argument("plan", help="a plan.json written by 'optimiser solve'")
    p.add_argument("councils", nargs="+", metavar="COUNCIL", help="the council that leaves, by code or name (several: one report each)")
    p.add_argument("--model", metavar="NAME|PATH", help="savings model (default: the plan's)")
    p.add_argument("--out", metavar="DIR", help="write withdrawal.json and the repaired plans here")
    p.add_argument("--force", action="store_true", help="replace results already in --out")
    p.add_argument("--quiet", action="store_true", help="no progress or report on the terminal")
    return {"withdraw": run}


def run(args) -> int:
    from ..api import withdraw
    from ..io.instance import load_instance
    from ..io.tables import write_atomically
    from ..plan import PLAN_FILES, Plan
    from ..report.withdrawal import withdrawal_report
    from ..verify import verify

    check_out(args.out, args.force, ("withdrawal.json",))
    instance = load_instance(args.instance)
    plan = Plan.read(args.plan)
    if plan.instance != instance.name:
        raise InputError(args.plan, f"is a plan for instance '{plan.instance}', not '{instance.name}'")
    model = plan_model(plan, instance, args.model)
    progress = TerminalProgress(enabled=not args.quiet and sys.stderr.isatty())
    reports = []
    try:
        for council in args.councils:
            reports.append(withdraw(instance, plan, council, model, progress=progress))
    finally:
        progress.done()
    for report in reports:
        if report.repaired is not None:
            check = verify(instance, report.repaired.data, model)
            if not check.ok:
                for problem in check.problems[:20]:
                    say(f"verify: {problem}", sys.stderr)
                say(f"optimiser: internal error: the plan repaired after {report.council} leaves failed independent "
                    "verification; nothing was written; please report it", sys.stderr)
                return 3
    if args.out:
        out = Path(args.out)
        files = {"withdrawal.json": json.dumps({"instance": instance.name, "plan": str(args.plan),
                                                "reports": [r.to_dict() for r in reports]}, indent=2, allow_nan=False) + "\n"}
        repaired = [r for r in reports if r.repaired is not None]

        from ..report.files import plan_files, write_plan_files
        from ..report.geo import plan_geojson, read_boundaries
        from ..report.labels import Labels

        labels = Labels.of(instance, model)
        boundaries = read_boundaries(instance)
        contents = {r.council: plan_files(r.repaired, labels, plan_geojson(r.repaired, labels, instance, boundaries) if boundaries else None)
                    for r in repaired}

        def write_all():
            for r in repaired:
                write_plan_files(out / f"repaired-{r.council}", contents[r.council])
            write_atomically(out, files)

        write_out(args.out, write_all)
    if not args.quiet:
        names = dict(zip(instance.councils["code"], instance.councils["name"]))
        say("\n\n".join(withdrawal_report(r, names) for r in reports))
        if args.out:
            say(f"\n  written: {Path(args.out) / 'withdrawal.json'}"
                + "".join(f", repaired-{r.council}/{PLAN_FILES[0]}" for r in reports if r.repaired is not None))
    return 0
