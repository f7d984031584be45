"""Whole-extract checks in SQL over the staging tables: duplicates and references."""

from __future__ import annotations

from typing import Any

import psycopg

from loaders.errors import ErrorReport, Problem, echo

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
            report.add(Problem(line, ref, field, f"refers to {what} {echo(missing)}, which this "
                               "extract does not contain and the institution has not reported",
                               "reference"))


# A close record must name something the institution reported: an unknown id is a mistake
# in the bank's data (a typo, another bank's id), not a no-op to pass over. Closing what is
# closed already is a no-op: a bank may well send the closes of an account's roles in the
# delta after the one that closed the account, which closed them too.
UNKNOWN = """
SELECT s.line, s.ref FROM {stg} s
WHERE s.op = 'close' AND NOT EXISTS (
    SELECT 1 FROM {table} c WHERE c.institution_id = %(institution)s AND c.ref = s.ref
      AND c.superseded_at IS NULL)
ORDER BY s.line LIMIT 1000
"""
CLOSES = [("parties", "party"), ("accounts", "account"), ("account_roles", "role"),
          ("ownership_interests", "ownership")]


def check_closes(cursor: psycopg.Cursor[Any], report: ErrorReport, institution_id: int) -> None:
    for table, what in CLOSES:
        cursor.execute(UNKNOWN.format(stg=f"stg_{table}", table=table), {"institution": institution_id})
        for line, ref in cursor.fetchall():
            report.add(Problem(line, ref, "op", f"closes {what} {echo(ref)}, which the institution "
                               "has not reported: only what was reported can be closed", "reference"))


# In a delta, an open role or ownership must hang on an open account and open parties: on
# neither one closed in the registry (and not sent again), nor one this delta closes.
CLOSED_REF = """
SELECT s.line, s.ref, s.{column} FROM {stg} s
WHERE s.op = 'upsert' AND s.valid_to IS NULL
  AND (EXISTS (SELECT 1 FROM {target_stg} t WHERE t.ref = s.{column} AND {closed_in_stg})
    OR (NOT EXISTS (SELECT 1 FROM {target_stg} t WHERE t.ref = s.{column} AND t.op = 'upsert')
        AND EXISTS (SELECT 1 FROM {target} c WHERE c.institution_id = %(institution)s
          AND c.ref = s.{column} AND c.superseded_at IS NULL AND c.{end} IS NOT NULL)))
ORDER BY s.line LIMIT 1000
"""
# How a staged party or account is closed: a party only by a close record, an account also
# by being sent with its closed_on.
CLOSED_IN_STAGING = {"parties": "t.op = 'close'",
                     "accounts": "(t.op = 'close' OR t.closed_on IS NOT NULL)"}
ENDS = {"parties": "valid_to", "accounts": "closed_on"}


def check_closed_references(cursor: psycopg.Cursor[Any], report: ErrorReport,
                            institution_id: int) -> None:
    for table, column, target, field, _ in REFERENCES:
        cursor.execute(CLOSED_REF.format(
            stg=f"stg_{table}", column=column, target_stg=f"stg_{target}", target=target,
            closed_in_stg=CLOSED_IN_STAGING[target], end=ENDS[target]),
            {"institution": institution_id})
        what = target.rstrip("s").replace("ie", "y")
        for line, ref, closed in cursor.fetchall():
            report.add(Problem(line, ref, field, f"refers to {what} {echo(closed)}, which is "
                               "closed (or this delta closes it): an open link needs an open "
                               f"{what}; send it with its 'to' date, or reopen the {what}",
                               "reference"))
