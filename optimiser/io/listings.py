"""Listing files of the partner marketplace (SPEC §7): ``code, function, stance``, one row per
council and function, with stance ``offer`` (will host), ``seek`` (will join, not host) or
``open`` (either). Councils by code or name, functions by id in any case or title; every
problem is an InputError naming the file, line and column."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from ..errors import InputError
from .names import places_of
from .options import function_id
from .tables import CsvTable

STANCES = ("offer", "seek", "open")


class Listing(NamedTuple):
    code: str
    function: str
    stance: str
    line: int


def read_listings(path, instance, model) -> list[Listing]:
    """The listings of ``path``: a council of the instance, a function of the model whose tiers
    include the council's, a known stance, each (council, function) once."""
    path = Path(path)
    table = CsvTable(path, ("code", "function", "stance"))
    places = places_of(instance)
    tiers = dict(zip(instance.councils["code"], instance.councils["tier"]))
    seen: dict[tuple[str, str], int] = {}
    found = []
    for line, row in table.rows:
        text = table.text(line, row, "code")
        place = places.find(text)
        if place is None or place.kind != "council":
            raise InputError(path, f"code '{text}' is not a council of instance '{instance.name}'{places.hint(text, 'council')}",
                             table.where(line, "code"))
        named = table.text(line, row, "function")
        try:
            fid = function_id(model, named, str(path))
        except InputError:
            raise InputError(path, f"unknown function '{named}' (the model's functions: {', '.join(model.function_ids)})",
                             table.where(line, "function")) from None
        function = model.function(fid)
        if tiers[place.code] not in function.tiers:
            raise InputError(path, f"{places.describe(place.code)} is a {tiers[place.code]} council, and '{fid}' is for "
                                   f"{', '.join(function.tiers)} councils", table.where(line, "function"))
        stance = table.text(line, row, "stance").lower()
        if stance not in STANCES:
            raise InputError(path, f"stance '{row['stance']}' is not offer (will host), seek (will join, not host) or open (either)",
                             table.where(line, "stance"))
        if (place.code, fid) in seen:
            raise InputError(path, f"{places.describe(place.code)} is listed for '{fid}' twice (also on line {seen[(place.code, fid)]})",
                             f"line {line}")
        seen[(place.code, fid)] = line
        found.append(Listing(place.code, fid, stance, line))
    if not found:
        raise InputError(path, "has no listings")
    return found
