"""What there is to choose from, as text for a terminal: a model's functions, an instance's
councils and the areas ``--area`` takes, names beside codes, in aligned columns."""

from __future__ import annotations

from ..io.names import KINDS, REGION_NAMES, places_of, resolve_area, unambiguous


def columns(header: list[str], rows: list[list[str]], right: set[int] = frozenset(), indent: str = "  ") -> str:
    """Rows under a header, each column as wide as its widest cell (``right``: right-aligned)."""
    widths = [max(len(str(r[k])) for r in [header, *rows]) for k in range(len(header))]

    def line(row) -> str:
        cells = [str(c).rjust(w) if k in right else str(c).ljust(w) for k, (c, w) in enumerate(zip(row, widths))]
        return (indent + "  ".join(cells)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def _tiers(tiers, every) -> str:
    """Tiers briefly: "all", "all but county", or the list."""
    missing = [t for t in every if t not in tiers]
    if not missing:
        return "all"
    return f"all but {', '.join(missing)}" if len(missing) < len(tiers) else ", ".join(tiers)


def functions_listing(model, instance=None) -> str:
    """Every function of ``model``: id (what --functions and --exclude take), title, tiers,
    group size; with an instance, how many of its councils take part."""
    tiers = instance.councils["tier"].tolist() if instance is not None else None
    header = ["id", "title", "for tiers", "max size"] + (["councils"] if tiers else [])
    rows = []
    for f in model.functions:
        row = [f.id, (f.title or "").split(" (")[0], _tiers(f.tiers, model.tiers), str(f.max_size)]
        if tiers:
            row.append(str(sum(t in f.tiers for t in tiers)))
        rows.append(row)
    where = f" (councils of {instance.name})" if instance is not None else ""
    lines = [f"model {model.name}: {len(model.functions)} functions{where}", "", columns(header, rows, {3, 4})]
    lines += ["", "Name functions by id or title, in any case: --functions ict,legal  --exclude 'Babergh:ict,legal'"]
    return "\n".join(lines)


def councils_listing(instance, area=()) -> str:
    """The councils of ``instance`` (within ``area``): code, name, tier, county, region, population."""
    councils = instance.councils
    keep = resolve_area(instance, area)
    names = dict(zip(councils["code"], councils["name"]))
    rows = []
    for i, row in enumerate(councils.itertuples(index=False)):
        if keep[i]:
            county = row.county or ""
            rows.append([row.code, row.name, row.tier, names.get(county, county), REGION_NAMES.get(row.region, row.region),
                         f"{int(row.population):,}"])
    scope = f" in {'; '.join(area)}" if area else ""
    lines = [f"{instance.name}: {len(rows)} councils{scope}", "",
             columns(["code", "name", "tier", "county", "region", "population"], rows, {5}), "",
             "Name a council by code (any case) or by name: --exclude 'Mid Suffolk:ict'  --apart 'Babergh:Ipswich'"]
    return "\n".join(lines)


def areas_listing(instance) -> str:
    """Every area ``--area`` takes that is more than one council: nations, regions,
    combined authorities, metropolitan counties, counties."""
    places = places_of(instance)
    rows = []
    for p in places.areas():
        kind = "county" if p.kind == "council" else KINDS.get(p.kind, p.kind)
        name = p.name if p.kind not in ("combined-authority", "metropolitan-county") else unambiguous(p)
        rows.append([kind, p.code, name, str(int(p.mask.sum()))])
    lines = [f"{instance.name}: {len(rows)} areas (any council is an area too)", "",
             columns(["kind", "code", "name", "councils"], rows, {3}), "",
             "Give --area a code or a name, several joined by ';': --area 'Norfolk; Suffolk'.",
             "A county includes its districts; a combined authority its constituent councils. A name that",
             "two kinds of area share means the region (West Midlands); write the name shown to mean the other."]
    return "\n".join(lines)
