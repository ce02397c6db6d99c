"""Plans and evaluations as text for a terminal: money a person reads, names beside codes."""

from __future__ import annotations

from ..analysis.summary import function_figures
from .finance import finance_lines


#: the sign money() writes before an amount; the command line sets "GBP " while it writes to
#: a terminal that cannot print "£" (an ASCII-only locale)
CURRENCY = "£"
#: how a solve that ended before its proof stopped, by status
STOPPED = {"time_limit": "stopped at the time limit", "interrupted": "stopped on request (Ctrl-C or SIGTERM)"}


def money(value: float | None, currency: str | None = None) -> str:
    """Pounds as a person writes them: £1.23bn, £4.56m, £789k, £12 (``currency`` instead of
    the terminal's sign, e.g. "£" for a web page).

    >>> money(1234567), money(-789.4), money(2.5e9, "£")
    ('£1.23m', '-£789', '£2.50bn')
    """
    if value is None:
        return "-"
    unit = CURRENCY if currency is None else currency
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value >= 1e9:
        return f"{sign}{unit}{value / 1e9:,.2f}bn"
    if value >= 1e6:
        return f"{sign}{unit}{value / 1e6:,.2f}m"
    if value >= 1e3:
        return f"{sign}{unit}{value / 1e3:,.0f}k"
    return f"{sign}{unit}{value:,.0f}"


def _years(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}y"


def status_sentence(solver) -> str:
    """How the solve ended, as a sentence: "proven optimal", "within 1.2% of the best possible"."""
    if solver.status == "infeasible":
        return "no plan satisfies the locked partnerships together with the run's limits"
    if solver.gap is None:
        return f"{STOPPED.get(solver.status, 'stopped')} with no proven bound"
    if solver.status == "optimal" and solver.gap <= 1e-6:
        return "proven optimal"
    percent = f"{100 * solver.gap:,.0f}" if solver.gap >= 1 else f"{100 * solver.gap:.2g}"
    within = f"within {percent}% of the best possible" if solver.gap >= 1e-4 else "within 0.01% of the best possible"
    return within + (f", {STOPPED[solver.status]}" if solver.status in STOPPED else "")


def run_header(plan, instance, model=None, areas: str = "") -> list[str]:
    """What was asked: the area, the functions, the budget and the options that changed anything."""
    o = plan.options
    taken = list(dict.fromkeys(c.function for c in plan.councils))
    titles = {f.id: f.title for f in model.functions} if model is not None else {}
    if o.functions:
        functions = ", ".join(titles.get(f, f) for f in taken) if len(taken) <= 4 else f"{len(taken)} chosen functions"
    else:
        functions = f"all {len(taken)} functions of the model"
    councils = len({c.code for c in plan.councils})
    where = areas or ("the whole instance" if not o.area else ", ".join(o.area))
    chosen = [f"shares {o.shares}", f"maximising {'expected NPV' if o.objective == 'expected' else 'NPV'}"]
    if o.robust:
        chosen.append("only N-1 robust partnerships")
    if o.exclude:
        chosen.append(f"{len(o.exclude)} council-function exclusions")
    if o.apart:
        chosen.append(f"{len(o.apart)} pairs kept apart")
    if o.max_size:
        chosen.append(f"groups of at most {o.max_size}")
    if o.lock:
        chosen.append(f"{len(o.lock)} locked by --lock")
    if o.time_limit:
        chosen.append(f"time limit {o.time_limit:g}s")
    return [f"{instance.title} ({plan.instance}), savings model {plan.model}",
            f"  area: {where} ({councils} councils); functions: {functions}",
            f"  budget: {money(o.budget) if o.budget is not None else 'no limit on one-off costs'}; options: {', '.join(chosen)}"]


