"""Set-based diff and apply from staging into the versioned tables.

Nothing is updated in place but the `superseded_at` of a version being replaced: a changed
record supersedes the old version and inserts a new one; an unchanged record is not touched.
Every party version written also goes into the search outbox, in the same transaction.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg

from loaders.tables import TABLES, Target

# Upsert: supersede current versions whose content changed, insert new versions for
# those and for refs never seen; the start of the reported period survives a change.
UPSERT = """
WITH old AS (
    UPDATE {table} p SET superseded_at = now(), superseded_by_extract_id = %(extract)s
    FROM {stg} s
    WHERE p.institution_id = %(institution)s AND p.superseded_at IS NULL AND s.op = 'upsert'
      AND p.ref = s.ref AND p.record_hash <> s.record_hash
    RETURNING p.ref {keep_start}
), ins AS (
    INSERT INTO {table} (institution_id, ref, extract_id, record_hash, {columns} {start_col})
    SELECT %(institution)s, s.ref, %(extract)s, s.record_hash, {s_columns} {start_val}
    FROM {stg} s LEFT JOIN old ON old.ref = s.ref
    WHERE s.op = 'upsert' AND (old.ref IS NOT NULL OR NOT EXISTS (
        SELECT 1 FROM {table} p WHERE p.institution_id = %(institution)s
          AND p.ref = s.ref AND p.superseded_at IS NULL))
    RETURNING ref
) {outbox} SELECT count(*) FROM ins
"""

# Close: a new version that ends the reported period as of the extract's date. In a full
# extract what is open and missing gets closed; in a delta what a close record names.
CLOSE = """
WITH old AS (
    UPDATE {table} p SET superseded_at = now(), superseded_by_extract_id = %(extract)s
    WHERE p.institution_id = %(institution)s AND p.superseded_at IS NULL AND p.{end} IS NULL
      AND {which}
    RETURNING p.*
), ins AS (
    INSERT INTO {table} (institution_id, ref, extract_id, record_hash, {columns}, {end_extra})
    SELECT institution_id, ref, %(extract)s, md5('closed:' || record_hash), {columns_no_end},
           %(as_of)s
    FROM old
    RETURNING ref
) {outbox} SELECT count(*) FROM ins
"""

MISSING_FROM_FULL = "NOT EXISTS (SELECT 1 FROM {stg} s WHERE s.ref = p.ref)"
NAMED_IN_DELTA = "EXISTS (SELECT 1 FROM {stg} s WHERE s.ref = p.ref AND s.op = 'close')"
OUTBOX = ", queued AS (INSERT INTO search_outbox (institution_id, party_ref) " \
         "SELECT %(institution)s, ref FROM ins)"


def _upsert_sql(table: str, target: Target) -> str:
    keep = target.start_column
    return UPSERT.format(
        table=table, stg=f"stg_{table}", columns=", ".join(target.columns),
        s_columns=", ".join(f"s.{c}" for c in target.columns),
        keep_start=f", p.{keep}" if keep else "",
        start_col=f", {keep}" if keep else "",
        start_val=f", COALESCE(old.{keep}, %(as_of)s)" if keep else "",
        outbox=OUTBOX if table == "parties" else "",
    )


def _close_sql(table: str, target: Target, full: bool) -> str:
    others = [c for c in target.columns if c != target.end_column]
    if target.start_column:
        others.append(target.start_column)
    which = (MISSING_FROM_FULL if full else NAMED_IN_DELTA).format(stg=f"stg_{table}")
    return CLOSE.format(
        table=table, end=target.end_column, which=which, columns=", ".join(others),
        end_extra=target.end_column, columns_no_end=", ".join(others),
        outbox=OUTBOX if table == "parties" else "",
    )


def apply_staged(cursor: psycopg.Cursor[Any], institution_id: int, extract_id: int,
                 as_of: date, full: bool) -> dict[str, dict[str, int]]:
    """Apply every staging table; returns written and closed counts per table."""
    params = {"institution": institution_id, "extract": extract_id, "as_of": as_of}
    result: dict[str, dict[str, int]] = {}
    for table, target in TABLES.items():
        cursor.execute(_upsert_sql(table, target), params)
        written = _count(cursor)
        cursor.execute(_close_sql(table, target, full), params)
        result[table] = {"written": written, "closed": _count(cursor)}
    return result


def _count(cursor: psycopg.Cursor[Any]) -> int:
    row = cursor.fetchone()
    return int(row[0]) if row else 0
