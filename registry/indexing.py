"""Postgres to Elasticsearch: drain the outbox, rebuild from scratch, compare counts.

Postgres is the truth. The outbox is drained in batches inside a transaction that deletes
the drained rows only after Elasticsearch acknowledged them, so a crash or an unavailable
Elasticsearch leaves them queued, and indexing the same party twice is harmless.

A rebuild and the drainers take turns through one advisory lock (`INDEX_LOCK`). A rebuild
reads one Postgres snapshot into a new index; a change committed after that snapshot and
drained into the old index before the alias moved would be in neither the new index nor the
outbox. So each drained batch holds the lock shared, from before it reads the parties until
its deletes commit, and a rebuild holds it exclusively from before it reads Postgres until
the alias has moved. Every batch therefore either committed before the rebuild's snapshot
(which then holds what the batch indexed) or starts after the move (and writes into the new
index). A drainer that finds a rebuild at work leaves its batch queued (`DrainPostponed`)
rather than wait, so the worker keeps loading uploads meanwhile.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from typing import Any

from elasticsearch import ApiError, TransportError
from psycopg.rows import dict_row
from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from registry.models import Institution, Party
from search.documents import document_id, party_document
from search.gateway import SearchGateway
from search.mappings import PARTIES_SETTINGS

log = logging.getLogger(__name__)

# Columns a search document is built from.
PARTY_FIELDS = [c for c in Party.__table__.columns if c.name not in (
    "extract_id", "record_hash", "recorded_at", "superseded_at", "superseded_by_extract_id")]

# A backlog this large is a national load being indexed: the live index then makes new
# documents searchable every BACKLOG_REFRESH instead of every second, which spares
# Elasticsearch a segment a second while it takes a million documents.
BIG_BACKLOG = 100_000
BACKLOG_REFRESH = "30s"

# Two int4 keys, as loaders.locks uses, so the spaces cannot collide: "INDX", 0.
INDEX_LOCK = {"space": 0x494E4458, "key": 0}

CLAIM_BATCH = """
SELECT id, institution_id, party_ref FROM search_outbox ORDER BY id
LIMIT :limit FOR UPDATE SKIP LOCKED
"""


class IndexingFailed(RuntimeError):
    """Elasticsearch refused some documents; the outbox keeps them for the next try."""


class DrainPostponed(RuntimeError):
    """A rebuild is filling a new index: the outbox keeps its changes until the alias moves."""


def party_actions(rows: Iterable[Mapping[str, Any]], codes: dict[int, str]) -> Iterator[dict[str, Any]]:
    for party in rows:
        # A party's versions are rows with ever larger ids (nothing is updated in place), so
        # the row id is the document's version: whichever drainer writes last, an older
        # version never replaces a newer one (Elasticsearch answers 409 and keeps it).
        yield {"_id": document_id(party["institution_id"], party["ref"]),
               "_version": party["id"], "_version_type": "external",
               "_source": party_document(party, codes[party["institution_id"]])}


def institution_codes(engine: Engine) -> dict[int, str]:
    with engine.connect() as conn:
        return {r.id: r.code for r in conn.execute(select(Institution.id, Institution.code))}


def drain_outbox(engine: Engine, gateway: SearchGateway, batch: int = 20000) -> int:
    """Index every party queued in the outbox; returns how many documents were written.
    Raises DrainPostponed, leaving the rest queued, while a rebuild runs."""
    ensure_index(engine, gateway)
    total = 0
    while True:
        codes = institution_codes(engine)
        with engine.begin() as conn:
            claimed = conn.execute(text(CLAIM_BATCH), {"limit": batch}).all()
            if not claimed:
                if total:
                    gateway.refresh()  # what was loaded is searchable when this returns
                return total
            _share_index_lock(conn, total)
            rows = _current_parties(conn, {(r.institution_id, r.party_ref) for r in claimed})
            done, errors = gateway.bulk(party_actions(rows, codes))
            if errors:
                raise IndexingFailed(f"{len(errors)} documents refused, first: {errors[0]}")
            conn.execute(text("DELETE FROM search_outbox WHERE id = ANY(:ids)"),
                         {"ids": [r.id for r in claimed]})
            total += done


def ensure_index(engine: Engine, gateway: SearchGateway) -> None:
    """Create the live index the first time, one creator at a time (two drainers starting
    together, or a rebuild about to move the alias): the alias would otherwise name two
    indices, and no write could go through it. The lock is exclusive and waited for; the
    one who waited finds the alias and creates nothing."""
    if gateway.current_index() is not None:
        return
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"), INDEX_LOCK)
        gateway.ensure_index()


def _share_index_lock(conn: Connection, done: int) -> None:
    """Held until `conn`'s transaction ends; refused at once while a rebuild holds it (or
    waits for it: Postgres then grants no more shared holders, so a rebuild never starves)."""
    got = conn.execute(text("SELECT pg_try_advisory_xact_lock_shared(:space, :key)"), INDEX_LOCK).scalar()
    if not got:
        raise DrainPostponed(f"a rebuild is filling a new index; the outbox keeps its changes until "
                             f"the alias moves ({done} documents indexed before it)")


@contextmanager
def _rebuild_lock(engine: Engine) -> Iterator[Callable[[], bool]]:
    """Waits for the drainers' batches in flight; a rebuild that dies loses its connection,
    and the lock with it, so drainers never stay shut out. Yields a check that the lock is
    still held: the connection sits idle while the rebuild reads and writes on others, and
    if it ended, drainers may have written to the old index meanwhile."""
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:space, :key)"), INDEX_LOCK)
        conn.commit()

        def still_held() -> bool:
            try:
                held = bool(conn.execute(text(HELD), INDEX_LOCK).scalar())
                conn.commit()
                return held
            except SQLAlchemyError:
                return False

        try:
            yield still_held
        finally:
            with contextlib.suppress(SQLAlchemyError):  # a lost connection took the lock with it
                conn.execute(text("SELECT pg_advisory_unlock(:space, :key)"), INDEX_LOCK)
                conn.commit()


# Whether this session holds the index lock exclusively (a lost connection raises instead).
HELD = """SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND granted
  AND mode = 'ExclusiveLock' AND pid = pg_backend_pid()
  AND classid = :space AND objid = :key AND objsubid = 2"""


def drain_side_by_side(engine: Engine, gateway: SearchGateway, jobs: int, elasticsearch_url: str,
                       big_backlog: int = BIG_BACKLOG) -> int:
    """`drain_outbox` in `jobs` processes at once: building documents is Python's work, and
    one process cannot keep Elasticsearch busy. The claims skip each other's locked rows,
    and versioned documents make the order in which batches land irrelevant."""
    ensure_index(engine, gateway)  # once, here: two drainers creating it would alias two indices
    big = _backlog(engine) >= big_backlog
    if big:
        gateway.refresh_every(BACKLOG_REFRESH)
    try:
        if jobs <= 1:
            done = drain_outbox(engine, gateway)
        else:
            url = engine.url.render_as_string(hide_password=False)
            with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
                futures = [pool.submit(_drain, url, elasticsearch_url, gateway.prefix) for _ in range(jobs)]
                done = sum(f.result() for f in futures)
    finally:
        if big:
            _restore_refresh(gateway)
    if big:
        _merge_in_background(gateway)
    return done


def search_problem(error: Exception, gateway: SearchGateway) -> str:
    """One line for an operator: which Elasticsearch, and what went wrong. The address is
    the client's own (the URL's credentials are not part of it); the transport's nested
    exceptions and tracebacks say nothing an operator can act on."""
    where = ", ".join(str(node.base_url) for node in gateway.es.transport.node_pool.all())
    if isinstance(error, ApiError):
        return f"Elasticsearch at {where} answered {error.meta.status}: {error.message}"
    if isinstance(error, TransportError):
        reason = str(error.message).rpartition(": ")[2] or type(error).__name__
        return f"Elasticsearch at {where} cannot be reached ({reason})"
    return f"Elasticsearch at {where}: {error}"


def quiet_elasticsearch_transport() -> None:
    """The transport warns, with a full traceback, of every retry and every node it puts
    aside: two tracebacks a poll while Elasticsearch is away. Its callers say the same in one
    line (`search_problem`)."""
    logging.getLogger("elastic_transport").setLevel(logging.ERROR)


def _restore_refresh(gateway: SearchGateway) -> None:
    # Elasticsearch may be what failed the drain: say so, and let the drain's own error through.
    try:
        gateway.refresh_every(PARTIES_SETTINGS["refresh_interval"])
        gateway.refresh()
    except (ApiError, TransportError) as error:
        log.error("could not set the index's refresh interval back to %s: %s; "
                  "set it by hand or run the drain again", PARTIES_SETTINGS["refresh_interval"],
                  search_problem(error, gateway))


def _merge_in_background(gateway: SearchGateway) -> None:
    # Every document is indexed and searchable already; merging only makes searches cheaper.
    try:
        gateway.merge_segments(wait=False)
    except (ApiError, TransportError) as error:
        log.warning("could not start merging the index's segments: %s", search_problem(error, gateway))


def _backlog(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM search_outbox")).scalar_one())


def _drain(url: str, es_url: str, prefix: str) -> int:
    from registry.app import make_es
    from registry.db import make_engine

    engine = make_engine(url, pool_size=1)
    try:
        return drain_outbox(engine, SearchGateway(make_es(es_url), prefix))
    finally:
        engine.dispose()


# The names a party's earlier versions had and its current one does not: a maiden name a
# bank replaced is still how an investigator may know her (ix_parties_superseded, 0010).
FORMER_NAMES = """ARRAY(
  SELECT DISTINCT n FROM parties o, unnest(o.other_names || o.full_name) AS n
  WHERE o.institution_id = p.institution_id AND o.ref = p.ref AND o.superseded_at IS NOT NULL
    AND n <> ALL(coalesce(p.other_names, '{}') || p.full_name) ORDER BY n) AS former_names"""
PARTY_COLUMNS = f"{', '.join('p.' + c.name for c in PARTY_FIELDS)}, {FORMER_NAMES}"
CURRENT_PARTIES = f"""
SELECT {PARTY_COLUMNS} FROM parties p
JOIN unnest(%(inst)s::int[], %(refs)s::text[]) AS k(institution_id, ref)
  ON p.institution_id = k.institution_id AND p.ref = k.ref
