"""Instances: reading and validating an instance folder (the format is in instances/README.md).

An instance is the councils, which of them touch, what they spend on each function, the
systems they run and the partnerships they already have. Everything is checked on load;
a problem raises :class:`~optimiser.errors.InputError` naming the file, line and column.
"""

from __future__ import annotations

import difflib
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import pandas as pd

from ..errors import InputError
from .model import SavingsModel
from .shipped import instance_homes
from .tables import CsvTable, TomlTable, read_toml

log = logging.getLogger(__name__)

NATIONS = ("england", "wales", "scotland", "northern-ireland")


@dataclass(frozen=True)
class ExistingPartnership:
    """One existing arrangement for one function (partnerships.csv rows sharing id and function)."""

    id: str
    function: str
    members: tuple[str, ...]
    host: str | None
    locked: bool
    line: int  # first line of the group in partnerships.csv, for messages


@dataclass
class Instance:
    """A validated instance folder. ``councils`` is indexed 0..n-1 in file order."""

    name: str
    title: str
    folder: Path
    model_ref: str | None
    attribution: tuple[str, ...]
    councils: pd.DataFrame
    graph: nx.Graph
    spend: dict[tuple[str, str], float]
    platforms: dict[tuple[str, str], str]
    partnerships: tuple[ExistingPartnership, ...]
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def codes(self) -> list[str]:
        return self.councils["code"].tolist()

    def index_of(self, code: str) -> int:
        return self._index[code]

    def __post_init__(self) -> None:
        self._index = {c: i for i, c in enumerate(self.councils["code"])}


def _read_councils(path: Path) -> pd.DataFrame:
    table = CsvTable(
        path,
        ("code", "name", "tier", "nation", "region", "population", "lat", "lon"),
        ("county", "commitment", "max_partnerships", "max_hosted", "control", "withdrawal", "headroom"),
    )
    records, seen = [], {}
    for line, row in table.rows:
        code = table.text(line, row, "code")
        if code in seen:
            raise InputError(path, f"code '{code}' repeats line {seen[code]}", table.where(line, "code"))
        seen[code] = line
        nation = table.text(line, row, "nation").lower()
        if nation not in NATIONS:
            raise InputError(path, f"unknown nation '{row['nation']}' (known: {', '.join(NATIONS)})", table.where(line, "nation"))
        max_p = table.number(line, row, "max_partnerships", integer=True, low=0, default=-1)
        max_h = table.number(line, row, "max_hosted", integer=True, low=0, default=-1)
        records.append(
            {
                "code": code,
                "name": table.text(line, row, "name"),
                "tier": table.text(line, row, "tier"),
                "nation": nation,
                "region": table.text(line, row, "region"),
                "county": row.get("county", ""),
                "population": table.number(line, row, "population", integer=True, low=0, low_open=True),
                "lat": table.number(line, row, "lat", low=-90, high=90),
                "lon": table.number(line, row, "lon", low=-180, high=180),
                "commitment": table.number(line, row, "commitment", low=0, high=1, default=1.0),
                "max_partnerships": None if max_p == -1 else max_p,
                "max_hosted": None if max_h == -1 else max_h,
                "control": row.get("control", ""),
                # empty: the model's [risk] table gives it (SPEC §5)
                "withdrawal": table.number(line, row, "withdrawal", low=0, high=1, high_open=True, default=math.nan),
                # pounds a year the council can find for its partnerships' net costs; empty: no limit (SPEC §8)
                "headroom": table.number(line, row, "headroom", low=0, default=math.nan),
                "line": line,
            }
        )
    if not records:
        raise InputError(path, "has no councils")
    frame = pd.DataFrame.from_records(records)
    for column in ("max_partnerships", "max_hosted"):
        frame[column] = pd.array(frame[column].tolist(), dtype="Int64")
    return frame


