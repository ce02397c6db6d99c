"""``optimiser partners`` (SPEC §7): per function, the best feasible partnerships a council
could join, ranked by its share (Shapley by default), with every member's share and gain over
its outside option, only mutual ones unless --all. Against an exhaustive search over every
group on random tiny cases (the subgroup values and Shapley's formula by hand), by hand on
Suffolk, and through the command line.
"""

from __future__ import annotations

import itertools
import json
import math
import random

import pytest

from randomized import Rules, make_case
from test_cli import ENGLAND, IPSWICH, SUFFOLK, read_csv, run, solve as cli_solve
from test_cli_inputs import bad

from optimiser.api import partners, solve

REL, ABS = 1e-6, 1e-6


def _shapley(members: tuple[str, ...], value) -> dict[str, float]:
    n = len(members)
    phi = {}
    for i in members:
        others = [m for m in members if m != i]
        total = 0.0
        for size in range(n):
            for t in itertools.combinations(others, size):
                weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
                total += weight * (value(frozenset(t) | {i}) - value(frozenset(t)))
        phi[i] = total
    return phi


def brute_market(case, council: str, outside: dict, rule: str = "shapley"):
    """Every suggestion per function, ranked, by exhaustive search (no engine code)."""
    rules = Rules(case)
    budget = case.options.budget
    by_code = rules.by_code
    found = {}
    for f in rules.functions:
        if not rules.eligible(f, council):
            continue
        pool = [c for c in rules.eligible_codes(f) if c != council]
        cache = {}

        def plain_value(t: frozenset) -> float:
            if len(t) < 2:
                return 0.0
            if t not in cache:
                members = tuple(c for c in case.codes if c in t)
                best = max((o.npv for o in rules.options(f, members)), default=0.0) if not rules.set_breaks(f, members) else 0.0
                cache[t] = max(best, 0.0)
            return cache[t]

        suggestions = []
        for size in range(1, rules.max_size(f)):
            for others in itertools.combinations(pool, size):
                members = tuple(c for c in case.codes if c in set(others) | {council})
                if rules.set_breaks(f, members):
                    continue
                options = [o for o in rules.options(f, members) if o.value > 0 and (not case.options.robust or o.worst > 0)
                           and (budget is None or o.one_off <= budget * (1 + 1e-12)) and by_code[o.host].max_hosted != 0
                           and all(by_code[c].max_partnerships != 0 for c in members)]
                if not options:
                    continue
                best = max(options, key=lambda o: (o.value, -o.one_off))
                whole = frozenset(members)

                def value(t, whole=whole, best=best):
                    return best.npv if t == whole else plain_value(t)

                if rule == "shapley":
                    shares = _shapley(members, value)
                else:
                    b = {c: rules.baseline(f, c) for c in members}
                    total = sum(b.values())
                    shares = {c: best.npv * (b[c] / total if total else 1 / len(members)) for c in members}
                gains = {c: shares[c] - outside.get((c, f.id), 0.0) for c in members}
                suggestions.append((members, best, shares, gains, all(g > 0 for g in gains.values())))
        suggestions.sort(key=lambda s: (-s[2][council], -s[1].npv, sorted(s[0])))
        found[f.id] = suggestions
    return found


@pytest.mark.parametrize("seed", range(30), ids=lambda s: f"seed{s}")
def test_partners_agree_with_the_brute_force(tmp_path, seed):
    case = make_case(seed, tmp_path)
    rng = random.Random(seed)
    council = rng.choice(case.codes)
    rule = "shapley" if seed % 3 else "proportional"
    with_plan = seed % 2 == 0
    plan = solve(case.instance_dir, case.model_path, case.options.run_options()) if with_plan else None
    if plan is not None and plan.status == "infeasible":
        plan = None
    outside = {(c.code, c.function): c.npv_share for c in plan.councils} if plan is not None else {}
    include_all = seed % 4 == 1
    try:
        result = partners(case.instance_dir, council, case.model_path, case.options.run_options(), top=3, plan=plan, rule=rule,
                          include_one_sided=include_all)
    except Exception as exc:  # a council outside the area is told so
        assert "outside the area" in str(exc), exc
        assert not Rules(case).in_area(Rules(case).by_code[council])
        return
    want = brute_market(case, council, outside, rule)
    for market in result.functions:
        if not market.eligible:
            assert market.function not in want
            continue
        every = want[market.function]
        assert market.groups == len(every), (seed, market.function)
        assert market.mutual == sum(1 for s in every if s[4])
        listed = [s for s in every if include_all or s[4]][:3]
        assert len(market.suggestions) == len(listed), (seed, market.function)
        for got, (members, best, shares, gains, mutual) in zip(market.suggestions, listed):
            assert math.isclose(got.shares[council], shares[council], rel_tol=REL, abs_tol=ABS), (seed, got, members)
            assert math.isclose(got.npv, best.npv, rel_tol=REL, abs_tol=ABS)
            assert got.mutual == mutual
            if set(got.members) == set(members):
                for c in members:
                    assert math.isclose(got.shares[c], shares[c], rel_tol=REL, abs_tol=ABS)
                    assert math.isclose(got.gains[c], gains[c], rel_tol=REL, abs_tol=ABS)


