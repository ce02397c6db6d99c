"""Plans compared, as people read them: a table of the partnerships matched (names beside
codes), the figures that moved per function and per council, the totals and what could not be
compared; and the same as CSV rows (partnerships, councils, functions) for a spreadsheet."""

from __future__ import annotations

from ..io.tables import csv_text
from .text import money

MATCH_FIELDS = ["plan", "function", "status", "changes", "a_ids", "a_members", "a_names", "b_ids", "b_members", "b_names",
                "joined", "left", "npv_a", "npv_b", "share_a", "share_b", "npv_change"]
DELTA_FIGURES = (("npv_share", "NPV"), ("annual_saving_share", "yearly saving"), ("one_off_share", "one-off cost"))
COUNCIL_FIELDS = ["plan", "code", "name"] + [f"{k}_{side}" for k, _ in DELTA_FIGURES for side in ("a", "b", "change")]
FUNCTION_FIELDS = ["plan", "function"] + [f"{k}_{side}" for k, _ in DELTA_FIGURES for side in ("a", "b", "change")]
SCORE_FIELDS = ["plan", "model", "id", "function", "members", "npv_planned", "npv", "annual_saving", "one_off_cost", "as_planned",
                "differs", "breaks"]


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def _change(value: float) -> str:
    return "0" if abs(value) < 0.5 else ("+" if value > 0 else "") + money(value)


def _names(codes, names: dict) -> str:
    return ", ".join(f"{names[c]} ({c})" if c in names else c for c in codes)


def _gone_reason(m, comparison, titles: dict) -> str:
    """Why a partnership of A has no counterpart in B, in words."""
    if m.function not in comparison.functions_b:
        return f"{titles.get(m.function, m.function)} is not in {comparison.b}'s run"
    outside = [c for c in m.members_a if (c, m.function) in set(comparison.only_a)]
    if len(outside) == len(m.members_a):
        return f"its members are not in {comparison.b}'s run"
    if outside:
        return f"{_count(len(outside), 'member')} not in {comparison.b}'s run, the others alone there"
    return f"its members are alone in {comparison.b}"


def _match_line(m, names: dict, comparison, titles: dict) -> str:
    status = m.status
    if m.status == "same":
        said = "as before" if not m.changes else f"{', '.join(m.changes)} changed"
        return f"    same      {_names(m.members_a, names)}: {said}"
    if m.status == "new":
        return f"    new       {_names(m.members_b, names)}: NPV {money(m.npv_b)}"
    if m.status == "gone":
        return f"    gone      {_names(m.members_a, names)}: {_gone_reason(m, comparison, titles)} (NPV {money(m.npv_a)} before)"
    moved = []
    if m.joined:
        moved.append(f"joined by {_names(m.joined, names)}")
    if m.left:
        moved.append(f"without {_names(m.left, names)}")
    into = ""
    if m.status in ("split", "merged"):
        into = "; now " + " and ".join("[" + " + ".join(names.get(c, c) for c in group) + "]" for group in m.groups_b)
    said = ", ".join(moved) + into if moved else into.lstrip("; ")
    return f"    {status:<9} {_names(m.members_a, names)}: {said}; NPV {money(m.npv_a)} -> {money(m.npv_b)}"


def _largest(n: int) -> str:
    return "" if n == 0 else "; the largest NPV change:" if n == 1 else f"; the {n} largest NPV changes:"


def _figures_line(label: str, delta, width: int = 28) -> str:
    change = delta.change
    return (f"    {label:<{width}} NPV {money(delta.a['npv_share'])} -> {money(delta.b['npv_share'])} ({_change(change['npv_share'])}); "
            f"yearly saving {_change(change['annual_saving_share'])}; one-off cost {_change(change['one_off_share'])}")


