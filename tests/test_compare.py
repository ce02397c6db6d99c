"""``optimiser compare``: the matching of partnerships (every class, by hand and against a
brute-force reading of the definitions on random plans), the deltas, --model and the CLI."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import pytest

from cli_run import run
from optimiser.analysis.compare import CLASSES, FIGURES, compare_plans, match_partnerships
from optimiser.api import solve
from optimiser.plan import Plan

ROOT = Path(__file__).resolve().parent.parent
SUFFOLK = ROOT / "instances" / "suffolk-2023"


def plan_of(groups: dict, universe: dict, instance: str = "tiny", model: str = "m", area=(), npv=None) -> Plan:
    """A plan from {function: [members, ...]} (each member a code, each list one partnership,
    optionally (members, host, depth)) over ``universe`` ({function: every eligible code}).
    Every council's baseline is 100; a partnership's NPV is ``npv(function, members)`` (default:
    1000 a member beyond the first), shared by baseline, its yearly saving a tenth, one-off a fifth."""
    npv = npv or (lambda f, members: 1000.0 * (len(members) - 1))
    partnerships, councils, held = [], [], {}
    for function, found in groups.items():
        for k, group in enumerate(found):
            members, host, depth = (group, group[0], "d1") if isinstance(group, list) else group
            value = npv(function, members)
            pid = f"{function}-{k}-{'-'.join(members)}"
            partnerships.append({"id": pid, "function": function, "members": members, "host": host, "depth": depth,
                                 "platform": None, "annual_saving": value / 10, "one_off_cost": value / 5, "npv": value,
                                 "payback_years": 2.0})
            for c in members:
                held[(c, function)] = (pid, value / len(members))
    for function, codes in universe.items():
        for c in codes:
            pid, share = held.get((c, function), (None, 0.0))
            councils.append({"code": c, "function": function, "partnership": pid, "baseline": 100.0, "baseline_estimated": False,
                             "npv_share": share, "annual_saving_share": share / 10, "one_off_share": share / 5})
    total = sum(p["npv"] for p in partnerships)
    data = {"instance": instance, "model": model, "options": {"area": list(area)},
            "solver": {"name": "highs", "status": "optimal", "objective": total, "bound": total, "gap": 0.0, "seconds": 0.0},
            "partnerships": partnerships, "councils": councils,
            "totals": {"npv": total, "annual_saving": total / 10, "one_off_cost": total / 5, "baseline": 100.0 * len(councils)}}
    return Plan.from_dict(data)


def by_members(rows) -> dict:
    return {(m.function, m.members_a if m.status != "new" else m.members_b): m for m in rows}


CODES = [f"C{k:02d}" for k in range(1, 41)]


def test_every_class_by_hand():
    c = {k: CODES[k - 1] for k in range(1, 41)}
    universe = {"f": CODES}
    a = plan_of({"f": [[c[1], c[2]], [c[3], c[4]], [c[6], c[7], c[8]], [c[9], c[10], c[11], c[12]], [c[14], c[15]],
                       [c[16], c[17]], [c[18], c[19], c[20]], [c[22], c[23]], [c[30], c[31], c[32]], [c[33], c[34]]]}, universe)
    b = plan_of({"f": [([c[1], c[2]], c[2], "d1"), [c[3], c[4], c[5]], [c[6], c[7]], [c[9], c[10]], [c[11], c[12], c[13]],
                       [c[14], c[15], c[16], c[17]], [c[18], c[19], c[21]], [c[24], c[25]], [c[30], c[31]],
                       [c[32], c[33], c[34]]]}, universe)
    found = by_members(match_partnerships(a, b))
    expect = {(c[1], c[2]): "same", (c[3], c[4]): "grown", (c[6], c[7], c[8]): "shrunk", (c[9], c[10], c[11], c[12]): "split",
              (c[14], c[15]): "merged", (c[16], c[17]): "merged", (c[18], c[19], c[20]): "reshaped", (c[22], c[23]): "gone",
              (c[24], c[25]): "new",
              # a split whose piece also takes all of another partnership: the split one is split, the other merged
              (c[30], c[31], c[32]): "split", (c[33], c[34]): "merged"}
    assert {members: m.status for (_, members), m in found.items()} == expect
    assert found[("f", (c[1], c[2]))].changes == ("host",)
    assert found[("f", (c[3], c[4]))].joined == (c[5],) and found[("f", (c[6], c[7], c[8]))].left == (c[8],)
    reshaped = found[("f", (c[18], c[19], c[20]))]
    assert reshaped.joined == (c[21],) and reshaped.left == (c[20],)
    assert found[("f", (c[9], c[10], c[11], c[12]))].groups_b == ((c[9], c[10]), (c[11], c[12], c[13]))
    assert set(CLASSES) == {m.status for m in found.values()}
    # and the mirror image
    back = {members: m.status for (_, members), m in by_members(match_partnerships(b, a)).items()}
    assert back[(c[3], c[4], c[5])] == "shrunk" and back[(c[6], c[7])] == "grown" and back[(c[22], c[23])] == "new"
    assert back[(c[24], c[25])] == "gone" and back[(c[14], c[15], c[16], c[17])] == "split" and back[(c[9], c[10])] == "merged"
    assert back[(c[18], c[19], c[21])] == "reshaped" and back[(c[1], c[2])] == "same"


def test_figures_by_hand():
    universe = {"f": ["X", "Y", "Z"], "g": ["X", "Y"]}
    a = plan_of({"f": [["X", "Y"]], "g": [["X", "Y"]]}, universe)  # f: 1000 shared X, Y; g: 1000 shared X, Y
    b = plan_of({"f": [["X", "Y", "Z"]]}, universe)  # f: 2000 shared by three; g: nothing
    result = compare_plans(a, b)
    councils = {d.key: d for d in result.councils}
    assert councils["X"].a["npv_share"] == 1000.0 and councils["X"].b["npv_share"] == pytest.approx(2000 / 3)
    assert councils["Z"].change["npv_share"] == pytest.approx(2000 / 3)
    assert councils["Z"].change["one_off_share"] == pytest.approx(2000 / 3 / 5)
    functions = {d.key: d for d in result.functions}
    assert functions["f"].change["npv_share"] == pytest.approx(1000.0) and functions["g"].change["npv_share"] == -1000.0
    assert result.totals.change["npv_share"] == pytest.approx(0.0) and result.totals.a["npv_share"] == 2000.0
    assert [m.status for m in result.matches] == ["grown", "gone"]


def brute_force_status(a, b_partnerships, a_partnerships) -> str:
    """The classification of the module's docstring, read literally over every pair."""
    touched = [b for b in b_partnerships if b.function == a.function and set(a.members) & set(b.members)]
    if any(set(b.members) == set(a.members) for b in touched):
        return "same"
    if not touched:
        return "gone"
    if len(touched) >= 2:
        return "split"
    (b,) = touched
    if len([x for x in a_partnerships if x.function == b.function and set(x.members) & set(b.members)]) >= 2:
        return "merged"
    if set(a.members) < set(b.members):
        return "grown"
    if set(b.members) < set(a.members):
        return "shrunk"
    return "reshaped"


