"""Invest to save (SPEC section 8) on whole runs: ramps, loans, the cash-flow table and the
headroom rows, checked against the exhaustive search of tests/randomized.py (the 'finance'
profile) and by the verifier, on every method and solver."""

from __future__ import annotations

import logging

import pytest

from randomized import brute_force, make_case
from test_property import METHODS, check_against_brute_force

FINANCE_SEEDS = range(70_000, 70_040)


@pytest.fixture(autouse=True)
def _quiet():
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


@pytest.mark.parametrize("seed", FINANCE_SEEDS, ids=lambda s: f"finance{s}")
def test_optimal_with_ramps(tmp_path, seed):
    case = make_case(seed, tmp_path, "finance")
    optimum = brute_force(case)
    for method, solver in METHODS:
        check_against_brute_force(case, optimum, method, solver, "finance")


# ---------------------------------------------------------------- ramps: by hand and bad values

import json  # noqa: E402
import math  # noqa: E402
from pathlib import Path  # noqa: E402

from optimiser.api import solve  # noqa: E402
from optimiser.cli import main  # noqa: E402
from optimiser.verify import verify  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PAIR_MODEL = """name = "pair"
tiers = ["district"]

[finance]
horizon_years = 4
discount_rate = 0.1

[rules]
max_size = 2
geography = ["none"]
host_min_commitment = 0.0

[[depths]]
id = "one"
capture = 1.0
one_off = 0.2
common_platform = false
{ramp}

[[functions]]
id = "f"
tiers = ["district"]
per_capita = 10.0
scale_exponent = 0.5
coordination = 0.0
migration = 0.0
"""


def pair_instance(folder: Path, ramp: str = "", extra_columns: str = "", rows=("", "")) -> tuple[Path, Path]:
    """Two districts of 100 residents each: B = 2000, r = 1 - 200^0.5 / (2 x 100^0.5) =
    1 - sqrt(2) / 2, A = r B = 585.786..., O = 0.2 B = 400."""
    inst = folder / "pair"
    inst.mkdir(parents=True, exist_ok=True)
    model = folder / "pair.toml"
    model.write_text(PAIR_MODEL.format(ramp=ramp), encoding="utf-8")
    (inst / "instance.toml").write_text(f'name = "pair"\nmodel = "{model.as_posix()}"\n\n[tables]\ncouncils = "councils.csv"\n'
                                        'adjacency = "adjacency.csv"\n', encoding="utf-8")
    header = "code,name,tier,nation,region,population,lat,lon" + extra_columns
    lines = [header] + [f"A{i},A{i},district,england,R,100,52.0,{i * 0.1}{rows[i]}" for i in range(2)]
    (inst / "councils.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (inst / "adjacency.csv").write_text("a,b\nA0,A1\n", encoding="utf-8")
    return inst, model


def test_a_ramp_by_hand(tmp_path):
    inst, model = pair_instance(tmp_path, "ramp = [0.25, 0.5]")
    plan = solve(inst, model)
    annual = 2000 * (1 - math.sqrt(2) / 2)
    # years 1..4 realise 0.25, 0.5, 0.5, 0.5 of A, discounted at 10%
    ramped = 0.25 / 1.1 + 0.5 / 1.1**2 + 0.5 / 1.1**3 + 0.5 / 1.1**4
    (p,) = plan.partnerships
    assert p.npv == pytest.approx(annual * ramped - 400, rel=1e-12)
    # cumulative: 146.45 after year 1, then 292.89 a year: 400 is reached in year 2,
    # 1 + (400 - 146.45) / 292.89 = 1.866 years
    assert p.payback_years == pytest.approx(1 + (400 - 0.25 * annual) / (0.5 * annual), rel=1e-12)
    assert verify(inst, plan.data, model).ok


def test_a_ramp_that_never_pays_back_leaves_no_plan(tmp_path):
    inst, model = pair_instance(tmp_path, "ramp = [0.1, 0.0]")
    assert solve(inst, model).partnerships == ()


@pytest.mark.parametrize("ramp,why", [
    ("ramp = []", "non-empty list"),
    ("ramp = 0.5", "non-empty list"),
    ("ramp = [0.5, 1.5]", "value 2 is 1.5"),
    ("ramp = [-0.1]", "value 1 is -0.1"),
    ('ramp = ["half"]', "value 1 is 'half'"),
    ("ramp = [true]", "value 1 is True"),
])
def test_bad_ramps_exit_2_naming_the_model_file_and_key(tmp_path, capsys, ramp, why):
    inst, model = pair_instance(tmp_path, ramp)
    code = None
    try:
        code = main(["solve", str(inst), "--quiet"])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert str(model) in err and "depths[0].ramp" in err and why in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
