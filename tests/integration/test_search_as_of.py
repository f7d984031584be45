"""`as_of` in a person or entity search: what was true on that date. A customer whose bank
first reported them later is still found, with the accounts they held then; one closed
before the date is not.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text

from registry.config import Settings
from tests.integration.helpers import account, person, role, write_extract
from tests.integration.institution_codes import new_bic
from tests.integration.test_access import bearer, open_case, user_with_token
from tests.integration.test_slice import run

# Invented, so that no other test's data resembles them.
HOLDER = "Wilhelmina Zauberkraut"
LEAVER = "Gottlieb Zauberkraut"
MAIDEN, MARRIED = "Kunigunde Altmannsberger", "Kunigunde Neumannsfelder"
NEWCOMER = "Leopoldine Zauberkraut"


@pytest.fixture(scope="module")
def world(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    code = new_bic("AO")
    n = random.randrange(10**8, 10**9)
    first = [person("P1", HOLDER, birth_date="1961-04-17"), person("P2", LEAVER, birth_date="1958-11-02"),
             account("A1", n), role("A1", "P1"),  # opened 2020-05-01
             account("A2", n + 1, opened_on="2023-06-01", closed_on="2024-02-01"),
             role("A2", "P1", **{"from": "2023-06-01", "to": "2024-02-01"}),
             account("A3", n + 2), role("A3", "P2"),
             person("P3", MAIDEN, birth_date="1966-03-09"),
             person("P4", NEWCOMER, birth_date="1990-10-10"),
             account("A4", n + 3, opened_on="2023-03-01"), role("A4", "P4", **{"from": "2023-03-01"})]
    out = tmp_path_factory.mktemp("as_of")
    run(settings, "institutions", "add", code, "--name", "As Of Bank")
    run(settings, "load", str(write_extract(out / "1.jsonl", code, first)))  # as of 2026-01-01
    # The leaver's relationship ends on 2026-02-01.
    # The bank renames P3 without keeping the old name among her other names.
    close = [{"record": "person", "id": "P2", "op": "close"}, person("P3", MARRIED, birth_date="1966-03-09")]
    run(settings, "load", str(write_extract(out / "2.jsonl", code, close, sequence=2, kind="delta",
                                            as_of=date(2026, 2, 1))))
    name, token = user_with_token(settings, "investigator")
    return {"code": code, "token": token, "case_id": open_case(settings, name)}


def accounts_found(client, world: dict[str, Any], name: str, **query: str) -> list[list[str]] | None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/search/persons", headers=bearer(world["token"]),
                           json={"case_id": world["case_id"], "name": name, **query})
    assert response.status_code == 200, response.json
    found = [r for r in response.json["results"] if r["records"][0]["institution"] == world["code"]
             and r["records"][0]["party"]["full_name"] == name]
    return [sorted(a["account_id"] for a in r["accounts"]) for r in found] or None


def test_a_customer_first_reported_later_is_found_with_what_they_held_then(client, world) -> None:  # type: ignore[no-untyped-def]
    assert accounts_found(client, world, HOLDER, as_of="2021-06-01") == [["A1"]]
    assert accounts_found(client, world, HOLDER, as_of="2023-09-01") == [["A1", "A2"]]
    assert accounts_found(client, world, HOLDER, as_of="2024-02-01") == [["A1"]]  # A2 closed that day
    # Without a date: every account ever reported, each with its own dates.
    assert accounts_found(client, world, HOLDER) == [["A1", "A2"]]


def test_a_customer_who_became_one_after_the_date_is_not_found(client, world) -> None:  # type: ignore[no-untyped-def]
    assert accounts_found(client, world, NEWCOMER, as_of="2021-06-01") is None
    assert accounts_found(client, world, NEWCOMER, as_of="2023-03-01") == [["A4"]]
    # A customer with no account or interest reported says nothing against the date.
    assert accounts_found(client, world, MARRIED, as_of="2021-06-01") == [[]]


def test_a_customer_closed_before_the_date_is_not_found(client, world) -> None:  # type: ignore[no-untyped-def]
    assert accounts_found(client, world, LEAVER) is None
    assert accounts_found(client, world, LEAVER, as_of="2026-03-01") is None
    assert accounts_found(client, world, LEAVER, as_of="2025-06-01") == [["A3"]]


def test_the_record_view_says_when_the_relationship_ended(client, engine, world) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        ids = dict(conn.execute(text("SELECT p.ref, p.id FROM parties p JOIN institutions i ON i.id = p.institution_id "
                                     "WHERE i.code = :c AND p.superseded_at IS NULL"), {"c": world["code"]}).all())
    ended = {}
    for ref in ("P1", "P2"):
        response = client.get(f"/api/v1/parties/{ids[ref]}", headers=bearer(world["token"]),
                              query_string={"case_id": world["case_id"]})
        assert response.status_code == 200, response.json
        ended[ref] = response.json["ended_on"]
    assert ended == {"P1": None, "P2": "2026-02-01"}


def test_a_name_the_bank_has_since_replaced_still_finds_her(client, world) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/search/persons", headers=bearer(world["token"]),
                           json={"case_id": world["case_id"], "name": MAIDEN, "birth_date": "1966-03-09"})
    assert response.status_code == 200, response.json
    best = response.json["results"][0]
    shown = best["records"][0]["party"]
    assert (shown["full_name"], shown["former_names"]) == (MARRIED, [MAIDEN])
    assert best["likely"] and "name similarity 1.00" in best["explanation"]
