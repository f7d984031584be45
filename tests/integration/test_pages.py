"""The pages through Flask's test client: who may open which page with a cookie session,
sign-in with TOTP, CSRF on every form, and each page's main content and audit trail.
The browser tests (tests/e2e) walk the same pages in Chromium."""

from __future__ import annotations

import csv
import io

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from registry.auth import INSTITUTION, PUBLIC, declared_callers
from registry.config import Settings
from registry.processing import process_uploads
from registry.records import RECORD_TAG
from registry.web.results import as_csv
from tests.e2e.world import PASSWORD, SUBJECT, World, bad_extract, build, form_token, totp
from tests.integration.helpers import iban
from tests.integration.test_access import last_event, marked_sensitive

GET_PAGES = {  # endpoint -> url, for every page a GET opens (ids filled in per world)
    "web.cases": "/cases", "web.search": "/search?case_id={case}",
    "web.person": "/person?case_id={case}&record={record}",
    "web.owners": "/ownership/owners?case_id={case}&party={company}",
    "web.holdings": "/ownership/holdings?case_id={case}&party={person}",
    "web.audit_log": "/audit", "web.audit_flags": "/audit/flags",
    "web.audit_activity": "/audit/activity", "web.audit_verify": "/audit/verify",
    "web.search_batch": "/search/batch?case_id={case}",
    "web.supervision_cases": "/supervision/cases", "web.users": "/admin/users",
    "web.supervision_case": "/supervision/cases/{case}", "web.case_new": "/supervision/cases/new",
    "web.institutions": "/admin/institutions", "web.cooperation": "/cooperation",
    "web.extracts": "/bank/extracts",
}


@pytest.fixture(scope="module")
def world(settings: Settings, engine: Engine, gateway, tmp_path_factory) -> World:  # type: ignore[no-untyped-def]
    return build(settings, engine, gateway, tmp_path_factory.mktemp("pages"))


def signed_in(app: Flask, world: World, role: str) -> FlaskClient:
    client = app.test_client()
    if role == INSTITUTION:
        token = form_token(client.get("/bank/sign-in").get_data(as_text=True))
        response = client.post("/bank/sign-in", data={"code": world.bank, "key": world.key,
                                                       "csrf_token": token})
    else:
        name, secret = world.users[role]
        token = form_token(client.get("/sign-in").get_data(as_text=True))
        response = client.post("/sign-in", data={"name": name, "password": PASSWORD,
                                                  "totp": totp(secret), "csrf_token": token})
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


@pytest.fixture(scope="module")
def clients(app: Flask, world: World) -> Iterator[dict[str, FlaskClient]]:
    yield {role: signed_in(app, world, role)
           for role in ("investigator", "supervisor", "auditor", "administrator", INSTITUTION)}


def url(world: World, endpoint: str) -> str:
    return GET_PAGES[endpoint].format(case=world.case_id, record="0:none",
                                      company=world.parties["C1"], person=world.parties["P1"])


def test_every_page_is_in_the_table(app: Flask) -> None:
    pages = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("web.")
             and "GET" in r.methods and PUBLIC not in declared_callers(app.view_functions[r.endpoint])}
    assert pages - {"web.extract"} == set(GET_PAGES)


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient, world: World) -> None:
    for endpoint in GET_PAGES:
        response = client.get(url(world, endpoint))
        assert response.status_code == 401, endpoint
        assert response.mimetype == "text/html" and "/sign-in" in response.get_data(as_text=True)
    assert client.get("/").headers["Location"].endswith("/sign-in")


@pytest.mark.parametrize("role", ["investigator", "supervisor", "auditor", "administrator", INSTITUTION])
def test_each_role_opens_exactly_its_pages(app: Flask, clients, world: World, role: str) -> None:  # type: ignore[no-untyped-def]
    wrong = {}
    for endpoint in GET_PAGES:
        allowed = role in declared_callers(app.view_functions[endpoint])
        status = clients[role].get(url(world, endpoint)).status_code
        if (allowed and status in (401, 403)) or (not allowed and status != 403):
            wrong[endpoint] = status
    assert wrong == {}


def test_a_form_without_its_token_is_refused_and_audited(clients, world: World, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    response = clients["investigator"].post(f"/search?case_id={world.case_id}", data={"name": SUBJECT})
    assert response.status_code == 403 and response.mimetype == "text/html"
    assert last_event(engine, tag="auth:csrf:refuse")["outcome"] == "refused"


def test_wrong_code_is_refused_without_saying_which_part(client: FlaskClient, world: World, engine: Engine) -> None:
    name, _ = world.users["supervisor"]
    token = form_token(client.get("/sign-in").get_data(as_text=True))
    response = client.post("/sign-in", data={"name": name, "password": PASSWORD, "totp": "000000",
                                             "csrf_token": token})
    assert response.status_code == 401
    assert "Name, password or code is wrong" in response.get_data(as_text=True)
    assert last_event(engine, actor=name, tag="auth:session:create")["outcome"] == "refused"


def test_sign_in_form_needs_its_token(client: FlaskClient, world: World) -> None:
    name, secret = world.users["auditor"]
    response = client.post("/sign-in", data={"name": name, "password": PASSWORD, "totp": totp(secret)})
    assert response.status_code == 400


def _post(client: FlaskClient, path: str, **data: str):  # type: ignore[no-untyped-def]
    token = form_token(client.get(f"/search?case_id={data.pop('case')}").get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})


