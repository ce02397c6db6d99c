"""Checks of SPEC section 6: ``check_x(ctx) -> list[Finding]``.

* ``shares``: each partnership's split under every rule (proportional, Shapley, nucleolus)
  against the verifier's own, from its own subgroup values (:mod:`.games`);
* ``core_excess``: each rule's largest excess v(T) - x(T) over proper non-empty T, against
  the verifier's own splits;
* ``transfer``: each council row's transfer, npv_share under the run's rule minus its
  proportional share (0 for a council alone);
* ``stability``: per function, the groups the rules allow, the blocking groups among them,
  the largest surplus and its members (the verifier's own enumeration,
  :mod:`.stability`), the objective, and the LP bound and cost of stability when given.

A plan written before SPEC section 6 (no ``shares``, ``core_excess``, ``transfer`` or
``stability``, no ``options.shares``) passes them all: it is the proportional rule, which the
``councils`` check verifies. A plan whose ``options.shares`` names another rule must carry
every partnership's shares and every council's transfer.

Money agrees within the context's tolerance (1e-6 relative, at least 0.01 pounds), relative
to the partnership's NPV for a share or an excess (the scale the split is computed at).
"""

from __future__ import annotations

from ..errors import Finding
from .checks_plan import council_rows
from .context import Context, Part, is_number, pounds
from .games import RULES, best_option, games_of, partnership_npv
from .stability import blocking, lp_bound

STABILITY_KEYS = ("rule", "groups_checked", "blocking_groups", "largest_surplus", "largest_surplus_members", "lp_bound",
                  "objective", "cost_of_stability")


def _close(ctx: Context, found, expected: float, scale: float = 0.0) -> bool:
    return is_number(found) and abs(found - expected) <= ctx.money_slack(max(abs(expected), abs(scale)))


def _in_run(ctx: Context, part: Part) -> bool:
    return isinstance(part.entry, dict) and part.readable and part.function in ctx.functions


def _proportional(ctx: Context) -> bool:
    return ctx.share_rule == "proportional"


# ---------------------------------------------------------------- partnerships


def _by_rule(given, key: str, what: str, problem) -> bool:
    """Whether ``given`` is a JSON object keyed by share rule; says what is wrong with it."""
    if not isinstance(given, dict):
        problem(f"{key} must be a JSON object {{rule: {what}}}, found {type(given).__name__}")
        return False
    for rule in given:
        if rule not in RULES:
            problem(f"{key} names an unknown rule {rule!r} (rules: {', '.join(RULES)})")
    return True


def check_shares(ctx: Context) -> list[Finding]:
    """Every partnership's ``shares``: {rule: {member: pounds}} for all three rules, each
    split the verifier's own. Required when ``options.shares`` is not proportional."""
    out = []
    for part in ctx.parts:
        if not _in_run(ctx, part):
            continue
        given = part.entry.get("shares")

        def problem(message: str) -> None:
            out.append(Finding("shares", part.label, message))

        if given is None:
            if not _proportional(ctx):
                problem(f"carries no shares, but options.shares is '{ctx.share_rule}' (every partnership needs all three splits)")
            continue
        if not _by_rule(given, "shares", "{member: pounds}", problem):
            continue
        game = games_of(ctx).game(part)
        for rule in RULES:
            split = given.get(rule)
            if split is None:
                problem(f"shares has no '{rule}' split")
                continue
            if not isinstance(split, dict):
                problem(f"shares.{rule} must be a JSON object {{member: pounds}}, found {type(split).__name__}")
                continue
            missing = [c for c in part.members if c not in split]
            extra = [c for c in split if c not in part.members]
            if missing:
                problem(f"shares.{rule} has no share for member(s) {', '.join(missing)}")
            if extra:
                problem(f"shares.{rule} names non-member(s) {', '.join(map(str, extra))}")
            if game is None:
                for code, amount in split.items():
                    if not is_number(amount):
                        problem(f"shares.{rule}.{code} must be a number, found {amount!r}")
                continue
            for code in part.members:
                if code not in split:
                    continue
                expected = game.shares[rule][code]
                if not _close(ctx, split[code], expected, game.npv):
                    problem(f"shares.{rule}.{code} is {pounds(split[code])}, expected {pounds(expected)} "
                            f"(the {rule} split of v(S) = {pounds(game.npv)})")
    return out


def check_core_excess(ctx: Context) -> list[Finding]:
    """Every partnership's ``core_excess``: {rule: the largest excess v(T) - sum of T's
    shares over proper non-empty T} under the verifier's own splits. Required with shares."""
    out = []
    for part in ctx.parts:
        if not _in_run(ctx, part):
            continue
        given = part.entry.get("core_excess")

        def problem(message: str) -> None:
            out.append(Finding("core_excess", part.label, message))

        if given is None:
            if part.entry.get("shares") is not None:
                problem("carries shares but no core_excess")
            continue
        if not _by_rule(given, "core_excess", "pounds", problem):
            continue
        game = games_of(ctx).game(part)
        for rule in RULES:
            found = given.get(rule)
            if rule not in given:
                problem(f"core_excess has no '{rule}' entry")
            elif game is None:
                if not is_number(found):
                    problem(f"core_excess.{rule} must be a number, found {found!r}")
            elif not _close(ctx, found, game.excess[rule], game.npv):
                problem(f"core_excess.{rule} is {pounds(found)}, expected {pounds(game.excess[rule])} "
                        f"(the largest v(T) - x(T) over proper subgroups under the {rule} split)")
    return out


