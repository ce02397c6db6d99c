#!/usr/bin/env python3
"""Build the real-data instances shipped under ``instances/`` from public raw files.

Usage::

    python instances/build.py [--raw DIR]          # regenerate every shipped table
    python instances/build.py [--raw DIR] --check  # rebuild into a temporary folder and
                                                   # compare byte for byte with the shipped files

The raw files are not part of the repository (see ``instances/README.md`` for what they
are, where they come from and under which licence).  By default they are looked for in
``../shared/data/raw`` relative to the repository root.

The output is deterministic: rows are sorted, floats are written with a fixed number of
decimals, files end lines with ``\\n`` and nothing depends on the clock.  Interior points,
county dissolves and the snapped map polygons come from shapely (GEOS); the shipped files
were built with shapely 2.2 and GEOS 3.14.

Exit status: 0 success, 1 ``--check`` found differences, 2 a raw file is missing or the
raw data fails one of the consistency checks made while building.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
import tempfile
from collections import defaultdict, deque
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
INSTANCES_DIR = REPO_ROOT / "instances"
DEFAULT_RAW = REPO_ROOT.parent / "shared" / "data" / "raw"

# --------------------------------------------------------------------------- raw files

MYSOCIETY = "mysociety_uk_local_authority_names_and_codes/uk_local_authorities.csv"
BOUNDARIES = "acteng_atip-data-prep/Local_Authority_Districts_May_2024_Boundaries_UK_BUC.geojson"
POPULATION = "dfe-analytical-services_CSC_outcomes_and_enablers/ons_mye_population_by_la_extract.csv"
LTLA_UTLA = "dfe-analytical-services_CSC_outcomes_and_enablers/LTLA-UTLA_Apr23_Lookup_England-Wales.csv"
RSX_2425 = "dfe-analytical-services_CSC_outcomes_and_enablers/MHCLG_RSX_2024-25_second_release_data_by_LA.csv"
RSX_2324 = "dfe-analytical-services_CSC_outcomes_and_enablers/MHCLG_RSX_2023-24_data_by_LA.csv"
ADJACENCY = "derived_by_helper/lad_adjacency_buc_may2024.csv"
RESERVES = "arcadesproject_python-council-data-cleanup/MHCLG_RS_2023-24_second_release_data_by_LA.csv"
POLITICS = "damayanti-c_uk-politics/opencouncildata_history2016_26_rows_2023-2026.csv"
RAW_FILES = [MYSOCIETY, BOUNDARIES, POPULATION, LTLA_UTLA, RSX_2425, RSX_2324, ADJACENCY, RESERVES, POLITICS]

#: headroom = this share of a council's unallocated reserves plus its budget-stabilisation
#: earmarked reserves at 31 March 2024 (MHCLG RS 2023-24 lines 916 and 1026): what the project
#: assumes a council could commit in any one year to invest-to-save (see instances/README.md)
HEADROOM_SHARE = 0.25
RESERVE_COLUMNS = ("Estimated unallocated financial reserves level at 31 March",
                   "Other earmarked reserves: budget stabilisation at 31 March")

# --------------------------------------------------------------------------- political control

#: Open Council Data's seat columns and the party each stands for
PARTY_COLUMNS = {"con": "Conservative", "lab": "Labour", "ld": "Liberal Democrat", "green": "Green", "ukip": "UKIP",
                 "ref": "Reform UK", "pc": "Plaid Cymru", "snp": "SNP", "other": "Independent and other"}
#: the year whose composition (after its May elections) the 2023 instances take
CONTROL_YEAR = "2023"
#: councils whose code changed after 2023 (boundary changes of 2024): the 2026 code -> ours
RECODED = {"E08000038": "E08000016", "E08000039": "E08000019"}

# --------------------------------------------------------------------------- fixed labels

TIER_BY_PREFIX = {
    "E10": "county",
    "E07": "district",
    "E06": "unitary",
    "E08": "metropolitan",
    "E09": "london",
    "W06": "unitary",
    "S12": "unitary",
    "N09": "ni-district",
}
NATION_BY_LETTER = {"E": "england", "W": "wales", "S": "scotland", "N": "northern-ireland"}
# Outside England the country code stands in as the region.
COUNTRY_CODE = {"wales": "W92000004", "scotland": "S92000003", "northern-ireland": "N92000002"}
# mySociety region names -> ONS region (E12) codes.
REGION_CODE = {
    "North East": "E12000001",
    "North West": "E12000002",
    "Yorkshire and The Humber": "E12000003",
    "East Midlands": "E12000004",
    "West Midlands": "E12000005",
    "East of England": "E12000006",
    "London": "E12000007",
    "South East": "E12000008",
    "South West": "E12000009",
}
ENGLAND_POPULATION_MID2023 = 57_690_323

# Function ids of the default savings model and the tiers eligible for each.
ALL = ("county", "district", "unitary", "metropolitan", "london", "ni-district")
FUNCTION_TIERS = {
    "ict": ALL,
    "hr-payroll": ALL,
    "finance-audit": ALL,
    "legal": ALL,
    "procurement": ALL,
    "customer-services": ALL,
    "management-team": ALL,
    "revenues-benefits": ("district", "unitary", "metropolitan", "london"),
    "waste-collection": ("district", "unitary", "metropolitan", "london", "ni-district"),
    "building-control": ("district", "unitary", "metropolitan", "london", "ni-district"),
    "planning": ("district", "unitary", "metropolitan", "london", "ni-district"),
    "environmental-health": ("district", "unitary", "metropolitan", "london", "ni-district"),
    "social-care-commissioning": ("county", "unitary", "metropolitan", "london"),
    "highways": ("county", "unitary", "metropolitan", "london"),
    "waste-disposal": ("county", "unitary", "metropolitan", "london", "ni-district"),
}

# --------------------------------------------------------------------------- spend split
#
# Baseline of (council, function) = sum over RSX service lines of
#     share[line][function][tier] x Total Expenditure (C3, gross, GBP thousand) x 1000.
# RSX 2024-25 second release; where the 2024-25 return was not received ("[x]") the
# 2023-24 return is used; councils missing from both get no spend rows.
# The reason for every share is given in instances/README.md ("Spend split").

CS = "Central services"
HO = "Housing services (GFRA only)"
ER = "Environmental and regulatory services"
PD = "Planning and development services"
HT = "Highways and transport services"
ASC = "Adult Social Care"
CSC = "Children Social Care"

LOWER = ("district", "unitary", "metropolitan", "london")
SINGLE = ("unitary", "metropolitan", "london")  # single-tier councils
UPPER = ("county", "unitary", "metropolitan", "london")
ENGLISH = ("county", "district", "unitary", "metropolitan", "london")


def _same(share: float, tiers: tuple[str, ...]) -> dict[str, float]:
    return {t: share for t in tiers}


SPEND_SPLIT: list[tuple[str, str, dict[str, float]]] = [
    # (RSX service line, function, {tier: share of the line's gross expenditure})
    # Central services: local tax collection and council tax support administration are
    # Central services lines; with the Housing share below the England total is about
    # GBP 1.6bn, the Audit Commission's GBP 1bn a year (2005) at 2024 prices.
    (CS, "revenues-benefits", _same(0.12, LOWER)),
    # Housing benefit administration sits in housing services, which is mostly homelessness.
    (HO, "revenues-benefits", _same(0.05, LOWER)),
    # Management and support services are recorded gross in Central services and recharged
    # out; Central services gross is about 9 % of service spend (NLGN: back office 8.9 %).
    # Relative sizes follow the usual order of corporate-service costs (assumed).
    (CS, "ict", _same(0.15, ENGLISH)),
    (CS, "finance-audit", _same(0.08, ENGLISH)),
    (CS, "hr-payroll", _same(0.06, ENGLISH)),
    (CS, "legal", _same(0.04, ENGLISH)),
    (CS, "procurement", _same(0.03, ENGLISH)),
    (CS, "customer-services", _same(0.06, ENGLISH)),
    # Babergh & Mid Suffolk: -43 % = GBP 1.2m, i.e. GBP 2.8m before sharing, GBP 1.6m after;
    # 6 % of the pair's 2024-25 Central services is GBP 1.6m.
    (CS, "management-team", _same(0.06, ENGLISH)),
    # Districts collect waste, counties dispose of it (Environmental Protection Act 1990
    # s.30).  Single-tier shares = the two-tier shares recombined with the England totals of
    # district (GBP 1.77bn) and county (GBP 1.36bn) environmental spending.
    (ER, "waste-collection", {"district": 0.45, **_same(0.25, SINGLE)}),
    (ER, "waste-disposal", {"county": 0.70, **_same(0.30, SINGLE)}),
    (ER, "environmental-health", {"district": 0.20, **_same(0.11, SINGLE)}),
    # Development management, policy and conservation; building control is fee-funded and
    # smaller; the rest is economic and community development (assumed).
    (PD, "planning", _same(0.40, LOWER)),
    (PD, "building-control", _same(0.10, LOWER)),
    # Maintenance, lighting, traffic management, road safety; the rest is parking,
    # concessionary fares and transport support (assumed).
    (HT, "highways", _same(0.55, UPPER)),
    # Commissioning and contract-management staff only; care bought from providers is not
    # part of the function (assumed).
    (ASC, "social-care-commissioning", _same(0.03, UPPER)),
    (CSC, "social-care-commissioning", _same(0.03, UPPER)),
]

# --------------------------------------------------------------------------- partnerships
#
# The four long-standing English arrangements.  Host = the lead authority of each group
# (assumed to be the larger council by population where no lead is documented; see README).
PARTNERSHIPS = [
    {
        "key": "adur-worthing",
        "members": ["E07000223", "E07000229"],
        "host": "E07000229",
        "functions": ["management-team", "revenues-benefits", "ict", "hr-payroll",
                      "finance-audit", "legal", "customer-services", "waste-collection",
                      "environmental-health"],
    },
    {
        "key": "babergh-mid-suffolk",
        "members": ["E07000200", "E07000203"],
        "host": "E07000203",
        "functions": ["management-team", "revenues-benefits", "ict", "hr-payroll",
                      "finance-audit", "legal", "planning", "environmental-health"],
    },
    {
        "key": "south-oxfordshire-vale",
        "members": ["E07000179", "E07000180"],
        "host": "E07000179",
        "functions": ["management-team", "revenues-benefits", "ict", "hr-payroll",
                      "finance-audit", "legal", "planning", "waste-collection"],
    },
    {
        "key": "bromsgrove-redditch",
        "members": ["E07000234", "E07000236"],
        "host": "E07000234",
        "functions": ["management-team", "ict", "revenues-benefits", "hr-payroll",
                      "finance-audit", "legal"],
    },
]

ATTRIBUTION = [
    "Contains public sector information licensed under the Open Government Licence v3.0.",
    "Contains OS data © Crown copyright and database right 2024.",
    "Contains mySociety data (uk_local_authority_names_and_codes) licensed under CC BY 4.0.",
    "Political control derived from Open Council Data UK (opencouncildata.co.uk), CC BY-SA 4.0.",
]

SUFFOLK = "E10000029"
INSTANCES = {
    "england-2023": {
        "title": "English councils (317: 21 counties and 296 districts, unitaries, "
                 "metropolitan and London boroughs), April 2023 geography",
    },
    "uk-2023": {
        "title": "UK councils (382: England 317, Wales 22, Scotland 32, Northern Ireland 11), "
                 "April 2023 geography",
    },
    "suffolk-2023": {
        "title": "Suffolk County Council and its five districts, April 2023 geography",
    },
}

COORD_DECIMALS = 5  # boundaries.geojson: about 1 m

COUNCIL_COLUMNS = ["code", "name", "tier", "nation", "region", "county", "population",
                   "lat", "lon", "commitment", "max_partnerships", "max_hosted", "control", "headroom"]


class BuildError(Exception):
    """A missing raw file or a failed consistency check (exit status 2)."""


def require(cond: bool, message: str) -> None:
    if not cond:
        raise BuildError(message)


# --------------------------------------------------------------------------- projection

def osgb_grid(lon, lat):
    """Project WGS84 lon/lat (degrees) onto the British National Grid (metres).

    Transverse Mercator on the Airy 1830 ellipsoid with the National Grid constants (OS,
    "A guide to coordinate systems in Great Britain", annex C).  The ~100 m datum shift
    between WGS84 and OSGB36 is ignored: it moves positions but changes lengths by a few
    parts per million.  Shared-boundary lengths computed this way agree with the EPSG:27700
    lengths of the adjacency file to within 0.02 % (median).
    """
    import numpy as np

    a, b = 6377563.396, 6356256.909
    f0 = 0.9996012717
    lat0, lon0 = math.radians(49.0), math.radians(-2.0)
    n0, e0 = -100000.0, 400000.0
    e2 = 1 - b * b / (a * a)
    n = (a - b) / (a + b)
    phi = np.radians(lat)
    lam = np.radians(lon)
    s, c, t = np.sin(phi), np.cos(phi), np.tan(phi)
    nu = a * f0 / np.sqrt(1 - e2 * s * s)
    rho = a * f0 * (1 - e2) / (1 - e2 * s * s) ** 1.5
    eta2 = nu / rho - 1
    dp, sp = phi - lat0, phi + lat0
    m = b * f0 * ((1 + n + 1.25 * n ** 2 + 1.25 * n ** 3) * dp
                  - (3 * n + 3 * n ** 2 + 21 / 8 * n ** 3) * np.sin(dp) * np.cos(sp)
                  + (15 / 8 * n ** 2 + 15 / 8 * n ** 3) * np.sin(2 * dp) * np.cos(2 * sp)
                  - 35 / 24 * n ** 3 * np.sin(3 * dp) * np.cos(3 * sp))
    i1 = m + n0
    i2 = nu / 2 * s * c
    i3 = nu / 24 * s * c ** 3 * (5 - t ** 2 + 9 * eta2)
    i3a = nu / 720 * s * c ** 5 * (61 - 58 * t ** 2 + t ** 4)
    i4 = nu * c
    i5 = nu / 6 * c ** 3 * (nu / rho - t ** 2)
    i6 = nu / 120 * c ** 5 * (5 - 18 * t ** 2 + t ** 4 + 14 * eta2 - 58 * t ** 2 * eta2)
    dl = lam - lon0
    north = i1 + i2 * dl ** 2 + i3 * dl ** 4 + i3a * dl ** 6
    east = e0 + i4 * dl + i5 * dl ** 3 + i6 * dl ** 5
    return east, north


def length_km(geom) -> float:
    """Boundary length of a lon/lat polygon, in km on the British National Grid."""
    import numpy as np
    import shapely

    def to_grid(xy):
        east, north = osgb_grid(xy[:, 0], xy[:, 1])
        return np.column_stack([east, north])

    return shapely.transform(geom, to_grid).boundary.length / 1000.0


# --------------------------------------------------------------------------- loading

def read_csv(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(newline="", encoding=encoding) as fh:
        return list(csv.DictReader(fh))


def load(raw: Path) -> dict:
    from shapely.geometry import shape

    if not raw.is_dir():
        raise BuildError(f"raw data folder not found: {raw}")
    for rel in RAW_FILES:
        if not (raw / rel).is_file():
            raise BuildError(f"raw file missing: {raw / rel}")

    data: dict = {}

    # Boundaries (BUC, May 2024 = April 2023 codes): the 361 UK LADs.
    with (raw / BOUNDARIES).open(encoding="utf-8") as fh:
        gj = json.load(fh)
    geoms, names = {}, {}
    for feat in gj["features"]:
        props = feat["properties"]
        code = props["LAD24CD"]
        geoms[code] = shape(feat["geometry"])
        names[code] = props["LAD24NM"]
    require(len(geoms) == 361, f"{BOUNDARIES}: expected 361 LADs, found {len(geoms)}")
    data["geoms"], data["lad_names"] = geoms, names

    # ONS population extract.
    pop = {}
    for row in read_csv(raw / POPULATION):
        pop[row["code"]] = row
    data["pop"] = pop

    # mySociety register: regions and parent counties.
    ms = [r for r in read_csv(raw / MYSOCIETY) if r["current-authority"] == "True"]
    gss_by_ms = {r["local-authority-code"]: r["gss-code"] for r in ms}
    region_name, county_of = {}, {}
    for r in ms:
        code = r["gss-code"]
        if code[:3] in ("E06", "E07", "E08", "E09"):
            region_name[code] = r["region"]
        if r["local-authority-type"] == "NMD":
            county_of[code] = gss_by_ms[r["county-la"]]
    data["region_name"], data["county_of"] = region_name, county_of
    # ONS April 2023 lower-tier -> upper-tier lookup, to confirm the county of each district.
    utla = {r["LTLA23CD"]: r["UTLA23CD"] for r in read_csv(raw / LTLA_UTLA, "utf-8-sig")}
    data["utla"] = utla

    # Derived LAD adjacency (shared boundary km in EPSG:27700).
    adj = []
    for r in read_csv(raw / ADJACENCY):
        adj.append((r["lad_code_a"], r["lad_code_b"], float(r["shared_boundary_km_buc"])))
    data["lad_adjacency"] = adj

    data["rsx"] = {"2024-25": read_rsx(raw / RSX_2425), "2023-24": read_rsx(raw / RSX_2324)}
    data["reserves"] = read_reserves(raw / RESERVES)
    data["control"] = read_control(raw / POLITICS)
    return data


def read_control(path: Path) -> dict[str, str]:
    """Each council's political control after the May 2023 elections, from its seats: the
    party holding more than half of them. Councils under no overall control are left out (the
    seats do not say who runs them), as is Northern Ireland (not in the 2023 rows)."""
    rows = read_csv(path)
    # only the 2026 rows carry the GSS code (the unnamed last column); council ids are stable
    code_of = {r["council id"]: RECODED.get(r[""], r[""]) for r in rows if r["year"] == "2026"}
    control = {}
    for r in rows:
        if r["year"] != CONTROL_YEAR:
            continue
        require(r["council id"] in code_of, f"{POLITICS}: council id {r['council id']} ({r['authority']}) has no 2026 row with its code")
        seats = {party: int(r[column]) for column, party in PARTY_COLUMNS.items()}
        total = int(r["total"])
        require(sum(seats.values()) == total, f"{POLITICS}: {r['authority']} {CONTROL_YEAR}: seats do not add up to {total}")
        majority = [party for party, n in seats.items() if 2 * n > total]
        if majority:
            control[code_of[r["council id"]]] = majority[0]
    return control


def read_rsx(path: Path) -> dict[str, dict[str, float] | None]:
    """ONS code -> {service line: Total Expenditure C3 in GBP thousand}, None if not received."""
    out: dict[str, dict[str, float] | None] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = [" ".join(h.split()) for h in next(reader)]
        c3 = {}
        for i, h in enumerate(header):
            if "(C3" in h:
                c3[h.split(" - ")[0].strip()] = i
        lines = {CS, HO, ER, PD, HT, ASC, CSC}
        require(lines <= set(c3), f"{path.name}: missing C3 columns for {sorted(lines - set(c3))}")
        i_code, i_notes, i_class = header.index("ONS Code"), header.index("Notes"), header.index("Class")
        for row in reader:
            if row[i_class] not in ("SD", "UA", "MD", "LB", "SC"):
                continue
            code = row[i_code].strip()
            if row[i_notes].strip() == "M" or row[c3[CS]].strip() == "[x]":
                out[code] = None
                continue
            out[code] = {line: float(row[c3[line]]) for line in lines}
    return out


def read_reserves(path: Path) -> dict[str, float]:
    """ONS code -> unallocated plus budget-stabilisation reserves at 31 March 2024, in pounds,
    for the English councils whose 2023-24 return gives both (13 sent none)."""
    out: dict[str, float] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        require(set(RESERVE_COLUMNS) <= set(reader.fieldnames or ()), f"{path.name}: missing {RESERVE_COLUMNS}")
        for row in reader:
            if row["Class"] not in ("SD", "UA", "MD", "LB", "SC"):
                continue
            values = [row[c].strip() for c in RESERVE_COLUMNS]
            try:
                thousands = [float(v) for v in values]
            except ValueError:
                continue  # "[x]": no return
            out[row["ONS Code"].strip()] = sum(max(v, 0.0) for v in thousands) * 1000.0
    return out


def headroom_of(data: dict, code: str) -> str:
    """The headroom column: HEADROOM_SHARE of the reserves, whole pounds; empty (no limit)
    where MHCLG holds no figure (outside England, or no 2023-24 return)."""
    reserves = data["reserves"].get(code)
    return "" if reserves is None else str(int(round(HEADROOM_SHARE * reserves)))


# --------------------------------------------------------------------------- building

def build_councils(data: dict) -> dict[str, dict]:
    geoms, pop = data["geoms"], data["pop"]
    councils: dict[str, dict] = {}
    for code in sorted(geoms):
        prefix = code[:3]
        require(prefix in TIER_BY_PREFIX, f"unexpected LAD code prefix: {code}")
        nation = NATION_BY_LETTER[code[0]]
        prow = pop.get(code)
        require(prow is not None, f"{POPULATION}: no population row for {code}")
        col = "pop_mid2023_ew_mye23" if nation in ("england", "wales") else "pop_mid2022_uk_mye22"
        require(prow[col] not in ("", None), f"{POPULATION}: {code} has no {col}")
        if nation == "england":
            rname = data["region_name"].get(code)
            require(rname in REGION_CODE, f"{MYSOCIETY}: no English region for {code}")
            region = REGION_CODE[rname]
        else:
            region = COUNTRY_CODE[nation]
        county = ""
        if prefix == "E07":
            county = data["county_of"].get(code, "")
            require(county.startswith("E10"), f"{MYSOCIETY}: no county for district {code}")
            require(data["utla"].get(code) == county,
                    f"{LTLA_UTLA}: county of {code} is {data['utla'].get(code)}, mySociety says {county}")
        pt = geoms[code].representative_point()
        councils[code] = {
            "code": code, "name": data["lad_names"][code], "tier": TIER_BY_PREFIX[prefix],
            "nation": nation, "region": region, "county": county,
            "population": int(prow[col]), "lat": pt.y, "lon": pt.x,
        }

    # Counties: dissolve their districts.
    from shapely import unary_union

    districts_of: dict[str, list[str]] = defaultdict(list)
    for code, c in councils.items():
        if c["county"]:
            districts_of[c["county"]].append(code)
    require(len(districts_of) == 21, f"expected 21 counties, found {len(districts_of)}")
    for county, members in sorted(districts_of.items()):
        prow = pop.get(county)
        require(prow is not None, f"{POPULATION}: no population row for county {county}")
        population = int(prow["pop_mid2023_ew_mye23"])
        total = sum(councils[d]["population"] for d in members)
        require(population == total,
                f"{POPULATION}: county {county} population {population} != sum of its districts {total}")
        regions = {councils[d]["region"] for d in members}
        require(len(regions) == 1, f"county {county} districts span regions {sorted(regions)}")
        territory = unary_union([geoms[d] for d in members])
        pt = territory.representative_point()
        require(territory.contains(pt), f"county {county}: point not inside its territory")
        councils[county] = {
            "code": county, "name": prow["name"], "tier": "county", "nation": "england",
            "region": regions.pop(), "county": "", "population": population,
            "lat": pt.y, "lon": pt.x,
        }
    data["districts_of"] = {k: sorted(v) for k, v in districts_of.items()}

    # Population and region checks against the ONS totals.
    lower = [c for c in councils.values() if c["tier"] != "county"]
    eng = sum(c["population"] for c in lower if c["nation"] == "england")
    require(eng == ENGLAND_POPULATION_MID2023,
            f"England lower-tier population {eng} != {ENGLAND_POPULATION_MID2023}")
    for nation, country in (("england", "E92000001"), ("wales", "W92000004"),
                            ("scotland", "S92000003"), ("northern-ireland", "N92000002")):
        col = "pop_mid2023_ew_mye23" if nation in ("england", "wales") else "pop_mid2022_uk_mye22"
        got = sum(c["population"] for c in lower if c["nation"] == nation)
        want = int(pop[country][col])
        require(got == want, f"{nation}: population {got} != ONS total {want}")
    for region in REGION_CODE.values():
        got = sum(c["population"] for c in lower if c["region"] == region)
        want = int(pop[region]["pop_mid2023_ew_mye23"])
        require(got == want, f"region {region}: population {got} != ONS total {want}")
    return councils


def build_adjacency(data: dict, councils: dict[str, dict]) -> dict[tuple[str, str], float]:
    """All UK edges: LAD-LAD, district-own county, and county edges through its districts."""
    edges: dict[tuple[str, str], float] = {}

    def add(a: str, b: str, km: float) -> None:
        require(a != b, f"self loop on {a}")
        key = (a, b) if a < b else (b, a)
        require(key not in edges, f"edge {key} built twice")
        edges[key] = km

    lad_adj: dict[str, dict[str, float]] = defaultdict(dict)
    for a, b, km in data["lad_adjacency"]:
        require(a in councils and b in councils, f"{ADJACENCY}: unknown code in {a},{b}")
        require(b not in lad_adj[a], f"{ADJACENCY}: pair {a},{b} repeated")
        lad_adj[a][b] = km
        lad_adj[b][a] = km
        add(a, b, km)

    districts_of = data["districts_of"]
    county_of = {d: c for c, ds in districts_of.items() for d in ds}
    for county, members in sorted(districts_of.items()):
        # district - its own county: the district's whole boundary lies inside or on the county.
        for d in members:
            add(d, county, length_km(data["geoms"][d]))
        # county - any LAD outside it that touches one of its districts.
        touching: dict[str, float] = defaultdict(float)
        for d in members:
            for other, km in lad_adj[d].items():
                if county_of.get(other) != county:
                    touching[other] += km
        for other, km in sorted(touching.items()):
            add(other, county, km)
    # county - county: sum over the district pairs.
    counties = sorted(districts_of)
    for i, c1 in enumerate(counties):
        for c2 in counties[i + 1:]:
            km = sum(lad_adj[d1].get(d2, 0.0) for d1 in districts_of[c1] for d2 in districts_of[c2])
            if km > 0:
                add(c1, c2, km)
    return edges


def rsx_lookup(data: dict, code: str) -> dict[str, float] | None:
    for year in ("2024-25", "2023-24"):
        table = data["rsx"][year]
        require(code in table, f"RSX {year}: no row for {code}")
        if table[code] is not None:
            return table[code]
    return None


def build_spend(data: dict, councils: dict[str, dict]) -> list[tuple[str, str, int]]:
    rows = []
    for code, c in sorted(councils.items()):
        if c["nation"] != "england":
            continue
        lines = rsx_lookup(data, code)
        if lines is None:
            continue
        totals: dict[str, float] = defaultdict(float)
        for line, function, shares in SPEND_SPLIT:
            if c["tier"] in shares:
                totals[function] += shares[c["tier"]] * max(lines[line], 0.0) * 1000.0
        for function in sorted(FUNCTION_TIERS):
            if c["tier"] in FUNCTION_TIERS[function]:
                require(function in totals, f"spend split gives no {function} for tier {c['tier']}")
                rows.append((code, function, int(round(totals[function]))))
    return rows


def check_split() -> None:
    per_line_tier: dict[tuple[str, str], float] = defaultdict(float)
    for line, function, shares in SPEND_SPLIT:
        require(function in FUNCTION_TIERS, f"spend split: unknown function {function}")
        for tier, share in shares.items():
            require(tier in FUNCTION_TIERS[function], f"spend split: {function} not eligible for {tier}")
            per_line_tier[(line, tier)] += share
    for (line, tier), total in per_line_tier.items():
        require(total <= 1.0 + 1e-9, f"spend split: shares of {line} for {tier} sum to {total}")


# --------------------------------------------------------------------------- writing

def csv_text(header: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def round_coords(coords, nd: int = COORD_DECIMALS) -> list:
    out: list = []
    for x, y in coords:
        p = [round(x, nd), round(y, nd)]
        if not out or out[-1] != p:
            out.append(p)
    return out


def polygon_coords(poly) -> list | None:
    """Rounded rings of a polygon; rings that collapse (fewer than 4 points) are dropped."""
    shell = round_coords(poly.exterior.coords)
    if len(shell) < 4:
        return None
    holes = [round_coords(r.coords) for r in poly.interiors]
    return [shell] + [h for h in holes if len(h) >= 4]


def geojson_text(codes: list[str], data: dict) -> str:
    """Lower-tier polygons for drawing: BUC geometry with coordinates quantised to 5 decimals.

    No further simplification: BUC is already generalised to 500 m, and quantising the
    shared vertices keeps neighbouring polygons edge to edge (simplifying them one at a
    time would open slivers between them).
    """
    import shapely

    lines = ['{"type":"FeatureCollection","features":[']
    feats = []
    for code in codes:
        # Snap to the 1e-5 degree grid with GEOS so the rounded polygons stay valid.
        g = shapely.set_precision(data["geoms"][code], 10.0 ** -COORD_DECIMALS)
        parts = [polygon_coords(p) for p in getattr(g, "geoms", [g])]
        parts = [p for p in parts if p is not None]
        require(bool(parts), f"{code}: polygon collapses when rounded")
        if len(parts) == 1:
            geom = {"type": "Polygon", "coordinates": parts[0]}
        else:
            geom = {"type": "MultiPolygon", "coordinates": parts}
        feat = {"type": "Feature", "properties": {"code": code, "name": data["lad_names"][code]},
                "geometry": geom}
        feats.append(json.dumps(feat, ensure_ascii=False, separators=(",", ":")))
    lines.append(",\n".join(feats))
    lines.append("]}")
    return "\n".join(lines) + "\n"


def toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def instance_toml(name: str, title: str) -> str:
    out = [
        f"name = {toml_str(name)}",
        f"title = {toml_str(title)}",
        'model = "uk-central"',
        "attribution = [",
        *[f"  {toml_str(a)}," for a in ATTRIBUTION],
        "]",
        "",
        "[tables]",
        'councils = "councils.csv"',
        'adjacency = "adjacency.csv"',
        'spend = "spend.csv"',
        'partnerships = "partnerships.csv"',
        'boundaries = "boundaries.geojson"',
    ]
    return "\n".join(out) + "\n"


def components(nodes: list[str], edges) -> list[list[str]]:
    nbr: dict[str, set[str]] = {n: set() for n in nodes}
    for a, b in edges:
        nbr[a].add(b)
        nbr[b].add(a)
    seen: set[str] = set()
    comps = []
    for n in sorted(nodes):
        if n in seen:
            continue
        comp, queue = [], deque([n])
        seen.add(n)
        while queue:
            x = queue.popleft()
            comp.append(x)
            for y in sorted(nbr[x]):
                if y not in seen:
                    seen.add(y)
                    queue.append(y)
        comps.append(sorted(comp))
    return sorted(comps, key=lambda c: (-len(c), c[0]))


def instance_files(name: str, codes: set[str], councils, edges, spend, data,
                   partnership_keys: list[str]) -> dict[str, str]:
    files: dict[str, str] = {}
    files["instance.toml"] = instance_toml(name, INSTANCES[name]["title"])

    rows = []
    for code in sorted(codes):
        c = councils[code]
        rows.append([c["code"], c["name"], c["tier"], c["nation"], c["region"], c["county"],
                     c["population"], f"{c['lat']:.5f}", f"{c['lon']:.5f}", "", "", "", data["control"].get(code, ""),
                     headroom_of(data, code)])
    files["councils.csv"] = csv_text(COUNCIL_COLUMNS, rows)

    sub = sorted((a, b, km) for (a, b), km in edges.items() if a in codes and b in codes)
    files["adjacency.csv"] = csv_text(["a", "b", "border_km"], [[a, b, f"{km:.3f}"] for a, b, km in sub])

    files["spend.csv"] = csv_text(["code", "function", "baseline"],
                                  [[c, f, v] for c, f, v in spend if c in codes])

    prow = []
    for p in PARTNERSHIPS:
        if p["key"] not in partnership_keys:
            continue
        for function in p["functions"]:
            gid = f"{p['key']}-{function}"
            for member in p["members"]:
                prow.append([gid, function, member, "true" if member == p["host"] else "false", "false"])
    files["partnerships.csv"] = csv_text(["id", "function", "code", "host", "locked"], sorted(prow))

    lads = sorted(c for c in codes if councils[c]["tier"] != "county")
    files["boundaries.geojson"] = geojson_text(lads, data)
    return files


def validate_instance(name: str, codes: set[str], councils, edges, spend) -> None:
    sub = [(a, b) for (a, b) in edges if a in codes and b in codes]
    for a, b in sub:
        require(a < b, f"{name}: edge {a},{b} not ordered")
    adj = {(a, b) for a, b in sub}
    for code in codes:
        c = councils[code]
        if c["county"] and c["county"] in codes:
            require((code, c["county"]) in adj or (c["county"], code) in adj,
                    f"{name}: district {code} not adjacent to its county")
    comps = components(sorted(codes), sub)
    islands = {"E06000046", "E06000053", "W06000001", "S12000013", "S12000023", "S12000027"}
    ni = {c for c in codes if c.startswith("N09")}
    mainland = set(codes) - islands - ni
    require(set(comps[0]) == mainland, f"{name}: mainland is not one component")
    for comp in comps[1:]:
        require(set(comp) <= islands or set(comp) == ni, f"{name}: unexpected component {comp[:3]}")
    for code, function, value in spend:
        if code in codes:
            require(function in FUNCTION_TIERS and councils[code]["tier"] in FUNCTION_TIERS[function],
                    f"{name}: spend row for ineligible {code}/{function}")
            require(value >= 0, f"{name}: negative baseline {code}/{function}")


def build_all(raw: Path) -> dict[str, dict[str, str]]:
    """Return {instance name: {file name: text}}."""
    check_split()
    data = load(raw)
    councils = build_councils(data)
    edges = build_adjacency(data, councils)
    spend = build_spend(data, councils)

    uk = set(councils)
    england = {c for c in uk if councils[c]["nation"] == "england"}
    suffolk = {SUFFOLK} | set(data["districts_of"][SUFFOLK])
    require(len(uk) == 382, f"expected 382 UK councils, found {len(uk)}")
    require(len(england) == 317, f"expected 317 English councils, found {len(england)}")
    all_keys = [p["key"] for p in PARTNERSHIPS]
    for p in PARTNERSHIPS:
        a, b = sorted(p["members"])
        require((a, b) in edges, f"partnership {p['key']}: members not adjacent")
        for f in p["functions"]:
            require(all(councils[m]["tier"] in FUNCTION_TIERS[f] for m in p["members"]),
                    f"partnership {p['key']}: {f} not eligible")

    out = {}
    for name, codes, keys in (("england-2023", england, all_keys),
                              ("uk-2023", uk, all_keys),
                              ("suffolk-2023", suffolk, ["babergh-mid-suffolk"])):
        validate_instance(name, codes, councils, edges, spend)
        out[name] = instance_files(name, codes, councils, edges, spend, data, keys)
    return out


def write_all(built: dict[str, dict[str, str]], root: Path) -> None:
    for name, files in built.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for fname, text in files.items():
            with (folder / fname).open("w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)


def check(built: dict[str, dict[str, str]], root: Path) -> list[str]:
    diffs = []
    with tempfile.TemporaryDirectory() as tmp:
        write_all(built, Path(tmp))
        for name, files in sorted(built.items()):
            for fname in sorted(files):
                fresh = (Path(tmp) / name / fname).read_bytes()
                shipped_path = root / name / fname
                if not shipped_path.is_file():
                    diffs.append(f"missing: instances/{name}/{fname}")
                elif shipped_path.read_bytes() != fresh:
                    diffs.append(f"differs: instances/{name}/{fname}")
    return diffs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the shipped instances from the raw public data.")
    parser.add_argument("--raw", type=Path, default=DEFAULT_RAW,
                        help="folder holding the raw files (default: ../shared/data/raw from the repository root)")
    parser.add_argument("--check", action="store_true",
                        help="rebuild into a temporary folder and compare with the shipped files")
    args = parser.parse_args(argv)
    try:
        built = build_all(args.raw.resolve())
    except BuildError as exc:
        print(f"build.py: error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        diffs = check(built, INSTANCES_DIR)
        if diffs:
            print("build.py: shipped instances differ from a fresh build:", file=sys.stderr)
            for d in diffs:
                print(f"  {d}", file=sys.stderr)
            return 1
        print("build.py: shipped instances match a fresh build")
        return 0
    write_all(built, INSTANCES_DIR)
    for name, files in built.items():
        print(f"wrote instances/{name}/ ({', '.join(sorted(files))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
