"""Whole-extract checks in SQL over the staging tables: duplicates and references."""

from __future__ import annotations

from typing import Any

import psycopg

from loaders.errors import ErrorReport, Problem

DUPLICATES = """
SELECT ref, array_agg(line ORDER BY line) FROM {stg} GROUP BY ref HAVING count(*) > 1 LIMIT 1000
"""

# A reference must resolve inside the extract or to the institution's current data.
# For a full extract only the extract itself counts: whatever it omits gets closed.
MISSING_REF = """
SELECT s.line, s.ref, s.{column} FROM {stg} s
WHERE s.op = 'upsert' {kind_filter_outer}
  AND NOT EXISTS (SELECT 1 FROM {target_stg} t WHERE t.ref = s.{column} AND t.op = 'upsert' {kind_filter})
  AND (%(full)s OR NOT EXISTS (
        SELECT 1 FROM {target_table} c WHERE c.institution_id = %(institution)s
          AND c.ref = s.{column} AND c.superseded_at IS NULL {kind_filter_c}))
ORDER BY s.line LIMIT 1000
"""

REFERENCES = [
    ("account_roles", "account_ref", "accounts", "account", ""),
    ("account_roles", "party_ref", "parties", "party", ""),
    ("ownership_interests", "owner_ref", "parties", "owner", ""),
    ("ownership_interests", "owned_ref", "parties", "owned", "entity"),
]


def check_duplicates(cursor: psycopg.Cursor[Any], report: ErrorReport) -> None:
    for table in ("parties", "accounts", "account_roles", "ownership_interests"):
        cursor.execute(DUPLICATES.format(stg=f"stg_{table}"))
        for ref, lines in cursor.fetchall():
            for line in lines[1:]:
                report.add(Problem(line, ref, "id", f"duplicate id, first seen on line {lines[0]}",
                                   "duplicate"))


def check_references(cursor: psycopg.Cursor[Any], report: ErrorReport, institution_id: int,
                     full: bool) -> None:
    for table, column, target, field, kind in REFERENCES:
        kind_filter = f"AND t.kind = '{kind}'" if kind else ""
        sql = MISSING_REF.format(
            stg=f"stg_{table}", column=column, target_stg=f"stg_{target}", target_table=target,
            kind_filter=kind_filter, kind_filter_c=kind_filter.replace("t.", "c."),
            kind_filter_outer="",
        )
        cursor.execute(sql, {"full": full, "institution": institution_id})
        for line, ref, missing in cursor.fetchall():
            what = "entity" if kind else target.rstrip("s").replace("ie", "y")
            report.add(Problem(line, ref, field, f"refers to {what} '{missing}', which this "
                               "extract does not contain and the institution has not reported",
                               "reference"))
