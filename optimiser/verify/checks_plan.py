"""Checks of the plan as a whole: ``check_x(ctx) -> list[Finding]``.

* ``plan``: the keys and their JSON types, and that the plan names this instance and model;
* ``options``: what was wrong with the plan's run options (found while the context was built);
* ``declared_tiers``: every council's tier is one the model declares;
* the limits across partnerships, under the names of the engine's rules registry:
  ``packing`` (a council in two partnerships of one function), ``max_partnerships``,
  ``max_hosted``, ``budget`` and ``locked`` (every locked existing partnership present);
* ``councils``: one right row per eligible council and run function (its npv_share under the
  run's share rule, SPEC section 6; yearly saving and one-off cost shares by baseline);
* ``totals``: the sums of the partnerships and baselines;
* ``solver``: the status, and objective, bound and gap that agree with the partnerships.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import Finding, InputError
from ..io.model import resolve_model_path
from .context import MONEY_ABSOLUTE, Context, is_number, pounds
from .games import games_of
from .withdrawal import risk_of

STATUSES = ("optimal", "time_limit", "interrupted", "infeasible")
#: a solve that ended before its proof (the time limit, or a stop asked for): its bound is checked alike
STOPPED_EARLY = ("time_limit", "interrupted")
PLAN_KEYS = ("instance", "model", "options", "solver", "partnerships", "councils", "totals")
SOLVER_KEYS = ("name", "status", "objective", "bound", "gap", "seconds")
ROW_KEYS = ("code", "function", "partnership", "baseline", "baseline_estimated", "npv_share")
TOTAL_KEYS = ("npv", "annual_saving", "one_off_cost")


# ---------------------------------------------------------------- the plan and its run


def check_plan(ctx: Context) -> list[Finding]:
    """Every key, of the right JSON type; the instance and model the plan names are the ones
    it is verified against."""
    plan, instance, model = ctx.plan, ctx.instance, ctx.model
    out = []

    def problem(message: str) -> None:
        out.append(Finding("plan", "plan", message))

    for key in PLAN_KEYS:
        if key not in plan:
            problem(f"missing key '{key}'")
    kinds = {"options": dict, "solver": dict, "partnerships": list, "councils": list, "totals": dict}
    for key, kind in kinds.items():
        if key in plan and not isinstance(plan[key], kind):
            problem(f"'{key}' must be a JSON {'object' if kind is dict else 'array'}, found {type(plan[key]).__name__}")
    name = plan.get("instance")
    if "instance" in plan and name not in (instance.name, instance.folder.name, str(instance.folder)):
        problem(f"instance is {name!r}, but it is being verified against instance '{instance.name}'")
    ref = plan.get("model")
    if "model" in plan:
        names = {model.name}
        if model.path is not None:
            names |= {model.path.stem, str(model.path), model.path.name}
        if ref not in names and not _same_model_file(ctx, ref):
            problem(f"model is {ref!r}, but it is being verified against model '{model.name}'")
    return out


def _same_model_file(ctx: Context, ref) -> bool:
    """Whether the plan's model reference resolves to the file of the model in use."""
    if not isinstance(ref, str) or ctx.model.path is None:
        return False
    try:
        path = resolve_model_path(ref, near=ctx.instance.folder)
        return path.resolve() == Path(ctx.model.path).resolve()
    except (InputError, OSError):
        return False


def check_options(ctx: Context) -> list[Finding]:
    """The plan's options can be read and name councils and functions that exist."""
    return list(ctx.option_findings)


def check_declared_tiers(ctx: Context) -> list[Finding]:
    """Every council's tier is declared by the model."""
    declared = set(ctx.model.tiers)
    return [
        Finding("declared_tiers", f"council {c.code}", f"tier '{c.tier}' is not declared by model '{ctx.model.name}'")
        for c in ctx.councils.values()
        if c.tier not in declared
    ]


# ---------------------------------------------------------------- limits across partnerships


def check_packing(ctx: Context) -> list[Finding]:
    """Each council is in at most one partnership per function."""
    return [
        Finding(
            "packing",
            f"council {code}",
            f"is in {len(parts)} partnerships for '{fid}' ({', '.join(repr(p.id) for p in parts)}); at most one is allowed",
        )
        for (code, fid), parts in ctx.membership.items()
        if len(parts) > 1
    ]


