"""The checks of SPEC section 8 (invest to save), worked out again from the recomputed
partnership figures, one year and one council at a time (:mod:`.finance`).

* ``headroom``: every council's net cash, over all its partnerships, is at least minus its
  headroom in every year 0..T;
* ``finance``: the plan's ``finance`` section: loan terms, ``borrowed``, ``peak_debt_service``,
  ``financed_npv``, each member council's worst year and its net cash then, and the financing
  gap of the plan without headroom limits (whose partnerships the section lists; their
  figures are recomputed here too).

A council's net cash from a partnership in year t is (b_i / B) (A ramp_t - D_t), and in year 0
-(b_i / B) O without a loan; D_t walks the loan's balance year by year.
"""

from __future__ import annotations

from .context import Context, is_number, pounds
from .existing import sunk_members
from .figures import Member, figures
from . import finance
from ..errors import Finding

#: a shortfall below this share of the headroom (or a pound) is rounding, not a shortfall
BINDING_SLACK = 1e-6
#: cashflow.csv rounds each amount to the penny and works net from the rounded amounts
PENNY_ROUNDING = 0.02


def loan_of(ctx: Context):
    """(rate, years, kind) of the run's --loan, or None (cash up front)."""
    text = ctx.options.loan
    if not text:
        return None
    rate, years, kind = (str(text).split(":") + ["annuity"])[:3]
    return float(rate), int(years), kind


def member_net(ctx: Context, annual: float, one_off: float, ramp, baselines: dict, total: float) -> dict[str, list[float]]:
    """Each member's net cash in years 0..T from one partnership."""
    horizon = ctx.model.horizon_years
    loan = loan_of(ctx)
    out = {}
    for code, b in baselines.items():
        share = b / total if total > 0 else 1.0 / len(baselines)
        out[code] = finance.net_cash(share, annual, one_off, list(ramp), loan, horizon)
    return out


def council_net(ctx: Context, priced) -> dict[str, list[float]]:
    """{code: net cash in years 0..T over all its partnerships}, for (annual, one_off, ramp,
    baselines, total) of each partnership."""
    horizon = ctx.model.horizon_years
    totals: dict[str, list[float]] = {}
    for annual, one_off, ramp, baselines, total in priced:
        for code, cash in member_net(ctx, annual, one_off, ramp, baselines, total).items():
            row = totals.setdefault(code, [0.0] * (horizon + 1))
            for t, amount in enumerate(cash):
                row[t] += amount
    return totals


def _priced_parts(ctx: Context) -> list:
    return [(p.figures.annual, p.figures.one_off, p.depth.ramp, p.figures.baselines, p.figures.total)
            for p in ctx.parts if p.figures is not None and p.function in ctx.functions]


def check_headroom(ctx: Context) -> list[Finding]:
    """In every year, a council's net cash over all its partnerships is at least -headroom."""
    out = []
    for code, cash in council_net(ctx, _priced_parts(ctx)).items():
        limit = ctx.councils[code].headroom
        if limit is None:
            continue
        for year, amount in enumerate(cash):
            if amount < -limit - ctx.money_slack(limit):
                out.append(Finding("headroom", code, f"net cash in year {year} is {pounds(amount)}, below minus its headroom {pounds(limit)}"))
                break
    return out


def _shortfalls(ctx: Context, cash_by_council: dict) -> dict[str, float]:
    found = {}
    for code, cash in cash_by_council.items():
        limit = ctx.councils[code].headroom
        if limit is not None and -min(cash) - limit > BINDING_SLACK * max(1.0, limit):
            found[code] = -min(cash) - limit
    return found


def _free_priced(ctx: Context, listed, problem) -> tuple[list, float]:
    """The partnerships of the plan without headroom limits, priced by the verifier, and their NPV."""
    priced, worth = [], 0.0
    for n, entry in enumerate(listed):
        where = f"finance.without_headroom.partnerships[{n}]"
        if not isinstance(entry, dict):
            problem(f"{where} is not an object")
            continue
        fid, members, host = entry.get("function"), entry.get("members"), entry.get("host")
        depth = next((d for d in ctx.model.depths if d.id == entry.get("depth")), None)
        if (fid not in ctx.functions or not isinstance(members, list) or depth is None or host not in (members or [])
                or not all(c in ctx.councils for c in members)):
            problem(f"{where} cannot be priced (function, members, host or depth unknown)")
            continue
        team = [Member(c, ctx.baseline(c, fid)[0], ctx.councils[c].population, ctx.distance(c, host), ctx.platform_of(c, fid))
                for c in members]
        # the same run without headroom limits keeps existing arrangements as this one does: their set-up cost sunk
        fig = figures(ctx.functions[fid], depth, team, entry.get("platform"), discount_rate=ctx.model.discount_rate,
                      horizon_years=ctx.model.horizon_years, sunk=sunk_members(ctx.existing_sets, fid, frozenset(members)))
        priced.append((fig.annual, fig.one_off, depth.ramp, fig.baselines, fig.total))
        worth += fig.npv
    return priced, worth