def _read_adjacency(path: Path, councils: pd.DataFrame) -> nx.Graph:
    table = CsvTable(path, ("a", "b"), ("border_km",))
    graph = nx.Graph()
    for row in councils.itertuples(index=False):
        graph.add_node(row.code)
    known = set(councils["code"])
    for line, row in table.rows:
        a, b = table.text(line, row, "a"), table.text(line, row, "b")
        for column, code in (("a", a), ("b", b)):
            if code not in known:
                raise InputError(path, f"code '{code}' is not in councils.csv", table.where(line, column))
        if a == b:
            raise InputError(path, f"a council cannot border itself ('{a}')", f"line {line}")
        border = table.number(line, row, "border_km", low=0, default=float("nan"))
        graph.add_edge(a, b, border_km=None if math.isnan(border) else border)
    return graph


def _read_keyed(path: Path, known: set[str], column: str, parse) -> dict[tuple[str, str], object]:
    """A table with one row per (code, function) and one value column, parsed by ``parse``."""
    table = CsvTable(path, ("code", "function", column))
    values: dict[tuple[str, str], object] = {}
    lines: dict[tuple[str, str], int] = {}
    for line, row in table.rows:
        code = table.text(line, row, "code")
        if code not in known:
            raise InputError(path, f"code '{code}' is not in councils.csv", table.where(line, "code"))
        key = (code, table.text(line, row, "function"))
        if key in values:
            raise InputError(path, f"'{key[0]}, {key[1]}' repeats line {lines[key]}", f"line {line}")
        values[key] = parse(table, line, row)
        lines[key] = line
    return values


def _read_spend(path: Path, known: set[str]) -> dict[tuple[str, str], float]:
    return _read_keyed(path, known, "baseline", lambda table, line, row: table.number(line, row, "baseline", low=0))


def _platform(table: "CsvTable", line: int, row: dict) -> str:
    platform = table.text(line, row, "platform")
    if platform.startswith("own:"):
        raise InputError(table.path, "platform names starting 'own:' are reserved for councils with no row", table.where(line, "platform"))
    return platform


def _read_platforms(path: Path, known: set[str]) -> dict[tuple[str, str], str]:
    return _read_keyed(path, known, "platform", _platform)


def _read_partnerships(path: Path, known: set[str]) -> tuple[ExistingPartnership, ...]:
    table = CsvTable(path, ("id", "function", "code"), ("host", "locked"))
    groups: dict[tuple[str, str], dict] = {}
    for line, row in table.rows:
        key = (table.text(line, row, "id"), table.text(line, row, "function"))
        code = table.text(line, row, "code")
        if code not in known:
            raise InputError(path, f"code '{code}' is not in councils.csv", table.where(line, "code"))
        group = groups.setdefault(key, {"members": [], "host": None, "locked": False, "line": line})
        if code in group["members"]:
            raise InputError(path, f"'{code}' is listed twice in partnership '{key[0]}' for '{key[1]}'", f"line {line}")
        group["members"].append(code)
        if "host" in table.columns and table.flag(line, row, "host"):
            if group["host"] is not None:
                raise InputError(path, f"partnership '{key[0]}' for '{key[1]}' has two hosts", table.where(line, "host"))
            group["host"] = code
        if "locked" in table.columns and table.flag(line, row, "locked"):
            group["locked"] = True
    result = []
    for (pid, function), group in groups.items():
        if len(group["members"]) < 2:
            raise InputError(path, f"partnership '{pid}' for '{function}' has one member; it needs at least two", f"line {group['line']}")
        result.append(ExistingPartnership(pid, function, tuple(group["members"]), group["host"], group["locked"], group["line"]))
    return tuple(result)


def shipped_instances(homes: list[Path] | None = None) -> list[Path]:
    """Instance folders (those with an instance.toml) in ``homes``, the first of each name."""
    found: dict[str, Path] = {}
    for home in homes or instance_homes():
        if home.is_dir():
            for path in sorted(home.iterdir()):
                if (path / "instance.toml").is_file():
                    found.setdefault(path.name, path)
    return list(found.values())


