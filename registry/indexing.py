"""Postgres to Elasticsearch: drain the outbox, rebuild from scratch, compare counts.

Postgres is the truth. The outbox is drained in batches inside a transaction that deletes
the drained rows only after Elasticsearch acknowledged them, so a crash or an unavailable
Elasticsearch leaves them queued, and indexing the same party twice is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

from elasticsearch import ApiError, TransportError
from psycopg.rows import dict_row
from sqlalchemy import Connection, Engine, func, select, text

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

CLAIM_BATCH = """
SELECT id, institution_id, party_ref FROM search_outbox ORDER BY id
LIMIT :limit FOR UPDATE SKIP LOCKED
"""


class IndexingFailed(RuntimeError):
    """Elasticsearch refused some documents; the outbox keeps them for the next try."""


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
    """Index every party queued in the outbox; returns how many documents were written."""
    gateway.ensure_index()
    total = 0
    while True:
        codes = institution_codes(engine)
        with engine.begin() as conn:
            claimed = conn.execute(text(CLAIM_BATCH), {"limit": batch}).all()
            if not claimed:
                if total:
                    gateway.refresh()  # what was loaded is searchable when this returns
                return total
            rows = _current_parties(conn, {(r.institution_id, r.party_ref) for r in claimed})
            done, errors = gateway.bulk(party_actions(rows, codes))
            if errors:
                raise IndexingFailed(f"{len(errors)} documents refused, first: {errors[0]}")
            conn.execute(text("DELETE FROM search_outbox WHERE id = ANY(:ids)"),
                         {"ids": [r.id for r in claimed]})
            total += done


def drain_side_by_side(engine: Engine, gateway: SearchGateway, jobs: int, elasticsearch_url: str,
                       big_backlog: int = BIG_BACKLOG) -> int:
    """`drain_outbox` in `jobs` processes at once: building documents is Python's work, and
    one process cannot keep Elasticsearch busy. The claims skip each other's locked rows,
    and versioned documents make the order in which batches land irrelevant."""
    gateway.ensure_index()  # once, here: two drainers creating it would alias two indices
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


def _restore_refresh(gateway: SearchGateway) -> None:
    # Elasticsearch may be what failed the drain: say so, and let the drain's own error through.
    try:
        gateway.refresh_every(PARTIES_SETTINGS["refresh_interval"])
        gateway.refresh()
    except (ApiError, TransportError) as error:
        log.error("could not set the index's refresh interval back to %s: %s; "
                  "set it by hand or run the drain again", PARTIES_SETTINGS["refresh_interval"], error)


def _merge_in_background(gateway: SearchGateway) -> None:
    # Every document is indexed and searchable already; merging only makes searches cheaper.
    try:
        gateway.merge_segments(wait=False)
    except (ApiError, TransportError) as error:
        log.warning("could not start merging the index's segments: %s", error)


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
    """Fill a new index from Postgres, then move the alias: searches never see a gap."""
    codes = institution_codes(engine)
    # Nobody searches the new index before the alias moves, so it need not refresh meanwhile.
    index = gateway.create_index(bulk_load=True)
    total = 0
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
    gateway.finish_load(index)
    gateway.move_alias(index)
    return total


def compare_counts(engine: Engine, gateway: SearchGateway) -> list[dict[str, Any]]:
    """Current parties per institution in Postgres beside documents in Elasticsearch."""
    with engine.connect() as conn:
        pg = dict(conn.execute(select(Party.institution_id, func.count()).where(
            Party.superseded_at.is_(None)).group_by(Party.institution_id)).all())
        queued = conn.execute(text("SELECT count(*) FROM search_outbox")).scalar_one()
    gateway.refresh()
    es = gateway.counts_by_institution()
    codes = institution_codes(engine)
    return [{"institution": codes.get(i, str(i)), "postgres": pg.get(i, 0), "elasticsearch": es.get(i, 0),
             "queued": queued, "ok": pg.get(i, 0) == es.get(i, 0)} for i in sorted(set(pg) | set(es))]
