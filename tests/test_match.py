"""``optimiser match`` (SPEC §7): a listing file ``code, function, stance`` (offer, seek, open)
keeps only the listed (council, function) pairs, lets only offer and open councils host (the
``seek`` rule) and solves as ``solve`` does. Against the brute force of tests/randomized.py,
and every way a listing file can be wrong.
"""

from __future__ import annotations

import copy
import json
import math
import random
from dataclasses import replace

import pytest

from randomized import Rules, brute_force, check_plan, make_case, write_case
from test_cli import BABERGH, ENGLAND, IPSWICH, MID_SUFFOLK, SUFFOLK, run
from test_cli_inputs import bad

from optimiser.api import match
from optimiser.io.listings import Listing
from optimiser.verify import verify

REL, ABS = 1e-6, 1e-6


def _listings(case, rng) -> list[Listing]:
    rules = Rules(case)
    found = []
    for f in rules.functions:
        for code in rules.eligible_codes(f):
            if rng.random() < 0.7:
                found.append(Listing(code, f.id, rng.choice(["offer", "seek", "open"]), len(found) + 2))
    return found


@pytest.mark.parametrize("seed", range(40), ids=lambda s: f"seed{s}")
def test_match_agrees_with_the_brute_force(tmp_path, seed):
    rng = random.Random(seed)
    case = make_case(seed, tmp_path)
    case.partnerships = [p for p in case.partnerships if not p.locked]  # a listing file leaves locked members out
    write_case(case, tmp_path)
    listings = _listings(case, rng)
    if not listings:
        pytest.skip("no council takes part")
    rules = Rules(case)
    listed = {(x.code, x.function) for x in listings}
    functions = tuple(f.id for f in rules.functions if any(x.function == f.id for x in listings))
    unlisted = tuple((c, f.id) for f in rules.functions if f.id in functions for c in rules.eligible_codes(f) if (c, f.id) not in listed)
    seek = tuple((x.code, x.function) for x in listings if x.stance == "seek")
    by_hand = replace(case, options=replace(case.options, functions=functions, exclude=case.options.exclude + unlisted, seek=seek))
    optimum = brute_force(by_hand)
    plan = match(case.instance_dir, listings, case.model_path, case.options.run_options())
    if optimum.objective is None:
        assert plan.status == "infeasible"
        return
    assert plan.status == "optimal"
    assert math.isclose(plan.objective, optimum.objective, rel_tol=REL, abs_tol=ABS), f"seed {seed}\n{optimum.describe()}"
    assert not check_plan(by_hand, plan.data)
    for p in plan.partnerships:
        assert (p.host, p.function) not in set(seek)
        assert all((c, p.function) in listed for c in p.members)
    assert verify(case.instance_dir, plan.data, case.model_path).ok


def test_a_seeker_does_not_host_and_the_verifier_says_so(tmp_path):
    listings = [Listing(IPSWICH, "legal", "seek", 2), Listing(BABERGH, "legal", "offer", 3), Listing(MID_SUFFOLK, "legal", "seek", 4)]
    plan = match(SUFFOLK, listings)
    (p,) = plan.partnerships
    assert p.host == BABERGH and set(p.members) <= {IPSWICH, BABERGH, MID_SUFFOLK}
    assert plan.options.seek == ((IPSWICH, "legal"), (MID_SUFFOLK, "legal"))
    assert verify(SUFFOLK, plan.data).ok
    broken = copy.deepcopy(plan.data)
    broken["partnerships"][0]["host"] = IPSWICH
    assert any(f.rule == "seek" for f in verify(SUFFOLK, broken).findings)
    only_seekers = match(SUFFOLK, [Listing(IPSWICH, "legal", "seek", 2), Listing(BABERGH, "legal", "seek", 3)])
    assert not only_seekers.partnerships


def test_the_command_solves_a_listings_file(tmp_path, capsys):
    listings = tmp_path / "listings.csv"
    listings.write_text("code,function,stance\nIpswich,legal,seek\nBabergh,Legal,offer\nmid suffolk,legal,OPEN\n", encoding="utf-8")
    out = tmp_path / "m"
    code, stdout, stderr = run(capsys, "match", ENGLAND, listings, "--out", out)
    assert code == 0, stderr
    data = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert data["options"]["functions"] == ["legal"] and data["options"]["seek"] == [f"{IPSWICH}:legal"]
    assert {c["code"] for c in data["councils"]} == {IPSWICH, BABERGH, MID_SUFFOLK}
    assert "verified: every rule" in stdout


@pytest.mark.parametrize("text, where, word", [
    ("code,function\nIpswich,legal\n", "header", "stance"),
    ("code,function,stance\nIpswich,legal,maybe\n", "line 2", "stance"),
    ("code,function,stance\nIpswich,legal,offer\nNorwich,legal,seek\n", "line 3", "Norwich"),
    ("code,function,stance\nIpswich,lawyers,offer\n", "line 2", "lawyers"),
    ("code,function,stance\nIpswich,highways,offer\n", "line 2", "district"),
    ("code,function,stance\nIpswich,legal,offer\nE07000202,legal,seek\n", "line 3", "twice"),
    ("code,function,stance\nIpswich,legal\n", "line 2", "fields"),
    ("code,function,stance\n", "has no listings", "listings"),
    ("", "empty", "empty"),
])
def test_bad_listings(tmp_path, capsys, text, where, word):
    listings = tmp_path / "listings.csv"
    listings.write_text(text, encoding="utf-8")
    message = bad(capsys, "match", SUFFOLK, listings, "--out", tmp_path / "m", option="listings.csv")
    assert where in message and word in message, message
    assert not (tmp_path / "m").exists()
