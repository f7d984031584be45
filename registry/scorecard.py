"""Data quality of an institution's current book, kept with each applied extract."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Engine, text

CHECKS = {
    # Persons with no identifier, entities with neither registration number nor LEI: they
    # can only ever be found by name.
    "parties_without_identifiers": """
        SELECT count(*) FROM parties WHERE institution_id = :i AND superseded_at IS NULL
          AND valid_to IS NULL AND ((kind = 'person' AND identifiers = '[]'::jsonb)
          OR (kind = 'entity' AND registration_number IS NULL AND lei IS NULL))""",
    "ownership_above_100_percent": """
        SELECT count(*) FROM (SELECT owned_ref FROM ownership_interests
          WHERE institution_id = :i AND superseded_at IS NULL AND valid_to IS NULL
          GROUP BY owned_ref HAVING sum(coalesce(share_min, 0)) > 100) over_owned""",
    "parties_without_role": """
        SELECT count(*) FROM parties p WHERE p.institution_id = :i AND p.superseded_at IS NULL
          AND p.valid_to IS NULL
          AND NOT EXISTS (SELECT 1 FROM account_roles r WHERE r.institution_id = :i
            AND r.party_ref = p.ref AND r.superseded_at IS NULL AND r.valid_to IS NULL)
          AND NOT EXISTS (SELECT 1 FROM ownership_interests o WHERE o.institution_id = :i
            AND (o.owner_ref = p.ref OR o.owned_ref = p.ref) AND o.superseded_at IS NULL)""",
    "accounts_without_holder": """
        SELECT count(*) FROM accounts a WHERE a.institution_id = :i AND a.superseded_at IS NULL
          AND a.closed_on IS NULL
          AND NOT EXISTS (SELECT 1 FROM account_roles r WHERE r.institution_id = :i
            AND r.account_ref = a.ref AND r.superseded_at IS NULL AND r.valid_to IS NULL
            AND r.role IN ('holder', 'co_holder', 'box_lessee'))""",
}


def scorecard(engine: Engine, institution_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        return {name: int(conn.execute(text(sql), {"i": institution_id}).scalar_one())
                for name, sql in CHECKS.items()}


def store_scorecard(engine: Engine, extract_id: int) -> dict[str, Any]:
    with engine.begin() as conn:
        institution_id = conn.execute(text("SELECT institution_id FROM extracts WHERE id = :id"),
                                      {"id": extract_id}).scalar_one()
    card = scorecard(engine, institution_id)
    with engine.begin() as conn:
        conn.execute(text("UPDATE extracts SET counts = counts || jsonb_build_object('scorecard', "
                          "CAST(:card AS jsonb)) WHERE id = :id"),
                     {"card": orjson.dumps(card).decode(), "id": extract_id})
    return card