WHERE p.superseded_at IS NULL"""
EVERY_CURRENT_PARTY = f"SELECT {PARTY_COLUMNS} FROM parties p WHERE p.superseded_at IS NULL"


def _current_parties(conn: Connection, keys: set[tuple[int, str]]) -> list[dict[str, Any]]:
    if not keys:
        return []
    # Dicts straight from psycopg, on the transaction's own connection: a million SQLAlchemy
    # rows, each then turned into a dict, stood out in the indexer's profile.
    with conn.connection.driver_connection.cursor(row_factory=dict_row) as cursor:
        cursor.execute(CURRENT_PARTIES, {"inst": [k[0] for k in keys], "refs": [k[1] for k in keys]})
        return cursor.fetchall()


def rebuild(engine: Engine, gateway: SearchGateway, progress: Callable[[int], None] | None = None,
            chunk: int = 5000) -> int:
    """Fill a new index from Postgres, then move the alias: searches never see a gap.
    Drainers leave the outbox alone meanwhile (see the module's docstring)."""
    with _rebuild_lock(engine) as still_held:
        codes = institution_codes(engine)
        # Nobody searches the new index before the alias moves, so it need not refresh meanwhile.
        index = gateway.create_index(bulk_load=True)
        total = _fill(engine, gateway, index, codes, progress, chunk)
        gateway.finish_load(index)
        if not still_held():
            gateway.es.indices.delete(index=index)
            raise IndexingFailed("the rebuild lost its lock (its Postgres connection ended), so a "
                                 "drainer may have written to the live index meanwhile; the new "
                                 "index was dropped and the alias left as it was: rebuild again")
        gateway.move_alias(index)
    return total


def _fill(engine: Engine, gateway: SearchGateway, index: str, codes: dict[int, str],
          progress: Callable[[int], None] | None, chunk: int) -> int:
    total = 0
    # One statement, so one snapshot, taken after the rebuild's lock was granted.
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk).execute(
            text(EVERY_CURRENT_PARTY))
        for rows in result.mappings().partitions():
            done, errors = gateway.bulk(party_actions(rows, codes), index=index)
            if errors:
                gateway.es.indices.delete(index=index)
                raise IndexingFailed(f"{len(errors)} documents refused, first: {errors[0]}")
            total += done
            if progress:
                progress(done)
    return total


