"""How do two plans differ? Their partnerships matched by function and members, and every
council's, function's and the whole run's figures side by side.

The first plan (A) is compared with each other plan (B) in turn. Within one function, a
partnership *touches* another plan's partnership when they share at least one member. With
B(a) the partnerships of B that partnership a of A touches, and A(b) those of A that b
touches, each partnership of A is, first rule that holds:

- ``same``: some b has exactly a's members (``changes`` says if its depth, host or platform differ);
- ``gone``: B(a) is empty (each of its members is alone in B, or the function is not in B);
- ``split``: B(a) holds two or more partnerships: a's members are now in several;
- ``merged``: B(a) = {b} and A(b) holds two or more: a and another of A's are now in b
  (so when b holds part of a split a' as well as all of a, a' is ``split`` and a ``merged``);
- ``grown``: B(a) = {b}, A(b) = {a} and b holds all of a's members and others;
- ``shrunk``: B(a) = {b}, A(b) = {a} and b holds some of a's members and no one else;
- ``reshaped``: B(a) = {b}, A(b) = {a} and b holds some of a's members and others (the one
  overlapping case the list above does not name: some left, others joined).

Each partnership of B that touches none of A's is ``new``. The classes are mirror images:
what is ``grown`` from A to B is ``shrunk`` from B to A, ``new`` is ``gone``, and ``same`` and
``reshaped`` stay themselves.

Figures are compared over the (council, function) pairs both runs hold (a council alone
counts 0): each council's NPV share, yearly saving share and one-off share, summed per council,
per function and in total, B minus A. Pairs only one run holds (another area, other
functions, another instance) are counted and named as not comparable, not guessed at.

Each row's ``npv_change`` is the change in the NPV shares of the councils it answers for, so
that the rows add up to the total change: a member of a partnership of A belongs to that
partnership's row, a council only B's partnership holds to the first row touching that
partnership (the row it joined, or a ``new`` one's). A partnership ``merged`` into a bigger
one thus gains only its own members' part of it, and a ``gone`` one of a function B's run
does not hold changes nothing (its pairs are not comparable). ``npv_a`` and ``npv_b`` stay the
whole partnerships' NPVs, for reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..io.groups import GroupRow
from .evaluate import evaluate

CLASSES = ("same", "grown", "shrunk", "reshaped", "split", "merged", "gone", "new")
FIGURES = ("npv_share", "annual_saving_share", "one_off_share")
#: what a partnership's option is, beyond its members
OPTION_FIELDS = ("host", "depth", "platform")


@dataclass(frozen=True)
class Match:
    """One row of the matching: a partnership of A (with the partnerships of B it touches), or
    a ``new`` one of B. ``joined``: councils of B's side not on A's; ``left``: the reverse."""

    function: str
    status: str
    a: tuple[str, ...]
    b: tuple[str, ...]
    members_a: tuple[str, ...]
    members_b: tuple[str, ...]
    joined: tuple[str, ...]
    left: tuple[str, ...]
    changes: tuple[str, ...] = ()  # for ``same``: which of host, depth, platform differ
    npv_a: float = 0.0
    npv_b: float = 0.0
    groups_b: tuple[tuple[str, ...], ...] = ()  # the members of each partnership of ``b``
    #: the NPV shares, in A and in B, of the councils this row answers for (see :func:`attribute_shares`)
    share_a: float = 0.0
    share_b: float = 0.0

    @property
    def npv_change(self) -> float:
        return self.share_b - self.share_a

    def to_dict(self) -> dict:
        data = {k: [list(x) if isinstance(x, tuple) else x for x in v] if isinstance(v, tuple) else v for k, v in self.__dict__.items()}
        return {**data, "npv_change": self.npv_change}


@dataclass(frozen=True)
class Delta:
    """The figures of A and of B for one council, one function or the whole run, and B - A."""

    key: str
    a: dict
    b: dict

    @property
    def change(self) -> dict:
        return {k: self.b[k] - self.a[k] for k in FIGURES}

    def to_dict(self) -> dict:
        return {"key": self.key, "a": dict(self.a), "b": dict(self.b), "change": self.change}


@dataclass(frozen=True)
class Comparison:
    """Plan B against plan A: the matching, the deltas and what could not be compared."""

    a: str
    b: str
    matches: tuple[Match, ...]
    councils: tuple[Delta, ...]
    functions: tuple[Delta, ...]
    totals: Delta
    notes: tuple[str, ...] = ()
    only_a: tuple[tuple[str, str], ...] = ()  # (code, function) pairs only A's run holds
    only_b: tuple[tuple[str, str], ...] = ()
    functions_b: tuple[str, ...] = ()  # the functions B's run holds

    def counts(self) -> dict[str, int]:
        return {status: sum(m.status == status for m in self.matches) for status in CLASSES}

    def to_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "counts": self.counts(), "matches": [m.to_dict() for m in self.matches],
                "councils": [d.to_dict() for d in self.councils], "functions": [d.to_dict() for d in self.functions],
                "totals": self.totals.to_dict(), "notes": list(self.notes),
                "not_comparable": {"only_a": [f"{c}:{f}" for c, f in self.only_a], "only_b": [f"{c}:{f}" for c, f in self.only_b]}}


def _touching(partnerships, others) -> dict[str, list]:
    """{id of each partnership: the ``others`` of its function sharing a member with it, in order}."""
    holder = {(p.function, c): p for p in others for c in p.members}
    found = {}
    for p in partnerships:
        seen = {}
        for c in p.members:
            other = holder.get((p.function, c))
            if other is not None:
                seen.setdefault(other.id, other)
        found[p.id] = list(seen.values())
    return found


def match_partnerships(plan_a, plan_b) -> list[Match]:
    """Every partnership of A classified against B, then B's ``new`` ones (see the module)."""
    b_of = _touching(plan_a.partnerships, plan_b.partnerships)
    a_of = _touching(plan_b.partnerships, plan_a.partnerships)
    rows = []
    for a in plan_a.partnerships:
        touched = b_of[a.id]
        mine = set(a.members)
        theirs = {c for b in touched for c in b.members}
        exact = [b for b in touched if set(b.members) == mine]
        if exact:
            status = "same"
        elif not touched:
            status = "gone"
        elif len(touched) >= 2:
            status = "split"
        elif len(a_of[touched[0].id]) >= 2:
            status = "merged"
        elif mine < theirs:
            status = "grown"
        elif theirs < mine:
            status = "shrunk"
        else:
            status = "reshaped"
        changes = tuple(f for f in OPTION_FIELDS if getattr(a, f) != getattr(exact[0], f)) if exact else ()
        rows.append(Match(a.function, status, (a.id,), tuple(b.id for b in touched), a.members,
                          tuple(sorted(theirs)), tuple(sorted(theirs - mine)), tuple(sorted(mine - theirs)), changes,
                          a.npv, float(sum(b.npv for b in touched)), tuple(b.members for b in touched)))
    for b in plan_b.partnerships:
        if not a_of[b.id]:
            rows.append(Match(b.function, "new", (), (b.id,), (), b.members, b.members, (), (), 0.0, b.npv, (b.members,)))
    return rows


