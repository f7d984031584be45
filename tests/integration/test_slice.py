"""The first vertical slice: a bank's extract is written, loaded, indexed and found."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from registry.cli import main
from registry.config import Settings


def cli_env(settings: Settings) -> dict[str, str]:
    return {"DATABASE_URL": settings.database_url, "ELASTICSEARCH_URL": settings.elasticsearch_url,
            "REDIS_URL": settings.redis_url, "REGISTRY_INDEX_PREFIX": settings.index_prefix,
            "REGISTRY_MIGRATE_DATABASE_URL": settings.owner_database_url,
            "REGISTRY_AUDIT_SIGNING_KEY": settings.audit_signing_key}


def run(settings: Settings, *args: str) -> str:
    result = CliRunner().invoke(main, list(args), env=cli_env(settings), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def first_person(path: Path) -> dict[str, Any]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record["record"] == "person" and record.get("birth_date"):
                return record
    raise AssertionError("no person in the extract")


@pytest.fixture(scope="module")
def seeded(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("extracts")
    run(settings, "seed", "--parties", "400", "--banks", "2", "--out", str(out))
    run(settings, "users", "create", "ines", "--role", "investigator", "--agency", "FIU")
    token = run(settings, "tokens", "create", "ines").strip().splitlines()[-1]
    case_id = run(settings, "cases", "open", "CASE-1", "--legal-basis", "fiu_analysis",
                  "--offence", "money_laundering", "--assign", "ines").strip().splitlines()[-1]
    return {"out": out, "token": token, "case_id": int(case_id), "paths": sorted(out.iterdir())}


def test_seeded_person_is_found_with_accounts(client, seeded: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    person = first_person(seeded["paths"][0])
    response = client.post("/api/v1/search/persons", headers={"Authorization": f"Bearer {seeded['token']}"},
                           json={"case_id": seeded["case_id"], "name": person["full_name"],
                                 "birth_date": person["birth_date"]})
    assert response.status_code == 200, response.json
    top = response.json["results"][0]
    assert person["id"] in {record["customer_id"] for record in top["records"]}
    assert top["score"] > 0.9
    assert top["accounts"], "a seeded customer holds at least one account"
    assert {"iban", "role", "opened_on"} <= set(top["accounts"][0])


def test_reloading_the_same_extract_is_a_no_op(settings: Settings, seeded: dict[str, Any]) -> None:
    output = run(settings, "load", str(seeded["paths"][0]))
    assert "duplicate" in output
    assert "0 documents indexed" in output


def test_index_matches_postgres(settings: Settings, seeded: dict[str, Any]) -> None:
    banks = {path.name.split("-")[0] for path in seeded["paths"]}
    rows = [r for r in json.loads(run(settings, "index", "check")) if r["institution"] in banks]
    assert len(rows) == 2
    assert all(r["ok"] and r["postgres"] > 0 for r in rows)


def test_search_under_a_case_not_assigned_is_refused_and_audited(client, engine, seeded) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    response = client.post("/api/v1/search/persons", headers={"Authorization": f"Bearer {seeded['token']}"},
                           json={"case_id": 999999, "name": "Anna Schmidt"})
    assert response.status_code == 403
    assert "case" in response.json["detail"]
    with engine.connect() as conn:
        outcome = conn.execute(text("SELECT outcome FROM audit_events WHERE tag = 'search:person:query' "
                                    "ORDER BY id DESC LIMIT 1")).scalar_one()
    assert outcome == "refused"


@pytest.mark.parametrize("body, field", [
    ({"name": "A"}, "name"),
    ({"name": "x" * 10_000}, "name"),
    ({"name": "Anna\x00Schmidt"}, "name"),
    ({"name": "Anna Schmidt", "birth_date": "1980-02-30"}, "birth_date"),
    ({"name": "Anna Schmidt", "nationality": "XX"}, "nationality"),
])
def test_bad_search_input_is_a_422_problem(client, seeded, body, field) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/search/persons", headers={"Authorization": f"Bearer {seeded['token']}"},
                           json={"case_id": seeded["case_id"], **body})
    assert response.status_code == 422
    assert field in response.json["errors"]
