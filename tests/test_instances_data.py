"""The shipped real-data instances (instances/england-2023, uk-2023, suffolk-2023).

Checks the tables against what instances/README.md states about them: council counts by
ONS code prefix, populations, the adjacency graph's shape (one mainland component, six
islands, Northern Ireland on its own), districts touching their counties, points inside
the UK, spend rows, and that ``instances/build.py --check`` reproduces every shipped file
from the raw data byte for byte. Ends with a county-sized solve that must be optimal and
verify.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

import optimiser
from optimiser import load_instance, load_model

ROOT = Path(__file__).resolve().parent.parent
INSTANCES = ROOT / "instances"
RAW = ROOT.parent / "shared" / "data" / "raw"

ISLANDS = {"E06000046", "E06000053", "W06000001", "S12000013", "S12000023", "S12000027"}
CODE_PATTERN = {
    "E06": r"E06\d{6}", "E07": r"E07\d{6}", "E08": r"E08\d{6}", "E09": r"E09\d{6}", "E10": r"E10\d{6}",
    "W06": r"W06\d{6}", "S12": r"S12\d{6}", "N09": r"N09\d{6}",
}
TIER_OF_PREFIX = {"E10": "county", "E07": "district", "E06": "unitary", "E08": "metropolitan", "E09": "london",
                  "W06": "unitary", "S12": "unitary", "N09": "ni-district"}
NATION_OF_PREFIX = {"E": "england", "W": "wales", "S": "scotland", "N": "northern-ireland"}
ENGLAND_COUNTS = {"E10": 21, "E07": 164, "E06": 63, "E08": 36, "E09": 33}
UK_COUNTS = {**ENGLAND_COUNTS, "W06": 22, "S12": 32, "N09": 11}
ENGLISH_REGIONS = {f"E1200000{k}" for k in range(1, 10)}
OTHER_REGIONS = {"wales": "W92000004", "scotland": "S92000003", "northern-ireland": "N92000002"}
# The UK, islands included: Scilly 49.9 N to Shetland 60.9 N, Fermanagh 8.2 W to Lowestoft 1.8 E.
LAT_RANGE, LON_RANGE = (49.8, 61.0), (-8.7, 1.8)


@pytest.fixture(scope="module")
def england():
    return load_instance(INSTANCES / "england-2023")


@pytest.fixture(scope="module")
def uk():
    return load_instance(INSTANCES / "uk-2023")


@pytest.fixture(scope="module")
def suffolk():
    return load_instance(INSTANCES / "suffolk-2023")


@pytest.fixture(scope="module", params=["england-2023", "uk-2023"])
def big(request, england, uk):
    return {"england-2023": england, "uk-2023": uk}[request.param]


@pytest.fixture(scope="module")
def model():
    return load_model("uk-central")


def prefix_counts(instance) -> dict[str, int]:
    return instance.councils["code"].str[:3].value_counts().to_dict()


# ---------------------------------------------------------------- councils


def test_council_counts(england, uk, suffolk):
    assert len(england.councils) == 317 and prefix_counts(england) == ENGLAND_COUNTS
    assert len(uk.councils) == 382 and prefix_counts(uk) == UK_COUNTS
    assert len(suffolk.councils) == 6


def test_codes_unique_and_valid(big):
    codes = big.councils["code"]
    assert codes.is_unique
    for code in codes:
        assert re.fullmatch(CODE_PATTERN[code[:3]], code), code


def test_tier_nation_region_follow_the_code(big):
    for row in big.councils.itertuples():
        prefix = row.code[:3]
        assert row.tier == TIER_OF_PREFIX[prefix], row.code
        assert row.nation == NATION_OF_PREFIX[row.code[0]], row.code
        if row.nation == "england":
            assert row.region in ENGLISH_REGIONS, row.code
        else:
            assert row.region == OTHER_REGIONS[row.nation], row.code
        assert row.name.strip(), row.code


def test_districts_have_their_county(big):
    councils = big.councils.set_index("code")
    counties = set(councils.index[councils["tier"] == "county"])
    for code, row in councils.iterrows():
        if row["tier"] == "district":
            assert row["county"] in counties, code
            # all of a county's districts are in one region, and the county takes it
            assert councils.loc[row["county"], "region"] == row["region"], code
        else:
            assert row["county"] == "", code
    # every county has districts
    assert counties == set(councils.loc[councils["tier"] == "district", "county"])


def test_populations(england, uk):
    e = england.councils
    lower = e[e["tier"] != "county"]
    assert int(lower["population"].sum()) == 57_690_323
    assert (e["population"] > 0).all()
    # a county's population is the sum of its districts'
    by_county = e[e["tier"] == "district"].groupby("county")["population"].sum()
    for row in e[e["tier"] == "county"].itertuples():
        assert row.population == by_county[row.code], row.code
    u = uk.councils
    lower = u[u["tier"] != "county"]
    totals = lower.groupby("nation")["population"].sum().to_dict()
    assert totals == {"england": 57_690_323, "wales": 3_164_404, "scotland": 5_447_700, "northern-ireland": 1_910_543}
    assert int(lower["population"].sum()) == 68_212_970


def test_defaults_left_empty(big):
    """The shipped instances leave commitment and limits to their defaults."""
    c = big.councils
    assert (c["commitment"] == 1.0).all()
    assert c["max_partnerships"].isna().all() and c["max_hosted"].isna().all()


PARTIES = {"Conservative", "Labour", "Liberal Democrat", "Green", "UKIP", "Reform UK", "Plaid Cymru", "SNP",
           "Independent and other"}


def test_political_control_after_the_2023_elections(uk):
    """Control is the party holding more than half the seats after May 2023, empty under no
    overall control and for Northern Ireland (not in the source's 2023 rows)."""
    c = uk.councils.set_index("code")["control"]
    assert set(c[c != ""]) <= PARTIES
    # a few councils whose 2023 result is well known
    assert c["E07000203"] == "Green"  # Mid Suffolk: the Greens won a majority in 2023
    assert c["E07000200"] == ""  # Babergh: no overall control
    assert c["E09000033"] == "Labour"  # Westminster: Labour since 2022
    assert c["E09000020"] == "Conservative"  # Kensington and Chelsea
    assert c["W06000015"] == "Labour"  # Cardiff
    assert (c[c.index.str.startswith("N")] == "").all()
    # the two councils recoded in 2024 are matched under their 2023 codes
    assert c["E08000016"] != "" and c["E08000019"] == ""  # Barnsley Labour; Sheffield no overall control
    assert int((c == "").sum()) == 11 + 138  # Northern Ireland, and the councils under no overall control in 2023


def test_points_inside_the_uk(big):
    c = big.councils
    assert c["lat"].between(*LAT_RANGE).all(), c.loc[~c["lat"].between(*LAT_RANGE), "code"].tolist()
    assert c["lon"].between(*LON_RANGE).all(), c.loc[~c["lon"].between(*LON_RANGE), "code"].tolist()
    # Northern Ireland is west of Great Britain's east coast and of 5.4 W
    ni = c[c["nation"] == "northern-ireland"]
    assert (ni["lon"] < -5.4).all()


# ---------------------------------------------------------------- adjacency


def test_adjacency_edges(england, uk, suffolk):
    assert england.graph.number_of_edges() == 1198
    assert uk.graph.number_of_edges() == 1335
    assert suffolk.graph.number_of_edges() == 13


def test_adjacency_codes_and_loops(big):
    codes = set(big.councils["code"])
    assert set(big.graph.nodes) == codes
    assert nx.number_of_selfloops(big.graph) == 0
    for a, b, data in big.graph.edges(data=True):
        assert a in codes and b in codes
        assert data["border_km"] is not None and data["border_km"] > 0, (a, b)


def test_adjacency_file_sorted_once(big):
    """Every pair listed once with a < b, sorted (instances/README.md)."""
    lines = (big.folder / "adjacency.csv").read_text(encoding="utf-8").splitlines()[1:]
    pairs = [tuple(line.split(",")[:2]) for line in lines]
    assert all(a < b for a, b in pairs)
    assert pairs == sorted(pairs) and len(set(pairs)) == len(pairs)


def _components(instance) -> set[frozenset[str]]:
    return {frozenset(p) for p in nx.connected_components(instance.graph)}


def test_components_england(england):
    parts = _components(england)
    mainland = max(parts, key=len)
    assert len(mainland) == 315
    assert parts - {mainland} == {frozenset({"E06000046"}), frozenset({"E06000053"})}  # Wight, Scilly


def test_components_uk(uk):
    parts = _components(uk)
    mainland = max(parts, key=len)
    ni = frozenset(c for c in uk.codes if c.startswith("N09"))
    assert len(mainland) == 365
    # every Great Britain council but the six islands is in one component
    assert mainland == set(uk.codes) - ni - ISLANDS
    assert parts - {mainland} == {ni} | {frozenset({c}) for c in ISLANDS}


def test_islands_have_no_edges(big):
    for code in ISLANDS & set(big.codes):
        assert big.graph.degree(code) == 0, code


def test_each_district_touches_its_county(big):
    for row in big.councils.itertuples():
        if row.tier == "district":
            assert big.graph.has_edge(row.code, row.county), row.code


def test_cross_border_edges(england, uk):
    """uk-2023: the 10 cross-border council pairs, plus Gloucestershire - Monmouthshire."""
    nation = dict(zip(uk.councils["code"], uk.councils["nation"]))
    tier = dict(zip(uk.councils["code"], uk.councils["tier"]))
    cross = {frozenset(e) for e in uk.graph.edges if nation[e[0]] != nation[e[1]]}
    lad = {e for e in cross if "county" not in {tier[c] for c in e}}
    assert len(lad) == 10
    assert cross - lad == {frozenset({"E10000013", "W06000021"})}  # Gloucestershire - Monmouthshire
    assert frozenset({"E06000019", "W06000021"}) in lad  # Herefordshire - Monmouthshire
    assert frozenset({"E06000057", "S12000026"}) in lad  # Northumberland - Scottish Borders
    assert all(c.startswith("E") for e in england.graph.edges for c in e)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("england-2023", {"lad": 771, "own county": 164, "other county's district": 124, "county-unitary": 63,
                          "county-metropolitan": 28, "county-london": 17, "county-county": 31}),
        ("uk-2023", {"lad": 907, "own county": 164, "other county's district": 124, "county-unitary": 64,
                     "county-metropolitan": 28, "county-london": 17, "county-county": 31}),
    ],
)
def test_edge_kinds(name, expected, england, uk):
    """The breakdown of edges that instances/README.md gives."""
    instance = {"england-2023": england, "uk-2023": uk}[name]
    tier = dict(zip(instance.councils["code"], instance.councils["tier"]))
    county = dict(zip(instance.councils["code"], instance.councils["county"]))
    counts: dict[str, int] = {}
    for a, b in instance.graph.edges:
        kinds = sorted((tier[a], tier[b]), key=lambda t: t != "county")
        if kinds[0] != "county":
            kind = "lad"
        elif kinds[1] == "county":
            kind = "county-county"
        elif kinds[1] == "district":
            district, parent = (b, a) if tier[a] == "county" else (a, b)
            kind = "own county" if county[district] == parent else "other county's district"
        else:
            kind = f"county-{kinds[1]}"
        counts[kind] = counts.get(kind, 0) + 1
    assert counts == expected


