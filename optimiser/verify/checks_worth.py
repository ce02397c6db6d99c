"""Checks of what one partnership is worth, with and without withdrawals (SPEC sections 3
and 5): ``check_x(ctx, part) -> list[Finding]``.

* ``npv`` (a rule of the registry): the partnership pays, judged on its NPV, or on its
  expected NPV E(S) when the run maximises ``expected``; locked existing partnerships are
  exempt;
* ``withdrawal``: the entry's ``withdrawal`` chances, ``expected_npv``,
  ``worst_withdrawal``, ``worst_withdrawal_npv`` and ``robust`` against :mod:`.withdrawal`;
* ``robust`` (a rule of the registry): under ``--robust`` every partnership but a locked
  existing one still pays whoever leaves.
"""

from __future__ import annotations

from ..errors import Finding
from .context import Context, Part, pounds
from .existing import holds_kept_group
from .withdrawal import risk_of

RISK_KEYS = ("withdrawal", "expected_npv", "worst_withdrawal", "worst_withdrawal_npv", "robust")


def _finding(rule: str, part: Part, message: str) -> Finding:
    return Finding(rule, part.label, message)


def check_npv(ctx: Context, part: Part) -> list[Finding]:
    """A positive recomputed NPV (E(S) under the expected objective), unless it is a locked
    existing partnership."""
    if part.figures is None or part.locked or holds_kept_group(ctx, part):
        return []
    if ctx.options.objective == "expected":
        risk = risk_of(ctx, part)
        if risk is None or risk.expected > 0:
            return []
        return [_finding("npv", part, f"expected npv {pounds(risk.expected)} is not positive (options.objective is expected), "
                                      "and it is not a locked existing partnership")]
    if part.figures.npv > 0:
        return []
    return [_finding("npv", part, f"npv {pounds(part.figures.npv)} is not positive, and it is not a locked existing partnership")]


def check_withdrawal(ctx: Context, part: Part) -> list[Finding]:
    """Each member's chance of leaving, E(S), the worst single withdrawal and who causes it,
    and whether the partnership is robust, as SPEC section 5 computes them."""
    if not part.readable or not isinstance(part.entry, dict):
        return []
    entry = part.entry
    out = []

    def problem(message: str) -> None:
        out.append(_finding("withdrawal", part, message))

    missing = [key for key in RISK_KEYS if key not in entry]
    for key in missing:
        problem(f"missing key '{key}'")
    risk = risk_of(ctx, part)
    if risk is None or missing:
        return out
    stated = entry["withdrawal"]
    if not isinstance(stated, dict):
        problem(f"withdrawal must be an object of each member's chance of leaving, found {stated!r}")
    else:
        for code in sorted(set(stated) - set(risk.chances)):
            problem(f"withdrawal names {code!r}, which is not a member")
        for code, chance in risk.chances.items():
            if code not in stated:
                problem(f"withdrawal has no chance for member {code}")
            elif not ctx.ratio_ok(stated[code], chance):
                problem(f"withdrawal of {code} is {stated[code]!r}, expected {chance:.6g}")
    if not ctx.money_ok(entry["expected_npv"], risk.expected):
        problem(f"expected_npv is {pounds(entry['expected_npv'])}, expected {pounds(risk.expected)}")
    worst = risk.worst
    if not ctx.money_ok(entry["worst_withdrawal_npv"], worst):
        problem(f"worst_withdrawal_npv is {pounds(entry['worst_withdrawal_npv'])}, expected {pounds(worst)}")
    # members whose leaving costs as much as the worst, to rounding: the smallest code is the
    # engine's pick among exact ties, any of them a fair one among near ties
    slack = ctx.money_slack(worst)
    worst_members = sorted(c for c, v in risk.after_one_leaves.items() if v <= worst + slack)
    if entry["worst_withdrawal"] not in worst_members:
        problem(f"worst_withdrawal is {entry['worst_withdrawal']!r}, expected {worst_members[0]} "
                f"(its leaving gives the least NPV, {pounds(worst)})")
    robust = entry["robust"]
    if not isinstance(robust, bool):
        problem(f"robust must be true or false, found {robust!r}")
    elif robust != (worst > 0) and abs(worst) > slack:
        problem(f"robust is {str(robust).lower()}, expected {str(worst > 0).lower()} (worst withdrawal leaves an NPV of {pounds(worst)})")
    return out


def check_robust(ctx: Context, part: Part) -> list[Finding]:
    """Under --robust, no partnership but a locked existing one fails to pay when its worst
    member leaves."""
    if not ctx.options.robust or part.locked or holds_kept_group(ctx, part):
        return []
    risk = risk_of(ctx, part)
    if risk is None or risk.worst > 0:
        return []
    rounding = abs(risk.worst) <= ctx.money_slack(risk.worst)
    if rounding and isinstance(part.entry, dict) and part.entry.get("robust") is True:
        return []  # zero to rounding: the engine's own arithmetic may fall either side
    who = min(c for c, v in risk.after_one_leaves.items() if v == risk.worst)
    return [_finding("robust", part, f"is not N-1 robust (options.robust): if {who} leaves, its NPV is {pounds(risk.worst)}, not positive")]
