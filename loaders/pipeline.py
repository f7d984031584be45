"""Load one extract: check the header, stream and validate every record into staging,
check the whole, then apply it in one transaction, or apply nothing and report why.
"""

from __future__ import annotations

import functools
import hashlib
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import psycopg
from marshmallow import ValidationError
from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.orm import Session

from loaders.apply import apply_staged
from loaders.checks import (
    check_closed_references, check_closes, check_counts, check_duplicates, check_references,
)
from loaders.errors import MAX_MESSAGE, ErrorReport, ExtractRejected, clip, rejected
from loaders.locks import extract_lock
from loaders.records import Header, Progress, Tally, stage_records
from loaders.schemas import HEADER_SCHEMA
from loaders.sources import RecordSource, describe_line, open_source
from loaders.staging import create_staging, stager
from registry.models import Extract, Institution
from registry.scorecard import book_scorecard, rejected_scorecard


@dataclass
class LoadResult:
    extract_id: int
    status: str
    counts: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    report: ErrorReport | None = None


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


def check_delta_closes(cursor: psycopg.Cursor[Any], report: ErrorReport, institution_id: int,
                       fmt: str) -> None:
    check_closed_references(cursor, report, institution_id)
    # A register's BODS file closes persons and entities it once published, whether or not
    # this registry ever held them (docs/formats.md): there a close of nothing changes nothing.
    if fmt != "bods":
        check_closes(cursor, report, institution_id)