def estimated_line(plan) -> str:
    """Which baselines are the model's estimate (per_capita x population) rather than reported spend."""
    estimated = [c for c in plan.councils if c.baseline_estimated]
    if not estimated:
        return "  baselines: every council's reported spend (spend.csv)"
    total = sum(c.baseline for c in plan.councils)
    pounds = sum(c.baseline for c in estimated)
    share = 100 * pounds / total if total else 0.0
    return (f"  baselines: {len(estimated)} of {len(plan.councils)} council-functions estimated from population, "
            f"{money(pounds)} ({share:.0f}%) of the {money(total)} spend; their savings are as uncertain as the estimate")


def idle_reasons(plan, instance=None) -> list[str]:
    """Why each function with councils but no partnership has none, a line each."""
    return [f"  no partnership for {function}: {why}" for function, why in idle_functions(plan, instance)]


def idle_functions(plan, instance=None) -> list[tuple[str, str]]:
    """(function, why) for each function with councils but no partnership; ``instance`` tells
    whether its councils limit the partnerships they join or lead."""
    stability = {s.function: s for s in plan.stability}
    o = plan.options
    limited = False
    if instance is not None:
        codes = {c.code for c in plan.councils}
        rows = instance.councils[instance.councils["code"].isin(codes)]
        limited = any(column in rows and rows[column].notna().any() for column in ("max_partnerships", "max_hosted"))
    limits = [words for words, on in ((f"the budget of {money(o.budget)}", o.budget is not None),
                                      ("--robust (none survives every member's leaving)", o.robust),
                                      ("the councils' limits (max_partnerships, max_hosted)", limited),
                                      ("the time limit, before a better plan was found", plan.status == "time_limit"),
                                      ("the stop asked for (Ctrl-C), before a better plan was found", plan.status == "interrupted")) if on]
    lines = []
    for f in function_figures(plan):
        if f.partnerships:
            continue
        eligible = len({c.code for c in plan.councils if c.function == f.function})
        s = stability.get(f.function)
        if eligible < 2:
            why = f"only {eligible} council of the area takes part"
        elif s is not None and s.lp_bound is not None and s.lp_bound > 1.0:
            why = (f"groups that would pay are ruled out by {' or '.join(limits)}" if limits else
                   "groups that would pay lose out to other functions' partnerships for the same councils")
        else:
            why = f"no group of its {eligible} councils that the rules allow saves more than it costs over the horizon"
        lines.append((f.function, why))
    return lines


def plan_summary(plan, instance, top: int = 10, model=None, areas: str = "") -> str:
    """A readable account of a plan: what was asked, how the solve ended, totals, per function,
    the largest partnerships, and why a function has none."""
    names = dict(zip(instance.councils["code"], instance.councils["name"]))
    s = plan.solver
    totals = plan.totals
    share = 100 * totals.annual_saving / totals.baseline if totals.baseline else 0.0
    lines = run_header(plan, instance, model, areas) + [
        f"  plan: {status_sentence(s)} ({s.name}, {s.seconds:.1f}s)",
        estimated_line(plan),
        "",
        f"  {len(plan.partnerships)} partnerships; NPV {money(totals.npv)}; yearly saving "
        f"{money(totals.annual_saving)} of {money(totals.baseline)} baseline ({share:.1f}%); "
        f"one-off cost {money(totals.one_off_cost)}",
        "",
        f"  {'function':<28}{'partnerships':>13}{'councils':>10}{'yearly saving':>15}{'% of spend':>11}{'NPV':>12}",
    ]
    for f in function_figures(plan):
        lines.append(f"  {f.function:<28}{f.partnerships:>13}{f.councils:>10}{money(f.annual_saving):>15}"
                     f"{100 * f.saving_share:>10.1f}%{money(f.npv):>12}")
    lines += idle_reasons(plan, instance)
    largest = sorted(plan.partnerships, key=lambda p: -p.npv)[:top]
    if largest:
        lines += ["", f"  largest partnerships (of {len(plan.partnerships)}):"]
        for p in largest:
            members = ", ".join(names.get(c, c) + (" (host)" if c == p.host else "") for c in p.members)
            lines.append(f"  {p.id:<32} NPV {money(p.npv):>9}  {p.depth:<18} payback {_years(p.payback_years):>5}  {members}")
    lines += existing_lines(plan, names, top)
    lines += withdrawal_lines(plan, names, top)
    lines += stability_lines(plan, names)
    lines += finance_lines(plan, names, money, top)
    return "\n".join(lines)


