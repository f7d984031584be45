"""The CSV bundle: a zip of `header.json` and one CSV per record type (docs/formats.md).

Banks that export spreadsheets send this instead of JSON Lines. Every row becomes the same
canonical record dict a JSON Lines line would be, so validation, staging and apply are shared.
A zip is a container whoever sends it controls: member names, sizes, compression ratios and
encodings are checked before and while reading, and each failure is a rejection with a
message, never a stack trace. Rows are streamed; memory does not grow with the file.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from typing import IO, Any

import orjson

from loaders.errors import clip, echo, rejected
from loaders.reader import MAX_RATIO, MAX_UNCOMPRESSED, RATIO_FLOOR, parse_line

HEADER_MEMBER = "header.json"
RECORD_FILES = ("person", "entity", "account", "role", "ownership")
MEMBERS = (HEADER_MEMBER, *(f"{kind}.csv" for kind in RECORD_FILES))
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")

# A position is file number x ROW_SPAN + row, so a report's "line 300000017" reads as
# account.csv row 17 (file 0 is header.json). Positions are staged as Postgres integers:
# 5 files x 10^8 stays below 2^31.
ROW_SPAN = 100_000_000
HEADER_POSITION = 1
# Zip bomb guards (MAX_UNCOMPRESSED, MAX_RATIO, RATIO_FLOOR) are those of gzip files, in
# loaders/reader.py: real CSV deflates about 5-20:1 too.
MAX_HEADER_BYTES = 64 * 1024
# The same limit as one JSON Lines line; csv's own field limit (128 KiB) applies within it.
MAX_ROW_CHARS = 1024 * 1024
# Bytes that are not UTF-8 come through decoding as lone surrogates (errors="surrogateescape").
NOT_UTF8 = re.compile("[\udc80-\udcff]")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
# Spreadsheets run a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_NUMBER_CHARS = 40

SourceRecord = tuple[int, dict[str, Any] | None, str | None]


class CellError(ValueError):
    """A cell that cannot be turned into its field's value."""


def inert_csv_cell(value: str) -> str:
    """The text to write into a CSV cell so that no spreadsheet runs it as a formula.

    For exporters: the registry stores such text as sent and never evaluates it, but whoever
    opens an export in a spreadsheet would. A leading single quote makes the cell text;
    plain numbers ("-5", "+3.5") are left alone since a spreadsheet only reads them as numbers.
    """
    if value.startswith(FORMULA_START) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def _text(cell: str) -> str:
    return cell


def _json(cell: str) -> Any:
    try:
        return orjson.loads(cell)
    except orjson.JSONDecodeError as error:
        raise CellError(f"not valid JSON ({error})") from error


def _list(cell: str) -> Any:
    if cell.lstrip().startswith("["):
        return _json(cell)
    return [item.strip() for item in cell.split(";") if item.strip()]


def _identifiers(cell: str) -> Any:
    if cell.lstrip().startswith("["):
        return _json(cell)
    return [_identifier(item) for item in cell.split("|") if item.strip()]


def _identifier(item: str) -> dict[str, str]:
    parts = [part.strip() for part in item.split(":", 2)]
    if len(parts) != 3:
        raise CellError(f"{echo(item.strip())} is not scheme:country:value")
    scheme, country, value = parts
    return {"scheme": scheme, "value": value, **({"country": country} if country else {})}


def _bool(cell: str) -> Any:
    # Anything else goes to the validator as text, which names the field in its message.
    return {"true": True, "false": False}.get(cell.strip().lower(), cell)


def _number(cell: str) -> Any:
    text = cell.strip()
    if not NUMBER.fullmatch(text):
        return cell
    # A share or vote is 0-100 with a few decimals; Python refuses to read an integer of
    # over 4,300 digits, and nobody means one.
    if len(text) > MAX_NUMBER_CHARS:
        raise CellError(f"{clip(text, 20)} is not a percentage (longer than {MAX_NUMBER_CHARS} "
                        "characters)")
    return int(text) if text.lstrip("+-").isdigit() else float(text)


Convert = Callable[[str], Any]
Column = tuple[tuple[str, ...], Convert]


def _plain(*names: str) -> dict[str, Column]:
    return {name: ((name,), _text) for name in names}


def _range(field: str) -> dict[str, Column]:
    return {f"{field}_{part}": ((field, part), _number) for part in ("exact", "min", "max")}


