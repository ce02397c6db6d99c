"""Reading the project's files: CSV tables and TOML tables that report the file, the line
or key, and what is wrong on any problem, and writing files atomically.

Every reader here turns every way a file can be unreadable into an
:class:`~optimiser.errors.InputError`, so the command line can print it as one line.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import os
import tempfile
import tomllib
from pathlib import Path

from ..errors import InputError

TRUE_WORDS = {"true", "yes", "1", "y", "t"}
FALSE_WORDS = {"false", "no", "0", "n", "f", ""}


def read_text(path: Path, empty: str = "file is empty") -> str:
    """A UTF-8 text file's contents, turning every way it can be unreadable into an InputError."""
    if not path.is_file():
        raise InputError(path, "is a folder, not a file" if path.is_dir() else "file not found")
    try:
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(path, f"not UTF-8 text (byte {exc.start}: {data[exc.start]:#04x}); save it as UTF-8", f"line {line}") from None
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror}") from None
    if not text.strip():
        raise InputError(path, empty)
    return text


def read_toml(path: Path) -> dict:
    """Reads a TOML file, turning every way it can be unreadable into an InputError."""
    return parse_toml(read_text(path), path)


def parse_toml(text: str, source, where: str | None = None) -> dict:
    """TOML text read from ``source`` (a file, or ``where`` in one) as a dict, or an InputError."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(source, f"malformed TOML: {exc}", where) from None


class TomlTable:
    """Typed access to one TOML table that reports the file and key path on any problem."""

    def __init__(self, data: dict, source: str, path: str):
        if not isinstance(data, dict):
            raise InputError(source, "must be a table", path or None)
        self.data, self.source, self.path = data, source, path
        self.used: set[str] = set()

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, kind: str, default=..., low=None, high=None, low_open=False):
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                typo = difflib.get_close_matches(key, [k for k in self.data if k not in self.used and isinstance(k, str)], n=1)
                hint = f" (is '{typo[0]}' a misspelling of it?)" if typo else ""
                raise InputError(self.source, f"missing required key{hint}", self._where(key))
            return default
        value = self.data[key]
        where = self._where(key)
        if kind == "str":
            if not isinstance(value, str) or not value.strip():
                raise InputError(self.source, f"must be non-empty text, got {value!r}", where)
            return value.strip()
        if kind == "bool":
            if not isinstance(value, bool):
                raise InputError(self.source, f"must be true or false, got {value!r}", where)
            return value
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise InputError(self.source, f"must be a whole number, got {value!r}", where)
        elif kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise InputError(self.source, f"must be a number, got {value!r}", where)
            value = float(value)
        elif kind == "strlist":
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                raise InputError(self.source, f"must be a list of text, got {value!r}", where)
            return [v.strip() for v in value]
        else:  # pragma: no cover - programming error
            raise ValueError(kind)
        if low is not None and (value < low or (low_open and value == low)):
            bound = f"> {low}" if low_open else f">= {low}"
            raise InputError(self.source, f"must be {bound}, got {value!r}", where)
        if high is not None and value > high:
            raise InputError(self.source, f"must be <= {high}, got {value!r}", where)
        return value

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            close = difflib.get_close_matches(unknown[0], sorted(self.used), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise InputError(self.source, f"unknown key ({hint}known: {', '.join(sorted(self.used))})", self._where(unknown[0]))


class CsvTable:
    """A CSV file read as text rows, with line numbers kept for error messages."""

    def __init__(self, path: Path, required: tuple[str, ...], optional: tuple[str, ...] = ()):
        self.path = path
        text = read_text(path, "file is empty (it needs at least a header row)")
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        rows = []
        try:
            for raw in reader:
                rows.append(raw)
        except csv.Error as exc:
            # an unterminated quote runs to the end of the file: name the line where the field began
            if "end of data" in str(exc):
                where, problem = _unclosed_quote_line(text, len(rows)), "a quoted field opened on this line is never closed"
            else:
                where, problem = reader.line_num, str(exc)
            raise InputError(path, f"malformed CSV: {problem}", f"line {where}") from None
        header = [h.strip() for h in rows[0]]
        if len(set(header)) != len(header):
            dup = next(h for h in header if header.count(h) > 1)
            raise InputError(path, f"column '{dup}' appears twice", "header")
        for column in required:
            if column not in header:
                raise InputError(path, f"missing column '{column}' (columns: {', '.join(header)})", "header")
        unknown = [h for h in header if h not in required and h not in optional]
        if unknown:
            known = ", ".join(required + optional)
            raise InputError(path, f"unknown column '{unknown[0]}' (known: {known})", "header")
        self.columns = header
        self.rows: list[tuple[int, dict[str, str]]] = []
        for line, raw in enumerate(rows[1:], start=2):
            if not raw or all(not v.strip() for v in raw):
                continue
            if len(raw) != len(header):
                raise InputError(path, f"expected {len(header)} fields, found {len(raw)}", f"line {line}")
            self.rows.append((line, {h: v.strip() for h, v in zip(header, raw)}))

    def where(self, line: int, column: str) -> str:
        return f"line {line}, column '{column}'"

    def text(self, line: int, row: dict, column: str, required: bool = True) -> str:
        value = row.get(column, "")
        if required and not value:
            raise InputError(self.path, "is empty", self.where(line, column))
        return value

    def number(self, line, row, column, *, integer=False, low=None, high=None, low_open=False, high_open=False, default=None):
        value = row.get(column, "")
        if value == "":
            if default is None:
                raise InputError(self.path, "is empty", self.where(line, column))
            return default
        try:
            number = float(value)
        except ValueError:
            kind = "a whole number" if integer else "a number"
            raise InputError(self.path, f"'{value}' is not {kind}", self.where(line, column)) from None
        if not math.isfinite(number):
            raise InputError(self.path, f"'{value}' is not a finite number", self.where(line, column))
        if integer:
            if number != int(number):
                raise InputError(self.path, f"'{value}' is not a whole number", self.where(line, column))
            number = int(number)
        if low is not None and (number < low or (low_open and number == low)):
            bound = f"> {low}" if low_open else f">= {low}"
            raise InputError(self.path, f"{value} is out of range (must be {bound})", self.where(line, column))
        if high is not None and (number > high or (high_open and number == high)):
            bound = f"< {high}" if high_open else f"<= {high}"
            raise InputError(self.path, f"{value} is out of range (must be {bound})", self.where(line, column))
        return number

    def flag(self, line, row, column) -> bool:
        value = row.get(column, "").lower()
        if value in TRUE_WORDS:
            return True
        if value in FALSE_WORDS:
            return False
        raise InputError(self.path, f"'{row[column]}' is not true or false", self.where(line, column))


def _unclosed_quote_line(text: str, complete_rows: int) -> int:
    """The line where the record after ``complete_rows`` well-formed records starts."""
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    for _ in range(complete_rows):
        next(reader)
        line = reader.line_num + 1
    return line




def write_atomically(out: Path, contents: dict[str, str], stale: tuple[str, ...] = ()) -> list[Path]:
    """Writes ``contents`` ({file name: text}) into the folder ``out`` so that a reader never
    sees a half-written file: everything goes to a temporary folder beside the files first
    and is then moved in, one rename per file. Files named in ``stale`` and not written (an
    earlier run's that this one does not make) are removed once the new ones are in place, so
    the folder never mixes two runs' results."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".writing-") as tmp:
        for name, text in contents.items():
            Path(tmp, name).write_text(text, encoding="utf-8", newline="")
        for name in contents:
            os.replace(Path(tmp, name), out / name)
    for name in stale:
        if name not in contents:
            Path(out, name).unlink(missing_ok=True)
    return [out / name for name in contents]


def csv_text(fields: list[str], rows: list[dict]) -> str:
    """Rows as CSV text with these columns: missing values empty, flags true/false, floats to 6 places."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else csv_cell(row.get(k))) for k in fields})
    return buffer.getvalue()


def csv_cell(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(round(value, 6))
    return value