def test_ipswich_in_suffolk_by_hand():
    """Two councils alone: Shapley splits v(S) equally, the outside option is 0."""
    result = partners(SUFFOLK, "Ipswich", functions="legal", top=50, max_size=2)
    (market,) = result.functions
    assert market.groups == market.mutual == len(market.suggestions) > 0
    for s in market.suggestions:
        (other,) = [c for c in s.members if c != IPSWICH]
        assert math.isclose(s.shares[IPSWICH], s.npv / 2) and math.isclose(s.shares[other], s.npv / 2)
        assert s.gains == s.shares and s.mutual and s.why["tiers"] == ["district"]
    npvs = [s.npv for s in market.suggestions]
    assert npvs == sorted(npvs, reverse=True)


def test_a_plan_sets_the_outside_option_and_mutual_filters(tmp_path, capsys):
    plan = solve(SUFFOLK, functions="legal")
    result = partners(SUFFOLK, "Ipswich", functions="legal", top=100, plan=plan, include_one_sided=True)
    (market,) = result.functions
    share = {(c.code, c.function): c.npv_share for c in plan.councils}
    assert math.isclose(market.outside_option, share[(IPSWICH, "legal")])
    for s in market.suggestions:
        for c in s.members:
            assert math.isclose(s.gains[c], s.shares[c] - share[(c, "legal")], abs_tol=1e-6)
        assert s.mutual == all(g > 0 for g in s.gains.values())
    mutual_only = partners(SUFFOLK, "Ipswich", functions="legal", top=100, plan=plan).functions[0]
    assert [s.members for s in mutual_only.suggestions] == [s.members for s in market.suggestions if s.mutual]


def test_the_command_writes_json_and_csv(tmp_path, capsys):
    out = tmp_path / "p"
    code, stdout, stderr = run(capsys, "partners", ENGLAND, "Ipswich", "--functions", "legal,ict", "--top", "2", "--out", out)
    assert code == 0, stderr
    assert "Partners for Ipswich (E07000202)" in stdout and "share / gain" in stdout and "why:" in stdout
    data = json.loads((out / "partners.json").read_text(encoding="utf-8"))
    assert data["council"] == IPSWICH and set(data["functions"]) == {"legal", "ict"}
    assert all(len(f["suggestions"]) <= 2 for f in data["functions"].values())
    rows = read_csv(out / "partners.csv")
    assert rows and {r["function"] for r in rows} == {"legal", "ict"} and all(IPSWICH in r["members"].split() for r in rows)


def test_bad_partners_input(tmp_path, capsys):
    bad(capsys, "partners", SUFFOLK, "Nowhere", option="council", value="Nowhere")
    bad(capsys, "partners", SUFFOLK, "Ipswich", "--top", "0", option="--top")
    bad(capsys, "partners", SUFFOLK, "Ipswich", "--shares", "fair", option="--shares")
    bad(capsys, "partners", ENGLAND, "Ipswich", "--area", "Norfolk", option="--area", value="outside the area")
    bad(capsys, "partners", SUFFOLK, "Ipswich", "--plan", tmp_path / "none.json", option="none.json")
    plan = cli_solve(capsys, tmp_path, SUFFOLK, "--functions", "legal")
    assert plan["instance"] == "suffolk-2023"
    bad(capsys, "partners", ENGLAND, "Ipswich", "--plan", tmp_path / "out" / "plan.json", option="plan.json", value="suffolk-2023")
