"""Validate each record of an extract and stage the good ones, collecting every problem with
its line, record id and field. What needs the whole extract is checked after (loaders.checks).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson
from marshmallow import ValidationError

from loaders.errors import ErrorReport, Problem, echo
from loaders.schemas import CLOSE_SCHEMA, MAX_REF, RECORD_SCHEMAS
from loaders.sources import RecordSource
from loaders.staging import Stager
from loaders.tables import TARGETS, close_key

Progress = Callable[[int], None]
PROGRESS_EVERY = 1000
# How the key of a role or an ownership is made, for messages.
KEY_SHAPES = {"role": "account|party|role", "ownership": "owner|owned"}


@dataclass(frozen=True)
class Header:
    institution: str
    kind: str
    as_of: date
    sequence: int
    counts: dict[str, int]


def record_hash(value: dict[str, Any]) -> str:
    body = {k: v for k, v in value.items() if k != "op"}
    return hashlib.blake2b(orjson.dumps(body, option=orjson.OPT_SORT_KEYS), digest_size=16).hexdigest()


@dataclass
class Tally:
    """What staging read: the records of each type, and the lines that are no record of a
    known type (each reported already as a problem of its own)."""

    records: dict[str, int] = field(default_factory=lambda: {kind: 0 for kind in TARGETS})
    unreadable: int = 0

    def as_counts(self) -> dict[str, Any]:
        """The counts a rejected extract shows: what was read before it was turned down."""
        counts: dict[str, Any] = {"read": self.records}
        if self.unreadable:
            counts["unreadable"] = self.unreadable
        return counts


def stage_records(source: RecordSource, out: Stager, report: ErrorReport, header: Header,
                  progress: Progress | None = None, tally: Tally | None = None) -> Tally:
    """Validate each record and stage the good ones; returns what was read. A `tally` given
    keeps what was read up to a rejection that ends the reading."""
    tally = tally if tally is not None else Tally()
    read = 0
    for number, value, error in source.records():
        read += 1
        if progress is not None and read % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
        if value is None:
            tally.unreadable += 1
            report.add(Problem(number, None, None, error or "unreadable", "syntax"))
            continue
        kind = value.get("record")
        # Not `kind in TARGETS` alone: a list or an object cannot be looked up in a dict.
        if not isinstance(kind, str) or kind not in TARGETS:
            tally.unreadable += 1
            report.add(Problem(number, _rid(value), "record", f"unknown record type {echo(kind)} "
                               f"(one of {', '.join(TARGETS)})", "record"))
            continue
        tally.records[kind] += 1
        _stage_one(number, kind, value, out, report, header)
    if progress is not None:
        progress(read % PROGRESS_EVERY)
    return tally


def _rid(value: dict[str, Any]) -> str | None:
    rid = value.get("id") or value.get("account") or value.get("owner")
    return str(rid) if rid is not None else None


def _stage_one(number: int, kind: str, value: dict[str, Any], out: Stager, report: ErrorReport,
               header: Header) -> None:
    target = TARGETS[kind]
    if value.get("op") == "close":
        if header.kind != "delta":
            report.add(Problem(number, _rid(value), "op", "'close' is only for deltas", "record"))
            return
        try:
            key = close_key(kind, CLOSE_SCHEMA.load(value))
        except ValidationError as err:
            _add_messages(report, number, _rid(value), err.messages)
            return
        if key is None:
            report.add(Problem(number, _rid(value), None, "a close record must name what it closes", "record"))
            return
        if _key_fits(number, kind, key, report):
            out.write(target, number, key, None, "close", (None,) * len(target.columns))
        return
    try:
        data = RECORD_SCHEMAS[kind].load(value)
    except ValidationError as err:
        _add_messages(report, number, _rid(value), err.messages)
        valid = err.valid_data if isinstance(err.valid_data, dict) else {}
        _add_date_problems(report, number, kind, value, valid, header)
        _note_failed(out, number, kind, value)
        return
    _add_date_problems(report, number, kind, value, data, header)
    key = target.key(data)
    if _key_fits(number, kind, key, report):
        out.write(target, number, key, record_hash(value), "upsert", target.to_row(data))


def _add_date_problems(report: ErrorReport, number: int, kind: str, value: dict[str, Any],
                       data: dict[str, Any], header: Header) -> None:
    """Of a record that failed other checks too, on the fields that passed theirs."""
    for name, message in date_problems(kind, data, header.as_of):
        report.add(Problem(number, _rid(value), name, message, "date"))


def _note_failed(out: Stager, number: int, kind: str, value: dict[str, Any]) -> None:
    """Keeps the id of a record that failed validation, when it has one that could be
    referred to (an id too long for a reference is not kept: nothing can name it)."""
    rid = value.get("id")
    if kind in ("person", "entity", "account") and isinstance(rid, str) \
            and 0 < len(rid.strip()) <= MAX_REF:
        out.failed(number, kind, rid.strip())


def _key_fits(number: int, kind: str, key: str, report: ErrorReport) -> bool:
    """Roles and ownerships are keyed by ids joined with "|"; each id fits the registry's
    column, but two long ones together may not."""
    if len(key) <= MAX_REF:
        return True
    report.add(Problem(number, key, None, f"its key {KEY_SHAPES.get(kind, 'id')} is {len(key)} "
                       f"characters long; the registry keeps keys of at most {MAX_REF}: use "
                       "shorter ids", "invalid"))
    return False


def date_problems(kind: str, data: dict[str, Any], as_of: date) -> list[tuple[str, str]]:
    """Dates no bank can truthfully report on `as_of`. An end in the future would also be
    for ever out of reach: closing marks only what is still open."""
    problems = []
    for name in ("opened_on", "incorporated_on", "from_", "closed_on", "to"):
        value = data.get(name)
        if value is not None and value > as_of:
            problems.append((name.rstrip("_"), f"{value} is after the extract's as_of {as_of}"))
    birth = data.get("birth_date")
    if birth and not (1880 <= int(birth[:4]) <= as_of.year):
        problems.append(("birth_date", f"implausible birth year {birth[:4]}"))
    return problems


def _add_messages(report: ErrorReport, line: int, rid: str | None, messages: Any, prefix: str = "") -> None:
    if isinstance(messages, dict):
        for key, inner in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            _add_messages(report, line, rid, inner, path if key != "_schema" else prefix)
    elif isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages):
        for message in messages:
            report.add(Problem(line, rid, prefix or None, message, "invalid"))
    elif isinstance(messages, list):
        for index, inner in enumerate(messages):
            _add_messages(report, line, rid, inner, f"{prefix}[{index}]")
    else:
        report.add(Problem(line, rid, prefix or None, str(messages), "invalid"))
