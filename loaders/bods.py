"""BODS 0.4 files as extracts: a JSON array of statements, or JSON Lines of one statement each,
plain or gzip (docs/formats.md, "BODS 0.4").

A BODS file has no registry header, so one is made up: the institution and the sequence come
from the caller (the uploader's key and the next sequence expected), the counts from a first
streaming pass, and the file is loaded as a delta. That first pass also validates every
statement against the official schema and picks, for each recordId, the statement that counts;
the second pass maps those to canonical records. Memory grows with the number of distinct
records (a few hundred bytes each), never with the bytes of a statement.
"""

from __future__ import annotations

import functools
import gzip
import json
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib.resources import files
from pathlib import Path
from typing import IO, Any, NamedTuple

import orjson
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

from loaders.bods_mapping import (
    is_closed, is_named, ownership_parts, parties, record_kind, to_records,
)
from loaders.errors import MAX_REPORTED, clip, rejected
from loaders.reader import (
    MAX_LINE_BYTES, NUL_ESCAPE, NUL_MESSAGE, first_line, has_nul, open_extract, raw_lines,
)

SCHEMA_FILES = ("statement.json", "components.json", "entity-record.json", "person-record.json",
                "relationship-record.json")
MAX_STATEMENT_BYTES = MAX_LINE_BYTES
# The deepest valid statement nests about ten levels (PEP details > source > assertedBy > name).
MAX_DEPTH = 16
CHUNK = 1 << 20
# A JSON string (escapes included), a bracket, or the start of a string the buffer cuts off.
TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}"]')
SPACE = re.compile(rb"[ \t\r\n]*")
OPEN, CLOSE, QUOTE = frozenset(b"[{"), frozenset(b"]}"), ord('"')
READ_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)

SourceRecord = tuple[int, dict[str, Any] | None, str | None]
Statement = tuple[int, Any, str | None]


RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _is_date_time(value: object) -> bool:
    """RFC 3339 date-time. jsonschema checks it only with an extra package, and statementDate
    decides which statement of a record counts."""
    if not isinstance(value, str):
        return True
    if not RFC3339.fullmatch(value):
        return False
    datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    return True


@functools.lru_cache(maxsize=1)
def statement_validator() -> Draft202012Validator:
    """The BODS 0.4 Statement schema with the files it refers to, resolved by their $ids."""
    root = files("loaders") / "json_schemas" / "bods"
    resources = [Resource.from_contents(json.loads((root / name).read_text(encoding="utf-8")))
                 for name in SCHEMA_FILES]
    registry: Registry[Any] = Registry().with_resources(
        (resource.contents["$id"], resource) for resource in resources)
    # The default checkers check "date" (every date the registry keeps); "uri", whose checker
    # needs an extra package, passes unchecked: the registry keeps no URI.
    checker = FormatChecker()
    checker.checks("date-time", raises=ValueError)(_is_date_time)
    return Draft202012Validator({"$ref": "urn:statement#/$defs/Statement"}, registry=registry,
                                format_checker=checker)


def statement_problem(statement: Any) -> str | None:
    """Why a statement is not valid BODS 0.4, or None."""
    if not isinstance(statement, dict):
        return "a statement must be a JSON object"
    errors = list(statement_validator().iter_errors(statement))
    if not errors:
        return None
    error = best_match(errors)
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where.lstrip('.') or 'statement'}: {error.message[:300]}{more}"


def _too_deep(value: Any, level: int = 1) -> bool:
    if level > MAX_DEPTH:
        return True
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return any(_too_deep(child, level + 1) for child in children)


def _load(data: bytes) -> tuple[Any, str | None]:
    try:
        value = orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError as error:
        return None, f"not valid JSON ({error})"
    if _too_deep(value):
        return None, f"nested deeper than {MAX_DEPTH} levels"
    if NUL_ESCAPE in data and has_nul(value):
        return None, NUL_MESSAGE
    return value, None