def _loan_words(loan) -> str:
    """The loan as a person reads it: '4.5% over 10 years, annuity'."""
    rate, years, kind = loan
    return f"{rate * 100:.6g}% over {years} {'year' if years == 1 else 'years'}, {kind}"


def _council_row_problem(ctx: Context, code: str, row: dict, worst: float) -> str | None:
    """What is wrong with a council's name, headroom and the share of it its worst year uses."""
    name = ctx.instance.councils.set_index("code")["name"].get(code)
    if "name" in row and row["name"] != name:
        return f"name is {row['name']!r}, expected {name!r}"
    limit = ctx.councils[code].headroom
    if row.get("headroom") != limit and not (limit is not None and ctx.money_ok(row.get("headroom"), limit)):
        return f"headroom is {row.get('headroom')!r}, expected {limit!r} (councils.csv)"
    used = max(0.0, -worst) / limit if limit else None
    given = row.get("headroom_used")
    if "headroom_used" in row and (given is None) != (used is None):
        return f"headroom_used is {given!r}, expected {used!r}"
    if used is not None and given is not None and not ctx.ratio_ok(given, used):
        return f"headroom_used is {given!r}, expected {used:.6g} (its worst year's net cost over its headroom)"
    return None


def check_finance(ctx: Context) -> list[Finding]:
    """The plan's finance section, recomputed (required when the run has a loan or a headroom)."""
    section = ctx.plan.get("finance")
    limited = any(ctx.councils[c].headroom is not None for codes in ctx.eligible.values() for c in codes)
    out: list[Finding] = []

    def problem(message: str) -> None:
        out.append(Finding("finance", "plan", message))

    if section is None:
        if ctx.options.loan or limited:
            problem("has no finance section, but the run has a loan or a council with a headroom")
        return out
    if not isinstance(section, dict):
        problem(f"finance must be an object, found {section!r}")
        return out
    loan = loan_of(ctx)
    horizon, rate = ctx.model.horizon_years, ctx.model.discount_rate
    parts = [p for p in ctx.parts if p.figures is not None and p.function in ctx.functions]
    terms = section.get("loan")
    if loan is None and terms is not None:
        problem(f"finance.loan is {terms!r}, but the run has no loan")
    if loan is not None and (not isinstance(terms, dict) or (terms.get("rate"), terms.get("years"), terms.get("kind")) != loan):
        problem(f"finance.loan is {terms!r}, expected rate {loan[0]}, {loan[1]} years, {loan[2]}")
    elif loan is not None and terms.get("label") != _loan_words(loan):
        problem(f"finance.loan.label is {terms.get('label')!r}, expected {_loan_words(loan)!r}")
    borrowed = sum(p.figures.one_off for p in parts) if loan else 0.0
    debt = [0.0] * horizon
    net = [0.0] * (horizon + 1)
    for p in parts:
        for t, amount in enumerate(finance.debt_service(p.figures.one_off, loan, horizon)):
            debt[t] += amount
        for t, amount in enumerate(finance.net_cash(1.0, p.figures.annual, p.figures.one_off, list(p.depth.ramp), loan, horizon)):
            net[t] += amount
    expected = {"borrowed": borrowed, "peak_debt_service": max(debt, default=0.0), "financed_npv": finance.financed_npv(net, rate)}
    for key, want in expected.items():
        if not ctx.money_ok(section.get(key), want):
            problem(f"finance.{key} is {section.get(key)!r}, expected {pounds(want)}")
    cash = council_net(ctx, _priced_parts(ctx))
    listed = section.get("councils")
    if not isinstance(listed, dict) or set(listed) != set(cash):
        problem(f"finance.councils must list each member council once ({len(cash)}), found {sorted(listed or [])[:5]}...")
        listed = {}
    for code, row in listed.items():
        year = min(range(horizon + 1), key=lambda t: (cash[code][t], t))
        got = row if isinstance(row, dict) else {}
        if got.get("worst_year") != year or not ctx.money_ok(got.get("net_cash"), cash[code][year]):
            problem(f"finance.councils.{code}: worst year {got.get('worst_year')!r} with {got.get('net_cash')!r}, "
                    f"expected year {year} with {pounds(cash[code][year])}")
        own = finance.financed_npv(cash[code], rate)
        if "financed_npv" in got and not ctx.money_ok(got.get("financed_npv"), own):
            problem(f"finance.councils.{code}.financed_npv is {got.get('financed_npv')!r}, expected {pounds(own)}")
        problem_of_row = _council_row_problem(ctx, code, got, cash[code][year])
        if problem_of_row:
            problem(f"finance.councils.{code}: {problem_of_row}")
    free = section.get("without_headroom")
    if limited and not isinstance(free, dict):
        problem("finance.without_headroom is missing: a council of the run has a headroom, so the gap needs that plan")
    if isinstance(free, dict):
        priced, worth = _free_priced(ctx, free.get("partnerships") or [], problem)
        if not ctx.money_ok(free.get("npv"), worth):
            problem(f"finance.without_headroom.npv is {free.get('npv')!r}, expected {pounds(worth)} (its partnerships priced)")
    else:
        priced = _priced_parts(ctx)
    short = _shortfalls(ctx, council_net(ctx, priced))
    if not ctx.money_ok(section.get("financing_gap"), sum(short.values())):
        problem(f"finance.financing_gap is {section.get('financing_gap')!r}, expected {pounds(sum(short.values()))}")
    for code, row in listed.items():
        if isinstance(row, dict) and bool(row.get("binds")) != (code in short):
            problem(f"finance.councils.{code}.binds is {row.get('binds')!r}, expected {code in short} "
                    "(whether it would fall short without headroom limits)")
    given = section.get("shortfalls") or {}
    if set(given) != set(short) or not all(is_number(given[c]) and ctx.money_ok(given[c], short[c]) for c in short):
        problem(f"finance.shortfalls are {dict(given)!r}, expected {({c: round(v, 2) for c, v in short.items()})!r}")
    return out


