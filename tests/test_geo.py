"""plan.geojson read back with a real reader (json and shapely), and the boundaries it is built from."""

from __future__ import annotations

import json
import shutil

import pytest
from shapely.geometry import shape

from optimiser import solve
from optimiser.cli import main
from optimiser.io.instance import load_instance
from optimiser.io.model import load_model
from optimiser.report.geo import council_shapes, plan_geojson, read_boundaries
from optimiser.report.labels import Labels


@pytest.fixture(scope="module")
def suffolk():
    instance = load_instance("suffolk-2023")
    plan = solve(instance, functions=["ict", "waste-collection", "highways"])
    return instance, plan, json.loads(plan_geojson(plan, Labels.of(instance, load_model("uk-central")), instance))


def test_every_council_of_the_plan_is_a_shape(suffolk):
    instance, plan, data = suffolk
    assert data["type"] == "FeatureCollection" and "Open Government Licence" in data["attribution"]
    councils = {f["properties"]["code"]: f for f in data["features"] if f["properties"]["feature"] == "council"}
    assert set(councils) == {c.code for c in plan.councils}
    names = dict(zip(instance.councils["code"], instance.councils["name"]))
    for code, f in councils.items():
        geometry = shape(f["geometry"])
        assert geometry.geom_type == "MultiPolygon" and geometry.area > 0
        assert f["properties"]["name"] == names[code]
        for c in plan.councils:
            if c.code == code:
                assert f["properties"][f"partnership_{c.function}"] == c.partnership
    # the county (Suffolk, E10000029) is its five districts together
    districts = [shape(councils[c]["geometry"]) for c in ("E07000200", "E07000202", "E07000203", "E07000244", "E07000245")]
    county = shape(councils["E10000029"]["geometry"])
    assert county.is_valid and county.area == pytest.approx(sum(d.area for d in districts))


def test_one_feature_per_partnership_covering_its_members(suffolk):
    _, plan, data = suffolk
    shapes = {f["properties"]["code"]: shape(f["geometry"]) for f in data["features"] if f["properties"]["feature"] == "council"}
    parts = {f["properties"]["id"]: f for f in data["features"] if f["properties"]["feature"] == "partnership"}
    assert set(parts) == {p.id for p in plan.partnerships}
    for p in plan.partnerships:
        f = parts[p.id]
        assert f["properties"]["members"].split() == list(p.members) and f["properties"]["npv"] == round(p.npv)
        merged = shape(f["geometry"])  # the members' shapes dissolved into one
        assert merged.is_valid
        assert merged.area == pytest.approx(sum(shapes[c].area for c in p.members), rel=1e-9)


def test_every_uk_council_has_a_shape():
    instance = load_instance("uk-2023")
    shapes = council_shapes(instance, instance.codes)
    assert set(shapes) == set(instance.codes)


def test_bad_boundaries_file_exits_2_and_writes_nothing(tmp_path, capsys):
    inst = tmp_path / "inst"
    shutil.copytree(load_instance("suffolk-2023").folder, inst)
    (inst / "boundaries.geojson").write_text('{"type": "FeatureCollection", "features": [{"properties": {}}]}')
    with pytest.raises(Exception) as caught:
        read_boundaries(load_instance(inst))
    assert "feature 0" in str(caught.value)
    out = tmp_path / "out"
    assert main(["solve", str(inst), "--functions", "legal", "--out", str(out), "--quiet"]) == 2
    message = capsys.readouterr().err
    assert "boundaries.geojson" in message and "feature 0" in message and "Traceback" not in message
    assert not out.exists() or not any(out.iterdir())


def test_dissolve_agrees_with_shapely_on_uk_groups():
    """Every county's districts and 200 random connected groups of UK councils: merged by
    dropping shared edges, the same area as shapely's union, and a valid geometry."""
    import random

    from shapely.ops import unary_union

    from optimiser.report.dissolve import dissolve

    instance = load_instance("uk-2023")
    boundaries = read_boundaries(instance)
    councils = instance.councils
    groups = [[d for d, c in zip(councils["code"], councils["county"]) if c == county]
              for county in sorted({c for c in councils["county"] if c})]
    rng = random.Random(7)
    codes = sorted(boundaries)
    for _ in range(200):
        group = [rng.choice(codes)]
        for _ in range(rng.randint(1, 7)):
            near = sorted({n for c in group for n in instance.graph[c] if n in boundaries} - set(group))
            if near:
                group.append(rng.choice(near))
        groups.append(group)
    for group in groups:
        mine = dissolve([polygon for code in group for polygon in boundaries[code]])
        assert mine is not None, group
        ours = shape({"type": "MultiPolygon", "coordinates": mine})
        theirs = unary_union([shape({"type": "MultiPolygon", "coordinates": boundaries[c]}) for c in group])
        assert ours.is_valid, group
        assert ours.symmetric_difference(theirs).area < 1e-9, group
        assert len(mine) == len(getattr(theirs, "geoms", [theirs])), group


def test_dissolve_gives_up_when_borders_do_not_match():
    from optimiser.report.dissolve import dissolve

    left = [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]
    right = [[[1, 0], [2, 0], [2, 1], [1, 1], [1, 0.5], [1, 0]]]  # an extra vertex on the shared side
    assert dissolve([left, right]) is None
    hole = [[[0, 0], [3, 0], [3, 3], [0, 3], [0, 0]], [[1, 1], [1, 2], [2, 2], [2, 1], [1, 1]]]
    kept = shape({"type": "MultiPolygon", "coordinates": dissolve([hole])})  # a hole stays a hole
    assert kept.is_valid and kept.area == 8 and len(kept.geoms[0].interiors) == 1


def test_gdal_reads_it_as_qgis_would(suffolk, tmp_path):
    """QGIS reads GeoJSON through GDAL's OGR driver: when GDAL's ogrinfo is installed, it opens
    plan.geojson as one WGS84 MultiPolygon layer with every feature."""
    import subprocess

    ogrinfo = shutil.which("ogrinfo")
    if ogrinfo is None:
        pytest.skip("GDAL's ogrinfo is not installed (Debian: apt-get install -y gdal-bin); shapely's reading above still runs")
    _, _, data = suffolk
    path = tmp_path / "plan.geojson"
    path.write_text(json.dumps(data), encoding="utf-8")
    shown = subprocess.run([ogrinfo, "-ro", "-al", "-so", str(path)], capture_output=True, text=True, timeout=60).stdout
    assert "using driver `GeoJSON' successful" in shown
    assert f"Feature Count: {len(data['features'])}" in shown and "Geometry: Multi Polygon" in shown
    assert 'ID["EPSG",4326]' in shown and "member_names: String" in shown
