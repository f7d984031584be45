"""Data quality of an institution's current book, kept with each finished extract.

An applied extract's scorecard is computed inside its apply transaction (loaders/pipeline.py),
so the extract is never applied without one, even if the process dies the moment it commits.
A rejected extract's scorecard holds its errors by kind. Only extracts write the reported
tables, so the latest applied extract's scorecard is also that of the institution's book now.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

CHECKS = {
    # Persons with no identifier, entities with neither registration number nor LEI: they
    # can only ever be found by name.
    "parties_without_identifiers": """
        SELECT count(*) FROM parties WHERE institution_id = :i AND superseded_at IS NULL
          AND valid_to IS NULL AND ((kind = 'person' AND identifiers = '[]'::jsonb)
          OR (kind = 'entity' AND registration_number IS NULL AND lei IS NULL))""",
    # Direct holdings only (direct true, or not known): a declared indirect interest is the
    # owner's whole interest through intermediaries, already inside the direct holdings of
    # those intermediaries, so adding it would count the same shares twice.
    "ownership_above_100_percent": """
        SELECT count(*) FROM (SELECT owned_ref FROM ownership_interests
          WHERE institution_id = :i AND superseded_at IS NULL AND valid_to IS NULL
            AND direct IS NOT FALSE
          GROUP BY owned_ref HAVING sum(coalesce(share_min, 0)) > 100) over_owned""",
    # Current links only: a party whose roles and interests have all ended is linked to nothing.
    # Written as set differences, not NOT EXISTS: they run inside the apply's transaction,
    # before the statistics know of its rows, and a set difference is hashed or sorted
    # whatever the planner believes, where an anti-join could become nested loops over a
    # whole book (measured on the 1M book: 16-38 s a bank with nested loops barred, 0.4-0.7 s
    # like this).
    "parties_without_role": """
        SELECT count(*) FROM (
          SELECT ref FROM parties WHERE institution_id = :i AND superseded_at IS NULL
            AND valid_to IS NULL
          EXCEPT SELECT party_ref FROM account_roles WHERE institution_id = :i
            AND superseded_at IS NULL AND valid_to IS NULL
          EXCEPT SELECT owner_ref FROM ownership_interests WHERE institution_id = :i
            AND superseded_at IS NULL AND valid_to IS NULL
          EXCEPT SELECT owned_ref FROM ownership_interests WHERE institution_id = :i
            AND superseded_at IS NULL AND valid_to IS NULL) unlinked""",
    "accounts_without_holder": """
        SELECT count(*) FROM (
          SELECT ref FROM accounts WHERE institution_id = :i AND superseded_at IS NULL
            AND closed_on IS NULL
          EXCEPT SELECT account_ref FROM account_roles WHERE institution_id = :i
            AND superseded_at IS NULL AND valid_to IS NULL
            AND role IN ('holder', 'co_holder', 'box_lessee')) unheld""",
}

LATEST_APPLIED = """
SELECT id, as_of, counts -> 'scorecard' AS card FROM extracts
WHERE institution_id = :i AND status = 'applied' ORDER BY sequence DESC, id DESC LIMIT 1
"""


def book_scorecard(conn: Connection, institution_id: int) -> dict[str, Any]:
    """The figures of the book as `conn` sees it (inside an apply: with what it wrote)."""
    card: dict[str, Any] = {name: int(conn.execute(text(sql), {"i": institution_id}).scalar_one())
                            for name, sql in CHECKS.items()}
    card["errors_by_kind"] = {}  # an applied extract had none
    return card


def rejected_scorecard(by_kind: dict[str, int]) -> dict[str, Any]:
    """A rejected extract changed nothing in the book: its card is what was wrong with it."""
    return {"errors_by_kind": dict(sorted(by_kind.items()))}


def institution_scorecard(conn: Connection, institution_id: int) -> dict[str, Any] | None:
    """The institution's current book: the scorecard of its latest applied extract, which
    nothing but the next extract changes. None before its first extract is applied."""
    latest = conn.execute(text(LATEST_APPLIED), {"i": institution_id}).first()
    if latest is None:
        return None
    card = latest.card if latest.card is not None else book_scorecard(conn, institution_id)
    return {"extract_id": latest.id, "as_of": latest.as_of.isoformat() if latest.as_of else None,
            "scorecard": card}