__all__ = ["check_finance", "check_headroom"]


def expected_cashflow(ctx: Context) -> dict[tuple[str, str, int], tuple[float, float, float]]:
    """{(level, id, year): (saving, one_off, debt_service)} as cashflow.csv should hold them:
    the plan's rows, each partnership's and each member council's."""
    horizon = ctx.model.horizon_years
    loan = loan_of(ctx)
    found: dict[tuple[str, str, int], list[float]] = {}

    def add(level: str, ident: str, year: int, amounts) -> None:
        row = found.setdefault((level, ident, year), [0.0, 0.0, 0.0])
        for n, amount in enumerate(amounts):
            row[n] += amount

    for year in range(horizon + 1):
        add("plan", "plan", year, (0.0, 0.0, 0.0))
    for p in ctx.parts:
        if p.figures is None or p.function not in ctx.functions:
            continue
        fig = p.figures
        debt = finance.debt_service(fig.one_off, loan, horizon)
        for year in range(horizon + 1):
            saving = fig.annual * finance.ramp_at(list(p.depth.ramp), year) if year else 0.0
            amounts = (saving, fig.one_off if year == 0 and loan is None else 0.0, debt[year - 1] if year else 0.0)
            add("plan", "plan", year, amounts)
            add("partnership", str(p.id), year, amounts)
            for code, b in fig.baselines.items():
                share = b / fig.total if fig.total > 0 else 1.0 / len(fig.baselines)
                add("council", code, year, [share * a for a in amounts])
    return {key: tuple(value) for key, value in found.items()}


def check_cashflow(ctx: Context, rows, source: str) -> list[Finding]:
    """cashflow.csv (``rows``: its lines as dicts) against the recomputed yearly figures; net is
    saving - one_off - debt_service, every amount but a saving non-negative."""
    want = expected_cashflow(ctx)
    out: list[Finding] = []
    seen = set()
    for n, row in enumerate(rows, start=2):
        key = (row.get("level"), row.get("id"), int(row["year"]) if str(row.get("year", "")).isdigit() else None)
        if key not in want:
            out.append(Finding("finance", f"{source} line {n}", f"no such row in the plan: {key!r}"))
            continue
        seen.add(key)
        try:
            got = [float(row[k]) for k in ("saving", "one_off", "debt_service", "net")]
        except (KeyError, TypeError, ValueError):
            out.append(Finding("finance", f"{source} line {n}", "saving, one_off, debt_service and net must be numbers"))
            continue
        saving, one_off, debt = want[key]
        for name, found, expected in zip(("saving", "one_off", "debt_service", "net"), got, (saving, one_off, debt, saving - one_off - debt)):
            # the table is in pounds and pence, and net is worked from the rounded parts
            if abs(found - expected) > max(ctx.tolerance * abs(expected), PENNY_ROUNDING):
                out.append(Finding("finance", f"{source} line {n}", f"{name} is {found!r}, expected {pounds(expected)}"))
        if got[1] < 0 or got[2] < 0:
            out.append(Finding("finance", f"{source} line {n}", "one_off and debt_service must not be negative"))
    missing = sorted(set(want) - seen, key=str)
    if missing:
        out.append(Finding("finance", source, f"{len(missing)} row(s) missing, e.g. {missing[0]!r}"))
    return out
