"""Grouping files as people write them: the code column may hold council names, and the
function column ids in any case or titles (``id, function, code``, one row per member)."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .names import places_of
from .options import function_id
from .tables import CsvTable


def read_groups(path, instance, model, functions=()) -> list[tuple[str, str, list[str]]]:
    """The groups of a grouping file as (id, function, [codes]), for the run's ``functions``
    (default: the model's); a line that names no council or function is an InputError
    naming the file, line and column."""
    path = Path(path)
    table = CsvTable(path, ("id", "function", "code"), ("host", "locked"))
    places = places_of(instance)
    run = [function_id(model, f, "--functions") for f in functions] or list(model.function_ids)
    groups: dict[tuple[str, str], list[str]] = {}
    for line, row in table.rows:
        text = table.text(line, row, "code")
        found = places.find(text)
        if found is None or found.kind != "council":
            raise InputError(path, f"code '{text}' is not a council of instance '{instance.name}'{places.hint(text, 'council')}",
                             table.where(line, "code"))
        named = table.text(line, row, "function")
        try:
            function = function_id(model, named, str(path))
        except InputError:
            function = None
        if function not in run:
            raise InputError(path, f"unknown function '{named}' (the run's functions: {', '.join(run)})", table.where(line, "function"))
        key = (table.text(line, row, "id"), function)
        if found.code in groups.setdefault(key, []):
            raise InputError(path, f"'{text}' is listed twice in group '{key[0]}' for '{key[1]}'", f"line {line}")
        groups[key].append(found.code)
    if not groups:
        raise InputError(path, "has no groups")
    return [(gid, fid, members) for (gid, fid), members in groups.items()]
