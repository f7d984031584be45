"""Whole-extract checks in SQL over the staging tables: duplicates and references."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

from loaders.errors import ErrorReport, Problem, echo

# A record that failed validation still holds its id (staging.FAILED): a second record with
# it is a duplicate too, whichever of the two failed.
DUPLICATES = """
SELECT ref, array_agg(line ORDER BY line) FROM (
    SELECT ref, line FROM {stg} UNION ALL SELECT ref, line FROM stg_failed WHERE record = ANY(%(records)s)
) ids GROUP BY ref HAVING count(*) > 1 LIMIT 1000
"""
# The records whose ids each staging table holds (roles and ownerships have keys, not ids).
ID_RECORDS = {"parties": ["person", "entity"], "accounts": ["account"]}

# A reference must resolve inside the extract or to the institution's current data.
# For a full extract only the extract itself counts: whatever it omits gets closed.
# What it names instead, if anything, makes the message: a record of this extract that failed
# validation (the first one with that id), or a party of another kind (a person as owned).
MISSING_REF = """
SELECT s.line, s.ref, s.{column},
  (SELECT array[f.line::text, f.record] FROM stg_failed f WHERE f.ref = s.{column}
     AND f.record = ANY(%(records)s) ORDER BY f.line LIMIT 1),
  {other_kind}
FROM {stg} s
WHERE s.op = 'upsert'
  AND NOT EXISTS (SELECT 1 FROM {target_stg} t WHERE t.ref = s.{column} AND t.op = 'upsert' {kind_filter})
  AND (%(full)s OR NOT EXISTS (
        SELECT 1 FROM {target_table} c WHERE c.institution_id = %(institution)s
          AND c.ref = s.{column} AND c.superseded_at IS NULL {kind_filter_c}))
ORDER BY s.line LIMIT 1000
"""
OTHER_KIND = """COALESCE(
  (SELECT t.kind FROM stg_parties t WHERE t.ref = s.{column} AND t.op = 'upsert' LIMIT 1),
  (SELECT c.kind FROM parties c WHERE NOT %(full)s AND c.institution_id = %(institution)s
     AND c.ref = s.{column} AND c.superseded_at IS NULL LIMIT 1))"""

REFERENCES = [
    ("account_roles", "account_ref", "accounts", "account", ""),
    ("account_roles", "party_ref", "parties", "party", ""),
    ("ownership_interests", "owner_ref", "parties", "owner", ""),
    ("ownership_interests", "owned_ref", "parties", "owned", "entity"),
]


# Where a position of the file is, in words ("line 4", "person.csv row 3").
Where = Callable[[int], str]


def _line(position: int) -> str:
    return f"line {position}"


def check_duplicates(cursor: psycopg.Cursor[Any], report: ErrorReport, where: Where = _line) -> None:
    for table in ("parties", "accounts", "account_roles", "ownership_interests"):
        cursor.execute(DUPLICATES.format(stg=f"stg_{table}"), {"records": ID_RECORDS.get(table, [])})
        for ref, lines in cursor.fetchall():
            for line in lines[1:]:
                report.add(Problem(line, ref, "id", f"duplicate id, first seen on {where(lines[0])}",
                                   "duplicate"))


def check_references(cursor: psycopg.Cursor[Any], report: ErrorReport, institution_id: int,
                     full: bool, where: Where = _line) -> None:
    for table, column, target, field, kind in REFERENCES:
        kind_filter = f"AND t.kind = '{kind}'" if kind else ""
        sql = MISSING_REF.format(
            stg=f"stg_{table}", column=column, target_stg=f"stg_{target}", target_table=target,
            kind_filter=kind_filter, kind_filter_c=kind_filter.replace("t.", "c."),
            other_kind=OTHER_KIND.format(column=column) if kind else "NULL",
        )
        cursor.execute(sql, {"full": full, "institution": institution_id,
                             "records": ID_RECORDS[target]})
        for line, ref, missing, failed, other_kind in cursor.fetchall():
            message = _unresolved(target, kind, missing, failed, other_kind, where)
            report.add(Problem(line, ref, field, message, "reference"))


def _unresolved(target: str, kind: str, missing: str, failed: list[str] | None,
                other_kind: str | None, where: Where) -> str:
    """Why a reference resolves to nothing the registry can use."""
    found = other_kind or (failed[1] if failed else None)
    if kind and found is not None and found != kind:
        return f"names {found} {echo(missing)} as owned: only an {kind} can be owned"
    if failed:
        return (f"refers to {failed[1]} {echo(missing)}, which failed validation on "
                f"{where(int(failed[0]))}")
    what = kind or target.rstrip("s").replace("ie", "y")
    return (f"refers to {what} {echo(missing)}, which this extract does not contain and the "
            "institution has not reported")


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


def check_counts(declared: dict[str, int], read: dict[str, int], unreadable: int,
                 report: ErrorReport) -> None:
    """Header counts against the records read: this catches truncated files. A line that
    could not be read is reported already and may well be one of the declared records: when
    such lines make up exactly what is missing, the counts add nothing but a false alarm."""
    missing = {kind: declared.get(kind, 0) - count for kind, count in read.items()
               if declared.get(kind, 0) != count}
    if not missing:
        return
    if unreadable and min(missing.values()) > 0 and sum(missing.values()) == unreadable:
        return
    why = (f", besides {unreadable} line(s) that could not be read" if unreadable
           else " (truncated file?)")
    for kind in missing:
        report.add(Problem(None, None, f"counts.{kind}", f"header declares {declared.get(kind, 0)} "
                           f"{kind} records but {read[kind]} were read{why}", "counts"))