class ExtractLoader:
    """Loads extracts for the institutions in one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load(self, path: Path, uploader: str | None = None, progress: Progress | None = None,
             extract_id: int | None = None, institution_code: str | None = None,
             expected: Progress | None = None) -> LoadResult:
        """`institution_code` names who reports a file without a header of its own (BODS),
        when that is not the uploader; such a file is that institution's next delta.
        `expected` is told how many records the header declares, once it is read (a
        progress bar's total); `progress`, how many more were read, as they are."""
        started = time.monotonic()
        digest = file_hash(path)
        try:
            reporter = institution_code or uploader
            sequence, last_as_of = self._last_applied(reporter) if reporter else (0, None)
            # One source for header and records: a BODS source plans the records once.
            source = open_source(path, institution=reporter, sequence=sequence + 1,
                                 not_before=last_as_of)
            header = read_header(source)
            if expected is not None:
                expected(sum(header.counts.values()))
            with Session(self.engine) as session:
                found = self._institution(session, header, uploader)
        except ExtractRejected as error:
            return self._early_rejection(error.report, extract_id, started)
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
                return self._reject(session, extract, error.report, timings=_total(started))
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

    def _last_applied(self, code: str) -> tuple[int, date | None]:
        """The sequence and as_of of the institution's last applied extract (0, None: none)."""
        with self.engine.connect() as conn:
            last = conn.execute(text(
                "SELECT e.sequence, e.as_of FROM extracts e JOIN institutions i "
                "ON i.id = e.institution_id WHERE i.code = :code AND e.status = 'applied' "
                "ORDER BY e.sequence DESC LIMIT 1"), {"code": code}).first()
        return (int(last.sequence), last.as_of) if last else (0, None)

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
            raise rejected(f"as_of {header.as_of} is older than {last.as_of}, the as_of of sequence "
                           f"{last.sequence}, the last applied: sequence {expected} is expected as of "
                           f"{last.as_of} or later", "as_of", 1)

    def _apply(self, extract_id: int, institution_id: int, header: Header, source: RecordSource,
               progress: Progress | None, started: float) -> LoadResult:
        report, tally = ErrorReport(), Tally()
        timings: dict[str, float] = {}
        with self.engine.connect() as conn:
            raw: psycopg.Connection[Any] = conn.connection.dbapi_connection  # type: ignore[assignment]
            with raw.cursor() as cursor:
                create_staging(cursor)
                try:
                    with stager(raw) as out:
                        stage_records(source, out, report, header, progress, tally)
                except ExtractRejected as error:
                    conn.rollback()
                    report = error.report
                else:
                    timings["stage"] = time.monotonic() - started
                    check_whole(cursor, report, tally, institution_id, header, source.format)
                if report:
                    conn.rollback()
                    timings["total"] = time.monotonic() - started
                    return self._reject_by_id(extract_id, report, tally.as_counts(), timings)
                self._set_status(extract_id, "applying")
                counts = _apply_staged(conn, cursor, extract_id, institution_id, header, timings)
                counts["read"] = tally.records
                timings["total"] = time.monotonic() - started
                conn.execute(text(
                    "UPDATE extracts SET status = 'applied', counts = :counts, timings = :timings, "
                    "finished_at = now() WHERE id = :id"),
                    {"counts": orjson.dumps(counts).decode(), "timings": orjson.dumps(timings).decode(),
                     "id": extract_id})
                conn.commit()
                # A big load leaves the planner's statistics behind; the next extract's diff
                # would otherwise pick nested loops. Through a function of the schema's owner:
                # the loader's role may not ANALYZE. Lost with a crash, it costs only plans.
                conn.execute(text("SELECT analyze_reported_tables()"))
                conn.commit()
        return LoadResult(extract_id, "applied", counts, timings)

    def _set_status(self, extract_id: int, status: str) -> None:
        # Its own short transaction: whoever polls the upload sees the phase change now.
        with self.engine.begin() as conn:
            conn.execute(text("UPDATE extracts SET status = :s WHERE id = :id"),
                         {"s": status, "id": extract_id})

    def _reject(self, session: Session, extract: Extract, report: ErrorReport,
                counts: dict[str, Any] | None = None,
                timings: dict[str, float] | None = None) -> LoadResult:
        """Records the rejection with what was read and how long it took, as far as it got."""
        extract.status, extract.errors = "rejected", report.as_json()
        extract.counts = {**(counts or {}), "scorecard": rejected_scorecard(report.by_kind)}
        extract.timings = timings or {}
        extract.finished_at = func.now()
        session.commit()
        return LoadResult(extract.id, "rejected", extract.counts, extract.timings, report)

    def _reject_by_id(self, extract_id: int, report: ErrorReport, counts: dict[str, Any] | None = None,
                      timings: dict[str, float] | None = None) -> LoadResult:
        with Session(self.engine, expire_on_commit=False) as session:
            extract = session.get(Extract, extract_id)
            assert extract is not None
            return self._reject(session, extract, report, counts, timings)

    def _early_rejection(self, report: ErrorReport, extract_id: int | None,
                         started: float) -> LoadResult:
        """Too broken to name its institution: only an upload's own row records it."""
        if extract_id is None:
            return LoadResult(0, "rejected", report=report)
        return self._reject_by_id(extract_id, report, timings=_total(started))


def _total(started: float) -> dict[str, float]:
    return {"total": time.monotonic() - started}


def _apply_staged(conn: Connection, cursor: psycopg.Cursor[Any], extract_id: int,
                  institution_id: int, header: Header, timings: dict[str, float]) -> dict[str, Any]:
    """Applies what is staged and computes the scorecard of the book it leaves, both in the
    transaction the caller commits: an extract is never applied without its scorecard, even
    when the process dies the moment it commits."""
    begun = time.monotonic()
    counts: dict[str, Any] = dict(apply_staged(cursor, institution_id, extract_id, header.as_of,
                                               header.kind == "full"))
    timings["apply"] = time.monotonic() - begun
    # Not after ANALYZE: inside the transaction ANALYZE would hold its lock on the four tables
    # until the commit, making two loads wait on each other and an anti-wraparound autovacuum
    # hold up the commit. The scorecard's queries need no statistics (registry/scorecard.py);
    # the statistics are refreshed after the commit (`ExtractLoader._apply`).
    counts["scorecard"] = book_scorecard(conn, institution_id)
    timings["scorecard"] = time.monotonic() - begun - timings["apply"]
    return counts


def check_whole(cursor: psycopg.Cursor[Any], report: ErrorReport, tally: Tally, institution_id: int,
                header: Header, fmt: str) -> None:
    """The checks that need the whole extract staged."""
    where = functools.partial(describe_line, fmt)
    check_counts(header.counts, tally.records, tally.unreadable, report)
    check_duplicates(cursor, report, where)
    check_references(cursor, report, institution_id, header.kind == "full", where)
    if header.kind == "delta":
        check_delta_closes(cursor, report, institution_id, fmt)
