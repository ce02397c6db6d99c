"""What people call councils and areas, resolved to an instance's councils.

A council or an area may be given by code in any case (``e07000200``), by the instance's
name (``Babergh``, ``Bristol, City of``), by another name people use (``Hull``, ``Durham``,
``Herefordshire``, ``Caerdydd``), or, for areas, as a county (with its districts), a region
(``East of England``), a nation (``wales``), a combined authority (``Greater Manchester``,
``West Midlands Combined Authority``), a metropolitan county (``Tyne and Wear``) or
``Greater London``. The other names, combined authorities and metropolitan counties come
from the tables in ``instances/places/`` (built from public data by
``instances/build_places.py``; see its docstring for sources and method).

Where two kinds of area share a name, the region wins (``West Midlands`` is the region;
the combined authority is ``West Midlands Combined Authority``) and a warning says so.

>>> from optimiser.io.instance import load_instance
>>> suffolk = load_instance("suffolk-2023")
>>> places_of(suffolk).council("mid suffolk", "--exclude")
'E07000203'
>>> canonical_area(suffolk, ("suffolk",))
('E10000029',)
>>> split_names("Babergh; Ipswich")
['Babergh', 'Ipswich']
"""

from __future__ import annotations

import csv
import difflib
import logging
import re
import unicodedata
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..errors import InputError
from .shipped import INSTALLED_DATA, SOURCE_ROOT

log = logging.getLogger(__name__)

# ONS names for the region and nation codes the shipped instances use.
REGION_NAMES = {
    "E12000001": "North East",
    "E12000002": "North West",
    "E12000003": "Yorkshire and The Humber",
    "E12000004": "East Midlands",
    "E12000005": "West Midlands",
    "E12000006": "East of England",
    "E12000007": "London",
    "E12000008": "South East",
    "E12000009": "South West",
    "W92000004": "Wales",
    "S92000003": "Scotland",
    "N92000002": "Northern Ireland",
}
NATION_NAMES = {"england": "England", "wales": "Wales", "scotland": "Scotland", "northern-ireland": "Northern Ireland"}
KINDS = {"council": "council", "county": "county", "region": "region", "nation": "nation",
         "combined-authority": "combined authority", "metropolitan-county": "metropolitan county",
         "greater-london": "GLA area"}


@dataclass(frozen=True)
class Place:
    """A council or an area of one instance: ``code`` is what plan.json records for it."""

    code: str
    name: str
    kind: str
    mask: np.ndarray  # bool per council of the instance: the councils it keeps as an area

    @property
    def label(self) -> str:
        return self.name if self.name == self.code else f"{self.name} ({self.code})"


# ---------------------------------------------------------------- the shared tables


def _places_folder() -> Path | None:
    for folder in (INSTALLED_DATA / "instances" / "places", SOURCE_ROOT / "instances" / "places"):
        if (folder / "aliases.csv").is_file():
            return folder
    return None


