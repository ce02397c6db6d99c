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
    assert county.area == pytest.approx(sum(d.area for d in districts))


def test_one_feature_per_partnership_covering_its_members(suffolk):
    _, plan, data = suffolk
    shapes = {f["properties"]["code"]: shape(f["geometry"]) for f in data["features"] if f["properties"]["feature"] == "council"}
    parts = {f["properties"]["id"]: f for f in data["features"] if f["properties"]["feature"] == "partnership"}
    assert set(parts) == {p.id for p in plan.partnerships}
    for p in plan.partnerships:
        f = parts[p.id]
        assert f["properties"]["members"].split() == list(p.members) and f["properties"]["npv"] == round(p.npv)
        merged = shape(f["geometry"]).buffer(0)  # members' polygons together, their shared borders inside
        assert merged.area == pytest.approx(sum(shapes[c].area for c in p.members), rel=1e-3)


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
