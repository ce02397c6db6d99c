"""The report page's sections in words: navigation, today's arrangements against the plan, the
risk of members leaving, the shares, paying for it, what the plan means for each council, and
the caveats."""

from __future__ import annotations

from html import escape

from .finance import finance_lines
from .labels import Labels
from .text import estimated_line, money, status_sentence

RULES = ("proportional", "shapley", "nucleolus")


def cash(value: float | None) -> str:
    return money(value, "£")


def table(header: list[str], rows: list[list], numeric: set[int] = frozenset()) -> str:
    """An HTML table; every cell escaped."""
    def cell(tag, n, value):
        return f'<{tag}{" class=n" if n in numeric else ""}>{escape(str(value))}</{tag}>'

    head = "".join(cell("th", n, h) for n, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", n, v) for n, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def navigation(plan, labels: Labels, codes: list[str]) -> str:
    """Links to each section, and a way to find one's own council (a list that needs no script)."""
    ordered = sorted(codes, key=lambda c: labels.council(c).lower())
    options = "".join(f'<option value="{escape(c)}">{escape(labels.council(c))}</option>' for c in ordered)
    links = ", ".join(f'<a href="#council-{escape(c)}">{escape(labels.council(c))}</a>' for c in ordered)
    sections = [("headline", "Headline"), ("maps", "Maps"), ("partnerships", "Every partnership"), ("today", "Today"),
                ("risk", "If members leave"), ("shares", "Shares"), ("finance", "Paying for it"), ("councils", "Councils"),
                ("caveats", "Caveats")]
    return ("<nav>" + "".join(f'<a href="#{k}">{escape(v)}</a>' for k, v in sections)
            + f'<label for="find">Find your council:</label> <select id="find"><option value="">choose...</option>{options}</select>'
            + f'<details><summary>every council</summary><p>{links}</p></details></nav>')


def today_section(plan, labels: Labels, instance, today) -> str:
    """The instance's existing partnerships (partnerships.csv) against the plan, and their value under the model."""
    codes = {c.code for c in plan.councils}
    functions = {c.function for c in plan.councils}
    existing = [g for g in instance.partnerships if g.function in functions and codes.intersection(g.members)]
    head = '<section id="today"><h2>Today\'s arrangements</h2>'
    if not existing:
        return head + "<p>This instance records no existing partnerships among these councils and functions.</p></section>"
    planned = {(p.function, frozenset(p.members)): p for p in plan.partnerships}
    of = {(c.code, c.function): c.partnership for c in plan.councils}
    valued = {g["id"]: g for g in (today.groups if today is not None else [])}
    rows = []
    for g in existing:
        members = frozenset(g.members)
        if (g.function, members) in planned:
            verdict = f"kept as it is ({planned[(g.function, members)].id})"
        else:
            now = sorted({of.get((c, g.function)) for c in g.members if (c, g.function) in of} - {None})
            if not now:
                verdict = "not in the plan: its members stay on their own"
            elif len(now) == 1:
                p = next(p for p in plan.partnerships if p.id == now[0])
                joined = [labels.council(c) for c in p.members if c not in members]
                left = [labels.council(c) for c in g.members if c not in p.members]
                verdict = f"becomes {p.id}" + (f", joined by {', '.join(joined)}" if joined else "") + \
                          (f"; {', '.join(left)} leave" if left else "")
            else:
                verdict = f"split between {', '.join(now)}"
        value = valued.get(g.id)
        worth = "-" if value is None else cash(value["npv"]) + (f" (breaks {len(value['breaks'])} rules)" if value["breaks"] else "")
        rows.append([g.id, labels.function(g.function), labels.councils(g.members), labels.council(g.host) if g.host else "-",
                     "yes" if g.locked else "no", worth, verdict])
    compared = ""
    if valued:
        touched = {g.function for g in existing}
        then = sum(valued[g.id]["npv"] for g in existing if g.id in valued)
        now = sum(p.npv for p in plan.partnerships if p.function in touched)
        compared = (f"<p>Together today's arrangements are worth {escape(cash(then))} under this model; in the same functions "
                    f"the plan's partnerships are worth {escape(cash(now))}.</p>")
    return (head + "<p>Existing arrangements from the instance's partnerships.csv, each valued under this model as if set up "
            "now (its best depth, host and platform), and what the plan does with it. A locked one is in every plan.</p>"
            + compared
            + table(["id", "function", "members", "host", "locked", "NPV under the model", "in this plan"], rows, numeric={5})
            + "</section>")


def risk_section(plan, labels: Labels) -> str:
    parts = [p for p in plan.partnerships if p.robust is not None]
    head = '<section id="risk"><h2>If members leave</h2>'
    if not parts:
        return head + "<p>This plan carries no withdrawal figures.</p></section>"
    t = plan.totals
    chances = any(any(v > 0 for v in (p.withdrawal or {}).values()) for p in parts)
    lines = []
    if chances and t.expected_npv is not None:
        lines.append(f"Counting each member's chance of leaving, the plan is expected to deliver {cash(t.expected_npv)} of the "
                     f"{cash(t.npv)} it promises.")
    else:
        lines.append("No council is given a chance of leaving (the withdrawal column and the model's [risk] are zero), "
                     "so the expected NPV is the NPV.")
    robust = sum(1 for p in parts if p.robust)
    lines.append(f"{robust} of {len(parts)} partnerships still pay whoever leaves (N-1 robust).")
    rows = [[p.id, labels.councils(p.members), cash(p.npv), cash(p.expected_npv), "yes" if p.robust else "no",
             labels.council(p.worst_withdrawal), cash(p.worst_withdrawal_npv),
             ", ".join(f"{labels.council(c)} {v:.0%}" for c, v in (p.withdrawal or {}).items() if v > 0) or "none"]
            for p in parts]
    return (head + "".join(f"<p>{escape(x)}</p>" for x in lines)
            + table(["id", "members", "NPV", "expected NPV", "robust", "hurts most if it leaves", "NPV then", "chances of leaving"],
                    rows, numeric={2, 3, 6}) + "</section>")


def shares_section(plan, labels: Labels) -> str:
    head = '<section id="shares"><h2>Shares: who gains?</h2>'
    with_shares = [p for p in plan.partnerships if p.shares]
    if not with_shares:
        return head + "<p>This plan carries no share splits.</p></section>"
    rule = plan.options.shares
    rules = [r for r in RULES if all(r in p.shares for p in with_shares)]
    text = (f"<p>Each council's share of a partnership's NPV follows the <b>{escape(rule)}</b> rule. The proportional rule splits "
            "by spend; Shapley by what each member adds on average; the nucleolus makes the least happy subgroup as happy as "
            "possible. A core excess above zero means some subgroup would gain by leaving under that rule. A member's transfer is what "
            "it receives (or, below zero, pays) under the run's rule against the split by spend.</p>")
    transfer = {(c.code, c.partnership): c.transfer for c in plan.councils if c.partnership}
    rows = []
    for p in with_shares:
        for c in p.members:
            rows.append([p.id, labels.council(c)] + [cash(p.shares[r][c]) for r in rules] + [cash(transfer.get((c, p.id)))])
        rows.append([p.id, "core excess"] + [cash((p.core_excess or {}).get(r)) for r in rules] + [""])
    stable = [[s.function, f"{s.blocking_groups:,} of {s.groups_checked:,}", labels.councils(s.largest_surplus_members) or "-",
               cash(s.largest_surplus), cash(s.cost_of_stability)] for s in plan.stability]
    return (head + text + table(["partnership", "member", *rules, f"transfer under {rule}"], rows,
                                numeric=set(range(2, 3 + len(rules))))
            + ("<h3>Stability</h3><p>Groups of councils that would do better on their own than their members' shares in the "
               "plan, per function, and the most any one would gain.</p>"
               + table(["function", "groups that would break away", "the most", "by", "cost of stability (LP bound above plan)"],
                       stable, numeric={3, 4}) if stable else "") + "</section>")


def finance_section(plan, labels: Labels) -> str:
    """How the one-off costs are paid (cash or the loan), what each council's worst year asks of
    it against its headroom, and the financing gap (SPEC §8)."""
    head = '<section id="finance"><h2>Paying for it</h2>'
    finance = plan.finance
    if not finance or not plan.partnerships:
        return head + "<p>This plan carries no finance figures.</p></section>"
    councils = finance.get("councils") or {}
    names = {code: labels.council(code) for code in set(councils) | set(finance.get("shortfalls") or {})}
    lines = [line.strip().removeprefix("finance: ") for line in finance_lines(plan, names, cash, top=len(names) or 1) if line.strip()]
    rows = [[labels.council(code), c["worst_year"], cash(c["net_cash"]), "no limit" if c.get("headroom") is None else cash(c["headroom"]),
             "-" if c.get("headroom_used") is None else f"{c['headroom_used']:.0%}", "yes" if c.get("binds") else "no",
             cash(c.get("financed_npv"))]
            for code, c in sorted(councils.items(), key=lambda kv: labels.council(kv[0]).lower())]
    return (head + "".join(f"<p>{escape(x[0].upper() + x[1:])}.</p>" for x in lines)
            + table(["council", "worst year", "net cash that year", "headroom", "headroom used", "headroom binds", "financed NPV"],
                    rows, numeric={2, 3, 6}) + "</section>")


def councils_section(plan, labels: Labels) -> str:
    from .files import council_roll_up

    by_id = {p.id: p for p in plan.partnerships}
    rule = plan.options.shares
    parts = ['<section id="councils"><h2>What this plan means for each council</h2>']
    for r in sorted(council_roll_up(plan, labels), key=lambda r: r.name.lower()):
        rows = []
        for c in (c for c in plan.councils if c.code == r.code):
            p = by_id.get(c.partnership)
            if p is None:
                rows.append([labels.function(c.function), "on its own", "-", "-", "-", "-", "-"])
                continue
            others = ", ".join(labels.council(m) for m in p.members if m != r.code)
            host = "this council" if p.host == r.code else labels.council(p.host)
            rows.append([labels.function(c.function), f"{p.id} with {others}", host, cash(c.annual_saving_share),
                         cash(c.one_off_share), cash(c.npv_share), "yes" if p.robust else "no" if p.robust is not None else "-"])
        words = (f"{r.name} joins a partnership in {len(r.partnerships)} of the {len(r.functions)} functions it takes part in"
                 + (f" and hosts {len(r.hosted)} of them" if r.hosted else "")
                 + (f". Its share: it saves {cash(r.annual_saving)} a year and pays {cash(r.one_off_cost)} once to set up; "
                    f"over the model's horizon that is worth {cash(r.npv_share)} to it (net present value)."
                    if r.partnerships else "; the plan leaves it on its own."))
        extra = []
        if rule != "proportional" and abs(r.transfer) >= 0.5:
            extra.append(f"Under the {rule} rule it {'receives' if r.transfer > 0 else 'pays'} {cash(abs(r.transfer))} "
                         "against a split by spend.")
        if r.estimated:
            extra.append(f"Its spend on {', '.join(labels.function(f) for f in r.estimated)} is estimated from population, "
                         "not reported.")
        money_plan = (plan.finance or {}).get("councils", {}).get(r.code)
        if money_plan:
            loan = (plan.finance or {}).get("loan")
            paid = f"Its share of the one-off cost is borrowed ({loan['label']}). " if loan else ""
            limit = (f" against a headroom of {cash(money_plan['headroom'])}" if money_plan.get("headroom") is not None
                     else " (no headroom limit)")
            extra.append(f"{paid}Its hardest year is year {money_plan['worst_year']}, with net cash of "
                         f"{cash(money_plan['net_cash'])}{limit}.")
        hinge = [p.id for p in plan.partnerships if p.worst_withdrawal == r.code and p.robust is False]
        if hinge:
            extra.append(f"{', '.join(hinge)} would stop paying if it left.")
        parts.append(f'<article class="council" id="council-{escape(r.code)}"><h3>What this plan means for {escape(r.name)}</h3>'
                     f"<p>{escape(words)}</p>" + "".join(f'<p class="note">{escape(x)}</p>' for x in extra)
                     + table(["function", "partnership", "host", "yearly saving", "one-off cost", "NPV share",
                              "pays whoever leaves"], rows,
                             numeric={3, 4, 5}) + "</article>")
    parts.append("</section>")
    return "".join(parts)


def caveats_section(plan, labels: Labels, model) -> str:
    s = plan.solver
    proof = (f"The solver proved that no plan under these rules and this model is worth more than {cash(s.bound)}; this plan "
             f"is {status_sentence(s)}." if s.bound is not None else f"The plan is {status_sentence(s)}.")
    items = [
        "Baselines: " + estimated_line(plan).strip().removeprefix("baselines: ") + ".",
        proof,
        f"The savings are the view of one model, {model.title} ({model.name}): a share of each function's spend captured "
        f"at each depth of integration, less coordination and migration costs, over {model.horizon_years} years discounted at "
        f"{model.discount_rate:.1%}. They are estimates to compare options, not quotes; another model (such as a sceptical "
        "one) gives other figures.",
        "The rules (who may partner whom: tiers, geography, commitment, group sizes) are the model's and the run's options; "
        "a partnership the rules forbid is never proposed, however much it would save.",
        "Data: " + labels.attribution_text(),
    ]
    return '<section id="caveats"><h2>Caveats</h2><ul>' + "".join(f"<li>{escape(x)}</li>" for x in items) + "</ul></section>"
