"""Maps of a plan as inline SVG: every council's shape drawn once (in a hidden ``<defs>``) and
each function's map made of ``<use>`` references to them, coloured by partnership, so a report
with fifteen maps of the UK stays small and needs no map library, tiles or network.

Projection: longitude scaled by the cosine of the area's middle latitude (equirectangular),
which keeps a council's shape true enough at the scale of a county or a country.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

#: partnership colours, told apart in print and by most colour-blind readers (Tableau 10 and
#: its lighter half); a council on its own is grey
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#9c755f", "#ff9da7",
           "#a0cbe8", "#ffbe7d", "#8cd17d", "#d4a6c8", "#86bcb6", "#f1ce63", "#d7b5a6")
ALONE = "#d9d9d9"
WIDTH = 1000.0


@dataclass(frozen=True)
class Projection:
    west: float
    north: float
    xscale: float  # SVG units per degree of longitude
    yscale: float  # SVG units per degree of latitude
    height: float

    @classmethod
    def around(cls, shapes: dict[str, list]) -> "Projection":
        lons = [p[0] for polygons in shapes.values() for polygon in polygons for ring in polygon for p in ring]
        lats = [p[1] for polygons in shapes.values() for polygon in polygons for ring in polygon for p in ring]
        if not lons:
            return cls(0.0, 0.0, 1.0, 1.0, 1.0)
        west, east, south, north = min(lons), max(lons), min(lats), max(lats)
        squash = math.cos(math.radians((north + south) / 2))
        span = max((east - west) * squash, 1e-9)
        scale = WIDTH / span
        return cls(west, north, scale * squash, scale, max((north - south) * scale, 1.0))

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        return round((lon - self.west) * self.xscale, 1), round((self.north - lat) * self.yscale, 1)


def path_data(polygons: list, projection: Projection) -> str:
    """SVG path data of MultiPolygon coordinates (rings closed; points that round together dropped)."""
    parts = []
    for polygon in polygons:
        for ring in polygon:
            points = []
            for lon, lat, *_ in ring:
                p = projection.point(lon, lat)
                if not points or p != points[-1]:
                    points.append(p)
            if len(points) >= 3:
                parts.append("M" + " ".join(f"{x:g},{y:g}" for x, y in points) + "Z")
    return "".join(parts)


def shape_defs(shapes: dict[str, list], projection: Projection) -> str:
    """The hidden SVG holding every council's shape once, for the maps to refer to."""
    paths = [f'<path id="s-{escape(code)}" d="{path_data(polygons, projection)}"/>' for code, polygons in shapes.items()]
    return '<svg class="defs" width="0" height="0" aria-hidden="true" focusable="false"><defs>' + "".join(paths) + "</defs></svg>"


@dataclass(frozen=True)
class MapCouncil:
    code: str
    name: str
    partnership: str | None  # its partnership in this function, None when alone
    tooltip: str  # what hovering shows
    host: bool = False


def colours(partnership_ids: list[str], touching: dict[str, set[str]] | None = None) -> dict[str, str]:
    """A colour per partnership, none the same as a partnership it borders (greedily, in the
    order given; the palette repeats only when every colour is taken by a neighbour).

    >>> colours(["a", "b", "c"], {"a": {"b"}, "b": {"a", "c"}, "c": {"b"}}) == {"a": PALETTE[0], "b": PALETTE[1], "c": PALETTE[0]}
    True
    """
    touching = touching or {}
    chosen: dict[str, str] = {}
    for n, pid in enumerate(partnership_ids):
        taken = {chosen[q] for q in touching.get(pid, ()) if q in chosen}
        free = [c for c in PALETTE if c not in taken]
        chosen[pid] = free[0] if free else PALETTE[n % len(PALETTE)]
    return chosen


def function_map(key: str, title: str, drawn: list[MapCouncil], background: list[str], colour: dict[str, str],
                 projection: Projection, points: dict[str, tuple[float, float]], css: str = "map") -> str:
    """One function's map: its councils coloured by partnership (grey alone), the area's other
    councils faint behind them, each host marked with a ring at a point inside it."""
    height = projection.height
    parts = [f'<svg class="{css}" id="map-{escape(key)}" viewBox="-4 -4 {WIDTH + 8:g} {height + 8:.0f}" role="img" '
             f'aria-label="{escape(title)}" preserveAspectRatio="xMidYMid meet">']
    parts += [f'<use href="#s-{escape(code)}" class="bg"/>' for code in background]
    for c in drawn:
        fill = colour.get(c.partnership, ALONE) if c.partnership else ALONE
        pid = escape(c.partnership or "")
        parts.append(f'<use href="#s-{escape(c.code)}" class="c" fill="{fill}" data-code="{escape(c.code)}" data-p="{pid}">'
                     f'<title>{escape(c.tooltip)}</title></use>')
    for c in drawn:
        if c.host and c.code in points:
            x, y = points[c.code]
            parts.append(f'<circle class="host" cx="{x:g}" cy="{y:g}" r="4" data-code="{escape(c.code)}">'
                         f'<title>{escape(c.name)} hosts {escape(c.partnership or "")}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


def legend(entries: list[tuple[str, str]]) -> str:
    """A key of colours: (colour, words) pairs."""
    return '<ul class="legend">' + "".join(f'<li><span class="swatch" style="background:{c}"></span>{escape(words)}</li>'
                                           for c, words in entries) + "</ul>"
