"""The worker's share of uploads: take each waiting extract, in order, and load it.

A worker holds the extract's advisory lock (loaders.locks) while it works on it. If it dies
(even by SIGKILL) its connection closes, the lock goes with it, and the apply transaction
rolls back; the next worker finds the extract still unfinished and starts it again. The
apply's commit is the last thing an extract needs (status, counts and scorecard together),
so a worker killed just after it leaves nothing undone.
"""

from __future__ import annotations

import logging
from pathlib import Path

import orjson
import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from loaders.errors import internal_error
from loaders.locks import extract_lock
from loaders.pipeline import ExtractLoader, LoadResult
from registry.scorecard import rejected_scorecard

log = logging.getLogger("registry.worker")
UNFINISHED_STATUSES = ("received", "validating", "applying")
UNFINISHED = """
SELECT e.id, e.path, i.code FROM extracts e JOIN institutions i ON i.id = e.institution_id
WHERE e.status = ANY(:unfinished)
ORDER BY e.institution_id, e.id
"""


def process_uploads(engine: Engine) -> list[LoadResult]:
    """Load every unfinished extract nobody else is working on; returns what was done."""
    with engine.connect() as conn:
        waiting = conn.execute(text(UNFINISHED), {"unfinished": list(UNFINISHED_STATUSES)}).all()
    done = []
    blocked: set[str] = set()
    for extract_id, path, code in waiting:
        # One institution's extracts apply in order: skip the rest of a busy institution.
        if code in blocked:
            continue
        locked, result = _process_one(engine, extract_id, Path(path), code)
        if not locked:
            blocked.add(code)
        elif result is not None:
            done.append(result)
    return done


def _process_one(engine: Engine, extract_id: int, path: Path, code: str) -> tuple[bool, LoadResult | None]:
    """Whether the extract's lock was got, and what loading it came to (None: somebody
    else finished it between the listing and the lock)."""
    with extract_lock(engine, extract_id) as got:
        if not got:
            return False, None
        with engine.connect() as conn:
            status = conn.execute(text("SELECT status FROM extracts WHERE id = :id"),
                                  {"id": extract_id}).scalar()
        if status not in UNFINISHED_STATUSES:
            return True, None
        log.info("extract %d of %s: loading %s", extract_id, code, path.name)
        try:
            # An applied extract's scorecard is written in its apply transaction: nothing is
            # left to do after the commit that a kill could leave undone.
            result = ExtractLoader(engine).load(path, uploader=code, extract_id=extract_id)
        except Exception as error:
            if _lost_database(error):
                raise  # not the file's fault: left unfinished, it is loaded again at the next poll
            # One file the loader cannot cope with must not stop every bank's uploads: left
            # unfinished it would be taken up first, and fail, at every poll for ever.
            log.exception("extract %d of %s: internal error while loading", extract_id, code)
            result = reject_unfinished(engine, extract_id)
        log.info("extract %d: %s", extract_id, result.status)
        return True, result


# SQLSTATE classes of a database in passing trouble, not of a file's content: connection
# exceptions, transaction rollbacks (deadlock, serialization), operator intervention
# (shutdown, restart). Not insufficient resources (53: disk full, out of memory, a temp file
# limit): one extract too big for them would fail at every poll, first in line, and hold up
# every bank's uploads; it is rejected instead, and may be sent again once they are fixed.
PASSING_TROUBLE = ("08", "40", "57P")


def _lost_database(error: BaseException) -> bool:
    """Whether Postgres was away or in trouble rather than refusing something of this
    extract: then the extract is tried again at the next poll instead of rejected."""
    cause = getattr(error, "orig", None) or error
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(cause, psycopg.InterfaceError):  # "the connection is closed"
        return True
    if not isinstance(cause, psycopg.OperationalError):
        return False
    state = cause.sqlstate
    return state is None or state.startswith(PASSING_TROUBLE)


def reject_unfinished(engine: Engine, extract_id: int) -> LoadResult:
    """Rejects the extract with an internal error, unless it is finished already (applied
    or rejected, when the failure came after: what was recorded stays). An unfinished one's
    apply transaction has rolled back, so as a rejected extract it changed nothing."""
    report = internal_error()
    with engine.begin() as conn:
        conn.execute(text(
            "UPDATE extracts SET status = 'rejected', errors = :errors, finished_at = now(), "
            "counts = counts || jsonb_build_object('scorecard', CAST(:card AS jsonb)) "
            "WHERE id = :id AND status = ANY(:unfinished)"),
            {"errors": orjson.dumps(report.as_json()).decode(), "id": extract_id,
             "card": orjson.dumps(rejected_scorecard(report.by_kind)).decode(),
             "unfinished": list(UNFINISHED_STATUSES)})
        status = str(conn.execute(text("SELECT status FROM extracts WHERE id = :id"),
                                  {"id": extract_id}).scalar())
    return LoadResult(extract_id, status, report=report if status == "rejected" else None)