def random_groups(rng: random.Random, universe: dict) -> dict:
    groups = {}
    for function, codes in universe.items():
        shuffled = [c for c in codes if rng.random() < 0.85]
        rng.shuffle(shuffled)
        found, k = [], 0
        while k < len(shuffled):
            size = rng.choice((1, 2, 2, 3, 4))
            piece = sorted(shuffled[k:k + size])
            k += size
            if len(piece) >= 2:
                found.append(piece)
        groups[function] = found
    return groups


@pytest.mark.parametrize("seed", range(40))
def test_random_plans_against_brute_force_and_the_properties(seed):
    rng = random.Random(seed)
    n = rng.randint(2, 9)
    universe = {"f": CODES[:n], "g": CODES[:max(2, n - 2)]}
    values = {}

    def npv(function, members):  # any positive figure, the same for the same group
        return values.setdefault((function, tuple(members)), round(rng.uniform(10, 5000), 2))

    a = plan_of(random_groups(rng, universe), universe, npv=npv)
    b = plan_of(random_groups(rng, universe), universe, npv=npv)
    forward = compare_plans(a, b)
    for m in forward.matches:
        if m.status != "new":
            (pa,) = [p for p in a.partnerships if p.id == m.a[0]]
            assert m.status == brute_force_status(pa, b.partnerships, a.partnerships)
    new = {(m.function, m.members_b) for m in forward.matches if m.status == "new"}
    assert new == {(p.function, p.members) for p in b.partnerships
                   if not any(q.function == p.function and set(q.members) & set(p.members) for q in a.partnerships)}
    assert sum(m.status != "new" for m in forward.matches) == len(a.partnerships)

    backward = compare_plans(b, a)
    pairs = lambda result, status: {(m.function, m.members_a, m.members_b) for m in result.matches if m.status == status}  # noqa: E731
    assert pairs(forward, "grown") == {(f, mb, ma) for f, ma, mb in pairs(backward, "shrunk")}
    assert {(f, mb) for f, _, mb in pairs(forward, "new")} == {(f, ma) for f, ma, _ in pairs(backward, "gone")}
    assert {(f, ma) for f, ma, _ in pairs(forward, "same")} == {(f, ma) for f, ma, _ in pairs(backward, "same")}
    assert len(pairs(forward, "reshaped")) == len(pairs(backward, "reshaped"))
    # deltas of A vs B are the negatives of B vs A, and the councils' deltas add up to the totals'
    back_councils = {d.key: d for d in backward.councils}
    for d in forward.councils:
        for k in FIGURES:
            assert d.change[k] == pytest.approx(-back_councils[d.key].change[k], abs=1e-9)
    for k in FIGURES:
        assert sum(d.change[k] for d in forward.councils) == pytest.approx(forward.totals.change[k], abs=1e-6)
        assert sum(d.change[k] for d in forward.functions) == pytest.approx(forward.totals.change[k], abs=1e-6)
        total = {"npv_share": "npv", "annual_saving_share": "annual_saving", "one_off_share": "one_off_cost"}[k]
        assert forward.totals.change[k] == pytest.approx(b.totals[total] - a.totals[total], abs=1e-6)
    # a plan against itself: every partnership the same, nothing moves
    itself = compare_plans(a, a)
    assert all(m.status == "same" and not m.changes for m in itself.matches)
    assert all(v == 0 for d in (*itself.councils, *itself.functions, itself.totals) for v in d.change.values())