def test_england_is_the_english_part_of_uk(england, uk):
    e = england.councils.drop(columns="line").reset_index(drop=True)
    u = uk.councils[uk.councils["nation"] == "england"].drop(columns="line").reset_index(drop=True)
    assert e.equals(u)
    english = set(england.codes)
    assert set(map(frozenset, england.graph.edges)) == set(map(frozenset, uk.graph.subgraph(english).edges))
    assert england.spend == uk.spend
    assert england.partnerships == uk.partnerships


def test_suffolk_is_a_slice_of_england(england, suffolk):
    codes = set(suffolk.codes)
    e = england.councils[england.councils["code"].isin(codes)].drop(columns="line").reset_index(drop=True)
    s = suffolk.councils.drop(columns="line").reset_index(drop=True)
    assert e.equals(s)
    assert set(map(frozenset, england.graph.subgraph(codes).edges)) == set(map(frozenset, suffolk.graph.edges))
    assert {k: v for k, v in england.spend.items() if k[0] in codes} == suffolk.spend
    assert len(suffolk.spend) == 70
    assert {p.id for p in suffolk.partnerships} == {p.id for p in england.partnerships if set(p.members) <= codes}
    assert len(suffolk.partnerships) == 8


# ---------------------------------------------------------------- spend, partnerships, boundaries


