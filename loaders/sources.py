"""Where records come from. Every format yields the same canonical record dicts (the JSON
Lines shape of docs/extract-format.md), so validation, staging and apply are written once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from loaders.errors import rejected
from loaders.reader import parse_line, raw_lines

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


def open_source(path: Path) -> RecordSource:
    """The reader for a file, chosen by its content, not its name."""
    return JsonLinesSource(path)