COLUMNS: dict[str, dict[str, Column]] = {
    "person": {**_plain("id", "given_names", "family_name", "full_name", "birth_date",
                        "birth_place", "residence_country", "address", "op"),
               "other_names": (("other_names",), _list), "nationalities": (("nationalities",), _list),
               "identifiers": (("identifiers",), _identifiers), "pep": (("pep",), _bool)},
    "entity": {**_plain("id", "name", "legal_form", "registration_number", "registration_country",
                        "lei", "incorporated_on", "address", "op"),
               "other_names": (("other_names",), _list)},
    "account": _plain("id", "iban", "number", "bic", "currency", "type", "opened_on", "closed_on",
                      "op"),
    "role": _plain("account", "party", "role", "from", "to", "op"),
    "ownership": {**_plain("owner", "owned", "from", "to", "op"), **_range("share"),
                  **_range("voting"), "interests": (("interests",), _list),
                  "direct": (("direct",), _bool)},
}


def build_record(kind: str, columns: list[str], cells: list[str]) -> dict[str, Any]:
    """The canonical record of one row; an empty cell is a field left out (null)."""
    record: dict[str, Any] = {"record": kind}
    for name, cell in zip(columns, cells, strict=True):
        if not cell.strip():
            continue
        path, convert = COLUMNS[kind][name]
        target = record
        for key in path[:-1]:
            target = target.setdefault(key, {})
        try:
            target[path[-1]] = convert(cell)
        except CellError as error:
            raise CellError(f"column {name}: {error}") from error
    return record


def describe_position(position: int) -> str:
    """Where a position points in a bundle, in the words a bank can look up."""
    number, row = divmod(position, ROW_SPAN)
    if number == 0:
        return HEADER_MEMBER
    return f"{RECORD_FILES[number - 1]}.csv row {row}"


def is_bundle(head: bytes) -> bool:
    return head[:4] in ZIP_MAGIC


def check_members(infos: list[zipfile.ZipInfo]) -> None:
    """Refuse what a bundle must not hold. Names are limited to the six known ones and each
    may appear once, which also limits the number of members."""
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        if "/" in name or "\\" in name:
            raise rejected(f"member {echo(name)} is inside a folder: put header.json and the CSV "
                           "files at the top level of the zip")
        if name not in MEMBERS:
            raise rejected(f"unknown member {echo(name)}: a bundle holds only {', '.join(MEMBERS)}")
        if name in seen:
            raise rejected(f"member '{name}' appears more than once")
        seen.add(name)
        _check_member(info)
        total += info.file_size
    if total > MAX_UNCOMPRESSED:
        raise rejected(f"the bundle would expand to {total} bytes; at most {MAX_UNCOMPRESSED}")
    if HEADER_MEMBER not in seen:
        raise rejected("the bundle has no header.json")


def _check_member(info: zipfile.ZipInfo) -> None:
    if info.flag_bits & 0x1:
        raise rejected(f"member '{info.filename}' is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise rejected(f"member '{info.filename}' uses an unsupported compression; use deflate")
    if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise rejected(f"member '{info.filename}' expands more than {MAX_RATIO}:1 "
                       "(a zip bomb?)")


# What a broken or truncated archive raises while it is read (member names flagged as UTF-8
# that are not raise UnicodeDecodeError; an unknown "version needed" NotImplementedError).
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, UnicodeDecodeError,
              NotImplementedError)


@contextmanager
def open_bundle(path: Path) -> Iterator[zipfile.ZipFile]:
    try:
        bundle = zipfile.ZipFile(path)
    except ZIP_ERRORS as error:
        raise rejected(f"not a readable zip archive ({error})") from error
    with bundle:
        check_members(bundle.infolist())
        yield bundle


