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


# What ends with a party or an account a delta closes (by a close record, or an account sent
# with its closed_on): its open roles, and a party's open ownership interests either way. Each
# gets a closing version, as a close record would give it, ending the day the party or the
# account did (never before the link began).
CASCADE = """
WITH {ended}, links AS ({links}), old AS (
    UPDATE {table} p SET superseded_at = now(), superseded_by_extract_id = %(extract)s
    FROM (SELECT id, min(day) AS day FROM links GROUP BY id) x
    WHERE p.id = x.id
    RETURNING p.*, GREATEST(x.day, p.valid_from) AS day
), ins AS (
    INSERT INTO {table} (institution_id, ref, extract_id, record_hash, {columns}, valid_to)
    SELECT institution_id, ref, %(extract)s, md5('closed:' || record_hash), {columns}, day
    FROM old
    RETURNING ref
) SELECT count(*) FROM ins
"""
ENDED = {
    "account": "SELECT ref, COALESCE(closed_on, %(as_of)s) AS day FROM stg_accounts "
               "WHERE op = 'close' OR closed_on IS NOT NULL",
    "party": "SELECT ref, %(as_of)s::date AS day FROM stg_parties WHERE op = 'close'",
}
LINK = """SELECT r.id, e.day FROM {table} r JOIN ended_{side} e ON e.ref = r.{column}
  WHERE r.institution_id = %(institution)s AND r.superseded_at IS NULL AND r.valid_to IS NULL"""
# (table, [(side, column)]): which references of a link end it.
CASCADES = [
    ("account_roles", [("account", "account_ref"), ("party", "party_ref")]),
    ("ownership_interests", [("party", "owner_ref"), ("party", "owned_ref")]),
]


def _cascade_sql(table: str, sides: list[tuple[str, str]]) -> str:
    target = TABLES[table]
    used = sorted({side for side, _ in sides})
    ended = ", ".join(f"ended_{side} AS ({ENDED[side]})" for side in used)
    links = " UNION ALL ".join(LINK.format(table=table, side=side, column=column)
                               for side, column in sides)
    columns = ", ".join(c for c in target.columns if c != "valid_to")
    return CASCADE.format(ended=ended, links=links, table=table, columns=columns)


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
    if not full:
        # A full extract needs no cascade: a link to what it omits must be omitted too
        # (checks.check_references), and is closed as missing.
        for table, sides in CASCADES:
            cursor.execute(_cascade_sql(table, sides), params)
            result[table]["closed"] += _count(cursor)
    return result


def _count(cursor: psycopg.Cursor[Any]) -> int:
    row = cursor.fetchone()
    return int(row[0]) if row else 0