def attribute_shares(matches: list[Match], plan_a, plan_b, rows_a: dict, rows_b: dict, both) -> list[Match]:
    """Each comparable (council, function) pair answered for by one row, so that the rows'
    ``npv_change`` adds up to the total change: a member of a partnership of A by that
    partnership's row; else a member of a partnership of B by the first row touching it (a
    council that joined, or a ``new`` partnership's). Each row's ``share_a`` and ``share_b``
    are its councils' NPV shares in A and in B over the pairs both runs hold; a pair no
    partnership of either plan holds is 0 in both and answered for by none."""
    row_of_a = {m.a[0]: k for k, m in enumerate(matches) if m.a}
    first_touching = {}
    for k, m in enumerate(matches):
        for pid in m.b:
            first_touching.setdefault(pid, k)
    row_of = {(c, p.function): row_of_a[p.id] for p in plan_a.partnerships for c in p.members}
    for p in plan_b.partnerships:
        for c in p.members:
            row_of.setdefault((c, p.function), first_touching[p.id])
    shares = [[0.0, 0.0] for _ in matches]
    for pair in both:
        k = row_of.get(pair)
        if k is not None:
            shares[k][0] += rows_a[pair]["npv_share"]
            shares[k][1] += rows_b[pair]["npv_share"]
    return [replace(m, share_a=float(a), share_b=float(b)) for m, (a, b) in zip(matches, shares)]


