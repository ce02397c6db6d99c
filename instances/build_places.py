#!/usr/bin/env python3
"""Build the place-name tables under ``instances/places/`` from public raw files.

Usage::

    python instances/build_places.py [--raw DIR]          # regenerate the three tables
    python instances/build_places.py [--raw DIR] --check  # compare with the shipped files

The tables let a planner name councils and areas as people do (``Hull``, ``Durham``,
``Greater Manchester``, ``Caerdydd``) wherever the optimiser takes a council or an area:

``aliases.csv`` (``alias, code``)
    other names of current councils and of the areas in ``areas.csv``: mySociety's name
    variants (official names, short names, the ``lookup_name_to_registry`` list) and the
    Welsh names of the ONS boundary file. An alias that two places share is left out.
``areas.csv`` (``code, name, kind, members``)
    groups of councils that are neither a county, a region nor a nation:
    ``combined-authority`` (the 11 of the ONS May 2024 boundary file, members by area
    overlap with the council boundaries, plus the two of 2025 that mySociety lists),
    ``metropolitan-county`` (the 6 ONS metropolitan counties: the metropolitan boroughs
    inside the combined authority of the same area, checked against the ONS population of
    the county) and ``greater-london`` (the GLA's 33 councils). ``members`` are the
    lower-tier and unitary councils, space-separated; a county whose districts are all
    members counts as a member when an area is resolved.
``former.csv`` (``name, ended, successors``)
    names of councils abolished since 2019, with the councils that replaced them, so that
    an old name gets a pointer instead of "unknown".

Ceremonial (lieutenancy) counties are not in any of the raw files, so they are not here.
Exit status: 0 success, 1 ``--check`` found differences, 2 a raw file is missing or the
data fails a consistency check. Needs shapely (the ``build`` extra).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = REPO_ROOT / "instances" / "places"
DEFAULT_RAW = REPO_ROOT.parent / "shared" / "data" / "raw"

MYSOCIETY = "mysociety_uk_local_authority_names_and_codes/uk_local_authorities.csv"
NAMES = "mysociety_uk_local_authority_names_and_codes/lookup_name_to_registry.csv"
BOUNDARIES = "acteng_atip-data-prep/Local_Authority_Districts_May_2024_Boundaries_UK_BUC.geojson"
COMBINED = "acteng_atip-data-prep/Combined_Authorities_May_2023_Boundaries_EN_BUC.geojson"
POPULATION = "dfe-analytical-services_CSC_outcomes_and_enablers/ons_mye_population_by_la_extract.csv"
RAW_FILES = [MYSOCIETY, NAMES, BOUNDARIES, COMBINED, POPULATION]

# each metropolitan county lies inside one combined authority (checked by population below)
METROPOLITAN_IN = {
    "E11000001": "E47000001",  # Greater Manchester
    "E11000002": "E47000004",  # Merseyside: Liverpool City Region
    "E11000003": "E47000002",  # South Yorkshire
    "E11000005": "E47000007",  # West Midlands
    "E11000006": "E47000003",  # West Yorkshire
    "E11000007": "E47000014",  # Tyne and Wear: North East
}
# what a combined authority is called in full, beyond "<name> Combined Authority"
OFFICIAL = {"E47000013": "Combined County Authority", "E47000002": "Mayoral Combined Authority",
            "E47000012": "Mayoral Combined Authority", "E47000014": "Mayoral Combined Authority"}
REGION_NAMES = {"north east", "north west", "yorkshire and the humber", "east midlands", "west midlands",
                "east of england", "london", "south east", "south west", "wales", "scotland", "northern ireland"}


class BuildError(Exception):
    pass


def require(cond: bool, message: str) -> None:
    if not cond:
        raise BuildError(message)


def read_csv(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(newline="", encoding=encoding) as fh:
        return list(csv.DictReader(fh))


def build(raw: Path) -> dict[str, str]:
    from shapely.geometry import shape

    for rel in RAW_FILES:
        if not (raw / rel).is_file():
            raise BuildError(f"raw file missing: {raw / rel}")
    register = read_csv(raw / MYSOCIETY)
    by_reg = {r["local-authority-code"]: r for r in register}
    current = {r["local-authority-code"]: r for r in register if r["current-authority"] == "True"}
    councils = {reg: r["gss-code"] for reg, r in current.items()
                if r["lower-or-unitary"] == "True" or r["local-authority-type"] == "CTY"}
    lads = {}
    welsh = {}
    with (raw / BOUNDARIES).open(encoding="utf-8") as fh:
        for feature in json.load(fh)["features"]:
            props = feature["properties"]
            lads[props["LAD24CD"]] = shape(feature["geometry"])
            if props.get("LAD24NMW"):
                welsh[props["LAD24CD"]] = props["LAD24NMW"]
    require(len(lads) == 361, f"{BOUNDARIES}: expected 361 councils, found {len(lads)}")
    require(set(lads) <= set(councils.values()), "boundary codes missing from the mySociety register")

    # ---- areas
    areas: dict[str, tuple[str, str, set[str]]] = {}
    with (raw / COMBINED).open(encoding="utf-8") as fh:
        combined = json.load(fh)["features"]
    for feature in combined:
        props = feature["properties"]
        polygon = shape(feature["geometry"])
        members = set()
        for code, lad in lads.items():
            share = lad.intersection(polygon).area / lad.area
            require(share < 0.02 or share > 0.98, f"{props['CAUTH24NM']}: {code} is {share:.0%} inside")
            if share > 0.98:
                members.add(code)
        require(len(members) >= 2, f"{props['CAUTH24NM']}: {len(members)} members")
        areas[props["CAUTH24CD"]] = (props["CAUTH24NM"], "combined-authority", members)
    for reg, r in current.items():  # combined authorities newer than the boundary file
        if r["local-authority-type"] == "COMB" and r["start-date"] >= "2025" and r["gss-code"] not in areas:
            constituents = {m for m, x in current.items() if x["combined-authority"] == reg and m in councils}
            counties = {m for m in constituents if current[m]["local-authority-type"] == "CTY"}
            members = {councils[m] for m in constituents - counties}
            members |= {councils[d] for d, x in current.items() if x["county-la"] in counties and d in councils}
            name = r["official-name"].removesuffix(" Combined County Authority").removesuffix(" Mayoral Combined Authority")
            areas[r["gss-code"]] = (name, "combined-authority", members)
    population = {r["code"]: r for r in read_csv(raw / POPULATION)}
    for county, authority in METROPOLITAN_IN.items():
        name = population[county]["name"].removesuffix(" (Met County)")
        members = {c for c in areas[authority][2] if c.startswith("E08")}
        total = sum(int(population[c]["pop_mid2022_uk_mye22"]) for c in members)
        require(total == int(population[county]["pop_mid2022_uk_mye22"]),
                f"{name}: the members' population {total} differs from the county's")
        areas[county] = (name, "metropolitan-county", members)
    gla = next(r for r in current.values() if r["local-authority-code"] == "GLA")
    london = {councils[m] for m, x in current.items() if x["combined-authority"] == "GLA"}
    require(len(london) == 33, f"Greater London: {len(london)} councils")
    areas[gla["gss-code"]] = ("Greater London", "greater-london", london)

    # ---- aliases
    found: dict[str, set[str]] = {}
    spelt: dict[str, str] = {}

    def alias(text: str, code: str) -> None:
        text = " ".join(text.split())
        key = text.casefold()
        if text and key not in REGION_NAMES:
            found.setdefault(key, set()).add(code)
            spelt.setdefault(key, text)

    for reg, code in councils.items():
        r = current[reg]
        alias(r["official-name"], code)
        alias(r["nice-name"], code)
    for row in read_csv(raw / NAMES):
        reg = row["local-authority-code"]
        if reg in councils:
            alias(row["la-name"], councils[reg])
        elif reg in current and current[reg]["gss-code"] in areas:
            alias(row["la-name"], current[reg]["gss-code"])
    for code, name in welsh.items():
        alias(name, code)
    for code, (name, kind, _) in areas.items():
        if kind == "combined-authority":
            for suffix in {"Combined Authority", "CA", OFFICIAL.get(code, "Combined Authority")}:
                alias(f"{name} {suffix}", code)
        elif kind == "metropolitan-county":
            alias(f"{name} (Met County)", code)
            alias(f"{name} metropolitan county", code)
        reg = next((k for k, r in current.items() if r["gss-code"] == code), None)
        if reg:
            alias(current[reg]["official-name"], code)
            alias(current[reg]["nice-name"], code)
    shared = sorted(k for k, codes in found.items() if len(codes) > 1)
    require(len(shared) < 20, f"{len(shared)} aliases are shared by two places: {shared[:5]}")
    alias_rows = sorted((code, spelt[k]) for k, codes in found.items() if len(codes) == 1 for code in codes)

    # ---- former councils
    former_rows = []
    for reg, r in by_reg.items():
        if r["current-authority"] == "True" or not r["replaced-by"] or not r["end-date"]:
            continue
        successors = []
        for s in r["replaced-by"].split(","):
            while s in by_reg and by_reg[s]["current-authority"] != "True" and by_reg[s]["replaced-by"]:
                s = by_reg[s]["replaced-by"].split(",")[0]
            if s in councils:
                successors.append(councils[s])
        if successors:
            for name in {r["official-name"], r["nice-name"]}:
                if name.casefold() not in found:
                    former_rows.append((name, r["end-date"], " ".join(sorted(set(successors)))))

    return {
        "aliases.csv": _csv(["alias", "code"], [(a, c) for c, a in alias_rows]),
        "areas.csv": _csv(["code", "name", "kind", "members"],
                          [(code, name, kind, " ".join(sorted(m))) for code, (name, kind, m) in sorted(areas.items())]),
        "former.csv": _csv(["name", "ended", "successors"], sorted(set(former_rows))),
    }


def _csv(header: list[str], rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw", type=Path, default=DEFAULT_RAW, help="raw data folder (default ../shared/data/raw)")
    parser.add_argument("--check", action="store_true", help="compare with the shipped tables instead of writing")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        built = build(args.raw)
    except BuildError as exc:
        print(f"build_places: {exc}", file=sys.stderr)
        return 2
    if args.check:
        differ = [name for name, text in built.items()
                  if not (args.out / name).is_file() or (args.out / name).read_text(encoding="utf-8") != text]
        for name in differ:
            print(f"differs: {args.out / name}")
        return 1 if differ else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in built.items():
        (args.out / name).write_text(text, encoding="utf-8", newline="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
