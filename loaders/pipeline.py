"""Load one extract: check the header, stream and validate every record into staging,
check the whole, then apply it in one transaction, or apply nothing and report why.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import psycopg
from marshmallow import ValidationError
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from loaders.apply import apply_staged
from loaders.checks import (
    check_closed_references, check_closes, check_duplicates, check_references,
)
from loaders.errors import MAX_MESSAGE, ErrorReport, ExtractRejected, Problem, clip, echo, rejected
from loaders.locks import extract_lock
from loaders.schemas import CLOSE_SCHEMA, HEADER_SCHEMA, MAX_REF, RECORD_SCHEMAS
from loaders.sources import RecordSource, open_source
from loaders.staging import Stager, create_staging, stager
from loaders.tables import TARGETS, close_key
from registry.models import Extract, Institution

Progress = Callable[[int], None]
PROGRESS_EVERY = 1000
# How the key of a role or an ownership is made, for messages.
KEY_SHAPES = {"role": "account|party|role", "ownership": "owner|owned"}


@dataclass
class LoadResult:
    extract_id: int
    status: str
    counts: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    report: ErrorReport | None = None


@dataclass(frozen=True)
class Header:
    institution: str
    kind: str
    as_of: date
    sequence: int
    counts: dict[str, int]


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_header(source: RecordSource) -> Header:
    number, value = source.header()
    if value.get("record") != "header":
        raise rejected("the first record must be the header", "header", number)
    try:
        data = HEADER_SCHEMA.load(value)
    except ValidationError as err:
        raise rejected(f"header: {clip(str(err.messages), MAX_MESSAGE - 10)}", "header", number) from err
    return Header(data["institution"], data["kind"], data["as_of"], data["sequence"], data["counts"])


def record_hash(value: dict[str, Any]) -> str:
    body = {k: v for k, v in value.items() if k != "op"}
    return hashlib.blake2b(orjson.dumps(body, option=orjson.OPT_SORT_KEYS), digest_size=16).hexdigest()


def stage_records(source: RecordSource, out: Stager, report: ErrorReport, header: Header,
                  progress: Progress | None = None) -> dict[str, int]:
    """Validate each record and stage the good ones; returns the records read per type."""
    seen = {kind: 0 for kind in TARGETS}
    read = 0
    for number, value, error in source.records():
        read += 1
        if progress is not None and read % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
        if value is None:
            report.add(Problem(number, None, None, error or "unreadable", "syntax"))
            continue
        kind = value.get("record")
        # Not `kind in TARGETS` alone: a list or an object cannot be looked up in a dict.
        if not isinstance(kind, str) or kind not in TARGETS:
            report.add(Problem(number, _rid(value), "record", f"unknown record type {echo(kind)} "
                               f"(one of {', '.join(TARGETS)})", "record"))
            continue
        seen[kind] += 1
        _stage_one(number, kind, value, out, report, header)
    if progress is not None:
        progress(read % PROGRESS_EVERY)
    return seen


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
        return
    for problem in date_problems(kind, data, header.as_of):
        report.add(Problem(number, _rid(value), problem[0], problem[1], "date"))
    key = target.key(data)
    if _key_fits(number, kind, key, report):
        out.write(target, number, key, record_hash(value), "upsert", target.to_row(data))


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


def check_delta_closes(cursor: psycopg.Cursor[Any], report: ErrorReport, institution_id: int,
                       fmt: str) -> None:
    check_closed_references(cursor, report, institution_id)
    # A register's BODS file closes persons and entities it once published, whether or not
    # this registry ever held them (docs/formats.md): there a close of nothing changes nothing.
    if fmt != "bods":
        check_closes(cursor, report, institution_id)


def check_counts(header: Header, seen: dict[str, int], report: ErrorReport) -> None:
    for kind, count in seen.items():
        declared = header.counts.get(kind, 0)
        if declared != count:
            report.add(Problem(None, None, f"counts.{kind}", f"header declares {declared} {kind} "
                               f"records but {count} were read (truncated file?)", "counts"))


class ExtractLoader:
    """Loads extracts for the institutions in one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load(self, path: Path, uploader: str | None = None, progress: Progress | None = None,
             extract_id: int | None = None, institution_code: str | None = None) -> LoadResult:
        """`institution_code` names who reports a file without a header of its own (BODS),
        when that is not the uploader; such a file is that institution's next delta."""
        started = time.monotonic()
        digest = file_hash(path)
        try:
            reporter = institution_code or uploader
            sequence = self._next_sequence(reporter) if reporter is not None else None
            # One source for header and records: a BODS source plans the records once.
            source = open_source(path, institution=reporter, sequence=sequence)
            header = read_header(source)
            with Session(self.engine) as session:
                found = self._institution(session, header, uploader)
        except ExtractRejected as error:
            return self._early_rejection(error.report, extract_id)
        with ExitStack() as held, Session(self.engine, expire_on_commit=False) as session:
            institution = session.merge(found)
            duplicate = session.execute(select(Extract.id).where(
                Extract.institution_id == institution.id, Extract.content_hash == digest,
                Extract.status == "applied", Extract.id != (extract_id or 0))).scalar()
            if duplicate is not None:
                return self._duplicate(session, duplicate, extract_id, started)
            extract = self._extract_row(session, institution, header, path, digest, extract_id)
            if extract_id is None:
                # Locked before the row is visible: a worker polling for unfinished
                # extracts must not take up this one while we apply it.
                held.enter_context(extract_lock(self.engine, extract.id))
            extract.format = source.format
            try:
                self._check_sequence(session, institution.id, header)
            except ExtractRejected as error:
                return self._reject(session, extract, error.report)
            session.commit()
            session.close()
            return self._apply(extract.id, institution.id, header, source, progress, started)

    def _duplicate(self, session: Session, original: int, extract_id: int | None,
                   started: float) -> LoadResult:
        """The same content again: acknowledged, nothing written (not even to the index)."""
        timings = {"total": time.monotonic() - started}
        if extract_id is not None:
            upload = session.get(Extract, extract_id)
            if upload is not None:
                upload.status, upload.timings = "duplicate", timings
                upload.counts = {"duplicate_of": original}
                upload.finished_at = func.now()
                session.commit()
        return LoadResult(original, "duplicate", timings=timings)

    def _next_sequence(self, code: str) -> int:
        with self.engine.connect() as conn:
            last = conn.execute(text(
                "SELECT max(e.sequence) FROM extracts e JOIN institutions i ON i.id = e.institution_id "
                "WHERE i.code = :code AND e.status = 'applied'"), {"code": code}).scalar()
        return int(last or 0) + 1

    def _institution(self, session: Session, header: Header, uploader: str | None) -> Institution:
        if uploader is not None and uploader != header.institution:
            raise rejected(f"the header names institution {header.institution}, but this key "
                           f"belongs to {uploader}", "header", 1)
        institution = session.execute(
            select(Institution).where(Institution.code == header.institution)).scalar_one_or_none()
        if institution is None:
            raise rejected(f"institution {header.institution} is not registered", "header", 1)
        return institution

    def _extract_row(self, session: Session, institution: Institution, header: Header, path: Path,
                     digest: str, extract_id: int | None) -> Extract:
        extract = session.get(Extract, extract_id) if extract_id else None
        if extract is None:
            extract = Extract(institution_id=institution.id, path=str(path), content_hash=digest,
                              size_bytes=path.stat().st_size)
            session.add(extract)
        extract.kind, extract.sequence, extract.as_of = header.kind, header.sequence, header.as_of
        extract.status = "validating"
        session.flush()
        return extract

    def _check_sequence(self, session: Session, institution_id: int, header: Header) -> None:
        last = session.execute(
            select(Extract.sequence, Extract.as_of).where(
                Extract.institution_id == institution_id, Extract.status == "applied")
            .order_by(Extract.sequence.desc()).limit(1)).first()
        expected = (last.sequence + 1) if last else 1
        if header.sequence != expected:
            raise rejected(f"sequence {header.sequence} received, sequence {expected} expected "
                           "(sequences run without gaps per institution)", "sequence", 1)
        if last and last.as_of and header.as_of < last.as_of:
            raise rejected(f"as_of {header.as_of} is older than the last applied extract's "
                           f"{last.as_of}", "sequence", 1)

    def _apply(self, extract_id: int, institution_id: int, header: Header, source: RecordSource,
               progress: Progress | None, started: float) -> LoadResult:
        report = ErrorReport()
        timings: dict[str, float] = {}
        with self.engine.connect() as conn:
            raw: psycopg.Connection[Any] = conn.connection.dbapi_connection  # type: ignore[assignment]
            with raw.cursor() as cursor:
                create_staging(cursor)
                try:
                    with stager(raw) as out:
                        seen = stage_records(source, out, report, header, progress)
                except ExtractRejected as error:
                    conn.rollback()
                    return self._reject_by_id(extract_id, error.report)
                timings["stage"] = time.monotonic() - started
                check_counts(header, seen, report)
                check_duplicates(cursor, report)
                check_references(cursor, report, institution_id, header.kind == "full")
                if header.kind == "delta":
                    check_delta_closes(cursor, report, institution_id, source.format)
                if report:
                    conn.rollback()
                    return self._reject_by_id(extract_id, report)
                self._set_status(extract_id, "applying")
                counts = apply_staged(cursor, institution_id, extract_id, header.as_of,
                                      header.kind == "full")
                timings["apply"] = time.monotonic() - started - timings["stage"]
                timings["total"] = time.monotonic() - started
                counts["read"] = seen
                conn.execute(text(
                    "UPDATE extracts SET status = 'applied', counts = :counts, timings = :timings, "
                    "finished_at = now() WHERE id = :id"),
                    {"counts": orjson.dumps(counts).decode(), "timings": orjson.dumps(timings).decode(),
                     "id": extract_id})
                conn.commit()
                # A big load leaves the planner's statistics behind; later queries (the
                # scorecard, the next extract's diff) would otherwise pick nested loops.
                # Through a function of the schema's owner: the loader's role may not ANALYZE.
                conn.execute(text("SELECT analyze_reported_tables()"))
                conn.commit()
        return LoadResult(extract_id, "applied", counts, timings)

    def _set_status(self, extract_id: int, status: str) -> None:
        # Its own short transaction: whoever polls the upload sees the phase change now.
        with self.engine.begin() as conn:
            conn.execute(text("UPDATE extracts SET status = :s WHERE id = :id"),
                         {"s": status, "id": extract_id})

    def _reject(self, session: Session, extract: Extract, report: ErrorReport) -> LoadResult:
        extract.status, extract.errors = "rejected", report.as_json()
        extract.finished_at = func.now()
        session.commit()
        return LoadResult(extract.id, "rejected", report=report)

    def _reject_by_id(self, extract_id: int, report: ErrorReport) -> LoadResult:
        with Session(self.engine, expire_on_commit=False) as session:
            extract = session.get(Extract, extract_id)
            assert extract is not None
            return self._reject(session, extract, report)

    def _early_rejection(self, report: ErrorReport, extract_id: int | None) -> LoadResult:
        """Too broken to name its institution: only an upload's own row records it."""
        if extract_id is None:
            return LoadResult(0, "rejected", report=report)
        return self._reject_by_id(extract_id, report)
