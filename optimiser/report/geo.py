"""A plan on the map: each council's shape from the instance's boundaries, and plan.geojson
(RFC 7946, WGS84) for QGIS or any GIS.

The shipped boundaries hold every council that has a territory of its own; a county council
shares its districts' territory, so its shape is its districts' merged (:mod:`.dissolve`), as
is a partnership's: its members' shapes merged. Where borders do not match vertex for vertex
the shapes stay side by side in one MultiPolygon.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError
from .dissolve import dissolve
from .labels import Labels, pounds

Polygons = list  # MultiPolygon coordinates: [polygon [ring [lon, lat] ...] ...]


def read_boundaries(instance) -> dict[str, Polygons]:
    """{council code: MultiPolygon coordinates} from the instance's boundaries file ({} when it has none)."""
    path = instance.files.get("boundaries")
    if path is None:
        return {}
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"not a readable GeoJSON file: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("features"), list):
        raise InputError(path, "not a GeoJSON FeatureCollection (no 'features' list)")
    shapes = {}
    for number, feature in enumerate(data["features"]):
        where = f"feature {number}"
        try:
            code = feature["properties"]["code"]
            geometry = feature["geometry"]
            kind, coordinates = geometry["type"], geometry["coordinates"]
        except (KeyError, TypeError):
            raise InputError(path, f"{where} has no properties.code or no geometry") from None
        if kind == "Polygon":
            coordinates = [coordinates]
        elif kind != "MultiPolygon":
            raise InputError(path, f"{where} ({code}) is a {kind}; a council's boundary must be a Polygon or MultiPolygon")
        shapes.setdefault(str(code), []).extend(coordinates)
    return shapes


def council_shapes(instance, codes, boundaries: dict[str, Polygons] | None = None) -> dict[str, Polygons]:
    """The shape of each of ``codes``: its own boundary, or for a county its districts' together;
    a council with neither is left out."""
    boundaries = read_boundaries(instance) if boundaries is None else boundaries
    councils = instance.councils
    districts: dict[str, list[str]] = {}
    if "county" in councils:
        for code, county in zip(councils["code"], councils["county"]):
            if county:
                districts.setdefault(county, []).append(code)
    shapes = {}
    for code in codes:
        if code in boundaries:
            shapes[code] = boundaries[code]
        elif districts.get(code):
            together = merged([boundaries[d] for d in districts[code] if d in boundaries])
            if together:
                shapes[code] = together
    return shapes


def merged(shapes: list[Polygons]) -> Polygons:
    """Shapes as one: dissolved where their borders match, else side by side."""
    polygons = [polygon for shape in shapes for polygon in shape]
    if len(shapes) < 2:
        return polygons
    return dissolve(polygons) or polygons


def _geometry(polygons: Polygons | None) -> dict | None:
    return {"type": "MultiPolygon", "coordinates": polygons} if polygons else None


def plan_geojson(plan, labels: Labels, instance, boundaries: dict[str, Polygons] | None = None) -> str:
    """plan.geojson: a feature per council of the plan (its partnership in each function, its
    figures across functions) and a feature per partnership (its members' shapes together)."""
    from .files import council_roll_up

    roll_up = council_roll_up(plan, labels)
    shapes = council_shapes(instance, [r.code for r in roll_up], boundaries)
    of = {(c.code, c.function): c.partnership for c in plan.councils}
    features = []
    for r in roll_up:
        properties = {"feature": "council", "code": r.code, "name": r.name, "tier": labels.tiers.get(r.code),
                      "partnerships_joined": len(r.partnerships), "partnerships_hosted": len(r.hosted),
                      "annual_saving": pounds(r.annual_saving), "one_off_cost": pounds(r.one_off_cost),
                      "npv_share": pounds(r.npv_share)}
        properties.update({f"partnership_{f}": of[(r.code, f)] for f in r.functions})
        features.append({"type": "Feature", "id": r.code, "properties": properties, "geometry": _geometry(shapes.get(r.code))})
    for p in plan.partnerships:
        properties = {"feature": "partnership", "id": p.id, "function": p.function, "function_title": labels.function(p.function),
                      "members": " ".join(p.members), "member_names": "; ".join(labels.council(c) for c in p.members),
                      "host": p.host, "host_name": labels.council(p.host), "depth": p.depth,
                      "platform": labels.platform(p.platform), "annual_saving": pounds(p.annual_saving),
                      "one_off_cost": pounds(p.one_off_cost), "npv": pounds(p.npv),
                      "payback_years": None if p.payback_years is None else round(p.payback_years, 2),
                      "expected_npv": pounds(p.expected_npv), "robust": p.robust}
        polygons = merged([shapes[c] for c in p.members if c in shapes])
        features.append({"type": "Feature", "id": p.id, "properties": properties, "geometry": _geometry(polygons)})
    collection = {"type": "FeatureCollection", "name": f"{labels.instance} plan",
                  "attribution": labels.attribution_text(), "features": features}
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n"
