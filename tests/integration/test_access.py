"""Every endpoint declares who may call it; the audit log refuses edits."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from registry.auth import declared_callers


def test_every_endpoint_declares_its_callers(app) -> None:  # type: ignore[no-untyped-def]
    undeclared = [rule.endpoint for rule in app.url_map.iter_rules()
                  if rule.endpoint != "static" and declared_callers(app.view_functions[rule.endpoint]) is None]
    assert undeclared == []


def test_search_needs_a_token(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/search/persons", json={"case_id": 1, "name": "Anna Schmidt"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_audit_events_cannot_be_updated_or_deleted(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_events (tag, outcome, parameters, result_ids) "
                          "VALUES ('test:audit:insert', 'ok', '{}', '{}')"))
    for statement in ("UPDATE audit_events SET outcome = 'edited'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
