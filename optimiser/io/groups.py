"""Grouping files as people write them, in either of two shapes:

* one row per member: ``id, function, code[, host][, locked][, status]``, the shape of an
  instance's partnerships.csv, where ``host`` is true on the host's row;
* one row per group: ``id, function, members[, host][, status]``, the shape of a solve's own
  partnerships.csv (members separated by spaces, or by ';' where they are names), where
  ``host`` names the host. Its other columns (depth, figures ...) are the plan's own and are
  recomputed, so they are read past.

Councils may be given by code or name, functions by id in any case or by title. ``status``
is ``existing`` for an arrangement already in place (its set-up cost is sunk) or ``new`` (or
empty). A line that names no council or function is an InputError naming the file, line
and column.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import NamedTuple

from ..errors import InputError
from .names import places_of
from .options import function_id
from .tables import CsvTable, read_text

STATUSES = ("existing", "new")


class GroupRow(NamedTuple):
    """One proposed group: its id, function id and member codes; the host it records (None:
    the best member hosts) and whether its set-up cost is sunk (an arrangement in place); the
    depth and platform it would rather keep (a plan's own, scored under another model), where
    an option with them passes the rules."""

    id: str
    function: str
    members: list[str]
    host: str | None = None
    sunk: bool = False
    depth: str | None = None
    platform: str | None = None


def _header(path: Path) -> list[str]:
    text = read_text(path, "file is empty (it needs at least a header row)")
    try:
        first = next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error:
        return []  # CsvTable reports the malformed line
    return [h.strip() for h in first]


def read_groups(path, instance, model) -> list[GroupRow]:
    """The groups of a grouping file (see the module) as :class:`GroupRow`, for any of the
    model's functions; the run decides which of them it scores."""
    path = Path(path)
    header = _header(path)
    per_group = "members" in header and "code" not in header
    if per_group:
        # a solve's partnerships.csv: every other column is the plan's own figure
        table = CsvTable(path, ("id", "function", "members"), tuple(h for h in header if h not in ("id", "function", "members")))
    else:
        table = CsvTable(path, ("id", "function", "code"), ("host", "locked", "status"))
    places = places_of(instance)

    def council(line: int, row: dict, column: str, text: str | None = None) -> str:
        text = table.text(line, row, column) if text is None else text
        found = places.find(text)
        if found is None or found.kind != "council":
            raise InputError(path, f"{column} '{text}' is not a council of instance '{instance.name}'{places.hint(text, 'council')}",
                             table.where(line, column))
        return found.code

    groups: dict[tuple[str, str], dict] = {}
    for line, row in table.rows:
        named = table.text(line, row, "function")
        try:
            function = function_id(model, named, str(path))
        except InputError:
            raise InputError(path, f"unknown function '{named}' (the model's functions: {', '.join(model.function_ids)})",
                             table.where(line, "function")) from None
        key = (table.text(line, row, "id"), function)
        status = row.get("status", "").lower()
        if status not in STATUSES + ("",):
            raise InputError(path, f"status '{row['status']}' is neither existing nor new", table.where(line, "status"))
        group = groups.setdefault(key, {"members": [], "host": None, "sunk": False, "line": line})
        if per_group and key in groups and group["line"] != line:
            raise InputError(path, f"group '{key[0]}' for '{key[1]}' is listed twice (also on line {group['line']})", f"line {line}")
        group["sunk"] |= status == "existing"
        if per_group:
            text = table.text(line, row, "members")
            names = [t.strip() for t in text.split(";")] if ";" in text else text.split()
            codes = [council(line, row, "members", name) for name in names if name]
        else:
            codes = [council(line, row, "code")]
        for code in codes:
            if code in group["members"]:
                raise InputError(path, f"'{code}' is listed twice in group '{key[0]}' for '{key[1]}'", f"line {line}")
            group["members"].append(code)
        if per_group and row.get("host"):
            group["host"] = council(line, row, "host")
        elif not per_group and "host" in table.columns and table.flag(line, row, "host"):
            if group["host"] is not None:
                raise InputError(path, f"group '{key[0]}' for '{key[1]}' has two hosts", table.where(line, "host"))
            group["host"] = codes[0]
    if not groups:
        raise InputError(path, "has no groups")
    for (gid, fid), group in groups.items():
        if group["host"] is not None and group["host"] not in group["members"]:
            raise InputError(path, f"host {group['host']} of group '{gid}' for '{fid}' is not one of its members", f"line {group['line']}")
    return [GroupRow(gid, fid, g["members"], g["host"], g["sunk"]) for (gid, fid), g in groups.items()]
