"""``optimiser report``: a solved plan as one HTML page a council leader can open offline."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..report.terminal import say
from .common import add_command, plan_model, write_out

REPORT_EXIT = ["0  the report is written", "2  bad input: a missing or malformed plan, an unknown instance or model, "
               "a report already there without --force (one line; nothing is written)", "3  internal error"]


def register(sub) -> dict:
    p = add_command(sub, "report", "write a plan as one HTML page that opens offline",
                    "Write a plan as one self-contained HTML page: a map per function, the headline figures,\n"
                    "every partnership, today's arrangements against the plan, the risk of members leaving,\n"
                    "the shares, a section per council and the caveats. It needs no network to open.\n"
                    "'optimiser solve ... --report --out DIR' writes the same page as DIR/report.html.",
                    ["optimiser report results/kent/plan.json",
                     "optimiser report results/kent/plan.json --out kent.html --force",
                     "optimiser report plan.json --instance instances/my-instance"], REPORT_EXIT)
    p.add_argument("plan", help="a plan.json written by 'optimiser solve'")
    p.add_argument("--out", metavar="FILE", help="the page to write (default: report.html beside the plan)")
    p.add_argument("--instance", metavar="INSTANCE", help="the plan's instance folder or name (default: the one the plan names)")
    p.add_argument("--model", metavar="NAME|PATH", help="savings model (default: the plan's)")
    p.add_argument("--force", action="store_true", help="replace a report already there")
    p.add_argument("--quiet", action="store_true", help="say nothing on success")
    return {"report": run}


def report_page(plan, instance, model, boundaries=None) -> str:
    """The HTML page of a plan, today's arrangements valued alongside."""
    from ..report.page import plan_report, today_evaluation
    from ..report.labels import area_names

    return plan_report(plan, instance, model, areas=area_names(instance, plan.options.area),
                       today=today_evaluation(plan, instance, model), boundaries=boundaries)


def run(args) -> int:
    from ..io.instance import load_instance
    from ..io.tables import write_atomically
    from ..plan import Plan

    plan_path = Path(args.plan)
    out = Path(args.out) if args.out else plan_path.parent / "report.html"
    if out.is_dir():
        raise InputError("--out", f"'{out}' is a folder; give the file to write, such as {out / 'report.html'}")
    if out.exists() and not args.force:
        raise InputError("--out", f"'{out}' already exists; pass --force to replace it, or choose another file")
    plan = Plan.read(plan_path)
    try:
        instance = load_instance(args.instance or plan.instance)
    except InputError as exc:
        if args.instance:
            raise
        raise InputError(plan_path, f"names instance '{plan.instance}', which is not found ({exc.problem}); "
                                    "pass --instance with its folder") from None
    if plan.instance != instance.name:
        raise InputError(plan_path, f"is a plan for instance '{plan.instance}', not '{instance.name}'")
    known = set(instance.codes)
    strangers = sorted({c.code for c in plan.councils} - known)
    if strangers:
        raise InputError(plan_path, f"names councils instance '{instance.name}' does not have: {', '.join(strangers[:5])}")
    model = plan_model(plan, instance, args.model)
    page = report_page(plan, instance, model)
    write_out(str(out.parent), lambda: write_atomically(out.parent, {out.name: page}))
    if not args.quiet:
        say(f"written: {out} ({len(page.encode('utf-8')) / 1e6:.1f} MB); it opens offline in any browser")
    return 0
