"""The record view: a party now, every version the registry held, its accounts (closed ones
too), and other institutions' records of the same human; case-bound, rate-limited, audited.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from registry.config import Settings
from tests.integration.helpers import account, person, role, write_extract
from tests.integration.institution_codes import new_bic
from tests.integration.test_access import bearer, last_event, open_case, user_with_token
from tests.integration.test_slice import run

BIRTH = "1971-04-09"


def bank(settings: Settings, name: str) -> str:
    code = new_bic("RV")
    run(settings, "institutions", "add", code, "--name", name)
    return code


def load(settings: Settings, folder: Path, code: str, records: list[dict[str, Any]], sequence: int = 1,
         **extra: Any) -> None:
    path = write_extract(folder / f"{code}-{sequence}.jsonl", code, records, sequence=sequence, **extra)
    run(settings, "load", "--no-index", str(path))


def greta(address: str, identifier: str = "710409-1234", **extra: Any) -> dict[str, Any]:
    return person("P1", "Greta Lindqvist", birth_date=BIRTH, address=address,
                  identifiers=[{"scheme": "national_id", "country": "SE", "value": identifier}], **extra)


def party_id(engine: Engine, code: str, ref: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT p.id FROM parties p JOIN institutions i ON i.id = p.institution_id "
            "WHERE i.code = :c AND p.ref = :r AND p.superseded_at IS NULL"), {"c": code, "r": ref}).scalar_one())


@pytest.fixture(scope="module")
def world(settings: Settings, engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("records")
    first, second, third = bank(settings, "First"), bank(settings, "Second"), bank(settings, "Third")
    closed = account("A2", 2, opened_on="2018-01-01", closed_on="2022-06-30")
    book = [account("A1", 1), closed, role("A1", "P1"), role("A2", "P1", "co_holder", to="2022-06-30")]
    load(settings, folder, first, [greta("Storgatan 1, Malmö"), *book])
    load(settings, folder, first, [greta("Lilla torg 5, Malmö"), *book], sequence=2, as_of=date(2026, 2, 1))
    # The same woman at another bank: another spelling of the name and of the number.
    load(settings, folder, second, [person("Q9", "Greta Lindquist", birth_date=BIRTH,
                                           identifiers=[{"scheme": "national_id", "country": "SE",
                                                         "value": "7104091234"}])])
    # The same number with another birth date, or as a passport number: not taken for her.
    load(settings, folder, third, [
        person("Z1", "Greta Lindqvist", birth_date="1971-04-10",
               identifiers=[{"scheme": "national_id", "country": "SE", "value": "710409-1234"}]),
        person("Z2", "Greta Lindqvist", birth_date=BIRTH,
               identifiers=[{"scheme": "passport", "country": "SE", "value": "7104091234"}])])
    name, token = user_with_token(settings, "investigator")
    return {"first": first, "second": second, "token": token, "case": open_case(settings, name),
            "id": party_id(engine, first, "P1"), "twin": party_id(engine, second, "Q9")}


def view(client, world: dict[str, Any], party: int | None = None, case: int | None = None):  # type: ignore[no-untyped-def]
    return client.get(f"/api/v1/parties/{party or world['id']}",
                      query_string={"case_id": case or world["case"]}, headers=bearer(world["token"]))


def test_the_party_now_and_every_version(client, world) -> None:  # type: ignore[no-untyped-def]
    response = view(client, world)
    assert response.status_code == 200, response.json
    record = response.json
    assert record["institution"] == world["first"] and record["ref"] == "P1" and record["reported_now"]
    assert record["current"]["address"] == "Lilla torg 5, Malmö"
    history = record["history"]
    assert [v["address"] for v in history] == ["Storgatan 1, Malmö", "Lilla torg 5, Malmö"]
    assert history[0]["superseded_at"] is not None and history[1]["superseded_at"] is None
    assert history[0]["recorded_at"] <= history[1]["recorded_at"]
    # An older version's id names the same party.
    assert view(client, world, party=history[0]["id"]).json["current"]["id"] == record["current"]["id"]


def test_accounts_with_roles_and_dates_closed_ones_too(client, world) -> None:  # type: ignore[no-untyped-def]
    accounts = {a["account_id"]: a for a in view(client, world).json["accounts"]}
    assert set(accounts) == {"A1", "A2"}
    assert accounts["A1"]["status"] == "open" and accounts["A1"]["roles"][0]["role"] == "holder"
    assert accounts["A2"]["status"] == "closed" and accounts["A2"]["closed_on"] == "2022-06-30"
    assert accounts["A2"]["roles"] == [{"role": "co_holder", "from": "2020-05-01", "to": "2022-06-30",
                                        "reported_now": True}]


def test_the_same_human_at_other_institutions(client, world) -> None:  # type: ignore[no-untyped-def]
    same = view(client, world).json["same_party_elsewhere"]
    assert [(s["institution"], s["ref"], s["id"]) for s in same] == [(world["second"], "Q9", world["twin"])]
    assert same[0]["shared_keys"] == [{"key": "national identifier and birth date",
                                       "value": f"SE:7104091234:{BIRTH}"}]


def test_each_view_is_audited_with_the_ids_shown(client, engine, world) -> None:  # type: ignore[no-untyped-def]
    view(client, world)
    event = last_event(engine, tag="view:party:record", case_id=world["case"])
    assert event["outcome"] == "ok"
    institution = event["parameters"]["party"].split(":")[0]
    assert event["result_ids"][0] == f"{institution}:P1"
    assert {f"account:{institution}:A1", f"account:{institution}:A2"} <= set(event["result_ids"])
    assert any(r.endswith(":Q9") for r in event["result_ids"]) and event["result_count"] == 4


def test_outside_ones_cases_or_unknown_is_refused_and_audited(client, engine, settings, world) -> None:  # type: ignore[no-untyped-def]
    someone, _ = user_with_token(settings, "investigator")
    foreign = open_case(settings, someone)
    refused = view(client, world, case=foreign)
    assert refused.status_code == 403 and "not assigned" in refused.json["detail"]
    assert last_event(engine, tag="view:party:record", case_id=foreign)["outcome"] == "refused"
    missing = view(client, world, party=987654321)
    assert missing.status_code == 404
    assert last_event(engine, tag="view:party:record", case_id=world["case"])["outcome"] == "not_found"
    assert client.get(f"/api/v1/parties/{world['id']}", headers=bearer(world["token"])).status_code == 422


def test_a_sensitive_party_needs_an_approval(client, engine, settings, world) -> None:  # type: ignore[no-untyped-def]
    name, token = user_with_token(settings, "investigator")
    case = open_case(settings, name)
    run(settings, "sensitive", "add", "Greta Lindqvist", "--reason", "agency_staff")
    try:
        refused = client.get(f"/api/v1/parties/{world['id']}", query_string={"case_id": case},
                             headers=bearer(token))
        assert refused.status_code == 403 and "marked sensitive" in refused.json["detail"]
        # Her holdings (every account she stands behind) need the same approval.
        holdings = client.get(f"/api/v1/persons/{world['id']}/holdings", query_string={"case_id": case},
                              headers=bearer(token))
        assert holdings.status_code == 403 and "marked sensitive" in holdings.json["detail"]
        with engine.connect() as conn:
            reference = conn.execute(text("SELECT reference FROM cases WHERE id = :i"), {"i": case}).scalar_one()
        run(settings, "cases", "approve", reference, "Greta Lindqvist", "--reason", "she is the subject")
        allowed = client.get(f"/api/v1/parties/{world['id']}", query_string={"case_id": case},
                             headers=bearer(token))
        assert allowed.status_code == 200
        assert client.get(f"/api/v1/persons/{world['id']}/holdings", query_string={"case_id": case},
                          headers=bearer(token)).status_code == 200
    finally:
        with engine.begin() as conn:  # the mark must not refuse this module's other views
            conn.execute(text("DELETE FROM sensitive_names WHERE name = 'Greta Lindqvist'"))


def test_views_count_against_the_search_limits(client, settings, engine, world) -> None:  # type: ignore[no-untyped-def]
    name, token = user_with_token(settings, "investigator")
    run(settings, "users", "limit", name, "2/minute")
    case = open_case(settings, name)
    answers = [client.get(f"/api/v1/parties/{world['id']}", query_string={"case_id": case},
                          headers=bearer(token)).status_code for _ in range(3)]
    assert answers == [200, 200, 429]
    assert last_event(engine, tag="view:party:record", case_id=case)["outcome"] == "rate_limited"


def test_a_name_the_party_carried_before_needs_the_approval_too(
        client, engine, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code = bank(settings, "Renames")
    load(settings, tmp_path, code, [person("S1", "Sven Olof Palmgren", birth_date="1950-01-30")])
    load(settings, tmp_path, code, [person("S1", "Lars Andersson", birth_date="1950-01-30")],
         sequence=2, as_of=date(2026, 2, 1))
    name, token = user_with_token(settings, "investigator")
    case = open_case(settings, name)
    run(settings, "sensitive", "add", "Sven Olof Palmgren", "--reason", "protected_witness")
    try:
        # Today's name is harmless, but the answer would show the earlier, marked one.
        refused = client.get(f"/api/v1/parties/{party_id(engine, code, 'S1')}",
                             query_string={"case_id": case}, headers=bearer(token))
        assert refused.status_code == 403 and "marked sensitive" in refused.json["detail"]
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM sensitive_names WHERE name = 'Sven Olof Palmgren'"))
