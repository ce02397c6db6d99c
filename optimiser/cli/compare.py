"""``optimiser compare``: how two or more plans differ, partnership by partnership and pound by pound."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..errors import InputError
from ..report.terminal import say
from .common import add_command, check_out, write_out

log = logging.getLogger("optimiser")

COMPARE_EXIT = ["0  the comparison (also when the plans are the same)",
                "2  bad input: a missing file, a file that is not a plan, an unknown model or instance (one line naming it); "
                "nothing is written", "3  internal error"]
COMPARE_FILES = ("compare.json", "partnerships.csv", "councils.csv", "functions.csv", "scores.csv")


def register(sub) -> dict:
    p = add_command(sub, "compare", "how do two or more plans differ?",
                    "Compare the first plan with each other one: partnerships matched by function and members (same,\n"
                    "grown, shrunk, reshaped, split, merged, new, gone; for the same members, whether host, depth or\n"
                    "platform changed), then the change in NPV share, yearly saving and one-off cost per function, per\n"
                    "council and in total, over the councils both runs hold. What is not comparable (other instances,\n"
                    "areas or functions) is said, not guessed at. --model prices every plan's partnerships under one\n"
                    "model, side by side. --out gets compare.json and partnerships.csv, councils.csv, functions.csv\n"
                    "(and scores.csv with --model).",
                    ["optimiser compare results/suffolk/plan.json results/suffolk-small/plan.json",
                     "optimiser compare a/plan.json b/plan.json c/plan.json --top 5",
                     "optimiser compare a b --model uk-central-sceptical --out results/a-vs-b"], COMPARE_EXIT)
    p.add_argument("plans", nargs="+", metavar="PLAN", help="plan.json files (or the folders holding them); the first is compared with each other")
    p.add_argument("--model", metavar="NAME|PATH", help="also price every plan's partnerships under this model")
    p.add_argument("--instance", metavar="INSTANCE", help="the plans' instance folder or name (default: the folder each plan records, else the one it names)")
    p.add_argument("--top", default="10", metavar="N", help="councils with the largest changes to list (default 10)")
    p.add_argument("--out", metavar="DIR", help="write compare.json and the CSVs here")
    p.add_argument("--force", action="store_true", help="replace results already in --out")
    p.add_argument("--quiet", action="store_true", help="nothing on the terminal")
    return {"compare": run}


def _plan_path(text: str) -> Path:
    path = Path(text)
    return path / "plan.json" if path.is_dir() else path


def _instance_of(plan, path: Path, given: str | None):
    """The plan's instance: --instance, else the folder its provenance records, else the one it
    names; raises an InputError naming the plan when it cannot be found."""
    from ..io.instance import load_instance

    if given:
        instance = load_instance(given)
    else:
        recorded = plan.provenance.instance.get("path") if plan.provenance else None
        ref = recorded if recorded and Path(recorded).is_dir() else plan.instance
        try:
            instance = load_instance(ref)
        except InputError as exc:
            raise InputError(path, f"names instance '{plan.instance}', which is not found ({exc.problem}); pass --instance "
                                   "with its folder") from None
    if plan.instance != instance.name:
        raise InputError(path, f"is a plan for instance '{plan.instance}', not '{instance.name}'")
    return instance


def run(args) -> int:
    from ..analysis.compare import compare_plans, score_plan
    from ..io import values
    from ..io.model import load_model
    from ..io.tables import write_atomically
    from ..plan import Plan
    from ..report.labels import area_names
    from ..report.compare import comparison_text, councils_csv, functions_csv, matches_csv, scores_csv

    if len(args.plans) < 2:
        raise InputError("compare", "needs at least two plans: the first is compared with each other")
    top = values.whole(args.top, "--top", low=0)
    check_out(args.out, args.force, COMPARE_FILES)
    paths = [_plan_path(text) for text in args.plans]
    plans = [Plan.read(path) for path in paths]
    labels = [chr(ord("A") + k) if k < 26 else f"P{k + 1}" for k in range(len(plans))]

    names, titles, instances = {}, {}, []
    for plan, path in zip(plans, paths):
        try:
            instance = _instance_of(plan, path, args.instance)
        except InputError:
            if args.model or args.instance:
                raise
            log.warning("%s: instance '%s' is not found: its councils go by code (pass --instance to name them)", path, plan.instance)
            instances.append(None)
            continue
        instances.append(instance)
        names.update({c: n for c, n in zip(instance.councils["code"], instance.councils["name"]) if c not in names})
        try:
            titles.update({f.id: f.title for f in plan.savings_model(instance).functions if f.id not in titles})
        except InputError:
            pass  # titles only: the comparison itself needs no model

    scores = []
    if args.model:
        model = load_model(args.model, near=instances[0].folder)
        titles.update({f.id: f.title for f in model.functions})
        for label, plan, instance in zip(labels, plans, instances):
            drift = plan.instance_drift(instance)
            if drift:
                log.warning("%s", drift)
            scores.append(score_plan(plan, instance, model, label))

    known = next((i for i in instances if i is not None), None)
    area_label = (lambda codes: area_names(known, codes)) if known is not None else None
    comparisons = [compare_plans(plans[0], other, labels[0], label, scored_under=scores[0].model if scores else None,
                                 area_label=area_label) for label, other in zip(labels[1:], plans[1:])]
    if args.out:
        data = {"plans": [{"label": label, "file": str(path), "instance": plan.instance, "model": plan.model,
                           "totals": plan.totals.to_dict()} for label, path, plan in zip(labels, paths, plans)],
                "comparisons": [c.to_dict() for c in comparisons], "scores": [s.to_dict() for s in scores]}
        files = {"compare.json": json.dumps(data, indent=2, allow_nan=False) + "\n", "partnerships.csv": matches_csv(comparisons, names),
                 "councils.csv": councils_csv(comparisons, names), "functions.csv": functions_csv(comparisons)}
        if scores:
            files["scores.csv"] = scores_csv(scores)
        write_out(args.out, lambda: write_atomically(Path(args.out), files, stale=COMPARE_FILES))
    if not args.quiet:
        say(comparison_text(list(zip(labels, map(str, paths), plans)), comparisons, names, titles, top, scores))
        if args.out:
            say(f"\n  written: {Path(args.out) / 'compare.json'}, partnerships.csv, councils.csv, functions.csv"
                + (", scores.csv" if scores else ""))
    return 0
