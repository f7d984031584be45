"""Where records come from. Every format yields the same canonical record dicts (the JSON
Lines shape of docs/extract-format.md), so validation, staging and apply are written once.
The formats are told apart by their content, never by the file's name (docs/formats.md).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import orjson

from loaders.bods import BodsSource
from loaders.csv_bundle import CsvBundleSource, describe_position, is_bundle
from loaders.errors import rejected
from loaders.reader import first_line, parse_line, raw_lines

# The formats the registry reads (the `format` of an extract), told apart by content.
FORMATS = ("jsonl", "csv-bundle", "bods")
# (position of the record in the file, the record or None, why it could not be read)
SourceRecord = tuple[int, dict[str, Any] | None, str | None]


class RecordSource(Protocol):
    """A readable extract: its header record, then its records, streamed."""

    format: str

    def header(self) -> tuple[int, dict[str, Any]]: ...

    def records(self) -> Iterator[SourceRecord]: ...


class JsonLinesSource:
    format = "jsonl"

    def __init__(self, path: Path) -> None:
        self.path = path

    def header(self) -> tuple[int, dict[str, Any]]:
        for number, line in raw_lines(self.path):
            value, error = parse_line(line)
            if value is None:
                raise rejected(f"header: {error}", "header", number)
            return number, value
        raise rejected("the extract is empty")

    def records(self) -> Iterator[SourceRecord]:
        lines = raw_lines(self.path)
        next(lines)  # the header
        for number, line in lines:
            value, error = parse_line(line)
            yield number, value, error


def detect_format(path: Path) -> str:
    """"csv-bundle" (zip), "bods" (a JSON array, or JSON Lines whose first object is a BODS
    statement) or "jsonl". Anything unreadable is left to the JSON Lines reader, whose
    messages say what is wrong with it."""
    with open(path, "rb") as probe:
        if is_bundle(probe.read(4)):
            return "csv-bundle"
    try:
        # Blank lines first are no format's content: a BODS array may follow them.
        first = first_line(path)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile):
        return "jsonl"
    if first.startswith(b"["):
        return "bods"
    try:
        value = orjson.loads(first)
    except orjson.JSONDecodeError:
        return "jsonl"
    is_statement = isinstance(value, dict) and "statementId" in value and "record" not in value
    return "bods" if is_statement else "jsonl"


def open_source(path: Path, *, institution: str | None = None, sequence: int | None = None,
                not_before: date | None = None) -> RecordSource:
    """The reader for a file, chosen by its content, not its name. A BODS file has no header
    naming who reports it and in which sequence: the caller says so with `institution` (the
    uploader) and `sequence` (the next one expected for that institution), and with
    `not_before` the as_of of that institution's last applied extract, which the file's own
    as_of may not go back before."""
    kind = detect_format(path)
    if kind == "csv-bundle":
        return CsvBundleSource(path)
    if kind == "bods":
        if institution is None or sequence is None:
            raise rejected("a BODS file has no registry header: it must be loaded for an "
                           "institution, as that institution's next delta", "header")
        return BodsSource(path, institution, sequence, not_before=not_before)
    return JsonLinesSource(path)


def describe_line(fmt: str | None, position: int) -> str:
    """Where a problem's position points, in the words the bank can look up: a bundle numbers
    its records across its member files (docs/formats.md)."""
    if fmt == "csv-bundle":
        return describe_position(position)
    return f"line {position}"