def test_spend(big, model):
    assert len(big.spend) == 4107
    assert len({code for code, _ in big.spend}) == 313
    tiers = big.councils.set_index("code")["tier"]
    for (code, fid), baseline in big.spend.items():
        assert baseline >= 0, (code, fid)
        assert fid in model.function_ids, fid
        assert tiers[code] in model.function(fid).tiers, (code, fid)
        assert code.startswith("E"), code  # only English councils have an RSX return
        assert baseline == int(baseline), (code, fid)  # whole pounds


def test_existing_partnerships(big, model):
    groups = big.partnerships
    assert len(groups) == 31 and sum(len(g.members) for g in groups) == 62
    tiers = big.councils.set_index("code")["tier"]
    for g in groups:
        assert not g.locked
        assert g.function in model.function_ids
        assert g.host in g.members
        for code in g.members:
            assert tiers[code] in model.function(g.function).tiers, (g.id, code)


def test_every_table_validates_against_the_model(big, model):
    from optimiser.problem import prepare

    problem = prepare(big, model)
    assert problem.eligible.any(axis=1).all()


@pytest.mark.parametrize("name, features", [("england-2023", 296), ("uk-2023", 361), ("suffolk-2023", 5)])
def test_boundaries(name, features):
    instance = load_instance(INSTANCES / name)
    data = json.loads(instance.files["boundaries"].read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    codes = [f["properties"]["code"] for f in data["features"]]
    assert len(codes) == len(set(codes)) == features
    lower = set(instance.councils.loc[instance.councils["tier"] != "county", "code"])
    assert set(codes) == lower
    names = dict(zip(instance.councils["code"], instance.councils["name"]))
    for f in data["features"]:
        assert f["properties"]["name"] == names[f["properties"]["code"]]
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_attribution(big):
    text = " ".join(big.attribution)
    assert "Open Government Licence v3.0" in text and "OS data" in text and "mySociety" in text
    assert big.model_ref == "uk-central"


# ---------------------------------------------------------------- reproducible build


def _build(*argv) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(INSTANCES / "build.py"), *map(str, argv)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_build_check_reproduces_the_shipped_tables():
    if not RAW.is_dir():
        pytest.skip(f"raw data not found at {RAW} (CI has it at ../shared/data/raw from the repository root)")
    pytest.importorskip("shapely", reason="instances/build.py needs shapely (the 'build' extra)")
    result = _build("--raw", RAW, "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "match" in result.stdout + result.stderr


def test_build_check_without_raw_data(tmp_path):
    pytest.importorskip("shapely", reason="instances/build.py needs shapely (the 'build' extra)")
    result = _build("--raw", tmp_path / "no-raw", "--check")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no-raw" in lines[0] and "Traceback" not in result.stderr


# ---------------------------------------------------------------- a county-sized solve


def test_county_area_solve_is_optimal_and_verifies(england):
    functions = ("revenues-benefits", "ict", "waste-collection")
    plan = optimiser.solve(england, area=("Suffolk",), functions=functions)
    assert plan.status == "optimal"
    assert plan.solver["gap"] <= 1e-6
    report = optimiser.verify(england, plan.data)
    assert report.ok, report.problems
    suffolk_codes = {"E07000200", "E07000202", "E07000203", "E07000244", "E07000245", "E10000029"}
    assert {r["code"] for r in plan.councils} <= suffolk_codes
    assert {p["function"] for p in plan.partnerships} <= set(functions)
    assert plan.totals["npv"] > 0
    # the slice instance gives the same plan value
    same = optimiser.solve(INSTANCES / "suffolk-2023", functions=functions)
    assert same.objective == pytest.approx(plan.objective, rel=1e-9)


@pytest.mark.parametrize("area,count", [
    ("london", 33), ("London", 33), ("E12000007", 33), ("City of London", 1), ("E09000001", 1),
    ("suffolk", 6), ("E10000029", 6), ("east of england", 50), ("wales", 0), ("england", 317),
])
def test_areas_resolve_by_code_or_name_in_any_case(area, count):
    """A region's name wins over a council whose loose name matches it (City of London)."""
    from optimiser.problem import resolve_area

    instance = load_instance(Path(__file__).resolve().parents[1] / "instances" / "england-2023")
    if count == 0:
        with pytest.raises(optimiser.InputError, match="unknown area"):
            resolve_area(instance, (area,))
    else:
        assert resolve_area(instance, (area,)).sum() == count
