"""``evaluate`` as a planner uses it on today's arrangements (SPEC §3–4 arithmetic):

* ``--area`` scores only the groups with a member inside it; the others are skipped and
  counted, never reported as breaking the area rule; so are groups of functions left out;
* a host the grouping records is honoured, and judged when it may not lead;
* ``--sunk`` (or ``status = existing``) scores an arrangement in place without its set-up cost;
* totals count only the groups that keep every rule, the others apart;
* a solve's own partnerships.csv is a grouping file, and scores its own plan back.

Hosts and sunk costs agree with the brute force of tests/randomized.py on random cases.
"""

from __future__ import annotations

import json
import math
import random

import pytest

from randomized import Rules, feasible_groups, make_case
from test_cli import BABERGH, ENGLAND, IPSWICH, MID_SUFFOLK, SUFFOLK, read_csv, run, solve
from test_cli_inputs import bad

from optimiser.api import evaluate
from optimiser.io.groups import GroupRow

REL, ABS = 1e-6, 1e-6


def _write(tmp_path, text: str, name: str = "groups.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_area_skips_the_groups_outside_it(tmp_path, capsys):
    out = tmp_path / "eval"
    code, stdout, stderr = run(capsys, "evaluate", ENGLAND, ENGLAND / "partnerships.csv", "--area", "Suffolk", "--out", out)
    assert code == 0, stderr
    result = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    assert {tuple(g["members"]) for g in result["groups"]} == {(BABERGH, MID_SUFFOLK)}
    assert len(result["groups"]) == 8 and not any(g["breaks"] for g in result["groups"])
    assert result["skipped"]["outside_area"] == 23
    assert "23 groups skipped: no member inside --area" in stdout and "break rules" not in stdout


def test_functions_left_out_are_skipped_not_refused(tmp_path, capsys):
    code, stdout, stderr = run(capsys, "evaluate", SUFFOLK, SUFFOLK / "partnerships.csv", "--functions", "ict")
    assert code == 0, stderr
    assert "1 of 1 groups keep every rule" in stdout and "7 groups skipped: their function is not in the run" in stdout


def test_a_group_across_the_area_edge_breaks_the_area_rule(tmp_path):
    groups = [GroupRow("G", "ict", [BABERGH, "E07000242"])]  # East Hertfordshire: outside Suffolk, not adjacent
    result = evaluate(ENGLAND, groups, area="Suffolk")
    assert any(b.startswith("area:") for b in result.groups[0]["breaks"])
    assert result.totals["groups"] == 0 and result.totals_breaking["groups"] == 1
    assert result.totals["npv"] == 0.0 and result.totals_breaking["npv"] == result.groups[0]["npv"]


def test_the_recorded_host_is_honoured(tmp_path):
    for host in (BABERGH, MID_SUFFOLK):
        (row,) = evaluate(SUFFOLK, [GroupRow("G", "ict", [BABERGH, MID_SUFFOLK], host)], functions="ict").groups
        assert row["host"] == host and not row["breaks"]
    free = evaluate(SUFFOLK, [("G", "ict", [BABERGH, MID_SUFFOLK])], functions="ict").groups[0]
    hosted = [evaluate(SUFFOLK, [GroupRow("G", "ict", [BABERGH, MID_SUFFOLK], h)], functions="ict").groups[0]["npv"]
              for h in (BABERGH, MID_SUFFOLK)]
    assert math.isclose(free["npv"], max(hosted), rel_tol=1e-9)


def test_host_column_of_partnerships_csv_is_read(tmp_path):
    groups = _write(tmp_path, f"id,function,code,host\nG,ict,{BABERGH},true\nG,ict,{MID_SUFFOLK},false\n")
    assert evaluate(SUFFOLK, groups, functions="ict").groups[0]["host"] == BABERGH


def test_sunk_scores_without_the_set_up_cost(tmp_path, capsys):
    plain = evaluate(SUFFOLK, [("G", "ict", [BABERGH, MID_SUFFOLK])], functions="ict").groups[0]
    sunk = evaluate(SUFFOLK, [("G", "ict", [BABERGH, MID_SUFFOLK])], functions="ict", sunk=True).groups[0]
    assert sunk["sunk"] and sunk["sunk_cost"] > 0
    # only a move to a common platform is still to pay; the depth's set-up share is sunk
    annuity = plain["npv"] / plain["annual_saving"] + plain["one_off_cost"] / plain["annual_saving"]
    assert math.isclose(sunk["npv"], sunk["annual_saving"] * annuity - sunk["one_off_cost"], rel_tol=1e-9)
    assert sunk["npv"] >= plain["npv"]
    groups = _write(tmp_path, f"id,function,code,status\nG,ict,{BABERGH},existing\nG,ict,{MID_SUFFOLK},existing\n")
    by_column = evaluate(SUFFOLK, groups, functions="ict").groups[0]
    assert math.isclose(by_column["npv"], sunk["npv"]) and by_column["sunk"]
    code, stdout, _ = run(capsys, "evaluate", SUFFOLK, groups, "--functions", "ict")
    assert code == 0 and "sunk" in stdout


def test_a_solves_partnerships_csv_scores_its_own_plan(tmp_path, capsys):
    plan = solve(capsys, tmp_path, SUFFOLK, "--functions", "ict,legal")
    out = tmp_path / "eval"
    code, _, stderr = run(capsys, "evaluate", SUFFOLK, tmp_path / "out" / "partnerships.csv", "--functions", "ict,legal",
                          "--out", out)
    assert code == 0, stderr
    rows = {g["id"]: g for g in json.loads((out / "evaluation.json").read_text(encoding="utf-8"))["groups"]}
    for p in plan["partnerships"]:
        assert rows[p["id"]]["host"] == p["host"] and rows[p["id"]]["members"] == p["members"]
        assert math.isclose(rows[p["id"]]["npv"], p["npv"], rel_tol=1e-6)
    assert len(read_csv(out / "evaluation.csv")) == len(plan["partnerships"])


def test_members_may_be_names_separated_by_semicolons(tmp_path):
    groups = _write(tmp_path, "id,function,members,host\nG,ict,Babergh; Mid Suffolk; Ipswich,Ipswich\n")
    (row,) = evaluate(SUFFOLK, groups, functions="ict").groups
    assert row["members"] == [BABERGH, IPSWICH, MID_SUFFOLK] and row["host"] == IPSWICH


@pytest.mark.parametrize("text, where, word", [
    (f"id,function,code,status\nG,ict,{BABERGH},maybe\nG,ict,{MID_SUFFOLK},\n", "line 2", "status"),
    (f"id,function,members,host\nG,ict,{BABERGH} {MID_SUFFOLK},{IPSWICH}\n", "line 2", "not one of its members"),
    (f"id,function,members\nG,ict,{BABERGH} Nowhere\n", "line 2", "Nowhere"),
    (f"id,function,members\nG,ict,{BABERGH} {MID_SUFFOLK}\nG,ict,{IPSWICH} {BABERGH}\n", "line 3", "listed twice"),
    (f"id,function,code,host\nG,ict,{BABERGH},true\nG,ict,{MID_SUFFOLK},true\n", "line 3", "two hosts"),
])
def test_bad_grouping_files(tmp_path, capsys, text, where, word):
    groups = _write(tmp_path, text)
    message = bad(capsys, "evaluate", SUFFOLK, groups, "--out", tmp_path / "eval", option="groups.csv")
    assert where in message and word in message
    assert not (tmp_path / "eval").exists()


# ---------------------------------------------------------------- against the brute force


@pytest.mark.parametrize("seed", range(30), ids=lambda s: f"seed{s}")
def test_hosts_and_sunk_costs_agree_with_the_brute_force(tmp_path, seed):
    """With a recorded host, the NPV is the best over that host's options; sunk, the best with
    the depth's set-up share not charged (migration still is); a host the rules do not allow
    is named as a break."""
    case = make_case(seed, tmp_path)
    rules = Rules(case)
    groups, _ = feasible_groups(case, rules, prune=False)
    rng = random.Random(seed)
    picked = rng.sample(groups, min(4, len(groups)))
    if not picked:
        pytest.skip("no feasible group")
    proposed = []
    for i, g in enumerate(picked):
        proposed.append(GroupRow(f"G{i}", rules.functions[g.function].id, list(g.members), rng.choice(g.members), i % 2 == 1))
    result = evaluate(case.instance_dir, proposed, case.model_path, case.options.run_options())
    for group, row in zip(proposed, result.groups):
        f = rules.model.function(group.function)
        options = [o for o in rules.options(f, tuple(group.members)) if o.host == group.host]
        if not options:
            assert any(b.startswith(("host", "within_km", "host_min_commitment")) for b in row["breaks"]), (seed, row)
            continue
        total = sum(rules.baseline(f, c) for c in group.members)
        depth_share = {d.id: d.one_off * total for d in case.model.depths}
        want = max(o.npv + depth_share[o.depth] for o in options) if group.sunk else max(o.npv for o in options)
        assert row["host"] == group.host
        assert math.isclose(row["npv"], want, rel_tol=REL, abs_tol=ABS), (seed, group, row, want)
    passing = [r for r in result.groups if not r["breaks"]]
    assert math.isclose(result.totals["npv"], sum(r["npv"] for r in passing), rel_tol=1e-12, abs_tol=1e-9)