def check_max_partnerships(ctx: Context) -> list[Finding]:
    """No council joins more partnerships than its max_partnerships."""
    joined: dict[str, int] = {}
    for part in ctx.readable_parts:
        for code in part.members:
            joined[code] = joined.get(code, 0) + 1
    out = []
    for code, count in joined.items():
        limit = ctx.councils[code].max_partnerships if code in ctx.councils else None
        if limit is not None and count > limit:
            out.append(Finding("max_partnerships", f"council {code}", f"joins {count} partnerships, more than its max_partnerships {limit}"))
    return out


def check_max_hosted(ctx: Context) -> list[Finding]:
    """No council hosts more partnerships than its max_hosted."""
    hosted: dict[str, int] = {}
    for part in ctx.readable_parts:
        if isinstance(part.host, str) and part.host in part.members:
            hosted[part.host] = hosted.get(part.host, 0) + 1
    out = []
    for code, count in hosted.items():
        limit = ctx.councils[code].max_hosted if code in ctx.councils else None
        if limit is not None and count > limit:
            out.append(Finding("max_hosted", f"council {code}", f"hosts {count} partnerships, more than its max_hosted {limit}"))
    return out


def check_budget(ctx: Context) -> list[Finding]:
    """The one-off costs together stay within the run's --budget."""
    budget = ctx.options.budget
    if budget is None:
        return []
    spent = 0.0
    for part in ctx.readable_parts:
        value = part.figures.one_off if part.figures is not None else part.entry.get("one_off_cost")
        spent += value if is_number(value) else 0.0
    if spent > budget + ctx.money_slack(budget):
        return [Finding("budget", "plan", f"one-off costs total {pounds(spent)}, over the budget {pounds(budget)}")]
    return []


def locked_groups(ctx: Context) -> list:
    """The instance's locked existing partnerships the run must keep: of a run function,
    with at least one member inside the area (an infeasible run has no plan to hold them)."""
    if ctx.infeasible:
        return []
    return [
        group
        for group in ctx.instance.partnerships
        if group.locked and group.function in ctx.functions and any(ctx.in_area.get(c, False) for c in group.members)
    ]


def check_locked(ctx: Context) -> list[Finding]:
    """Every locked existing partnership of the run is in the plan with exactly its members."""
    present = {(p.function, frozenset(p.members)) for p in ctx.readable_parts if isinstance(p.function, str)}
    out = []
    for group in locked_groups(ctx):
        label = f"locked partnership '{group.id}' ({group.function}: {', '.join(group.members)})"
        outside = [c for c in group.members if not ctx.in_area.get(c, False)]
        if outside:
            out.append(Finding("locked", label, f"members {', '.join(outside)} are outside the run's --area, so no plan can keep it"))
        elif (group.function, frozenset(group.members)) not in present:
            overlapping = [
                f"{p.id!r} ({', '.join(p.members)})"
                for p in ctx.readable_parts
                if p.function == group.function and set(p.members) & set(group.members)
            ]
            instead = f"; its members are in {', '.join(overlapping)} instead" if overlapping else ""
            out.append(Finding("locked", label, f"is missing from the plan (it must appear with exactly these members){instead}"))
    return out


# ---------------------------------------------------------------- council rows


def council_rows(ctx: Context) -> list[tuple[int, object, str | None]]:
    """Each row of the plan's ``councils`` with what stops it being checked further:
    (index, row, None) for a distinct row of a known council and run function, else
    (index, row, reason) with reason one of 'not-object', 'code', 'function', 'repeat'."""
    rows = ctx.plan.get("councils")
    seen: set[tuple[str, str]] = set()
    out = []
    for k, row in enumerate(rows if isinstance(rows, list) else []):
        if not isinstance(row, dict):
            out.append((k, row, "not-object"))
            continue
        code, fid = row.get("code"), row.get("function")
        if not isinstance(code, str) or code not in ctx.councils:
            out.append((k, row, "code"))
        elif not isinstance(fid, str) or fid not in ctx.functions:
            out.append((k, row, "function"))
        elif (code, fid) in seen:
            out.append((k, row, "repeat"))
        else:
            seen.add((code, fid))
            out.append((k, row, None))
    return out


