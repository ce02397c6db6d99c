"""``optimiser partners`` and ``optimiser match``: who should we share with?"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..report.terminal import TerminalProgress, say
from .common import add_command, add_run_options, check_out, load_instance_and_model, plan_model, run_options, write_out
from .plans import STOPPED_EXIT

PARTNERS_EXIT = ["0  the suggestions (also when there are none)",
                 "2  bad input: one line naming the council, file, line or option; nothing is written", "3  internal error"]
PARTNERS_FILES = ("partners.json", "partners.csv")
MATCH_EXIT = ["0  a plan: optimal, or the best at --time-limit with its proven gap",
              "1  no plan satisfies the locked partnerships together with the run's limits",
              "2  bad input: one line naming the file, line or option (a listing file's line too); nothing is written",
              "3  internal error, such as a plan failing its own verification (it is not written)", *STOPPED_EXIT]


def register(sub) -> dict:
    p = add_command(sub, "partners", "who should a council share with?",
                    "Per function, the best partnerships the council could join that pass every rule of the run:\n"
                    "ranked by its share of the NPV (Shapley by default), each with its members, host, depth,\n"
                    "platform, NPV, payback, every member's share and its gain over its outside option (its\n"
                    "share in --plan, else 0), and why (distance, platforms in common, tiers). Only mutual ones\n"
                    "(every member gains) unless --all. --out gets partners.json and partners.csv.",
                    ["optimiser partners england-2023 Ipswich",
                     "optimiser partners england-2023 Ipswich --functions ict,legal --top 3 --plan results/suffolk/plan.json",
                     "optimiser partners uk-2023 Cardiff --shares proportional --all --out results/cardiff"],
                    PARTNERS_EXIT, names=True)
    p.add_argument("instance", help="instance folder, or the name of a shipped instance")
    p.add_argument("council", help="the council looking for partners, by code or name")
    p.add_argument("--top", default="5", metavar="N", help="suggestions per function (default 5)")
    p.add_argument("--plan", metavar="PLAN.json", help="a plan whose shares are each council's outside option")
    p.add_argument("--all", action="store_true", help="also suggestions where some member would gain nothing (one-sided)")
    add_run_options(p, solving=False, shares=("shapley", "the share rule that ranks and splits"))

    p = add_command(sub, "match", "solve over the councils that listed themselves",
                    "Read a listing file (columns code, function, stance; one row per council and function; stance\n"
                    "offer: will host, seek: will join but not host, open: either), keep only the listed pairs,\n"
                    "let only offer and open councils host, and solve as 'solve' does: the plan is verified and\n"
                    "written into --out (the files of solve).",
                    ["optimiser match england-2023 listings.csv --out results/match",
                     "optimiser match uk-2023 listings.csv --area Wales --functions ict --shares shapley"],
                    MATCH_EXIT, names=True)
    p.add_argument("instance", help="instance folder, or the name of a shipped instance")
    p.add_argument("listings", help="CSV with columns code, function, stance (offer, seek or open)")
    add_run_options(p, solving=True)
    p.add_argument("--top", default="10", metavar="N", help="largest partnerships to list in the summary (default 10)")
    return {"partners": partners, "match": match}


def match(args) -> int:
    from ..api import match as match_run
    from ..io.listings import read_listings
    from .plans import solve_and_report

    def solve_listed(instance, model, options, progress=None, stop=None):
        return match_run(instance, read_listings(args.listings, instance, model), model, options, progress=progress, stop=stop)

    return solve_and_report(args, solve_listed)


def partners(args) -> int:
    from ..api import partners as find_partners
    from ..io import values
    from ..io.tables import write_atomically
    from ..report.market import market_csv, market_text

    options = run_options(args)
    top = values.whole(args.top, "--top", low=1)
    check_out(args.out, args.force, PARTNERS_FILES)
    instance, model = load_instance_and_model(args)
    if args.plan and not args.model:
        from ..plan import Plan

        plan = Plan.read(args.plan)
        if plan.instance == instance.name:  # (a plan of another instance is refused below)
            model = plan_model(plan, instance, None)  # outside options are the plan's: priced under its model
    progress = TerminalProgress(enabled=not args.quiet and sys.stderr.isatty())
    try:
        result = find_partners(instance, args.council, model, options, top=top, plan=args.plan, rule=args.shares,
                               include_one_sided=args.all, progress=progress)
    finally:
        progress.done()
    names = dict(zip(instance.councils["code"], instance.councils["name"]))
    if args.out:
        files = {"partners.json": json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n", "partners.csv": market_csv(result, names)}
        write_out(args.out, lambda: write_atomically(Path(args.out), files))
    if not args.quiet:
        say(market_text(result, names, args.all))
        if args.out:
            say(f"\n  written: {Path(args.out) / 'partners.json'}, partners.csv")
    return 0