def comparison_text(plans: list[tuple[str, str, object]], comparisons, names: dict, titles: dict, top: int = 10,
                    scores=()) -> str:
    """``plans``: (label, file, Plan) in order, the first the one every other is compared with."""
    lines = ["Plans compared (each against A):"]
    for label, path, plan in plans:
        lines.append(f"  {label}  {path}: {plan.instance}, model {plan.model}, {len(plan.partnerships)} partnerships, "
                     f"NPV {money(plan.totals.npv)}")
    for comparison in comparisons:
        counts = comparison.counts()
        lines += ["", f"{comparison.b} against {comparison.a}: "
                  + ", ".join(f"{n} {status}" for status, n in counts.items() if n) if any(counts.values())
                  else f"{comparison.b} against {comparison.a}: neither plan has a partnership"]
        for function in sorted({m.function for m in comparison.matches}):
            lines.append(f"  {titles.get(function, function)} ({function})")
            lines += [_match_line(m, names, comparison, titles) for m in comparison.matches if m.function == function]
        lines.append("  per function (the councils both runs hold):")
        idle = [d for d in comparison.functions if not any(abs(v) >= 0.5 for v in (*d.a.values(), *d.b.values()))]
        shown = [(titles.get(d.key, d.key), d) for d in comparison.functions if d not in idle]
        moved = [d for d in comparison.councils if any(abs(v) >= 0.5 for v in d.change.values())]
        listed = [(_names([d.key], names), d) for d in moved[:top]]
        width = max([len(label) for label, _ in (*shown, *listed)] + [len("total") + 2])
        lines += [_figures_line(label, d, width) for label, d in shown]
        if idle:
            lines.append(f"    (no partnership in either plan: {', '.join(d.key for d in idle)})")
        lines.append(f"  per council: {len(moved)} of {len(comparison.councils)} councils' figures change" + _largest(len(listed)))
        lines += [_figures_line(label, d, width) for label, d in listed]
        lines.append(_figures_line("total", comparison.totals, width).replace("    total  ", "  total    ", 1))
        lines += [f"  not comparable: {note}" for note in comparison.notes]
    if scores:
        lines += ["", f"Every plan's partnerships priced under model {scores[0].model} (its host, depth and platform kept where "
                  "the model allows them):"]
        for score in scores:
            kept = sum(g["as_planned"] for g in score.groups)
            breaking = sum(bool(g["breaks"]) for g in score.groups)
            rules = sorted({b.split(":")[0] for g in score.groups for b in g["breaks"]})
            lines.append(f"  {score.plan}: NPV {money(score.keeping['npv'])} (planned {money(score.planned['npv'])}), yearly saving "
                         f"{money(score.keeping['annual_saving'])}, one-off cost {money(score.keeping['one_off_cost'])}; "
                         f"{kept} of {len(score.groups)} keep their planned host, depth and platform"
                         + (f"; {breaking} of {len(score.groups)} break a rule of this model ({', '.join(rules)}; NPV "
                            f"{money(score.breaking.get('npv'))}, not in the total)"
                            if breaking else ""))
    return "\n".join(lines)


def matches_csv(comparisons, names: dict) -> str:
    rows = [{"plan": c.b, "function": m.function, "status": m.status, "changes": " ".join(m.changes), "a_ids": " ".join(m.a),
             "a_members": " ".join(m.members_a), "a_names": "; ".join(names.get(x, x) for x in m.members_a), "b_ids": " ".join(m.b),
             "b_members": " ".join(m.members_b), "b_names": "; ".join(names.get(x, x) for x in m.members_b),
             "joined": " ".join(m.joined), "left": " ".join(m.left), "npv_a": m.npv_a, "npv_b": m.npv_b,
             "share_a": m.share_a, "share_b": m.share_b, "npv_change": m.npv_change}
            for c in comparisons for m in c.matches]
    return csv_text(MATCH_FIELDS, rows)


def _delta_row(delta) -> dict:
    change = delta.change
    return {f"{k}_{side}": value for k, _ in DELTA_FIGURES for side, value in (("a", delta.a[k]), ("b", delta.b[k]), ("change", change[k]))}


def councils_csv(comparisons, names: dict) -> str:
    rows = [{"plan": c.b, "code": d.key, "name": names.get(d.key, ""), **_delta_row(d)} for c in comparisons for d in c.councils]
    return csv_text(COUNCIL_FIELDS, rows)


def functions_csv(comparisons) -> str:
    rows = [{"plan": c.b, "function": d.key, **_delta_row(d)} for c in comparisons for d in (*c.functions, c.totals)]
    return csv_text(FUNCTION_FIELDS, rows)


def scores_csv(scores) -> str:
    rows = [{"plan": s.plan, "model": s.model, **g, "members": " ".join(g["members"]),
             "differs": " ".join(f"{k}:{v}" for k, v in g["differs"].items()), "breaks": "; ".join(g["breaks"])}
            for s in scores for g in s.groups]
    return csv_text(SCORE_FIELDS, rows)