class ArrayReader:
    """The elements of one top-level JSON array, as bytes, without reading the array whole:
    a scanner that knows only strings and brackets finds each element's end, and orjson
    parses the element. A broken array cannot be resynchronised, so its faults reject."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.buffer = b""
        self.pos = 0
        self.eof = False

    def _more(self) -> int | None:
        """Read on; returns by how much offsets into the buffer moved, None at the end."""
        if self.eof:
            return None
        chunk = self.stream.read(CHUNK)
        if not chunk:
            self.eof = True
            return None
        shift = self.pos
        self.buffer, self.pos = self.buffer[shift:] + chunk, 0
        return shift

    def _next_byte(self) -> int | None:
        while True:
            match = SPACE.match(self.buffer, self.pos)
            assert match is not None  # the pattern matches the empty string
            self.pos = match.end()
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if self._more() is None:
                return None

    def elements(self) -> Iterator[tuple[int, bytes]]:
        if self._more() is not None and self.buffer.startswith(b"\xef\xbb\xbf"):
            self.pos = 3
        if self._next_byte() != ord("["):
            raise rejected("a BODS file is a JSON array of statements, or one statement per line")
        self.pos += 1
        number, byte = 0, self._next_byte()
        while byte != ord("]"):
            number += 1
            if byte is None:
                raise rejected(f"the file ends before the array is closed, at statement {number} "
                               "(truncated?)", line=number)
            if byte != ord("{"):
                raise rejected(f"statement {number} is not a JSON object", line=number)
            yield number, self._element(number)
            byte = self._next_byte()
            if byte == ord(","):
                self.pos += 1
                byte = self._next_byte()
            elif byte != ord("]"):
                raise rejected(f"after statement {number}: expected ',' or ']'", line=number)
        self.pos += 1
        if self._next_byte() is not None:
            raise rejected(f"data after the end of the array (after statement {number})")

    def _element(self, number: int) -> bytes:
        depth, scan = 0, self.pos
        while True:
            for match in TOKEN.finditer(self.buffer, scan):
                first = self.buffer[match.start()]
                if first == QUOTE and match.end() - match.start() == 1:
                    break  # a string the buffer cuts off: read on, then scan it again
                scan = match.end()
                depth += 1 if first in OPEN else -1 if first in CLOSE else 0
                if depth == 0:
                    break
            else:
                scan = len(self.buffer)
            # Unfinished, the statement runs at least to the end of the buffer.
            if (scan if depth == 0 else len(self.buffer)) - self.pos > MAX_STATEMENT_BYTES:
                raise rejected(f"statement {number} is longer than {MAX_STATEMENT_BYTES} bytes",
                               line=number)
            if depth == 0:
                start, self.pos = self.pos, scan
                return self.buffer[start:scan]
            shift = self._more()
            if shift is None:
                raise rejected(f"the file ends inside statement {number} (truncated?)", line=number)
            scan -= shift


class _Latest(NamedTuple):
    """What the first pass keeps of the statement that counts for one recordId."""

    date: str
    position: int
    kind: str
    closed: bool
    named: bool
    pair: tuple[str, str] | None
    parts: int  # ownership records a relationship becomes (bods_mapping.ownership_parts)


@dataclass
class Plan:
    emit: set[int] = field(default_factory=set)  # positions of the statements that become records
    # Closed persons and entities that an emitted (ended) interest names: kept as records.
    kept_closed: set[int] = field(default_factory=set)
    invalid: dict[int, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    last_date: str = ""
    # Why statements did not become records, counted, for the operator.
    notes: Counter[str] = field(default_factory=Counter)


class BodsSource:
    format = "bods"

    def __init__(self, path: Path, institution_code: str, sequence: int,
                 as_of: date | None = None, not_before: date | None = None) -> None:
        self.path = path
        self.institution = institution_code
        self.sequence = sequence
        self.as_of = as_of
        self.not_before = not_before
        self._plan: Plan | None = None

    def statements(self) -> Iterator[Statement]:
        """(position, statement, why it could not be read): array index from 1, or line number."""
        try:
            if first_line(self.path).startswith(b"["):
                with open_extract(self.path) as stream:
                    for number, data in ArrayReader(stream).elements():
                        yield number, *_load(data)
                return
        except READ_ERRORS as error:
            raise rejected(f"the gzip stream is truncated or corrupt ({error})") from error
        for number, line in raw_lines(self.path):
            yield number, *_load(line)

    def plan(self) -> Plan:
        if self._plan is None:
            self._plan = self._first_pass()
        return self._plan

    def header(self) -> tuple[int, dict[str, Any]]:
        plan = self.plan()
        as_of = self.as_of or _as_of(plan.last_date, self.not_before)
        return 0, {"record": "header", "format": "registry-extract", "version": 1,
                   "institution": self.institution, "kind": "delta", "as_of": as_of.isoformat(),
                   "sequence": self.sequence, "counts": plan.counts}

    def records(self) -> Iterator[SourceRecord]:
        plan = self.plan()
        for position, statement, _ in self.statements():
            if position in plan.invalid:
                yield position, None, plan.invalid[position]
            elif position in plan.emit:
                for record in to_records(statement, position in plan.kept_closed):
                    yield position, record, None

    def _first_pass(self) -> Plan:
        plan = Plan()
        latest: dict[str, _Latest] = {}
        for position, statement, error in self.statements():
            error = error or statement_problem(statement)
            if error is not None:
                plan.invalid[position] = _describe(statement, error, len(plan.invalid))
                continue
            plan.last_date = max(plan.last_date, _latest_date(statement))
            relationship = statement["recordType"] == "relationship"
            seen = _Latest(statement["statementDate"], position, record_kind(statement),
                           is_closed(statement), is_named(statement),
                           parties(statement) if relationship else None,
                           ownership_parts(statement) if relationship else 1)
            earlier = latest.get(statement["recordId"])
            if earlier is not None:
                plan.notes["statement replaced by a later one for its record"] += 1
            if earlier is None or (seen.date, seen.position) >= (earlier.date, earlier.position):
                latest[statement["recordId"]] = seen
        _choose(latest, plan)
        return plan


def _describe(statement: Any, error: str, shown: int) -> str:
    # The report shows the first MAX_REPORTED problems; later messages are not kept whole.
    if shown >= MAX_REPORTED:
        return "not valid BODS 0.4"
    name = statement.get("statementId") if isinstance(statement, dict) else None
    return f"statement {clip(str(name))}: {error}" if name else error


def _choose(latest: dict[str, _Latest], plan: Plan) -> None:
    """Which records to emit. A person or entity without a name is skipped, with every
    relationship that involves it; so is a relationship with an unspecified party. The registry
    holds one relationship per owner and owned: of several between the same two parties, an
    open one wins over a closed one, then the latest. A closed relationship is emitted with its
    end, so a closed person or entity it names is emitted as a record rather than closed."""
    nameless = {rid for rid, r in latest.items() if r.kind != "ownership" and not r.named}
    pairs = _pairs(latest, nameless, plan)
    named = {rid for record in pairs.values() for rid in record.pair or ()}
    kinds: dict[int, str] = {}
    for rid, record in latest.items():
        if record.kind == "ownership":
            continue
        if record.closed and rid not in named:
            kinds[record.position] = record.kind
        elif rid in nameless:
            plan.notes[f"{record.kind} without a name"] += 1
        else:
            kinds[record.position] = record.kind
            if record.closed:
                plan.kept_closed.add(record.position)
                plan.notes[f"closed {record.kind} kept for the ended interests that name it"] += 1
    plan.emit = set(kinds) | {record.position for record in pairs.values()}
    plan.counts = {kind: sum(1 for k in kinds.values() if k == kind) for kind in ("person", "entity")}
    plan.counts["ownership"] = sum(record.parts for record in pairs.values())


def _pairs(latest: dict[str, _Latest], nameless: set[str], plan: Plan) -> dict[tuple[str, str], _Latest]:
    pairs: dict[tuple[str, str], _Latest] = {}
    for record in latest.values():
        if record.kind != "ownership":
            continue
        if record.pair is None:
            plan.notes["relationship with an unspecified party"] += 1
        elif set(record.pair) & nameless:
            plan.notes["relationship with a party without a name"] += 1
        else:
            best = pairs.setdefault(record.pair, record)
            if best is not record:
                plan.notes["relationship between parties another relationship links"] += 1
                if _rank(record) > _rank(best):
                    pairs[record.pair] = record
    return pairs


def _rank(record: _Latest) -> tuple[bool, str, int]:
    return not record.closed, record.date, record.position


def _latest_date(statement: dict[str, Any]) -> str:
    """The latest date a statement knows of: when it was made and published, and start, end
    and founding dates it reports (some registers record interests that start, or end, after
    the statement)."""
    details = statement["recordDetails"]
    interests = details.get("interests", [])
    dates: list[str] = [
        statement["statementDate"][:10],
        (statement.get("publicationDetails") or {}).get("publicationDate", "")[:10],
        details.get("foundingDate") or "",
        *(i.get("startDate") or "" for i in interests),
        *(i.get("endDate") or "" for i in interests)]
    return max(dates)


def _as_of(last_date: str, not_before: date | None = None) -> date:
    """The file's latest date, but never after today: a date in the future is an error the
    pipeline's date checks must still see. Nor before `not_before`, the as_of of the
    institution's last applied extract: a bank's file of older statements is still its next
    delta, and what it changes is known to the registry from then on, never earlier (history
    already reported as of a later day is not rewritten)."""
    today = date.today()
    try:
        latest = min(date.fromisoformat(last_date), today) if last_date else today
    except ValueError:
        latest = today
    return max(latest, not_before) if not_before else latest