def check_councils(ctx: Context) -> list[Finding]:
    """One row per eligible council and run function, none for others, each with its
    baseline and its baseline share of its partnership's figures."""
    out = []
    first: dict[tuple[str, str], int] = {}
    for k, row, reason in council_rows(ctx):
        if reason == "not-object":
            out.append(Finding("councils", f"councils[{k}]", f"must be a JSON object, found {type(row).__name__}"))
            continue
        code, fid = row.get("code"), row.get("function")
        label = f"council row {code} / {fid}"

        def problem(message: str) -> None:
            out.append(Finding("councils", label, message))

        for key in ROW_KEYS:
            if key not in row:
                problem(f"missing key '{key}'")
        if reason == "code":
            problem(f"council {code!r} is not in instance '{ctx.instance.name}'")
            continue
        if reason == "function":
            problem(f"function {fid!r} is not one of the run's functions ({', '.join(ctx.run_functions)})")
            continue
        if code not in ctx.eligible_set[fid]:
            problem(f"{code} is not eligible for '{fid}' ({ctx.why_ineligible(code, fid)}), so it should have no row")
        if reason == "repeat":
            problem(f"repeats councils[{first[(code, fid)]}]")
            continue
        first[(code, fid)] = k
        _check_row(ctx, row, code, fid, problem)

    if not ctx.infeasible:
        for fid in ctx.run_functions:
            for code in ctx.eligible[fid]:
                if (code, fid) not in first:
                    out.append(
                        Finding(
                            "councils",
                            f"council row {code} / {fid}",
                            "missing (every eligible council has a row for each function of the run)",
                        )
                    )
    return out


def _check_row(ctx: Context, row: dict, code: str, fid: str, problem) -> None:
    baseline, estimated = ctx.baseline(code, fid)
    found = row.get("baseline")
    if not ctx.money_ok(found, baseline):
        problem(f"baseline is {pounds(found)}, expected {pounds(baseline)}")
    if row.get("baseline_estimated") is not estimated:
        source = "no spend.csv row: per_capita x population" if estimated else "from spend.csv"
        problem(f"baseline_estimated is {row.get('baseline_estimated')!r}, expected {str(estimated).lower()} ({source})")

    parts = ctx.membership.get((code, fid), ())
    stated = row.get("partnership")
    if not parts:
        if stated is not None:
            problem(f"partnership is {stated!r}, but {code} is a member of no partnership for '{fid}' (expected null)")
        for key in ("npv_share", "annual_saving_share", "one_off_share"):
            if key in row and not ctx.money_ok(row[key], 0.0):
                problem(f"{key} is {pounds(row[key])}, expected 0.00 (the council stays alone)")
        return
    if stated not in [p.id for p in parts]:
        problem(f"partnership is {stated!r}, but {code} is a member of {parts[0].id!r}")
    part = next((p for p in parts if p.id == stated), parts[0])
    members = [c for c in part.members if c in ctx.councils]
    total = sum(ctx.baseline(c, fid)[0] for c in members)
    share = baseline / total if total > 0 else 1.0 / max(1, len(members))
    fig = part.figures
    for key, field_name, fallback in (
        ("npv_share", "npv", fig.npv if fig else None),
        ("annual_saving_share", "annual_saving", fig.annual if fig else None),
        ("one_off_share", "one_off_cost", fig.one_off if fig else None),
    ):
        if key not in row:
            continue
        value = part.entry.get(field_name)
        value = value if is_number(value) else fallback
        if value is None:
            continue
        rule = ctx.share_rule
        if key == "npv_share" and rule != "proportional":
            # under another share rule (SPEC section 6) npv_share is the verifier's own split
            game = games_of(ctx).game(part)
            if game is None:
                continue
            expected = game.shares[rule][code]
            if not (is_number(row[key]) and abs(row[key] - expected) <= ctx.money_slack(max(abs(expected), abs(game.npv)))):
                problem(f"{key} is {pounds(row[key])}, expected {pounds(expected)} (its {rule} share of {part.id!r}, npv {pounds(game.npv)})")
            continue
        expected = value * share
        if not ctx.money_ok(row[key], expected):
            problem(
                f"{key} is {pounds(row[key])}, expected {pounds(expected)} "
                f"({field_name} of {part.id!r} {pounds(value)} x {pounds(baseline)} / {pounds(total)})"
            )


# ---------------------------------------------------------------- totals and solver