# ---------------------------------------------------------------- council rows


def row_partnership(ctx: Context, code: str, fid: str, row: dict) -> Part | None:
    """The plan entry a council row belongs to: the one it names, else the first with the
    council as a member; None when the council is in none."""
    parts = ctx.membership.get((code, fid), ())
    if not parts:
        return None
    return next((p for p in parts if p.id == row.get("partnership")), parts[0])


def expected_npv_share(ctx: Context, code: str, fid: str, row: dict) -> float | None:
    """A council's npv_share under the run's rule, from the verifier's own split (None when
    its partnership's figures cannot be set up); 0 for a council alone."""
    part = row_partnership(ctx, code, fid, row)
    if part is None:
        return 0.0
    if _proportional(ctx):
        npv = partnership_npv(part)
        if npv is None or any(c not in ctx.councils for c in part.members):
            return None
        weights = {c: ctx.baseline(c, fid)[0] for c in part.members}
        total = sum(weights.values())
        return npv * (weights[code] / total if total > 0 else 1.0 / len(weights))
    game = games_of(ctx).game(part)
    return None if game is None else game.shares[ctx.share_rule][code]


def check_transfer(ctx: Context) -> list[Finding]:
    """Every council row's ``transfer``: npv_share under the run's rule minus the
    proportional share, 0 for a council alone. Required when the rule is not proportional."""
    out = []
    for _, row, reason in council_rows(ctx):
        if reason is not None:
            continue
        code, fid = row["code"], row["function"]
        label = f"council row {code} / {fid}"
        if "transfer" not in row:
            if not _proportional(ctx):
                out.append(Finding("transfer", label, f"missing key 'transfer' (options.shares is '{ctx.share_rule}')"))
            continue
        found = row["transfer"]
        part = row_partnership(ctx, code, fid, row)
        scale = 0.0
        if part is None or _proportional(ctx):
            expected, why = 0.0, "the council stays alone" if part is None else "shares are proportional"
        else:
            game = games_of(ctx).game(part)
            if game is None:
                if not is_number(found):
                    out.append(Finding("transfer", label, f"transfer must be a number, found {found!r}"))
                continue
            rule = ctx.share_rule
            expected = game.shares[rule][code] - game.shares["proportional"][code]
            scale = game.npv
            why = f"its {rule} share {pounds(game.shares[rule][code])} of {part.id!r} minus its proportional share {pounds(game.shares['proportional'][code])}"
        if not _close(ctx, found, expected, scale):
            out.append(Finding("transfer", label, f"transfer is {pounds(found)}, expected {pounds(expected)} ({why})"))
    return out


# ---------------------------------------------------------------- stability


def plan_shares(ctx: Context, fid: str) -> dict[str, float]:
    """Each eligible council's npv_share for ``fid``, the shares blocking is judged against:
    the plan's own figure where it agrees with the verifier's (so rounding counts as the
    engine counted it), else the verifier's (a wrong npv_share is the ``councils`` check's
    finding, not a reason to judge stability against it); 0 for a council alone."""
    stated = {}
    for _, row, reason in council_rows(ctx):
        if reason is None and row["function"] == fid:
            stated[row["code"]] = row
    shares = {}
    for code in ctx.eligible[fid]:
        row = stated.get(code, {})
        mine = expected_npv_share(ctx, code, fid, row)
        given = row.get("npv_share")
        if mine is None:
            shares[code] = float(given) if is_number(given) else 0.0
        elif is_number(given) and abs(given - mine) <= ctx.money_slack(mine):
            shares[code] = float(given)
        else:
            shares[code] = mine
    return shares


def function_objective(ctx: Context, fid: str) -> float:
    total = 0.0
    for part in ctx.readable_parts:
        if part.function == fid:
            npv = partnership_npv(part)
            total += npv if npv is not None else 0.0
    return total


def locked_values(ctx: Context, fid: str) -> list[tuple[tuple[str, ...], float]] | None:
    """(members, best NPV) of the run's locked groups of ``fid``; None when one has no
    option the rules allow (the ``locked`` check says so)."""
    out = []
    for function, members in sorted(ctx.locked_sets, key=lambda item: (item[0], sorted(item[1]))):
        if function != fid:
            continue
        best = best_option(ctx, fid, sorted(members))
        if best is None:
            return None
        out.append((tuple(sorted(members)), best.npv))
    return out