class CsvBundleSource:
    format = "csv-bundle"

    def __init__(self, path: Path) -> None:
        self.path = path

    def header(self) -> tuple[int, dict[str, Any]]:
        with open_bundle(self.path) as bundle:
            info = bundle.getinfo(HEADER_MEMBER)
            if info.file_size > MAX_HEADER_BYTES:
                raise rejected(f"header.json is over {MAX_HEADER_BYTES} bytes", "header",
                               HEADER_POSITION)
            try:
                data = bundle.read(HEADER_MEMBER)
            except ZIP_ERRORS as error:
                raise rejected(f"header.json is corrupt ({error})", "header") from error
        value, why = parse_line(data.removeprefix(b"\xef\xbb\xbf"))
        if value is None:
            raise rejected(f"header.json: {why}", "header", HEADER_POSITION)
        return HEADER_POSITION, value

    def records(self) -> Iterator[SourceRecord]:
        with open_bundle(self.path) as bundle:
            names = set(bundle.namelist())
            for number, kind in enumerate(RECORD_FILES, start=1):
                if f"{kind}.csv" in names:
                    yield from CsvMember(bundle, kind, number).rows()


class _BoundedLines:
    """Lines for csv.reader, with the characters of the row being read counted: a row, however
    many lines its quoted cells span, stays under MAX_ROW_CHARS."""

    def __init__(self, text: IO[str], fail: Callable[[str], Exception]) -> None:
        self.text = text
        self.fail = fail
        self.used = 0

    def __iter__(self) -> _BoundedLines:
        return self

    def __next__(self) -> str:
        line = self.text.readline(MAX_ROW_CHARS + 1)
        if not line:
            raise StopIteration
        self.used += len(line)
        if self.used > MAX_ROW_CHARS:
            raise self.fail(f"longer than {MAX_ROW_CHARS} characters")
        return line


class CsvMember:
    """One CSV of a bundle: the column-name row, then one record per row."""

    def __init__(self, bundle: zipfile.ZipFile, kind: str, number: int) -> None:
        self.bundle = bundle
        self.kind = kind
        self.name = f"{kind}.csv"
        self.base = number * ROW_SPAN
        self.row = 1  # as a spreadsheet numbers it: the column names are row 1

    def fail(self, message: str) -> Exception:
        return rejected(f"{self.name} row {self.row}: {message}", line=self.base + self.row)

    def rows(self) -> Iterator[SourceRecord]:
        try:
            with self.bundle.open(self.name) as raw:
                yield from self._read(raw)
        except csv.Error as error:
            raise self.fail(str(error)) from error
        except ZIP_ERRORS as error:
            raise rejected(f"{self.name} is corrupt or truncated ({error})") from error

    def _read(self, raw: IO[bytes]) -> Iterator[SourceRecord]:
        if _is_utf16(raw):
            raise rejected(f"{self.name} is UTF-16; save it as CSV UTF-8")
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
        lines = _BoundedLines(text, self.fail)
        first = next(lines, "")
        delimiter = ";" if ";" in first and "," not in first else ","
        reader = csv.reader(chain([first], lines), delimiter=delimiter)
        columns: list[str] | None = None
        for cells in reader:
            lines.used = 0
            if columns is None:
                columns = self._columns(cells)
            elif any(cell.strip() for cell in cells):
                yield self.base + self.row, *self._record(columns, cells)
            self.row += 1
            if self.row >= ROW_SPAN:
                raise self.fail(f"a CSV file may have at most {ROW_SPAN - 1} rows")

    def _columns(self, cells: list[str]) -> list[str]:
        columns = [cell.strip() for cell in cells]
        known = COLUMNS[self.kind]
        for name in columns:
            if name not in known:
                raise self.fail(f"unknown column {echo(name)}; {self.name} has the columns "
                                f"{', '.join(known)}")
        if len(set(columns)) != len(columns):
            raise self.fail("a column name appears more than once")
        return columns

    def _record(self, columns: list[str], cells: list[str]) -> tuple[dict[str, Any] | None,
                                                                       str | None]:
        where = f"{self.name} row {self.row}"
        if len(cells) != len(columns):
            return None, f"{where}: {len(cells)} cells, but {len(columns)} columns"
        for name, cell in zip(columns, cells, strict=True):
            if NOT_UTF8.search(cell):
                return None, f"{where}, column {name}: not UTF-8"
            if "\x00" in cell:
                return None, f"{where}, column {name}: contains a NUL character"
        try:
            return build_record(self.kind, columns, cells), None
        except CellError as error:
            return None, f"{where}, {error}"


def _is_utf16(raw: IO[bytes]) -> bool:
    peek = getattr(raw, "peek", None)
    head: bytes = peek(2)[:2] if peek is not None else b""
    return head in (b"\xff\xfe", b"\xfe\xff")