def expected_totals(ctx: Context) -> dict[str, float]:
    """What ``totals`` should hold: the partnerships' sums (their stated figures, or the
    recomputed ones where a figure is not a number) and the eligible councils' baselines."""
    sums = {"npv": 0.0, "annual_saving": 0.0, "one_off_cost": 0.0, "expected_npv": 0.0}
    recomputed = {"npv": "npv", "annual_saving": "annual", "one_off_cost": "one_off"}
    for part in ctx.readable_parts:
        for key in sums:
            value = part.entry.get(key)
            if not is_number(value) and key == "expected_npv":
                risk = risk_of(ctx, part)
                value = None if risk is None else risk.expected
            elif not is_number(value) and part.figures is not None:
                value = getattr(part.figures, recomputed[key])
            sums[key] += value if is_number(value) else 0.0
    if ctx.infeasible:  # no rows are required: the rows given
        sums["baseline"] = sum(_row_baseline(ctx, row) for _, row, reason in council_rows(ctx) if reason is None)
    else:  # every eligible pair has a row: missing or wrong rows are reported where they are
        sums["baseline"] = sum(ctx.baseline(code, fid)[0] for fid in ctx.run_functions for code in ctx.eligible[fid])
    return sums


def _row_baseline(ctx: Context, row: dict) -> float:
    found = row.get("baseline")
    return found if is_number(found) else ctx.baseline(row["code"], row["function"])[0]


def check_totals(ctx: Context) -> list[Finding]:
    """Every key of ``totals``, each the sum it should be."""
    totals = ctx.plan.get("totals")
    totals = totals if isinstance(totals, dict) else {}
    out = []
    for key, expected in expected_totals(ctx).items():
        found = totals.get(key)
        if key not in totals:
            out.append(Finding("totals", "totals", f"missing key '{key}'"))
        elif not ctx.money_ok(found, expected):
            what = "eligible councils' baselines" if key == "baseline" else f"partnerships' {key}"
            out.append(Finding("totals", "totals", f"{key} is {pounds(found)}, expected {pounds(expected)} (the sum of the {what})"))
    return out


def check_solver(ctx: Context) -> list[Finding]:
    """The solver's keys; a known status; an objective equal to the partnerships' NPV (their
    expected NPV under the expected objective); a
    bound at least the objective; a gap of (bound - objective) / |objective|."""
    solver = ctx.plan.get("solver")
    if not isinstance(solver, dict):
        return []
    out = []

    def problem(message: str) -> None:
        out.append(Finding("solver", "solver", message))

    for key in SOLVER_KEYS:
        if key not in solver:
            problem(f"missing key '{key}'")
    if "name" in solver and not isinstance(solver["name"], str):
        problem(f"name must be text, found {solver['name']!r}")
    status = solver.get("status")
    if status not in STATUSES:
        problem(f"status is {status!r}, expected one of {', '.join(STATUSES)}")
    seconds = solver.get("seconds")
    if "seconds" in solver and not (is_number(seconds) and seconds >= 0):
        problem(f"seconds must be a number >= 0, found {seconds!r}")
    if status == "infeasible":
        if ctx.readable_parts or ctx.plan.get("partnerships"):
            problem(f"status is infeasible, but the plan has {len(ctx.plan.get('partnerships') or [])} partnership(s)")
        return out
    objective, bound, gap = solver.get("objective"), solver.get("bound"), solver.get("gap")
    key = "expected_npv" if ctx.options.objective == "expected" else "npv"
    expected = expected_totals(ctx)[key]
    if not ctx.money_ok(objective, expected):
        problem(f"objective is {pounds(objective)}, expected {pounds(expected)} (the total {key} of the partnerships)")
    if status not in ("optimal", *STOPPED_EARLY) or not is_number(objective):
        return out
    if bound is None and gap is None and status in STOPPED_EARLY:
        return out  # stopped before any bound was proven: honestly, neither bound nor gap
    if not is_number(bound):
        problem(f"bound must be a number when status is {status}, found {bound!r}")
        return out
    slack = ctx.money_slack(objective)
    if bound < objective - slack:
        problem(f"bound {pounds(bound)} is below the objective {pounds(objective)}; a bound must be at least the objective")
    difference = max(0.0, bound - objective)
    if difference <= slack:
        ok = gap is None or (is_number(gap) and abs(gap) <= 1e-6) or (
            is_number(gap) and abs(objective) > 0 and abs(gap - difference / abs(objective)) <= 1e-6
        )
        wanted = "0"
    elif abs(objective) <= MONEY_ABSOLUTE:
        ok = gap is None or (isinstance(gap, (int, float)) and not isinstance(gap, bool) and gap > 0)
        wanted = "a positive number or null (the objective is 0)"
    else:
        want = difference / abs(objective)
        ok = is_number(gap) and abs(gap - want) <= max(1e-6, ctx.tolerance * want)
        wanted = f"{want:.6g} ((bound - objective) / |objective|)"
    if not ok:
        problem(f"gap is {gap!r}, expected {wanted}")
    return out
