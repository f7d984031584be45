"""Batch person search: up to 100 queries, each one costs one unit of the rate limit and is
its own audit event; when the limit runs out mid-batch the rest is answered 429.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import text

from registry.config import Settings
from tests.integration.test_access import bearer, open_case, user_with_token
from tests.integration.test_search_api import SUBJECT, world  # noqa: F401  (the fixture)
from tests.integration.test_slice import run


def investigator(settings: Settings, limit: str | None = None) -> tuple[str, str, int]:
    name, token = user_with_token(settings, "investigator")
    if limit:
        run(settings, "users", "limit", name, limit)
    return name, token, open_case(settings, name)


def batch(client, token: str, case_id: int, names: list[str], **extra: Any):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/search/persons/batch", headers=bearer(token),
                       json={"case_id": case_id, "queries": [{"name": n} for n in names], **extra})


def events(engine, actor: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT outcome, parameters, result_ids FROM audit_events "
                                 "WHERE tag = 'search:person:query' AND actor = :a ORDER BY id"), {"a": actor})
        return [dict(r) for r in rows.mappings()]


def test_each_query_is_answered_and_audited_on_its_own(client, engine, settings, world) -> None:  # type: ignore[no-untyped-def]
    name, token, case_id = investigator(settings)
    response = batch(client, token, case_id, [SUBJECT, "Hubert Brenecke", "Nobody Notinthe Registry"], limit=3)
    assert response.status_code == 200, response.json
    answers = response.json["answers"]
    assert [(a["index"], a["name"]) for a in answers] == [
        (0, SUBJECT), (1, "Hubert Brenecke"), (2, "Nobody Notinthe Registry")]
    assert any(rec["customer_id"] == "Q8" for r in answers[1]["results"] for rec in r["records"])
    logged = events(engine, name)
    assert [e["parameters"].get("batch_index") for e in logged] == [0, 1, 2]
    assert [e["parameters"]["name"] for e in logged] == [a["name"] for a in answers]
    assert logged[0]["result_ids"] == [rec["id"] for r in answers[0]["results"] for rec in r["records"]]


def test_a_batch_of_40_costs_40_searches(client, engine, settings, world) -> None:  # type: ignore[no-untyped-def]
    name, token, case_id = investigator(settings, "40/minute")
    response = batch(client, token, case_id, [f"{SUBJECT} {i}" for i in range(40)], limit=1)
    assert response.status_code == 200 and len(response.json["answers"]) == 40
    after = client.post("/api/v1/search/persons", headers=bearer(token), json={"case_id": case_id, "name": SUBJECT})
    assert after.status_code == 429
    assert Counter(e["outcome"] for e in events(engine, name)) == {"ok": 40, "rate_limited": 1}


def test_when_the_limit_runs_out_the_rest_is_a_429_to_send_again(client, engine, settings, world) -> None:  # type: ignore[no-untyped-def]
    name, token, case_id = investigator(settings, "5/minute")
    names = [f"Person Number{i}" for i in range(8)]
    response = batch(client, token, case_id, names)
    assert response.status_code == 429 and response.mimetype == "application/problem+json"
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert [a["index"] for a in response.json["answers"]] == [0, 1, 2, 3, 4]
    assert response.json["not_run"] == [5, 6, 7]
    logged = events(engine, name)
    assert [e["outcome"] for e in logged] == ["ok"] * 5 + ["rate_limited"]
    assert logged[-1]["parameters"]["not_run"] == 3 and logged[-1]["parameters"]["batch_size"] == 8


def test_more_than_100_queries_or_a_bad_one_is_a_422(client, settings, world) -> None:  # type: ignore[no-untyped-def]
    _, token, case_id = investigator(settings, "1000/minute")
    too_many = batch(client, token, case_id, ["Anna Schmidt"] * 101)
    assert too_many.status_code == 422 and "queries" in too_many.json["errors"]
    assert batch(client, token, case_id, []).status_code == 422
    bad = batch(client, token, case_id, ["Anna Schmidt", "Anna Schmidt", "Anna Schmidt", "B"])
    assert bad.status_code == 422 and "name" in bad.json["errors"]["queries"]["3"]
