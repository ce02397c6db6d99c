"""The verifier's checks by name, and the order a report lists their findings in.

Two kinds of check, each a plain function returning ``list[Finding]`` whose ``rule`` is the
check's name:

* ``PARTNERSHIP_CHECKS``: ``check(ctx, part)``, one partnership entry at a time
  (:mod:`.checks_partnerships`; those of what it is worth, ``npv``, ``withdrawal`` and
  ``robust``, in :mod:`.checks_worth`);
* ``PLAN_CHECKS``: ``check(ctx)``, the plan as a whole (:mod:`.checks_plan`); its
  ``partnerships`` entry runs every partnership check over every entry.

The checks of SPEC section 6 (``shares``, ``core_excess``, ``transfer``, ``stability``, in
:mod:`.checks_shares`) are plan checks: they judge the split of a partnership and the plan's
stability, not a rule a partnership must obey, so they are not rules of the registry.

``CHECKS`` holds both kinds, in report order; ``RULE_CHECKS`` the 22 whose names are those of the
engine's rules registry (``optimiser.rules.RULES``), so that a rule added there without a
check here fails ``tests/test_rules_names.py``. To add a rule: write ``check_<name>`` in the
module of its kind, list it in ``PARTNERSHIP_CHECKS`` (and as a step of
``PARTNERSHIP_ORDER``) or in ``PLAN_CHECKS`` where its findings should appear in a report,
and add its name to ``RULE_NAMES``.
"""

from __future__ import annotations

from typing import Callable

from ..errors import Finding
from . import checks_existing as ce
from . import checks_finance as cf
from . import checks_partnerships as cp
from . import checks_plan as pl
from . import checks_shares as sh
from . import checks_worth as cw
from .context import ELIGIBILITY_RULES, Context, Part, build_context

#: the steps a partnership entry's findings are reported in: "eligibility" is tier, area and
#: exclude together, member by member (each member under the first of them it breaks);
#: "geography" the function's geography rules in the order the model lists them
PARTNERSHIP_ORDER = (
    "partnership",
    "eligibility",
    "max_size",
    "host",
    "host_min_commitment",
    "seek",
    "depth",
    "commitment",
    "geography",
    "apart",
    "platform",
    "money",
    "npv",
    "withdrawal",
    "robust",
)
GEOGRAPHY_RULES = ("same_region", "same_county", "same_nation", "contiguous", "within_km")

#: checks of one partnership entry: the steps above, each group spelled out
PARTNERSHIP_CHECKS: dict[str, Callable[[Context, Part], list[Finding]]] = {
    "partnership": cp.check_partnership,
    "tier": cp.check_tier,
    "area": cp.check_area,
    "exclude": cp.check_exclude,
    "max_size": cp.check_max_size,
    "host": cp.check_host,
    "host_min_commitment": cp.check_host_min_commitment,
    "seek": cp.check_seek,
    "depth": cp.check_depth,
    "commitment": cp.check_commitment,
    "same_region": cp.check_same_region,
    "same_county": cp.check_same_county,
    "same_nation": cp.check_same_nation,
    "contiguous": cp.check_contiguous,
    "within_km": cp.check_within_km,
    "apart": cp.check_apart,
    "platform": cp.check_platform,
    "money": cp.check_money,
    "npv": cw.check_npv,
    "withdrawal": cw.check_withdrawal,
    "robust": cw.check_robust,
}


def partnership_findings(ctx: Context, part: Part, steps: tuple[str, ...] = PARTNERSHIP_ORDER) -> list[Finding]:
    """Every partnership check of one entry (or those of ``steps``), in the order of
    PARTNERSHIP_ORDER. (A check returns nothing for an entry it cannot judge, such as one whose
    members are unreadable.)"""
    out: list[Finding] = []
    for step in steps:
        if step == "eligibility":
            out += cp.eligibility(ctx, part, ELIGIBILITY_RULES)
        elif step == "geography":
            kinds = [r.kind for r in part.model_function.geography] if part.model_function else []
            for kind in kinds:
                if kind in GEOGRAPHY_RULES:
                    out += PARTNERSHIP_CHECKS[kind](ctx, part)
        else:
            out += PARTNERSHIP_CHECKS[step](ctx, part)
    return out