def existing_lines(plan, names: dict, top: int = 10) -> list[str]:
    """In words: what the plan does to today's arrangements, naming every one it dissolves or
    splits and what it adds to those it grows, and what they are worth as they are."""
    today = plan.existing
    if today is None or not today.arrangements:
        return []
    counts = {}
    for a in today.arrangements:
        counts[a.status] = counts.get(a.status, 0) + 1
    said = ", ".join(f"{counts[s]} {s}" for s in ("kept", "changed", "grown", "split", "dissolved") if s in counts)
    lines = ["", f"  today's arrangements ({len(today.arrangements)} in this run): {said}; worth {money(today.today_npv)} as they "
                 f"are (set-up cost sunk), against the plan's {money(today.plan_npv)}"]

    def who(codes) -> str:
        return ", ".join(names.get(c, c) for c in codes)

    for a in today.arrangements:
        if a.status == "dissolved":
            lines.append(f"  the plan dissolves {a.id} ({a.function}): {who(a.members)} no longer share it")
        elif a.status == "split":
            lines.append(f"  the plan splits {a.id} ({a.function}): {who(a.left)} leave{'s' if len(a.left) == 1 else ''} it")
    grown = [a for a in today.arrangements if a.status == "grown"]
    for a in grown[:top]:
        lines.append(f"  {a.id} ({a.function}) grows: the plan adds {who(a.added)}")
    if len(grown) > top:
        lines.append(f"  ... and {len(grown) - top} more grown (plan.json: existing)")
    return lines


def withdrawal_lines(plan, names: dict, top: int = 10) -> list[str]:
    """In words: what the plan is expected to deliver when members may leave, how many
    partnerships survive any one member leaving, and who the fragile ones hinge on (SPEC §5)."""
    parts = [p for p in plan.partnerships if p.robust is not None]
    if not parts:
        return []
    lines = [""]
    totals = plan.totals
    if totals.expected_npv is not None and any(any(v > 0 for v in (p.withdrawal or {}).values()) for p in parts):
        kept = 100 * totals.expected_npv / totals.npv if totals.npv else 100.0
        lines.append(f"  if members may leave: expected NPV {money(totals.expected_npv)} of the {money(totals.npv)} promised "
                     f"({kept:.0f}%)" + (", which this plan maximises" if plan.options.objective == "expected" else ""))
    robust = sum(1 for p in parts if p.robust)
    lines.append(f"  {robust} of {len(parts)} partnerships still pay whoever leaves (N-1 robust)"
                 + ("; --robust allowed no other" if plan.options.robust else ""))
    fragile = sorted((p for p in parts if not p.robust), key=lambda p: p.worst_withdrawal_npv - p.npv)
    for p in fragile[:top]:
        who = names.get(p.worst_withdrawal, p.worst_withdrawal)
        lines.append(f"  {p.id} hinges on {who}: if it leaves, the NPV falls from {money(p.npv)} "
                     f"to {money(p.worst_withdrawal_npv)}")
    if len(fragile) > top:
        lines.append(f"  ... and {len(fragile) - top} more fragile partnerships (robust = false in partnerships.csv)")
    return lines