def _sum(rows) -> dict:
    rows = list(rows)
    return {k: float(sum(r[k] for r in rows)) for k in FIGURES}


def _grouped(pairs, rows: dict, position: int) -> dict[str, dict]:
    by = {}
    for pair in pairs:
        by.setdefault(pair[position], []).append(rows[pair])
    return {key: _sum(found) for key, found in by.items()}


def compare_plans(plan_a, plan_b, name_a: str = "A", name_b: str = "B", *, scored_under: str | None = None,
                  area_label=None) -> Comparison:
    """Plan B against plan A (both :class:`~optimiser.plan.Plan`): see the module.
    ``scored_under``: the model both are also priced under, if any; ``area_label(codes)``
    names a run's --area for people (default: its codes)."""
    rows_a = {(c.code, c.function): {k: c[k] for k in FIGURES} for c in plan_a.councils}
    rows_b = {(c.code, c.function): {k: c[k] for k in FIGURES} for c in plan_b.councils}
    both = sorted(set(rows_a) & set(rows_b))
    councils_a, councils_b = _grouped(both, rows_a, 0), _grouped(both, rows_b, 0)
    functions_a, functions_b = _grouped(both, rows_a, 1), _grouped(both, rows_b, 1)
    councils = sorted((Delta(code, councils_a[code], councils_b[code]) for code in councils_a),
                      key=lambda d: (-abs(d.change["npv_share"]), d.key))
    functions = tuple(Delta(f, functions_a[f], functions_b[f]) for f in sorted(functions_a))
    totals = Delta("total", _sum(rows_a[p] for p in both), _sum(rows_b[p] for p in both))
    only_a = tuple(sorted(set(rows_a) - set(rows_b)))
    only_b = tuple(sorted(set(rows_b) - set(rows_a)))
    matches = attribute_shares(match_partnerships(plan_a, plan_b), plan_a, plan_b, rows_a, rows_b, both)
    return Comparison(name_a, name_b, tuple(matches), tuple(councils), functions, totals,
                      tuple(comparability(plan_a, plan_b, only_a, only_b, name_a, name_b, scored_under, area_label)), only_a, only_b,
                      tuple(sorted({c.function for c in plan_b.councils})))


#: run options with notes of their own
_OPTIONS_SAID_APART = ("area", "functions")


def _option_text(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_option_text(v)}" for k, v in value.items()) or "none"
    return str(value)