def test_plans_of_other_instances_and_areas_say_what_is_not_comparable():
    a = plan_of({"f": [["X", "Y"]]}, {"f": ["X", "Y", "Z"]}, instance="one", area=("R1",))
    b = plan_of({"f": [["X", "Y"]], "h": [["Y", "W"]]}, {"f": ["X", "Y", "W"], "h": ["Y", "W"]}, instance="two", model="n")
    result = compare_plans(a, b)
    notes = " ".join(result.notes)
    assert "different instances (one, two)" in notes and "different models" in notes and "different areas" in notes
    assert "functions only B's run holds: h" in notes and "(A: R1; B: all)" in notes
    assert "--model scores both under one" in notes
    assert "below" in " ".join(compare_plans(a, b, scored_under="m2").notes)
    third = compare_plans(a, Plan.from_dict({**b.to_dict(), "options": {"max_size": 2, "objective": "expected"}}), "A", "C")
    said = " ".join(third.notes)
    assert "max size none in A, 2 in C" in said and "objective npv in A, expected in C" in said and "only C's run" in said
    assert result.only_a == (("Z", "f"),) and set(result.only_b) == {("W", "f"), ("W", "h"), ("Y", "h")}
    assert {d.key for d in result.councils} == {"X", "Y"}
    assert [m.status for m in result.matches] == ["same", "new"]