# A sum of versions is exact in Elasticsearch's double below 2**53 (an institution of ten
# million parties with row ids under 900 million); above, only counts and maxima compare.
EXACT_SUM = 2**53

CURRENT_VERSIONS = """
SELECT institution_id, count(*), sum(id), max(id) FROM parties
WHERE superseded_at IS NULL GROUP BY institution_id"""


def compare_counts(engine: Engine, gateway: SearchGateway) -> list[dict[str, Any]]:
    """Current parties per institution in Postgres beside documents in Elasticsearch, and
    whether their versions agree. Counts alone miss a document that holds an older version
    of its party (an update lost on the way); each document's version is its party row's
    id, so the sum and the largest of them per institution catch it at the cost of one
    aggregation."""
    with engine.connect() as conn:
        pg = {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in conn.execute(text(CURRENT_VERSIONS))}
        queued = conn.execute(text("SELECT count(*) FROM search_outbox")).scalar_one()
    gateway.refresh()
    es = gateway.versions_by_institution()
    codes = institution_codes(engine)
    return [_compared(codes.get(i, str(i)), pg.get(i, (0, 0, 0)), es.get(i, (0, 0, 0)), queued)
            for i in sorted(set(pg) | set(es))]


def _compared(institution: str, pg: tuple[int, int, int], es: tuple[int, int, int],
              queued: int) -> dict[str, Any]:
    same_sum = pg[1] == es[1] or min(pg[1], es[1]) >= EXACT_SUM
    same_versions = same_sum and pg[2] == es[2]
    return {"institution": institution, "postgres": pg[0], "elasticsearch": es[0], "queued": queued,
            "same_versions": same_versions, "ok": pg[0] == es[0] and same_versions}