def comparability(plan_a, plan_b, only_a, only_b, name_a: str = "A", name_b: str = "B", scored_under: str | None = None,
                  area_label=None) -> list[str]:
    """Sentences on what is not like for like between two plans."""
    area_label = area_label or (lambda codes: ", ".join(codes))
    notes = []
    if plan_a.instance != plan_b.instance:
        notes.append(f"the plans are of different instances ({plan_a.instance}, {plan_b.instance}): councils are matched "
                     "by code where both have them")
    if plan_a.model != plan_b.model:
        notes.append(f"the plans use different models ({plan_a.model}, {plan_b.model}): each plan's figures are its own "
                     "model's; " + (f"both are priced under {scored_under} below" if scored_under else "--model scores both under one"))
    if set(plan_a.options.area) != set(plan_b.options.area):
        notes.append(f"the runs cover different areas ({name_a}: {area_label(plan_a.options.area) or 'all'}; "
                     f"{name_b}: {area_label(plan_b.options.area) or 'all'})")
    options_a, options_b = plan_a.options.to_dict(), plan_b.options.to_dict()
    differ = [k for k in options_a if k not in _OPTIONS_SAID_APART and options_a[k] != options_b.get(k)]
    if differ:
        notes.append("the runs' options differ: " + "; ".join(
            f"{k.replace('_', ' ')} {_option_text(options_a[k])} in {name_a}, {_option_text(options_b.get(k))} in {name_b}"
            for k in differ))
    functions_a = {c.function for c in plan_a.councils}
    functions_b = {c.function for c in plan_b.councils}
    for label, these, those in ((name_a, functions_a, functions_b), (name_b, functions_b, functions_a)):
        if these - those:
            notes.append(f"functions only {label}'s run holds: {', '.join(sorted(these - those))}")
    if only_a or only_b:
        notes.append(f"{len(only_a)} council-function pairs only in {name_a}'s run and {len(only_b)} only in "
                     f"{name_b}'s are left out of the figures")
    return notes


@dataclass(frozen=True)
class Score:
    """One plan's groupings priced under another model (``analysis.evaluate``): the figures of
    those that keep every rule, of those that break one, and how each was priced."""

    plan: str
    model: str
    planned: dict  # the plan's own totals: npv, annual_saving, one_off_cost
    keeping: dict
    breaking: dict
    groups: tuple = field(default=())  # per partnership: id, function, npv under the model, breaks, as_planned, differs

    def to_dict(self) -> dict:
        return {"plan": self.plan, "model": self.model, "planned": dict(self.planned), "keeping": dict(self.keeping),
                "breaking": dict(self.breaking), "groups": [dict(g) for g in self.groups]}


def score_plan(plan, instance, model, name: str) -> Score:
    """The plan's partnerships priced under ``model`` with the run's options, each with its
    recorded host, depth and platform where the model allows them (an option with them exists
    and passes the rules), else the best option (its recorded host first)."""
    functions = tuple(f for f in (plan.options.functions or model.function_ids) if f in model.function_ids)
    options = replace(plan.options, functions=functions, lock=(), keep_existing=False, seek=())
    groups = [GroupRow(p.id, p.function, list(p.members), p.host, False, p.depth, p.platform)
              for p in plan.partnerships if p.function in functions]
    result = evaluate(instance, groups, model, options)
    by_id = {p.id: p for p in plan.partnerships}
    rows = []
    for g in result.groups:
        planned = by_id[g["id"]]
        differs = [f for f in OPTION_FIELDS if g[f] != getattr(planned, f)]
        rows.append({"id": g["id"], "function": g["function"], "members": list(g["members"]), "npv_planned": planned.npv,
                     "npv": g["npv"], "annual_saving": g["annual_saving"], "one_off_cost": g["one_off_cost"],
                     "as_planned": not differs, "differs": {f: g[f] for f in differs}, "breaks": list(g["breaks"])})
    left_out = [p.id for p in plan.partnerships if p.function not in functions]
    for pid in left_out:
        p = by_id[pid]
        rows.append({"id": pid, "function": p.function, "members": list(p.members), "npv_planned": p.npv, "npv": None,
                     "annual_saving": None, "one_off_cost": None, "as_planned": False, "differs": {},
                     "breaks": [f"function '{p.function}' is not in model '{model.name}'"]})
    planned = {"npv": plan.totals.npv, "annual_saving": plan.totals.annual_saving, "one_off_cost": plan.totals.one_off_cost}
    return Score(name, model.name, planned, dict(result.totals), dict(result.totals_breaking), tuple(rows))