def _read(name: str) -> list[dict[str, str]]:
    folder = _places_folder()
    if folder is None or not (folder / name).is_file():
        return []
    with (folder / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


_TABLES: dict[str, list[dict[str, str]]] = {}


def table(name: str) -> list[dict[str, str]]:
    """Rows of ``instances/places/NAME`` (aliases.csv, areas.csv, former.csv), read once."""
    if name not in _TABLES:
        _TABLES[name] = _read(name)
    return _TABLES[name]


# ---------------------------------------------------------------- text


def key(text: str) -> str:
    """The exact form of a name for lookups: case and spacing do not matter."""
    return " ".join(str(text).split()).casefold()


_LOOSE_WORDS = re.compile(r"\b(county council|county of|city of|council|borough|district|city|metropolitan|the|ua)\b")


def loose(text: str) -> str:
    """A looser form ("Bristol, City of" and "City of Bristol" are both "bristol")."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower().replace("&", "and")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return re.sub(r"\s+", " ", _LOOSE_WORDS.sub(" ", text)).strip()


def split_names(text: str, known: Callable[[str], bool] | None = None) -> list[str]:
    """A list as a person writes it: ``;`` separates (names may hold commas); otherwise
    commas separate, a double-quoted item keeps its commas, and without quotes adjacent
    pieces are joined back where together they are a known name (``known``).

    >>> split_names('"Bristol, City of",Suffolk')
    ['Bristol, City of', 'Suffolk']
    >>> split_names("Bournemouth, Christchurch and Poole,Dorset", {"Bournemouth, Christchurch and Poole", "Dorset"}.__contains__)
    ['Bournemouth, Christchurch and Poole', 'Dorset']
    """
    text = str(text)
    if ";" in text:
        return [t.strip() for t in text.split(";") if t.strip()]
    if '"' in text:
        return [t.strip() for t in next(csv.reader([text], skipinitialspace=True)) if t.strip()]
    pieces = text.split(",")
    items, i = [], 0
    while i < len(pieces):
        for j in range(len(pieces), i + 1, -1):
            joined = ",".join(pieces[i:j]).strip()
            if known is not None and known(joined):
                items.append(joined)
                i = j
                break
        else:
            items.append(pieces[i].strip())
            i += 1
    return [t for t in items if t]


# ---------------------------------------------------------------- one instance's places


class Places:
    """Every name that means a council or an area of ``instance``."""

    def __init__(self, instance):
        self.instance = instance
        councils = instance.councils
        codes = councils["code"].to_numpy(dtype=object)
        names = councils["name"].tolist()
        county = councils["county"].fillna("").to_numpy(dtype=object)
        regions = councils["region"].to_numpy(dtype=object)
        nations = councils["nation"].to_numpy(dtype=object)
        self.codes = list(codes)
        self.names = dict(zip(codes, names))
        self.exact: dict[str, Place] = {}
        self.shadowed: dict[str, list[Place]] = {}  # names another kind of area also has
        self._loose: dict[str, Place] = {}
        self._loose_clash: set[str] = set()
        self.by_code: dict[str, Place] = {}
        self.labels: list[str] = []

        def place(code, name, kind, mask) -> Place:
            p = Place(code, name, kind, mask)
            self.by_code.setdefault(code, p)
            return self.by_code[code]

        def add(text: str, p: Place, label: bool = True) -> None:
            k = key(text)
            if not k:
                return
            if label:
                self.labels.append(text)
            current = self.exact.get(k)
            if current is None:
                self.exact[k] = p
            elif current.code != p.code and not np.array_equal(current.mask, p.mask):
                self.shadowed.setdefault(k, []).append(p)
            lk = loose(text)
            if lk:
                held = self._loose.setdefault(lk, p)
                if not np.array_equal(held.mask, p.mask):
                    self._loose_clash.add(lk)

        council_places = []
        for i, code in enumerate(codes):
            mask = (codes == code) | (county == code)
            council_places.append(place(code, names[i], "council", mask))
            add(code, council_places[-1])
        for value in sorted(set(county) - {""} - set(codes)):
            add(value, place(value, value, "county", county == value))
        for value in sorted(set(regions)):
            add(value, place(value, REGION_NAMES.get(value, value), "region", regions == value))
        for value in sorted(set(nations)):
            add(value, place(value, NATION_NAMES.get(value, value), "nation", nations == value))
        groups = []
        index = {c: i for i, c in enumerate(codes)}
        for row in table("areas.csv"):
            members = [index[m] for m in row["members"].split() if m in index]
            if not members:
                continue
            mask = np.zeros(len(codes), dtype=bool)
            mask[members] = True
            for c in set(county[mask]) - {""}:  # a county whose districts are all members
                if c in index and mask[county == c].all():
                    mask[index[c]] = True
            groups.append(place(row["code"], row["name"], row["kind"], mask))
            add(row["code"], groups[-1])
        for i, name in enumerate(names):
            add(name, council_places[i])
        for value in sorted(set(regions)):
            if value in REGION_NAMES:
                add(REGION_NAMES[value], self.by_code[value])
        for value in sorted(set(nations)):
            add(NATION_NAMES.get(value, value), self.by_code[value])
            add(value.replace("-", " "), self.by_code[value], label=False)
        for g in sorted(groups, key=lambda g: g.kind != "combined-authority"):
            add(g.name, g)
        for row in table("aliases.csv"):
            target = self.by_code.get(row["code"])
            if target is not None:
                add(row["alias"], target, label=False)

    # -------------------------------------------------------- lookups

    def find(self, text: str) -> Place | None:
        """The place ``text`` names, or None."""
        p = self.exact.get(key(text))
        if p is None:
            lk = loose(text)
            if lk and lk not in self._loose_clash:
                p = self._loose.get(lk)
        return p

    def area(self, text: str, option: str = "--area") -> Place:
        """The area ``text`` names (a council with its districts, a county, region, nation,
        combined authority ...); an unknown name raises InputError with suggestions."""
        p = self.find(text)
        if p is None:
            raise InputError(option, f"unknown area '{text}' in instance '{self.instance.name}'{self.hint(text, 'area')}")
        others = self.shadowed.get(key(text), [])
        if others:
            alternatives = "".join(f"; for the {KINDS[o.kind]} write '{unambiguous(o)}' ({o.code}, {int(o.mask.sum())} councils)"
                                   for o in others)
            log.warning("%s: '%s' is taken as the %s %s (%s, %d councils)%s", option, text, KINDS[p.kind], p.name, p.code,
                        int(p.mask.sum()), alternatives)
        return p

    def council(self, text: str, option: str) -> str:
        """The code of the one council ``text`` names."""
        p = self.find(text)
        if p is None:
            raise InputError(option, f"unknown council '{text}' in instance '{self.instance.name}'{self.hint(text, 'council')}")
        if p.kind != "council":
            raise InputError(option, f"'{text}' is the {KINDS[p.kind]} {p.label}, not a council; name one council")
        return p.code

    def split(self, text: str) -> list[str]:
        """``text`` as a list of names (see :func:`split_names`)."""
        return split_names(text, lambda t: self.find(t) is not None)

    def describe(self, code: str) -> str:
        """``Babergh (E07000200)``."""
        name = self.names.get(code)
        return f"{name} ({code})" if name and name != code else code

    def hint(self, text: str, what: str) -> str:
        """Why ``text`` is unknown, as a suffix: an abolished council's successor, another
        shipped instance that has it, or close matches."""
        for row in table("former.csv"):
            if key(row["name"]) == key(text) or loose(row["name"]) == loose(text):
                now = ", ".join(self.describe(c) for c in row["successors"].split())
                return f" ({row['name']} was abolished on {row['ended']}; it is now part of {now})"
        hints = []
        others = elsewhere(text, what, self.instance)
        if others:
            hints.append(f"it is in instance {', '.join(others)}: solve that instance instead")
        by_lower = {label.lower(): label for label in self.labels}
        close = [by_lower[c] for c in difflib.get_close_matches(text.lower(), list(by_lower), n=5, cutoff=0.85 if others else 0.6)]
        if close:
            hints.append(f"close matches{' here' if others else ''}: {', '.join(close)}")
        return f" ({'; '.join(hints)})" if hints else ""

    def areas(self) -> list[Place]:
        """Every area of the instance that is more than one council, in a readable order."""
        order = ["nation", "region", "greater-london", "combined-authority", "metropolitan-county", "county"]
        found = [p for p in self.by_code.values() if p.kind in order]
        found += [p for p in self.by_code.values() if p.kind == "council" and p.mask.sum() > 1]
        return sorted(found, key=lambda p: (order.index(p.kind) if p.kind in order else len(order), p.name))


def unambiguous(p: Place) -> str:
    """A name of ``p`` that no other kind of area shares."""
    if p.kind == "combined-authority":
        return f"{p.name} Combined Authority"
    if p.kind == "metropolitan-county":
        return f"{p.name} (Met County)"
    return p.code


_CACHE: dict[int, tuple[weakref.ref, Places]] = {}


def places_of(instance) -> Places:
    """The :class:`Places` of ``instance`` (built once per instance object)."""
    entry = _CACHE.get(id(instance))
    if entry is not None and entry[0]() is instance:
        return entry[1]
    result = Places(instance)
    _CACHE[id(instance)] = (weakref.ref(instance), result)
    return result


_SHIPPED: dict[str, Places] = {}


def elsewhere(text: str, what: str, instance) -> list[str]:
    """Other shipped instances in which ``text`` names an area (or a council)."""
    from .instance import load_instance, shipped_instances  # the shipped instances, only on this error path

    found = []
    for path in shipped_instances():
        if path.name == instance.name or Path(getattr(instance, "folder", "")) == path:
            continue
        if path.name not in _SHIPPED:
            try:
                _SHIPPED[path.name] = Places(load_instance(path))
            except InputError:
                continue
        p = _SHIPPED[path.name].find(text)
        if p is not None and (what == "area" or p.kind == "council"):
            found.append(path.name)
    return found


# ---------------------------------------------------------------- areas


def area_tokens(instance, area: Iterable[str] | str, option: str = "--area") -> list[Place]:
    """The places of ``area`` (each item may itself be a list, see :func:`split_names`)."""
    places = places_of(instance)
    if isinstance(area, str):
        area = (area,)
    return [places.area(token, option) for item in area for token in places.split(item)]


def resolve_area(instance, area: Iterable[str] | str) -> np.ndarray:
    """Councils kept by --area (bool per council): councils with their districts, counties,
    regions, nations, combined authorities, metropolitan counties; codes or names."""
    keep = np.zeros(len(instance.councils), dtype=bool)
    found = area_tokens(instance, area)
    if not found:
        return np.ones(len(instance.councils), dtype=bool)
    for p in found:
        keep |= p.mask
    return keep


def canonical_area(instance, area: Iterable[str] | str) -> tuple[str, ...]:
    """``area`` as the codes plan.json records (each once, in the order given)."""
    return tuple(dict.fromkeys(p.code for p in area_tokens(instance, area)))