def stability_lines(plan, names: dict) -> list[str]:
    """In words: the share rule, partnerships whose split some subgroup would leave, and the
    groups that would do better breaking away from the plan."""
    if not plan.stability:
        return []
    rule = plan.options.shares
    lines = ["", f"  shares follow the {rule} rule" + ("" if rule == "proportional" else "; each council's transfer against "
                                                      "the proportional split is in councils.csv")]
    unstable = [p for p in plan.partnerships if p.core_excess and p.core_excess[rule] > 1e-6 * abs(p.npv)]
    for p in unstable:
        lines.append(f"  {p.id}: under {rule} shares a subgroup would gain {money(p.core_excess[rule])} by leaving")
    blocked = [s for s in plan.stability if s.blocking_groups]
    if not blocked:
        lines.append("  stable: no group of councils would do better on its own than its members' shares")
    for s in blocked:
        members = ", ".join(names.get(c, c) for c in s.largest_surplus_members)
        cost = "" if s.cost_of_stability is None else f"; LP bound is {money(s.cost_of_stability)} above the plan"
        lines.append(f"  {s.function}: {s.blocking_groups:,} of {s.groups_checked:,} possible groups would do better on their "
                     f"own; the most, {members}, by {money(s.largest_surplus)}{cost}")
    return lines


def platform_words(label: str | None, names: dict) -> str:
    """``own:E07000200`` as ``on its own system (Babergh)``; a shared platform by its name."""
    if label is None:
        return "no common platform"
    if label.startswith("own:"):
        return f"on {names.get(label[4:], label[4:])}'s own system"
    return f"platform {label}"


def evaluation_summary(result, instance) -> str:
    """Each evaluated group: members by name, its best option and figures, the rules it
    breaks; totals of the groups that keep every rule, the others apart, and what was skipped."""
    names = dict(zip(instance.councils["code"], instance.councils["name"]))
    lines = []
    for g in result.groups:
        lines.append(f"{g['id']} {g['function']}: {', '.join(names.get(c, c) for c in g['members'])}")
        one_off = f"one-off {money(g['one_off_cost'])}" + (f" (set-up {money(g['sunk_cost'])} sunk)" if g.get("sunk") else "")
        lines.append(f"    best: {g['depth']} hosted by {names.get(g['host'], g['host'])}, {platform_words(g['platform'], names)}; "
                     f"yearly saving {money(g['annual_saving'])}, {one_off}, NPV {money(g['npv'])}, "
                     f"payback {_years(g['payback_years'])}")
        if any((g["withdrawal"] or {}).values()):
            lines.append(f"    expected NPV {money(g['expected_npv'])} if members may leave; "
                         f"if {names.get(g['worst_withdrawal'], g['worst_withdrawal'])} leaves, NPV {money(g['worst_withdrawal_npv'])} "
                         f"({'still pays: robust' if g['robust'] else 'not robust'})")
        if g["npv_share"] and result.rule != "proportional":
            lines.append(f"    {result.rule} shares: " + ", ".join(
                f"{names.get(c, c)} {money(v)} ({'+' if g['transfer'][c] >= 0 else '-'}{money(abs(g['transfer'][c]))} against proportional)"
                for c, v in g["npv_share"].items()))
        if g["core_excess"] and g["core_excess"][result.rule] > 0:
            lines.append(f"    under the {result.rule} split a subgroup would do {money(g['core_excess'][result.rule])} better on its own")
        lines += [f"    breaks {b}" for b in g["breaks"]]
    t, broken = result.totals, result.totals_breaking
    lines.append(f"{t['groups']} of {len(result.groups)} groups keep every rule: NPV {money(t['npv'])}, yearly saving "
                 f"{money(t['annual_saving'])}, one-off {money(t['one_off_cost'])}")
    if broken.get("groups"):
        lines.append(f"{broken['groups']} break rules (totalled apart): NPV {money(broken['npv'])}, yearly saving "
                     f"{money(broken['annual_saving'])}, one-off {money(broken['one_off_cost'])}")
    skipped = result.skipped or {}
    if skipped.get("outside_area"):
        lines.append(f"{skipped['outside_area']} groups skipped: no member inside --area")
    if skipped.get("other_functions"):
        lines.append(f"{skipped['other_functions']} groups skipped: their function is not in the run")
    return "\n".join(lines)