def resolve_instance_path(ref: str | Path) -> Path:
    """An instance folder given as a path, or as the name of a shipped instance."""
    path = Path(ref)
    if path.is_dir() or len(path.parts) > 1:
        return path
    for home in instance_homes():
        if (home / ref).is_dir():
            return home / ref
    return path


TABLES = ("councils", "adjacency", "spend", "platforms", "partnerships", "boundaries")


def load_instance(folder: str | Path) -> Instance:
    """Reads and validates an instance folder (its instance.toml and the tables it names);
    a bare name such as ``"england-2023"`` is looked up among the shipped instances.

    Examples
    --------
    >>> inst = load_instance("instances/suffolk-2023")  # doctest: +SKIP
    >>> len(inst.councils)  # doctest: +SKIP
    """
    folder = resolve_instance_path(folder)
    if not folder.is_dir():
        hint = ""
        if len(folder.parts) == 1:  # a name: say which shipped instances there are
            names = sorted({path.name for path in shipped_instances()})
            close = difflib.get_close_matches(folder.name, names, n=3)
            if names:
                hint = f" (did you mean {', '.join(close)}?)" if close else f" (shipped instances: {', '.join(names)})"
        raise InputError(folder, f"instance folder not found{hint}")
    toml_path = folder / "instance.toml"
    data = read_toml(toml_path)
    source = str(toml_path)
    top = TomlTable(data, source, "")
    name = top.get("name", "str")
    title = top.get("title", "str", default=name)
    model_ref = top.get("model", "str", default=None)
    attribution = tuple(top.get("attribution", "strlist", default=[]))
    top.used.add("tables")
    tables = TomlTable(data.get("tables", {}), source, "tables")
    files: dict[str, Path] = {}
    for key in TABLES:
        required = key in ("councils", "adjacency")
        relative = tables.get(key, "str", default=None if not required else ...)
        if relative is not None:
            files[key] = folder / relative
    tables.finish()
    top.finish()

    councils = _read_councils(files["councils"])
    known = set(councils["code"])
    graph = _read_adjacency(files["adjacency"], councils)
    spend = _read_spend(files["spend"], known) if "spend" in files else {}
    platforms = _read_platforms(files["platforms"], known) if "platforms" in files else {}
    partnerships = _read_partnerships(files["partnerships"], known) if "partnerships" in files else ()
    if "boundaries" in files and not files["boundaries"].is_file():
        raise InputError(files["boundaries"], "file not found (named in instance.toml [tables].boundaries)")
    return Instance(name, title, folder, model_ref, attribution, councils, graph, spend, platforms, partnerships, files)


def check_against_model(instance: Instance, model: SavingsModel) -> None:
    """Checks what depends on the model: tiers declared, functions known."""
    declared = set(model.tiers)
    path = instance.files["councils"]
    for row in instance.councils.itertuples(index=False):
        if row.tier not in declared:
            raise InputError(
                path,
                f"tier '{row.tier}' is not declared by model '{model.name}' (tiers: {', '.join(model.tiers)})",
                f"line {row.line}, column 'tier'",
            )
    functions = set(model.function_ids)
    for key, table in (("spend", instance.spend), ("platforms", instance.platforms)):
        unknown = sorted({f for (_, f) in table} - functions)
        if unknown:
            log.warning("%s: ignoring rows for functions model '%s' does not define: %s", instance.files[key], model.name, ", ".join(unknown))
    for group in instance.partnerships:
        if group.function not in functions:
            if group.locked:
                raise InputError(
                    instance.files["partnerships"],
                    f"locked partnership '{group.id}' is for function '{group.function}', which model '{model.name}' does not define",
                    f"line {group.line}",
                )
            log.warning("%s: ignoring partnership '%s' for unknown function '%s'", instance.files["partnerships"], group.id, group.function)