def check_stability(ctx: Context) -> list[Finding]:
    """``stability``, when the plan has it: one entry per run function, each with the run's
    rule, the number of groups the rules allow, the blocking groups among them, the largest
    surplus and its members, the objective, and a cost of stability max(0, lp_bound -
    objective) when the LP bound is given (and then the LP bound, solved again)."""
    given = ctx.plan.get("stability")
    if given is None or given == {}:
        return []
    if not isinstance(given, dict):
        return [Finding("stability", "stability", f"must be a JSON object {{function: figures}}, found {type(given).__name__}")]
    out = []
    for fid in given:
        if fid not in ctx.functions:
            out.append(Finding("stability", f"stability.{fid}", f"'{fid}' is not one of the run's functions ({', '.join(ctx.run_functions)})"))
    for fid in ctx.run_functions:
        label = f"stability.{fid}"
        entry = given.get(fid)

        def problem(message: str) -> None:
            out.append(Finding("stability", label, message))

        if entry is None:
            problem("missing (every function of the run has a stability entry)")
            continue
        if not isinstance(entry, dict):
            problem(f"must be a JSON object, found {type(entry).__name__}")
            continue
        for key in STABILITY_KEYS:
            if key not in entry:
                problem(f"missing key '{key}'")
        if "rule" in entry and entry["rule"] != ctx.share_rule:
            problem(f"rule is {entry['rule']!r}, but options.shares is '{ctx.share_rule}'")
        _check_groups(ctx, fid, entry, problem)
        _check_bound(ctx, fid, entry, problem)
    return out


def _count_ok(found, low: int, high: int) -> bool:
    return isinstance(found, int) and not isinstance(found, bool) and low <= found <= high


def _check_groups(ctx: Context, fid: str, entry: dict, problem) -> None:
    table = games_of(ctx).table(fid)
    found = blocking(table, plan_shares(ctx, fid))
    if "groups_checked" in entry and not _count_ok(entry["groups_checked"], found.allowed, found.allowed):
        unhosted = table.grown_count - found.allowed
        note = (f"; {table.grown_count} sets pass the member and pair rules, but {unhosted} of them have no host or depth "
                "the rules allow" if unhosted else "")
        problem(f"groups_checked is {entry['groups_checked']!r}, expected {found.allowed} (the groups of 2..{ctx.max_size[fid]} "
                f"members the rules of '{fid}' allow, for some host and depth{note})")
    if "blocking_groups" in entry and not _count_ok(entry["blocking_groups"], found.surely, found.possibly):
        within = "" if found.surely == found.possibly else f" to {found.possibly} (some are within rounding of the threshold)"
        problem(f"blocking_groups is {entry['blocking_groups']!r}, expected {found.surely}{within} (allowed groups whose best NPV "
                f"exceeds the sum of their members' npv_share by more than 1e-6 relative)")
    surplus = entry.get("largest_surplus")
    members = entry.get("largest_surplus_members")
    slack = ctx.money_slack(found.largest)
    if "largest_surplus" in entry and not (is_number(surplus) and found.largest - slack <= surplus <= found.largest_possible + slack):
        problem(f"largest_surplus is {pounds(surplus)}, expected {pounds(found.largest)}"
                + (f" (by {', '.join(found.largest_members)})" if found.largest_members else " (no group blocks)"))
    if "largest_surplus_members" not in entry:
        return
    if not isinstance(members, list) or not all(isinstance(c, str) for c in members):
        problem(f"largest_surplus_members must be a list of council codes, found {members!r}")
        return
    if members != sorted(members):
        problem(f"largest_surplus_members {members!r} are not sorted")
    if not members:
        if found.largest_members:
            problem(f"largest_surplus_members is [], expected {list(found.largest_members)} (its surplus {pounds(found.largest)} is the largest)")
        return
    if tuple(sorted(members)) not in found.near(slack):
        expected = list(found.largest_members) if found.largest_members else "[] (no group blocks)"
        problem(f"largest_surplus_members is {members!r}, expected {expected}"
                + (f" (its surplus {pounds(found.largest)} is the largest)" if found.largest_members else ""))


def _check_bound(ctx: Context, fid: str, entry: dict, problem) -> None:
    objective = function_objective(ctx, fid)
    if "objective" in entry and not ctx.money_ok(entry["objective"], objective):
        problem(f"objective is {pounds(entry['objective'])}, expected {pounds(objective)} (the NPV of the function's partnerships)")
    bound, cost = entry.get("lp_bound"), entry.get("cost_of_stability")
    if bound is None:
        if cost is not None:
            problem(f"cost_of_stability is {pounds(cost)}, but lp_bound is null (expected null)")
        return
    if not is_number(bound):
        problem(f"lp_bound must be a number or null, found {bound!r}")
        return
    stated = entry.get("objective")
    base = stated if is_number(stated) else objective
    want = max(0.0, bound - base)
    if not ctx.money_ok(cost, want):
        problem(f"cost_of_stability is {pounds(cost)}, expected {pounds(want)} (max(0, lp_bound - objective))")
    locked = locked_values(ctx, fid)
    if locked is None:
        return
    expected = lp_bound(games_of(ctx).table(fid), locked)
    if expected is None:
        problem("lp_bound is given, but the function's locked groups overlap: its packing LP has no solution")
    elif not ctx.money_ok(bound, expected):
        problem(f"lp_bound is {pounds(bound)}, expected {pounds(expected)} (the LP relaxation of the function's set packing "
                "over every allowed group's best NPV, locked groups in)")