def test_search_shows_score_and_why_and_is_audited(clients, world: World, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    inv = clients["investigator"]
    response = _post(inv, f"/search?case_id={world.case_id}", case=str(world.case_id),
                     name="Katarina Horvatova", birth_date="1971")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert SUBJECT in page and "score" in page and "name similarity" in page
    event = last_event(engine, tag="search:person:query", case_id=world.case_id)
    assert event["outcome"] == "ok" and event["parameters"]["name"] == "Katarina Horvatova"


def test_a_search_page_says_how_many_results_are_withheld(clients, world: World, settings: Settings,
                                                           engine: Engine) -> None:
    """Marko Horvat marked sensitive: a search for the surname shows the others and says one
    more is withheld, without naming him."""
    with marked_sensitive(settings, engine, "Marko Horvat"):
        response = _post(clients["investigator"], f"/search?case_id={world.case_id}", case=str(world.case_id),
                         name="Horvat")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "1 result withheld" in page and SUBJECT in page and "Marko" not in page


def test_entity_and_account_searches(clients, world: World, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    inv = clients["investigator"]
    entities = _post(inv, f"/search/entities?case_id={world.case_id}", case=str(world.case_id),
                     name="Adriatic Trade")
    assert entities.status_code == 200 and "Adriatic Trade" in entities.get_data(as_text=True)
    assert last_event(engine, tag="search:entity:query")["outcome"] == "ok"
    accounts = _post(inv, f"/search/accounts?case_id={world.case_id}", case=str(world.case_id),
                     iban=iban(71))
    page = accounts.get_data(as_text=True)
    assert accounts.status_code == 200 and SUBJECT in page and "holder" in page


def test_search_with_bad_input_shows_the_form_again(clients, world: World) -> None:  # type: ignore[no-untyped-def]
    response = _post(clients["investigator"], f"/search?case_id={world.case_id}",
                     case=str(world.case_id), name="K", birth_date="1971-02-31")
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)


def test_search_under_a_case_not_assigned_is_refused_and_audited(clients, world: World, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    inv = clients["investigator"]
    token = form_token(inv.get(f"/search?case_id={world.case_id}").get_data(as_text=True))
    response = inv.post("/search?case_id=999999", data={"name": SUBJECT, "csrf_token": token})
    assert response.status_code == 403 and "assigned" in response.get_data(as_text=True)
    assert last_event(engine, tag="search:person:query", outcome="refused")["parameters"]["case_id"] == 999999


def test_export_is_csv_and_audited(clients, world: World, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    response = _post(clients["investigator"], f"/search/export?case_id={world.case_id}",
                     case=str(world.case_id), name=SUBJECT)
    assert response.mimetype == "text/csv"
    assert SUBJECT in response.get_data(as_text=True)
    assert last_event(engine, tag="export:person:csv")["case_id"] == world.case_id


def test_exported_cells_never_start_a_formula() -> None:
    rows = [{"score": 0.9, "likely": True, "name": "=HYPERLINK(\"http://x\")", "birth_date": None,
             "explanation": ["+1"], "accounts": [],
             "records": [{"institution": "@BANK", "customer_id": "-2", "key": "1:-2"}]}]
    body = as_csv(rows).splitlines()[1]
    assert "'=HYPERLINK" in body and "'@BANK" in body and "'+1" in body


def test_export_shows_each_record_as_its_bank_reported_it_with_each_account() -> None:
    rows = [{"score": 0.97, "likely": True, "name": "Anna Schmidt", "birth_date": "1980-03-14",
             "explanation": ["name similarity 1.00"],
             "records": [{"institution": "BANKA", "customer_id": "C1",
                          "party": {"full_name": "Anna Schmidt", "birth_date": "1980-03-14"}},
                         {"institution": "BANKB", "customer_id": "X9",
                          "party": {"full_name": "Anja Šmitová", "birth_date": "1980-03"}}],
             "accounts": [{"institution": "BANKA", "customer_id": "C1", "iban": "DE1", "type": "current",
                           "role": "holder", "opened_on": "2020-05-01", "closed_on": "2024-02-01"},
                          {"institution": "BANKA", "customer_id": "C1", "number": "77", "type": "savings",
                           "role": "co_holder", "opened_on": "2021-01-01", "closed_on": None}]}]
    text = as_csv(rows)
    assert text.startswith("\ufeff"), "Excel needs the byte-order mark to read UTF-8"
    lines = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert [(r["name"], r["account"], r["role"], r["closed_on"]) for r in lines] == [
        ("Anna Schmidt", "DE1", "holder", "2024-02-01"), ("Anna Schmidt", "77", "co_holder", ""),
        ("Anja Šmitová", "", "", "")]
    assert lines[2]["birth_date"] == "1980-03"


def test_person_page_lists_records_accounts_and_timeline(clients, world: World, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    institution = _institution_id(engine, world.bank)
    response = clients["investigator"].get(f"/person?case_id={world.case_id}&record={institution}:P1")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert SUBJECT in page and "Timeline" in page and "co holder" in page
    event = last_event(engine, tag=RECORD_TAG)
    assert event["result_ids"][0] == f"{institution}:P1" and event["case_id"] == world.case_id


def _institution_id(engine: Engine, code: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT id FROM institutions WHERE code = :c"), {"c": code}).scalar_one())


def test_ownership_picture_is_svg_with_shares(clients, world: World) -> None:  # type: ignore[no-untyped-def]
    page = clients["investigator"].get(
        f"/ownership/owners?case_id={world.case_id}&party={world.parties['C2']}").get_data(as_text=True)
    assert "<svg" in page and "60 %" in page and "40 %" in page and "100 %" in page
    assert SUBJECT in page and "beneficial owner" in page
    held = clients["investigator"].get(
        f"/ownership/holdings?case_id={world.case_id}&party={world.parties['P1']}").get_data(as_text=True)
    assert "Adriatic Trade" in held and "<svg" in held


def test_bank_upload_without_script_lands_on_the_report(clients, world: World, engine: Engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bank = clients[INSTITUTION]
    token = form_token(bank.get("/bank/extracts").get_data(as_text=True))
    path = bad_extract(tmp_path, world.bank)
    with path.open("rb") as sent:
        response = bank.post("/bank/extracts", data={"extract": (sent, "bad.jsonl"), "csrf_token": token},
                             content_type="multipart/form-data")
    assert response.status_code == 303
    process_uploads(engine)
    page = bank.get(response.headers["Location"]).get_data(as_text=True)
    assert "rejected" in page and "birth_date" in page and "currency" in page


def test_a_bank_sees_only_its_own_extracts(clients, world: World) -> None:  # type: ignore[no-untyped-def]
    assert clients[INSTITUTION].get("/bank/extracts/999999").status_code == 404


def test_auditor_pages_show_the_log_flags_activity_and_chain(clients, world: World) -> None:  # type: ignore[no-untyped-def]
    auditor = clients["auditor"]
    name = world.users["investigator"][0]
    log = auditor.get(f"/audit?user={name}&tag=search:*").get_data(as_text=True)
    assert "search:person:query" in log and "Katarina Horvatova" in log
    assert "<svg" in auditor.get(f"/audit/activity?user={name}").get_data(as_text=True)
    assert "The chain verifies" in auditor.get("/audit/verify").get_data(as_text=True)
    assert auditor.get("/audit/flags").status_code == 200


def test_supervision_pages(clients, world: World) -> None:  # type: ignore[no-untyped-def]
    cases = clients["supervisor"].get("/supervision/cases").get_data(as_text=True)
    assert world.users["investigator"][0] in cases
    users = clients["administrator"].get("/admin/users").get_data(as_text=True)
    assert world.users["auditor"][0] in users and "set up" in users
    assert world.bank in clients["administrator"].get("/admin/institutions").get_data(as_text=True)
    assert "International cooperation" in clients["supervisor"].get("/cooperation").get_data(as_text=True)


def test_sign_out_ends_the_session(app: Flask, world: World, clients) -> None:  # type: ignore[no-untyped-def]
    client, copy = signed_in(app, world, INSTITUTION), app.test_client()
    copy.set_cookie("registry_session", client.get_cookie("registry_session").value)
    token = form_token(client.get("/bank/extracts").get_data(as_text=True))
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 303
    assert client.get("/bank/extracts").status_code == 401
    # A copy of the cookie taken before is refused too; the bank's other sessions go on.
    assert copy.get("/bank/extracts").status_code == 401
    assert clients[INSTITUTION].get("/bank/extracts").status_code == 200



def test_signing_a_bank_out_through_the_api_ends_its_session_too(app: Flask, world: World) -> None:
    client, copy = signed_in(app, world, INSTITUTION), app.test_client()
    copy.set_cookie("registry_session", client.get_cookie("registry_session").value)
    assert client.delete("/api/v1/session").status_code == 204
    assert copy.get("/bank/extracts").status_code == 401


def test_a_person_page_pays_one_record_view_per_record_shown(app: Flask, settings: Settings, world: World,
                                                              engine: Engine) -> None:
    from tests.integration.test_access import open_case, sign_in, with_password
    from tests.integration.test_slice import run

    name, secret = with_password(settings, "investigator")
    run(settings, "users", "limit", name, "2/minute")
    case = open_case(settings, name)
    client = app.test_client()
    assert sign_in(client, name, secret).status_code == 201
    three = "&".join(f"party={world.parties[ref]}" for ref in ("P1", "P2", "C1"))
    refused = client.get(f"/person?case_id={case}&{three}")
    assert refused.status_code == 429 and refused.headers.get("Retry-After")
    event = last_event(engine, tag=RECORD_TAG, actor=name)
    assert event["outcome"] == "rate_limited" and event["parameters"]["records"] == 3
