"""The shipped savings models (models/*.toml) and what models/README.md says about them.

Loads both models and checks their figures are sane; recomputes the README's worked
example by hand and through the optimiser; and checks the README's calibration tables,
per-capita baselines and its description of the sceptical model against the TOML files,
so the documentation cannot drift from the figures the optimiser uses.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

import optimiser
from optimiser.errors import InputError
from optimiser.io.model import GeographyRule, load_model, parse_geography_rule

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "models" / "README.md").read_text(encoding="utf-8")
MODELS = ("uk-central", "uk-central-sceptical")
EARTH_RADIUS_KM = 6371.0088


@pytest.fixture(scope="module", params=MODELS)
def model(request):
    return load_model(request.param)


@pytest.fixture(scope="module")
def central():
    return load_model("uk-central")


@pytest.fixture(scope="module")
def sceptical():
    return load_model("uk-central-sceptical")


def section(title: str) -> str:
    """The text of one '## ' section of models/README.md."""
    start = README.index(f"\n## {title}")
    end = README.find("\n## ", start + 1)
    return README[start:] if end < 0 else README[start:end]


# ---------------------------------------------------------------- loading and sanity


def test_both_models_load_by_name_and_by_path(model):
    assert model.name in MODELS
    again = load_model(ROOT / "models" / f"{model.name}.toml")
    assert (again.name, again.tiers, again.depths, again.functions) == (model.name, model.tiers, model.depths, model.functions)


def test_tiers_cover_the_shipped_instances(model):
    assert set(model.tiers) >= {"county", "district", "unitary", "metropolitan", "london", "ni-district"}
    assert len(set(model.tiers)) == len(model.tiers)


def test_finance(model):
    assert model.horizon_years == 10
    assert model.discount_rate == pytest.approx(0.035)
    assert model.annuity == pytest.approx(8.3166053, abs=1e-7)


def test_annuity_formula():
    model = load_model("uk-central")
    assert model.annuity == pytest.approx(sum(1.035 ** -t for t in range(1, 11)), rel=1e-15)
    assert model.annuity == pytest.approx((1 - 1.035 ** -10) / 0.035, rel=1e-12)
    assert f"{model.annuity:.4f}" == "8.3166"


def test_depths_shallow_to_deep(model):
    assert [d.id for d in model.depths] == ["shared-management", "shared-service", "standardised"]
    captures = [d.capture for d in model.depths]
    assert captures == sorted(captures) and all(0 < c <= 1 for c in captures)
    assert all(d.one_off > 0 for d in model.depths)
    commitments = [d.min_commitment for d in model.depths]
    assert commitments == sorted(commitments) and all(0 <= c <= 1 for c in commitments)
    assert [d.common_platform for d in model.depths] == [False, False, True]


def test_every_function(model):
    ids = model.function_ids
    assert len(ids) == len(set(ids)) == 15
    for f in model.functions:
        assert f.tiers, f.id
        assert set(f.tiers) <= set(model.tiers), f.id
        assert f.sources and all(s.strip() for s in f.sources), f"{f.id} has no sources"
        assert 0 < f.scale_exponent <= 1, f.id
        assert f.per_capita > 0, f.id
        assert 0 <= f.coordination < 1 and 0 <= f.migration < 1, f.id
        assert 2 <= f.max_size <= 6, f.id
        assert 0 <= f.host_min_commitment <= 1, f.id
        kinds = [r.kind for r in f.geography]
        assert "contiguous" in kinds and "same_nation" in kinds, f.id
        assert f.title and f.title != f.id, f.id


def test_county_and_district_functions(central):
    """Revenues and benefits is a billing-authority function; highways a county one."""
    assert "county" not in central.function("revenues-benefits").tiers
    assert "district" not in central.function("highways").tiers
    assert "district" in central.function("ict").tiers and "county" in central.function("ict").tiers


def test_geography_rules_parse():
    assert parse_geography_rule("within_km:80", "m", "k") == GeographyRule("within_km", 80.0)
    assert parse_geography_rule(" contiguous ", "m", "k") == GeographyRule("contiguous")
    assert str(GeographyRule("within_km", 12.5)) == "within_km:12.5"
    for bad in ("within_km", "within_km:-1", "within_km:x", "adjacent", "contiguous:1", 5):
        with pytest.raises(InputError) as info:
            parse_geography_rule(bad, "model.toml", "rules.geography")
        assert info.value.source == "model.toml" and info.value.where == "rules.geography"


# ---------------------------------------------------------------- the worked example


# models/README.md, "Worked example: two councils share ICT"
POP_A, POP_B = 100_000, 150_000
SPEND_A, SPEND_B = 2_000_000, 3_000_000
DISTANCE_KM = 20.0
README_NPV = {"shared-management": 1_251_512, "shared-service": 2_554_474, "standardised": 3_034_799}
README_SHARES = {"A": 1_213_920, "B": 1_820_880}


def _worked_example(model) -> dict[str, dict[str, float]]:
    ict = model.function("ict")
    beta = ict.scale_exponent
    b_total = SPEND_A + SPEND_B
    r = 1 - (POP_A + POP_B) ** beta / (POP_A ** beta + POP_B ** beta)
    k = ict.coordination * (SPEND_A * DISTANCE_KM + SPEND_B * 0.0) / 100  # B hosts
    out = {}
    for d in model.depths:
        g = d.capture * r * b_total
        a = g - k
        m = ict.migration * SPEND_A if d.common_platform else 0.0  # A moves onto B's vendor X
        o = d.one_off * b_total + m
        # each year's saving scaled by the depth's ramp (the last value holding after)
        ramped = sum(d.ramp[min(t, len(d.ramp)) - 1] * (1 + model.discount_rate) ** -t for t in range(1, model.horizon_years + 1))
        paid, year = 0.0, 0
        while paid + a * d.ramp[min(year + 1, len(d.ramp)) - 1] < o:
            year += 1
            paid += a * d.ramp[min(year, len(d.ramp)) - 1]
        payback = year + (o - paid) / (a * d.ramp[min(year + 1, len(d.ramp)) - 1])
        out[d.id] = {"G": g, "A": a, "M": m, "O": o, "NPV": a * ramped - o, "payback": payback, "r": r, "K": k}
    return out


def test_worked_example_figures_are_in_the_readme():
    text = section("The arithmetic")
    for npv in README_NPV.values():
        assert f"£{npv:,}" in text
    for share in README_SHARES.values():
        assert f"£{share:,}" in text
    assert "coordination = 0.01 and migration = 0.35" in text and "β = 0.8" in text


def test_worked_example_parameters_match_uk_central(central):
    ict = central.function("ict")
    assert (ict.scale_exponent, ict.coordination, ict.migration) == (0.8, 0.01, 0.35)
    text = section("The arithmetic")
    for d in central.depths:
        assert f"| {d.id} ({d.capture!r}, {d.one_off!r})" in text, d.id


def test_worked_example_by_hand(central):
    rows = _worked_example(central)
    assert rows["standardised"]["r"] == pytest.approx(0.12663, abs=5e-6)
    assert rows["standardised"]["K"] == pytest.approx(4000)
    for depth, npv in README_NPV.items():
        assert rows[depth]["NPV"] == pytest.approx(npv, abs=1.0), depth
    assert [round(rows[d]["payback"], 1) for d in README_NPV] == [1.6, 2.1, 3.6]
    assert rows["standardised"]["G"] == pytest.approx(633_148, abs=1.0)
    assert rows["standardised"]["O"] == pytest.approx(1_450_000)
    best = rows["standardised"]["NPV"]
    assert best * 2 / 5 == pytest.approx(README_SHARES["A"], abs=1.0)
    assert best * 3 / 5 == pytest.approx(README_SHARES["B"], abs=1.0)
    # the other platform (A's own system, B migrates) loses 350,000 of NPV
    ict = central.function("ict")
    assert ict.migration * (SPEND_B - SPEND_A) == pytest.approx(350_000)


@pytest.fixture
def example_instance(tmp_path) -> Path:
    """The worked example as an instance: B due north of A, exactly 20 km away."""
    folder = tmp_path / "example"
    folder.mkdir()
    lat_b = 52.0 + math.degrees(DISTANCE_KM / EARTH_RADIUS_KM)
    (folder / "instance.toml").write_text(
        'name = "example"\nmodel = "uk-central"\n[tables]\ncouncils = "councils.csv"\nadjacency = "adjacency.csv"\n'
        'spend = "spend.csv"\nplatforms = "platforms.csv"\n',
        encoding="utf-8",
    )
    (folder / "councils.csv").write_text(
        "code,name,tier,nation,region,county,population,lat,lon\n"
        f"A,Council A,district,england,R,C,{POP_A},52.0,1.0\n"
        f"B,Council B,district,england,R,C,{POP_B},{lat_b:.12f},1.0\n",
        encoding="utf-8",
    )
    (folder / "adjacency.csv").write_text("a,b\nA,B\n", encoding="utf-8")
    (folder / "spend.csv").write_text(f"code,function,baseline\nA,ict,{SPEND_A}\nB,ict,{SPEND_B}\n", encoding="utf-8")
    (folder / "platforms.csv").write_text("code,function,platform\nB,ict,vendor X\n", encoding="utf-8")
    return folder


def test_worked_example_through_the_optimiser(example_instance):
    plan = optimiser.solve(str(example_instance), functions=("ict",))
    assert plan.status == "optimal"
    (p,) = plan.partnerships
    assert p["members"] == ["A", "B"] and p["host"] == "B"
    assert p["depth"] == "standardised" and p["platform"] == "vendor X"
    assert p["npv"] == pytest.approx(README_NPV["standardised"], abs=1.0)
    assert p["one_off_cost"] == pytest.approx(1_450_000)
    assert p["payback_years"] == pytest.approx(3.55, abs=0.005)
    shares = {r["code"]: r["npv_share"] for r in plan.councils}
    assert shares["A"] == pytest.approx(README_SHARES["A"], abs=1.0)
    assert shares["B"] == pytest.approx(README_SHARES["B"], abs=1.0)
    assert optimiser.verify(str(example_instance), plan.data).ok


def _commitments(folder: Path, a: float, b: float) -> None:
    path = folder / "councils.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",commitment", f"{lines[1]},{a}", f"{lines[2]},{b}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    "a, b, depth",
    [
        (0.55, 0.55, "shared-service"),  # README: commitments between 0.3 and 0.6
        (0.2, 0.9, "shared-management"),  # A below every deeper depth's min_commitment
        (0.45, 0.45, None),  # nobody may host (host_min_commitment 0.5)
        (0.6, 0.6, "standardised"),
    ],
)
def test_worked_example_commitments(example_instance, a, b, depth):
    _commitments(example_instance, a, b)
    plan = optimiser.solve(str(example_instance), functions=("ict",))
    if depth is None:
        assert plan.partnerships == ()
        return
    (p,) = plan.partnerships
    assert p["depth"] == depth
    if depth != "standardised":
        assert p["platform"] is None
    if depth in README_NPV and p["host"] == "B":
        assert p["npv"] == pytest.approx(README_NPV[depth], abs=1.0)


# ---------------------------------------------------------------- README tables against the TOML


def _scale_table(text: str) -> dict[float, tuple[list[str], list[float]]]:
    rows = {}
    for match in re.finditer(r"^\| \*\*([\d.]+)\*\* \| ([^|]+) \| scale rate r \| (.+) \|$", text, re.M):
        beta = float(match.group(1))
        functions = [f.strip() for f in match.group(2).split(",")]
        rates = [float(x) for x in re.findall(r"\*\*([\d.]+)%\*\*", match.group(3))]
        rows[beta] = (functions, rates)
    return rows


@pytest.mark.parametrize("name, title", [("uk-central", "Calibration against published figures"),
                                         ("uk-central-sceptical", "uk-central-sceptical: the alternative view")])
def test_scale_rate_tables(name, title):
    model = load_model(name)
    table = _scale_table(section(title))
    assert table, "no scale-rate table found"
    listed = [f for functions, _ in table.values() for f in functions]
    assert sorted(listed) == sorted(model.function_ids), "every function appears once"
    for beta, (functions, rates) in table.items():
        for fid in functions:
            assert model.function(fid).scale_exponent == pytest.approx(beta), fid
        assert rates == [round(100 * (1 - k ** (beta - 1)), 1) for k in (2, 3, 4, 6)], beta


def test_payback_table(central):
    """Equal councils 20 km from the host, each on a system of its own (README 'Payback')."""
    text = section("Calibration against published figures")
    seen = 0
    for match in re.finditer(r"^\| ([a-z-]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \| ([+-][\d.]+) \|$", text, re.M):
        fid = match.group(1)
        f = central.function(fid)
        for d, cell in zip(central.depths, match.groups()[1:4]):
            for k, shown in zip((2, 3, 4, 6), (c.strip() for c in cell.split("/"))):
                if k > f.max_size:
                    assert shown == "–", (fid, d.id, k)
                    continue
                r = 1 - k ** (f.scale_exponent - 1)
                annual = d.capture * r - f.coordination * (k - 1) / k * DISTANCE_KM / 100
                one_off = d.one_off + (f.migration * (k - 1) / k if d.common_platform else 0.0)
                assert float(shown) == pytest.approx(one_off / annual, abs=0.051), (fid, d.id, k)
        best = max(
            (d.capture * (1 - 2 ** (f.scale_exponent - 1)) - f.coordination * 0.5 * DISTANCE_KM / 100) * central.annuity
            - d.one_off - (f.migration * 0.5 if d.common_platform else 0.0)
            for d in central.depths
        )
        assert float(match.group(5)) == pytest.approx(best, abs=0.0051), fid
        seen += 1
    assert seen == 15


def test_per_capita_table(model):
    text = section("Baselines (`per_capita`)")
    seen = set()
    for match in re.finditer(r"^\| ([a-z, -]+) \| [^|]+ \| £[\d.]+bn(?: each)? \| ([\d.]+) \|$", text, re.M):
        for fid in (f.strip() for f in match.group(1).split(",")):
            assert model.function(fid).per_capita == pytest.approx(float(match.group(2))), fid
            seen.add(fid)
    assert seen == set(model.function_ids)


def test_per_capita_is_the_england_average(central):
    """per_capita = total England baseline / population of the councils with a row (README)."""
    folder = ROOT / "instances" / "england-2023"
    spend = pd.read_csv(folder / "spend.csv", dtype={"code": str})
    population = pd.read_csv(folder / "councils.csv", dtype={"code": str}).set_index("code")["population"]
    for fid, rows in spend.groupby("function"):
        average = rows["baseline"].sum() / population.loc[rows["code"]].sum()
        assert central.function(fid).per_capita == pytest.approx(round(average, 1), abs=0.051), fid


def test_sceptical_keeps_central_structure(central, sceptical):
    """README: the sceptical model keeps tiers, functions, per_capita, rules and the depths' thresholds."""
    assert sceptical.tiers == central.tiers
    assert sceptical.function_ids == central.function_ids
    assert (sceptical.horizon_years, sceptical.discount_rate) == (central.horizon_years, central.discount_rate)
    assert [(d.id, d.min_commitment, d.common_platform) for d in sceptical.depths] == \
           [(d.id, d.min_commitment, d.common_platform) for d in central.depths]
    for c, s in zip(central.functions, sceptical.functions):
        assert (s.tiers, s.per_capita, s.max_size, s.geography, s.host_min_commitment) == \
               (c.tiers, c.per_capita, c.max_size, c.geography, c.host_min_commitment), c.id
        # coordination 1.5 times and migration 1.2 times the central figures
        assert s.coordination == pytest.approx(1.5 * c.coordination), c.id
        assert s.migration == pytest.approx(1.2 * c.migration), c.id
        # and scale economies no stronger than the central view
        assert s.scale_exponent >= c.scale_exponent, c.id
    assert [(d.capture, d.one_off) for d in sceptical.depths] == [(0.2, 0.06), (0.5, 0.15), (0.8, 0.22)]
    for d_c, d_s in zip(central.depths, sceptical.depths):
        assert d_s.capture <= d_c.capture
