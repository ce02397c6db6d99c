"""An independent check of a plan against its instance, savings model and options.

:func:`verify` reads a plan (``plan.json`` or the dict it holds) and re-derives, in plain
Python, everything the contract fixes: which councils are eligible for each function of
the run, every rule a partnership must obey, every pound of the savings arithmetic
(SPEC section 3), and the shares and stability of SPEC section 6. It shares no code with
candidate generation, the optimisation model or the engine's analysis, so a bug there shows
up here as a disagreement instead of being repeated: this package imports only the standard
library, pandas, numpy, pulp, highspy, ``optimiser.errors``, ``optimiser.io`` and ``optimiser.problem``
(a test holds it to that).

It does not check that the plan is *optimal*, only that it is feasible and that every
figure in it is right. All problems are collected, not just the first::

    report = verify("instances/suffolk-2023", "out/plan.json")
    if not report.ok:
        print("\\n".join(report.problems))

The pieces:

* :mod:`.context`: the run the plan claims, resolved once into a frozen :class:`Context`;
* :mod:`.figures`: the savings arithmetic of one partnership;
* :mod:`.checks` (with :mod:`.checks_partnerships`, :mod:`.checks_plan` and
  :mod:`.checks_shares`): the named checks, each returning :class:`~optimiser.errors.Finding`
  records. ``RULE_CHECKS`` carries the names of the engine's rules registry; ``CHECKS`` every
  check, in report order;
* :mod:`.games`: v(T) of every subgroup of a partnership (the best option of a member set,
  judged by the partnership rule checks) and its splits by :mod:`.allocation` (Shapley over
  every order of arrival, the prenucleolus by sequential LPs);
* :mod:`.stability`: every group the rules allow for a function, grown afresh, valued with
  numpy, the blocking groups among them and the function's LP bound (column generation on
  HiGHS, :mod:`.packing`, to a proven gap); :mod:`.lp` keeps the solvers quiet.
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Finding, InputError
from ..io.instance import Instance, load_instance
from ..io.model import SavingsModel, load_model
from ..io.provenance import embedded_model, instance_drift
from .checks import CHECKS, PARTNERSHIP_CHECKS, PLAN_CHECKS, RULE_CHECKS, run_checks
from .checks_finance import check_cashflow
from .checks_plan import council_rows, locked_groups
from .context import Context, build_context, haversine_km
from .figures import Figures, figures

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class VerifyReport:
    """What :func:`verify` found: ``findings`` (empty when the plan is right), the same as
    text in ``problems``, and counts of what was checked."""

    problems: list[str] = field(default_factory=list)
    checked: dict = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()

    @classmethod
    def of(cls, findings, checked: dict) -> "VerifyReport":
        findings = tuple(findings)
        return cls([str(f) for f in findings], dict(checked), findings)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in self.checked.items())
        if self.ok:
            return f"plan verified: no problems ({counts})"
        lines = [f"plan has {len(self.problems)} problem(s) ({counts}):"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _load_plan(plan) -> tuple[dict, str]:
    if isinstance(plan, dict):
        return plan, "plan"
    if isinstance(getattr(plan, "data", None), dict):  # a Plan, as solve() returns it
        return plan.data, "plan"
    path = Path(plan)
    if path.is_dir():
        path = path / "plan.json"
    if not path.is_file():
        raise InputError(path, "file not found")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"malformed JSON: {exc.msg}", f"line {exc.lineno}, column {exc.colno}") from None
    if not isinstance(data, dict):
        raise InputError(path, f"must hold a JSON object, found {type(data).__name__}")
    return data, str(path)


def checked_counts(ctx: Context) -> dict[str, int]:
    """How much a verification covered, for the report's summary."""
    return {
        "functions": len(ctx.run_functions),
        "eligible_pairs": sum(len(v) for v in ctx.eligible.values()),
        "partnerships": len(ctx.parts),
        "locked_groups": len(locked_groups(ctx)),
        "council_rows": len(council_rows(ctx)),
    }


def verify(instance, plan, model=None, *, tolerance: float = 1e-6) -> VerifyReport:
    """Checks a plan against its instance, savings model and run options.

    ``instance`` is an :class:`~optimiser.io.instance.Instance` or an instance folder;
    ``plan`` a dict as held in plan.json, a Plan as ``solve`` returns it, or the path of
    plan.json (or of the folder that holds it); ``model`` a
    :class:`~optimiser.io.model.SavingsModel`, a model name or path, or None for the model
    the plan names: the model text its provenance embeds, or (an older plan) the model found by
    its name. When the instance's files no longer hash as the plan's provenance records, a
    warning says so and the plan is checked against the files given. Money agrees when within ``tolerance`` (relative) or 0.01 pounds,
    whichever is larger.

    Raises :class:`~optimiser.errors.InputError` when the plan, instance or model cannot
    be read at all; everything wrong *in* a readable plan is listed in the report.
    """
    if not isinstance(instance, Instance):
        instance = load_instance(instance)
    data, source = _load_plan(plan)
    drift = instance_drift(data, instance, source)
    if drift:  # still checked: against the files given, which is what a check is for
        log.warning("%s", drift)
    if model is None:
        # the model the plan embeds, if it does (provenance says only which model: every
        # figure is still recomputed from it and the instance's files)
        model = embedded_model(data, source)
    if model is None:
        ref = data.get("model")
        if not isinstance(ref, str) or not ref.strip():
            if instance.model_ref is None:
                message = f"names no model (key 'model'), and instance '{instance.name}' has no default model"
                return VerifyReport.of([Finding("plan", source, message)], {})
            ref = instance.model_ref
        model = load_model(ref, near=instance.folder)
    elif not isinstance(model, SavingsModel):
        model = load_model(model, near=instance.folder)
    ctx = build_context(instance, data, model, tolerance)
    findings = run_checks(ctx)
    rows, where = _cashflow_rows(plan, source)
    if rows is not None:
        findings += check_cashflow(ctx, rows, where)
    return VerifyReport.of(findings, checked_counts(ctx))


def _cashflow_rows(plan, source: str):
    """The rows of the plan's cash-flow table (SPEC §8): a Plan's own, or cashflow.csv beside
    a plan.json read from a file; (None, "") when there is none to check."""
    rows = getattr(plan, "cashflow", None)
    if rows:
        return [{k: str(v) for k, v in dict(r).items()} for r in rows], "cashflow.csv"
    path = Path(source).parent / "cashflow.csv" if source != "plan" else None
    if path is None or not path.is_file():
        return None, ""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle)), str(path)


def main(argv: list[str] | None = None) -> int:
    """``python -m optimiser.verify INSTANCE PLAN [--model NAME|PATH]``: exit 0 when right, 1 when not."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m optimiser.verify", description="Checks a plan.json against its instance and model.")
    parser.add_argument("instance", help="instance folder")
    parser.add_argument("plan", help="plan.json, or the folder that holds it")
    parser.add_argument("--model", default=None, help="savings model (default: the one the plan names)")
    args = parser.parse_args(argv)
    try:
        report = verify(args.instance, args.plan, args.model)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0 if report.ok else 1


__all__ = [
    "CHECKS",
    "PARTNERSHIP_CHECKS",
    "PLAN_CHECKS",
    "RULE_CHECKS",
    "Context",
    "Figures",
    "Finding",
    "VerifyReport",
    "build_context",
    "figures",
    "haversine_km",
    "main",
    "verify",
]