def check_partnerships(ctx: Context) -> list[Finding]:
    """Every partnership check over every entry of the plan's partnerships, entry by entry."""
    out: list[Finding] = []
    for part in ctx.parts:
        out += partnership_findings(ctx, part)
    return out


#: what the plan without headroom limits must keep: every rule of a partnership (its entries
#: carry no figures of their own to check) and every limit across partnerships but headroom
WITHOUT_HEADROOM_STEPS = tuple(s for s in PARTNERSHIP_ORDER if s not in ("partnership", "money", "withdrawal", "robust"))
WITHOUT_HEADROOM_LIMITS = ("packing", "max_partnerships", "max_hosted", "budget", "locked", "keep_existing")


def check_without_headroom(ctx: Context) -> list[Finding]:
    """The plan of the same run without headroom limits (``finance.without_headroom``, on which
    the financing gap is measured) keeps every other rule of the run, partnership by partnership
    and across them; its pricing is checked with the finance section."""
    finance = ctx.plan.get("finance")
    free = finance.get("without_headroom") if isinstance(finance, dict) else None
    if not isinstance(free, dict) or not isinstance(free.get("partnerships"), list):
        return []
    entries = [dict(e, id=f"without_headroom.partnerships[{n}]") if isinstance(e, dict) else e
               for n, e in enumerate(free["partnerships"])]
    other = build_context(ctx.instance, dict(ctx.plan, partnerships=entries), ctx.model, ctx.tolerance)
    out: list[Finding] = []
    for part in other.parts:
        out += partnership_findings(other, part, WITHOUT_HEADROOM_STEPS)
    for name in WITHOUT_HEADROOM_LIMITS:
        out += PLAN_CHECKS[name](other)
    return [Finding(f.rule, f"finance.without_headroom: {f.where}", f.message) for f in out]


#: checks of the plan as a whole, in report order
PLAN_CHECKS: dict[str, Callable[[Context], list[Finding]]] = {
    "plan": pl.check_plan,
    "options": pl.check_options,
    "declared_tiers": pl.check_declared_tiers,
    "partnerships": check_partnerships,
    "packing": pl.check_packing,
    "max_partnerships": pl.check_max_partnerships,
    "max_hosted": pl.check_max_hosted,
    "budget": pl.check_budget,
    "headroom": cf.check_headroom,
    "locked": pl.check_locked,
    "keep_existing": ce.check_keep_existing,
    "existing": ce.check_existing,
    "shares": sh.check_shares,
    "core_excess": sh.check_core_excess,
    "transfer": sh.check_transfer,
    "stability": sh.check_stability,
    "finance": cf.check_finance,
    "without_headroom": check_without_headroom,
    "councils": pl.check_councils,
    "totals": pl.check_totals,
    "solver": pl.check_solver,
}

#: every check by name, in report order: the plan's, with the partnership checks in place of
#: ``partnerships`` (which only runs them); every finding's rule is one of these names
CHECKS: dict[str, Callable] = {}
for _name, _check in PLAN_CHECKS.items():
    CHECKS.update(PARTNERSHIP_CHECKS if _name == "partnerships" else {_name: _check})
del _name, _check

#: the partnership rules and the limits across partnerships, named as in optimiser.rules.RULES
RULE_NAMES = (
    "tier",
    "area",
    "exclude",
    "max_size",
    "same_region",
    "same_county",
    "same_nation",
    "contiguous",
    "within_km",
    "apart",
    "commitment",
    "host_min_commitment",
    "seek",
    "npv",
    "packing",
    "locked",
    "keep_existing",
    "max_partnerships",
    "max_hosted",
    "budget",
    "headroom",
    "robust",
)
RULE_CHECKS: dict[str, Callable] = {name: CHECKS[name] for name in RULE_NAMES}


def run_checks(ctx: Context) -> list[Finding]:
    """Every finding of every check, in report order."""
    out: list[Finding] = []
    for check in PLAN_CHECKS.values():
        out += check(ctx)
    return out
