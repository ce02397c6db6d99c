"""Councils' shapes merged into one, with no geometry library: the shipped boundaries are
snapped to a grid so that neighbours share their border vertex for vertex, and a shared border
is then an edge each side runs the other way. Dropping those pairs leaves the outline of the
whole, which is chained back into rings and sorted into shells and holes.

Shapes whose borders do not match vertex for vertex (another instance's boundaries) leave a
corner of one on a side of the other: :func:`dissolve` then returns None and callers keep the
shapes side by side.
"""

from __future__ import annotations

import math
from collections import defaultdict

Point = tuple[float, float]


def _twice_area(ring: list[Point]) -> float:
    """Twice the signed area of a closed ring: positive when it runs anticlockwise."""
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:]))


def _inside(point: Point, ring: list[Point]) -> bool:
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _corner_on_a_side(edges: list[tuple[Point, Point]]) -> bool:
    """Whether some outline corner lies inside an outline edge: a border the two sides drew
    with different vertices, which no cancelling of shared edges can merge."""
    if not edges:
        return False
    extents = sorted(max(abs(b[0] - a[0]), abs(b[1] - a[1])) for a, b in edges)
    size = extents[len(extents) // 2] or 1.0
    cells: dict[tuple[int, int], list[Point]] = defaultdict(list)
    for p in {p for edge in edges for p in edge}:
        cells[(math.floor(p[0] / size), math.floor(p[1] / size))].append(p)
    for a, b in edges:
        dx, dy = b[0] - a[0], b[1] - a[1]
        length2 = dx * dx + dy * dy
        for ix in range(math.floor(min(a[0], b[0]) / size), math.floor(max(a[0], b[0]) / size) + 1):
            for iy in range(math.floor(min(a[1], b[1]) / size), math.floor(max(a[1], b[1]) / size) + 1):
                for p in cells.get((ix, iy), ()):
                    if p == a or p == b:
                        continue
                    along = (p[0] - a[0]) * dx + (p[1] - a[1]) * dy
                    across = (p[0] - a[0]) * dy - (p[1] - a[1]) * dx
                    if 0 < along < length2 and across * across <= 1e-18 * length2:
                        return True
    return False


def _next(previous: Point, here: Point, options: list[Point]) -> Point:
    """Where a ring goes on from ``here`` when several edges leave it (shapes touching at a
    corner): the sharpest turn, so that each ring closes on its own instead of crossing itself."""
    if len(options) == 1:
        return options[0]
    back = math.atan2(previous[1] - here[1], previous[0] - here[0])
    return min(options, key=lambda p: (back - math.atan2(p[1] - here[1], p[0] - here[0])) % (2 * math.pi))


def dissolve(polygons: list) -> list | None:
    """MultiPolygon coordinates of the union of ``polygons`` (MultiPolygon coordinates whose
    pieces meet only along shared edges), or None when their borders do not match exactly.

    >>> left = [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]
    >>> right = [[[1, 0], [2, 0], [2, 1], [1, 1], [1, 0]]]
    >>> dissolve([left, right])
    [[[[0, 0], [1, 0], [2, 0], [2, 1], [1, 1], [0, 1], [0, 0]]]]
    """
    edges: dict[tuple[Point, Point], int] = defaultdict(int)
    for polygon in polygons:
        for n, raw in enumerate(polygon):
            ring = [(p[0], p[1]) for p in raw]
            if ring[0] != ring[-1]:
                ring.append(ring[0])
            if (_twice_area(ring) > 0) != (n == 0):  # shells anticlockwise, holes clockwise
                ring.reverse()
            for a, b in zip(ring, ring[1:]):
                if a != b:
                    edges[(a, b)] += 1
    for a, b in list(edges):
        both = min(edges[(a, b)], edges.get((b, a), 0))
        if both:
            edges[(a, b)] -= both
            edges[(b, a)] -= both
    leaving: dict[Point, list[Point]] = defaultdict(list)
    for (a, b), count in edges.items():
        if count > 0:
            leaving[a].extend([b] * count)
    if _corner_on_a_side([(a, b) for a, targets in leaving.items() for b in set(targets)]):
        return None
    rings = []
    while leaving:
        start = next(iter(leaving))
        ring = [start]
        while True:
            here = ring[-1]
            if here not in leaving:
                return None  # a border one side has and the other lacks: the chain stays open
            step = _next(ring[-2], here, leaving[here]) if len(ring) > 1 else leaving[here][-1]
            leaving[here].remove(step)
            if not leaving[here]:
                del leaving[here]
            ring.append(step)
            if step == start:
                break
        rings.append(ring)
    shells = [r for r in rings if _twice_area(r) > 0]
    merged = [[shell] for shell in shells]
    for hole in (r for r in rings if _twice_area(r) <= 0):
        owners = [i for i, shell in enumerate(shells) if _inside(hole[len(hole) // 2], shell) or _inside(hole[0], shell)]
        if not owners:
            return None
        merged[min(owners, key=lambda i: abs(_twice_area(shells[i])))].append(hole)
    return [[[list(p) for p in ring] for ring in polygon] for polygon in merged]