@pytest.fixture(scope="module")
def two_plans(tmp_path_factory):
    """suffolk-2023's ict and legal solved twice: groups of any size, and of two at most."""
    folder = tmp_path_factory.mktemp("compare")
    for name, extra in (("a", []), ("b", ["--max-size", "2"])):
        from optimiser.cli import main

        assert main(["solve", str(SUFFOLK), "--functions", "ict,legal", *extra, "--out", str(folder / name), "--quiet"]) == 0
    return folder


def test_the_cli_compares_and_writes_its_files(two_plans, capsys, tmp_path):
    out = tmp_path / "ab"
    code, text, err = run(capsys, "compare", two_plans / "a", two_plans / "b" / "plan.json", "--out", out)
    assert code == 0, err
    assert "B against A" in text and "Ipswich (E07000202)" in text and "total" in text and "£" in text
    assert sorted(p.name for p in out.iterdir()) == ["compare.json", "councils.csv", "functions.csv", "partnerships.csv"]
    data = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    (comparison,) = data["comparisons"]
    a, b = (Plan.read(two_plans / name / "plan.json") for name in ("a", "b"))
    assert comparison["totals"]["change"]["npv_share"] == pytest.approx(b.totals.npv - a.totals.npv)
    assert sum(comparison["counts"].values()) == len(comparison["matches"])
    assert "Ipswich" in (out / "councils.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO((out / "partnerships.csv").read_text(encoding="utf-8"))))
    assert sum(float(r["npv_change"]) for r in rows) == pytest.approx(comparison["totals"]["change"]["npv_share"], abs=1e-3)


def test_model_prices_every_plan_under_one_model(two_plans, capsys, tmp_path):
    code, text, err = run(capsys, "compare", two_plans / "a", two_plans / "b", "--model", "uk-central", "--out", tmp_path / "o")
    assert code == 0, err
    scores = json.loads((tmp_path / "o" / "compare.json").read_text(encoding="utf-8"))["scores"]
    for score, name in zip(scores, ("a", "b")):
        plan = Plan.read(two_plans / name / "plan.json")
        # under its own model each plan is priced as it was planned
        assert score["keeping"]["npv"] == pytest.approx(plan.totals.npv, rel=1e-9)
        assert all(g["as_planned"] and not g["breaks"] for g in score["groups"])
    assert "priced under model uk-central" in text


def test_model_keeps_a_recorded_depth_that_is_not_the_best(tmp_path):
    """The evaluate path honours a partnership's depth where the model allows it (not only its host)."""
    from optimiser.analysis.compare import score_plan
    from optimiser.io.instance import load_instance
    from optimiser.io.model import load_model

    instance, model = load_instance(SUFFOLK), load_model("uk-central")
    plan = solve(instance, model, functions="legal")
    data = plan.to_dict()
    chosen = data["partnerships"][0]
    other = next(d.id for d in model.depths if d.id != chosen["depth"] and not d.common_platform)
    chosen["depth"], chosen["platform"] = other, None
    edited = Plan.from_dict(data)
    (group,) = score_plan(edited, instance, model, "A").groups
    assert group["as_planned"] and group["npv"] < plan.partnerships[0].npv
    # a model without that depth: priced at its best depth, and said so
    text = model.text.replace(f'id = "{other}"', 'id = "renamed"')
    path = tmp_path / "other.toml"
    path.write_text(text, encoding="utf-8")
    (group,) = score_plan(edited, instance, load_model(path), "A").groups
    assert not group["as_planned"] and "depth" in group["differs"]


@pytest.mark.parametrize("argv, names", [
    (("{a}", "{tmp}/missing.json"), "missing.json"),
    (("{a}", "{tmp}/list.json"), "list.json"),
    (("{a}", "{tmp}/notes.txt"), "notes.txt"),
    (("{a}",), "at least two plans"),
    (("{a}", "{b}", "--model", "no-such-model"), "no-such-model"),
    (("{a}", "{b}", "--instance", "{tmp}/nowhere"), "nowhere"),
    (("{a}", "{b}", "--top", "many"), "--top"),
])
def test_bad_input_is_exit_2_naming_it_and_nothing_is_written(two_plans, capsys, tmp_path, argv, names):
    (tmp_path / "list.json").write_text("[1, 2]", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not json", encoding="utf-8")
    fill = {"a": two_plans / "a" / "plan.json", "b": two_plans / "b" / "plan.json", "tmp": tmp_path}
    out = tmp_path / "out"
    code, text, err = run(capsys, "compare", *[arg.format(**fill) for arg in argv], "--out", out)
    assert code == 2, (text, err)
    assert names in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_out_already_holding_results_needs_force(two_plans, capsys, tmp_path):
    out = tmp_path / "out"
    assert run(capsys, "compare", two_plans / "a", two_plans / "b", "--out", out, "--quiet")[0] == 0
    code, _, err = run(capsys, "compare", two_plans / "a", two_plans / "b", "--out", out)
    assert code == 2 and "--force" in err
    assert run(capsys, "compare", two_plans / "a", two_plans / "b", "--out", out, "--force", "--quiet")[0] == 0


def test_force_removes_what_an_earlier_run_wrote_and_this_one_does_not(two_plans, capsys, tmp_path):
    out = tmp_path / "out"
    assert run(capsys, "compare", two_plans / "a", two_plans / "b", "--model", "uk-central", "--out", out, "--quiet")[0] == 0
    assert (out / "scores.csv").exists()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    assert run(capsys, "compare", two_plans / "a", two_plans / "b", "--out", out, "--force", "--quiet")[0] == 0
    assert sorted(p.name for p in out.iterdir()) == ["compare.json", "councils.csv", "functions.csv", "notes.txt", "partnerships.csv"]
    assert json.loads((out / "compare.json").read_text(encoding="utf-8"))["scores"] == []


def test_a_plan_whose_instance_is_not_found_is_compared_by_code(two_plans, capsys, tmp_path):
    data = json.loads((two_plans / "a" / "plan.json").read_text(encoding="utf-8"))
    data["instance"] = "no-such-instance"
    del data["provenance"]
    moved = tmp_path / "plan.json"
    moved.write_text(json.dumps(data), encoding="utf-8")
    code, text, err = run(capsys, "compare", moved, two_plans / "b")
    assert code == 0 and "not found" in err and "different instances" in text


def _set(path: str, value):
    """An edit of a plan.json's contents: ``path`` like ``partnerships.0.npv`` set to ``value``."""
    def edit(data):
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[int(last) if isinstance(node, list) else last] = value
        return data
    return edit


@pytest.mark.parametrize("edit, said", [
    (_set("councils.0.npv_share", "abc"), "councils[0].npv_share: must be a number, found 'abc'"),
    (_set("partnerships.0.npv", None), "partnerships[0].npv: must be a number, found null"),
    (_set("partnerships.0.members", "E07000202"), "partnerships[0].members: must be a list of council codes, found 'E07000202'"),
    (_set("partnerships.0.members", [1, 2]), "partnerships[0].members: must be a list of council codes"),
    (_set("partnerships.0.function", 7), "partnerships[0].function: must be text, found 7"),
    (_set("partnerships.0", "legal"), "partnerships[0]: must be an object"),
    (_set("councils.1.code", None), "councils[1].code: must be text, found null"),
    (_set("totals.npv", True), "totals.npv: must be a number, found true"),
    (_set("totals", []), "totals: must be an object, found a list"),
    (_set("partnerships", {}), "partnerships: must be a list, found an object"),
    (_set("instance", 3), "instance: must be text, found 3"),
    (lambda data: {k: v for k, v in data.items() if k != "councils"}, "councils: missing"),
    (lambda data: [data], "not a plan.json of this tool: it holds a list, not an object"),
    (lambda data: "plan", "not a plan.json of this tool: it holds 'plan', not an object"),
])
def test_a_malformed_plan_is_exit_2_naming_the_key(two_plans, capsys, tmp_path, edit, said):
    data = edit(json.loads((two_plans / "a" / "plan.json").read_text(encoding="utf-8")))
    bad = tmp_path / "plan.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    code, text, err = run(capsys, "compare", two_plans / "a", bad, "--out", tmp_path / "out")
    assert code == 2, (text, err)
    assert f"{bad}: {said}" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_row_changes_by_hand_add_up_to_the_total():
    universe = {"f": ["X", "Y", "Z", "W"], "g": ["X", "Y"]}
    a = plan_of({"f": [["X", "Y"], ["Z", "W"]], "g": [["X", "Y"]]}, universe)  # 1000 each
    b = plan_of({"f": [["W", "X", "Y", "Z"]]}, {"f": universe["f"]})  # 3000 shared by four; g not in B's run
    result = compare_plans(a, b)
    rows = {(m.function, m.members_a): m for m in result.matches}
    # each merged partnership gains its own members' part of the bigger one: 1500 - 1000, not 3000 - 1000
    assert [m.status for m in result.matches] == ["merged", "merged", "gone"]
    assert rows[("f", ("X", "Y"))].npv_change == pytest.approx(500.0) and rows[("f", ("Z", "W"))].npv_change == pytest.approx(500.0)
    assert rows[("f", ("X", "Y"))].npv_b == 3000.0  # the whole partnership, for reading
    # g is not in B's run: its pairs are left out of the figures, and so out of its row's change
    assert rows[("g", ("X", "Y"))].npv_change == 0.0 and rows[("g", ("X", "Y"))].npv_a == 1000.0
    assert sum(m.npv_change for m in result.matches) == pytest.approx(result.totals.change["npv_share"]) == pytest.approx(1000.0)


@pytest.mark.parametrize("seed", range(30))
def test_row_changes_add_up_to_the_total_over_the_comparable_pairs(seed):
    rng = random.Random(1000 + seed)
    universe_a = {"f": CODES[:rng.randint(2, 8)], "g": CODES[:rng.randint(2, 6)]}
    universe_b = {f: codes[rng.randint(0, 2):] for f, codes in universe_a.items() if f == "f" or rng.random() < 0.5}
    values = {}

    def npv(function, members):
        return values.setdefault((function, tuple(members)), round(rng.uniform(10, 5000), 2))

    a = plan_of(random_groups(rng, universe_a), universe_a, npv=npv)
    b = plan_of(random_groups(rng, universe_b), universe_b, npv=npv)
    for x, y in ((a, b), (b, a)):
        result = compare_plans(x, y)
        assert sum(m.npv_change for m in result.matches) == pytest.approx(result.totals.change["npv_share"], abs=1e-6)
        # brute force: every comparable pair's change, each counted once
        both = {(c.code, c.function) for c in x.councils} & {(c.code, c.function) for c in y.councils}
        share = lambda plan: {(c.code, c.function): c.npv_share for c in plan.councils}  # noqa: E731
        sx, sy = share(x), share(y)
        assert result.totals.change["npv_share"] == pytest.approx(sum(sy[p] - sx[p] for p in both), abs=1e-6)
        for m in result.matches:
            if m.status == "same" and not m.joined and (m.function, m.members_a[0]) in both:
                assert m.npv_change == pytest.approx(sum(sy[(c, m.function)] - sx[(c, m.function)] for c in m.members_a), abs=1e-6)


def test_gone_says_why_in_words():
    from optimiser.report.compare import comparison_text

    universe = {"f": ["X", "Y", "Z", "W"], "legal": ["X", "Y"]}
    a = plan_of({"f": [["X", "Y"], ["Z", "W"]], "legal": [["X", "Y"]]}, universe)
    b = plan_of({}, {"f": ["X", "Y", "Z"]})  # no partnership; legal not in B's run; W outside its area
    text = comparison_text([("A", "a", a), ("B", "b", b)], [compare_plans(a, b)], {"X": "Exton"},
                           {"legal": "Legal and democratic services"}, 10)
    assert "Exton (X), Y: its members are alone in B (NPV" in text
    assert "Z, W: 1 member not in B's run, the others alone there" in text
    assert "Exton (X), Y: Legal and democratic services is not in B's run" in text
    assert "its members are alone (" not in text
