"""Postgres to Elasticsearch: drain the outbox, rebuild from scratch, compare counts.

Postgres is the truth. The outbox is drained in batches inside a transaction that deletes
the drained rows only after Elasticsearch acknowledged them, so a crash or an unavailable
Elasticsearch leaves them queued, and indexing the same party twice is harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Engine, Row, func, select, text

from registry.models import Institution, Party
from search.documents import document_id, party_document
from search.gateway import SearchGateway

# Columns a search document is built from.
PARTY_FIELDS = [c for c in Party.__table__.columns if c.name not in (
    "extract_id", "record_hash", "recorded_at", "superseded_at", "superseded_by_extract_id")]

CLAIM_BATCH = """
SELECT id, institution_id, party_ref FROM search_outbox ORDER BY id
LIMIT :limit FOR UPDATE SKIP LOCKED
"""


class IndexingFailed(RuntimeError):
    """Elasticsearch refused some documents; the outbox keeps them for the next try."""


def _actions(rows: list[Row[Any]], codes: dict[int, str]) -> Iterator[dict[str, Any]]:
    for row in rows:
        party = row._asdict()
        yield {"_id": document_id(party["institution_id"], party["ref"]),
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
            done, errors = gateway.bulk(_actions(rows, codes))
            if errors:
                raise IndexingFailed(f"{len(errors)} documents refused, first: {errors[0]}")
            conn.execute(text("DELETE FROM search_outbox WHERE id = ANY(:ids)"),
                         {"ids": [r.id for r in claimed]})
            total += done


def _current_parties(conn: Any, keys: set[tuple[int, str]]) -> list[Row[Any]]:
    if not keys:
        return []
    institutions = [k[0] for k in keys]
    refs = [k[1] for k in keys]
    query = text(f"""
        SELECT {', '.join('p.' + c.name for c in PARTY_FIELDS)} FROM parties p
        JOIN unnest(CAST(:inst AS int[]), CAST(:refs AS text[])) AS k(institution_id, ref)
          ON p.institution_id = k.institution_id AND p.ref = k.ref
        WHERE p.superseded_at IS NULL""")
    return list(conn.execute(query, {"inst": institutions, "refs": refs}).all())


def rebuild(engine: Engine, gateway: SearchGateway, progress: Callable[[int], None] | None = None,
            chunk: int = 5000) -> int:
    """Fill a new index from Postgres, then move the alias: searches never see a gap."""
    codes = institution_codes(engine)
    # Nobody searches the new index before the alias moves, so it need not refresh meanwhile.
    index = gateway.create_index(bulk_load=True)
    total = 0
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk).execute(
            select(*PARTY_FIELDS).where(Party.superseded_at.is_(None)))
        for rows in result.partitions():
            done, errors = gateway.bulk(_actions(list(rows), codes), index=index)
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
