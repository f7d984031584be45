"""The supervisors' and administrators' forms and the investigators' batch search, through
Flask's test client: each change works, is refused without the form's token or to a wrong
role, and is an audit event under the name of whoever made it."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from registry.cli import main
from registry.config import Settings
from tests.e2e.world import PASSWORD, SUBJECT, World, form_token, totp
from tests.integration.institution_codes import new_bic
from tests.integration.test_access import bearer, last_event, marked_sensitive, unique, user_with_token
from tests.integration.test_pages import clients, world  # noqa: F401  (fixtures)
from tests.integration.test_slice import cli_env, run


def post(client: FlaskClient, path: str, form_page: str = "/admin/users", **data: str):  # type: ignore[no-untyped-def]
    token = form_token(client.get(form_page).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})


def supervise(client: FlaskClient, path: str, **data: str):  # type: ignore[no-untyped-def]
    return post(client, path, "/supervision/cases/new", **data)


def count(engine: Engine, sql: str, **params: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def new_case(client: FlaskClient, **extra: str) -> tuple[int, str]:
    reference = unique("PAGE")
    response = supervise(client, "/supervision/cases/new", reference=reference,
                         legal_basis="fiu_analysis", offence="money_laundering",
                         subjects=f"{SUBJECT}\nHorvat Holding", **extra)
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1]), reference


def person_with_password(settings: Settings, role: str, agency: str = "FIU") -> tuple[str, str]:
    name, _ = user_with_token(settings, role, agency)
    uri = run(settings, "users", "password", name, "--password", PASSWORD).strip().splitlines()[-1]
    return name, parse_qs(urlparse(uri).query)["secret"][0]


def sign_in_as(app: Flask, name: str, secret: str) -> FlaskClient:
    client = app.test_client()
    token = form_token(client.get("/sign-in").get_data(as_text=True))
    response = client.post("/sign-in", data={"name": name, "password": PASSWORD,
                                             "totp": totp(secret), "csrf_token": token})
    assert response.status_code == 303
    return client


# ---- supervisors ---------------------------------------------------------------------------

def test_a_supervisor_opens_a_case_with_the_form(clients, world: World, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    sup = clients["supervisor"]
    case_id, reference = new_case(sup)
    page = sup.get(f"/supervision/cases/{case_id}").get_data(as_text=True)
    assert f"Case {reference} is open" in page and "Horvat Holding" in page
    event = last_event(engine, tag="admin:case:open", case_id=case_id)
    assert event["actor"] == world.users["supervisor"][0] and event["outcome"] == "ok"
    assert event["parameters"]["subjects"] == [SUBJECT, "Horvat Holding"]
    assert reference in sup.get("/supervision/cases").get_data(as_text=True)


def test_an_mla_request_needs_its_requesting_state(clients, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    reference = unique("MLA")
    refused = supervise(clients["supervisor"], "/supervision/cases/new", reference=reference,
                        legal_basis="incoming_mla_request", offence="money_laundering")
    assert refused.status_code == 422 and "requesting_state is required" in refused.get_data(as_text=True)
    assert count(engine, "SELECT count(*) FROM cases WHERE reference = :r", r=reference) == 0
    opened = supervise(clients["supervisor"], "/supervision/cases/new", reference=reference,
                       legal_basis="incoming_mla_request", offence="money_laundering",
                       requesting_state="fr")
    assert opened.status_code == 303
    assert count(engine, "SELECT count(*) FROM cases WHERE reference = :r AND requesting_state = 'FR'",
                 r=reference) == 1


def test_a_bad_field_shows_the_form_again(clients) -> None:  # type: ignore[no-untyped-def]
    response = supervise(clients["supervisor"], "/supervision/cases/new", reference="X",
                         legal_basis="curiosity", offence="money_laundering")
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)


def test_assign_and_remove_an_investigator(clients, world: World, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    sup, investigator = clients["supervisor"], world.users["investigator"][0]
    case_id, _ = new_case(sup)
    assert f'<option value="{investigator}">' in sup.get(f"/supervision/cases/{case_id}").get_data(as_text=True)
    response = supervise(sup, f"/supervision/cases/{case_id}/assignments", user=investigator)
    assert response.status_code == 303
    page = sup.get(f"/supervision/cases/{case_id}").get_data(as_text=True)
    assert f"{investigator} is assigned to the case." in page
    event = last_event(engine, tag="admin:case:assign", case_id=case_id)
    assert event["parameters"]["user"] == investigator and event["actor"] == world.users["supervisor"][0]
    user_id = event["parameters"]["user_id"]
    again = supervise(sup, f"/supervision/cases/{case_id}/assignments", user=investigator)
    assert "already assigned" in sup.get(again.headers["Location"]).get_data(as_text=True)
    supervise(sup, f"/supervision/cases/{case_id}/assignments/{user_id}/remove")
    assert last_event(engine, tag="admin:case:unassign", case_id=case_id)["parameters"]["user_id"] == user_id
    assert count(engine, "SELECT count(*) FROM case_assignments WHERE case_id = :c", c=case_id) == 0


def test_approve_and_withdraw_a_sensitive_search(clients, settings: Settings, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    name = f"Ottilie Quarnstrom {uuid.uuid4().hex[:6]}"
    with marked_sensitive(settings, engine, name):
        _approve_and_withdraw(clients, engine, name)


def _approve_and_withdraw(clients, engine: Engine, name: str) -> None:  # type: ignore[no-untyped-def]
    sup = clients["supervisor"]
    case_id, _ = new_case(sup)
    plain = supervise(sup, f"/supervision/cases/{case_id}/approvals", name=SUBJECT, reason="needed")
    assert "is not marked sensitive" in sup.get(plain.headers["Location"]).get_data(as_text=True)
    supervise(sup, f"/supervision/cases/{case_id}/approvals", name=name, reason="named in the MLA request")
    event = last_event(engine, tag="admin:approval:grant", case_id=case_id)
    assert event["parameters"]["name"] == name and event["parameters"]["reason"] == "named in the MLA request"
    approval_id = event["parameters"]["approval_id"]
    supervise(sup, f"/supervision/cases/{case_id}/approvals/{approval_id}/withdraw")
    assert last_event(engine, tag="admin:approval:withdraw", case_id=case_id)["parameters"]["approval_id"] == approval_id
    assert "withdrawn" in sup.get(f"/supervision/cases/{case_id}").get_data(as_text=True)


def test_close_a_case(clients, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    sup = clients["supervisor"]
    case_id, reference = new_case(sup)
    supervise(sup, f"/supervision/cases/{case_id}/close")
    page = sup.get(f"/supervision/cases/{case_id}").get_data(as_text=True)
    assert f"Case {reference} is closed" in page and "Close case" not in page
    assert last_event(engine, tag="admin:case:close", case_id=case_id)["outcome"] == "ok"


def test_a_supervisor_of_another_agency_is_refused_and_audited(app: Flask, clients, settings: Settings, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    case_id, _ = new_case(clients["supervisor"])
    other, secret = person_with_password(settings, "supervisor", agency=unique("Customs"))
    client = sign_in_as(app, other, secret)
    assert client.get(f"/supervision/cases/{case_id}").status_code == 404
    response = supervise(client, f"/supervision/cases/{case_id}/close")
    assert response.status_code == 403
    assert last_event(engine, tag="admin:case:close", actor=other)["outcome"] == "refused"
    assert count(engine, "SELECT count(*) FROM cases WHERE id = :c AND status = 'open'", c=case_id) == 1


# ---- every form: its token, and only its callers ---------------------------------------------

SUPERVISOR_FORMS = ["/supervision/cases/new", "/supervision/cases/{case}/assignments",
                    "/supervision/cases/{case}/assignments/1/remove", "/supervision/cases/{case}/close",
                    "/supervision/cases/{case}/approvals", "/supervision/cases/{case}/approvals/1/withdraw"]
ADMIN_FORMS = ["/admin/users", "/admin/users/{user}/enrolment", "/admin/users/{user}/tokens",
               "/admin/users/{user}/tokens/1/revoke", "/admin/users/{user}/limit",
               "/admin/users/{user}/unlock", "/admin/institutions", "/admin/institutions/{bank}/key"]


def _filled(path: str, world: World, engine: Engine) -> str:
    user = count(engine, "SELECT id FROM users WHERE name = :n", n=world.users["investigator"][0])
    return path.format(case=world.case_id, user=user, bank=world.bank)


@pytest.mark.parametrize("path", SUPERVISOR_FORMS + ADMIN_FORMS)
def test_each_form_without_its_token_is_refused_and_audited(clients, world: World, engine: Engine, path: str) -> None:  # type: ignore[no-untyped-def]
    role = "supervisor" if path.startswith("/supervision") else "administrator"
    before = count(engine, "SELECT count(*) FROM audit_events WHERE tag LIKE 'admin:%'")
    response = clients[role].post(_filled(path, world, engine), data={"name": "x", "reference": "x"})
    assert response.status_code == 403 and response.mimetype == "text/html"
    event = last_event(engine, tag="auth:csrf:refuse")
    assert event["actor"] == world.users[role][0] and event["parameters"]["method"] == "POST"
    assert count(engine, "SELECT count(*) FROM audit_events WHERE tag LIKE 'admin:%'") == before


@pytest.mark.parametrize("path", SUPERVISOR_FORMS + ADMIN_FORMS)
def test_each_form_refuses_the_wrong_role(clients, world: World, engine: Engine, path: str) -> None:  # type: ignore[no-untyped-def]
    wrong = ["investigator", "auditor", "administrator" if path.startswith("/supervision") else "supervisor"]
    for role in wrong:
        token = form_token(clients[role].get("/sign-in").get_data(as_text=True))
        response = clients[role].post(_filled(path, world, engine), data={"csrf_token": token})
        assert response.status_code == 403, (role, response.status_code)
        event = last_event(engine, tag="auth:endpoint:refuse", actor=world.users[role][0])
        assert event["parameters"]["endpoint"].startswith("web.")


# ---- administrators ------------------------------------------------------------------------

def _shown(page: str, element: str) -> str:
    found = re.search(rf'<code id="{element}">([^<]+)</code>', page)
    assert found, f"no {element} on the page"
    return found.group(1)


def test_create_a_user_who_then_signs_in_with_what_was_shown(clients, world: World, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    name = unique("newinv")
    response = post(clients["administrator"], "/admin/users", name=name, role="investigator", agency="FIU")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password, secret = _shown(page, "password"), _shown(page, "totp-secret")
    assert "otpauth://totp/" in _shown(page, "totp-uri")
    created = last_event(engine, tag="admin:user:create", actor=world.users["administrator"][0])
    assert created["parameters"]["name"] == name and created["parameters"]["role"] == "investigator"
    assert last_event(engine, tag="admin:user:password")["parameters"]["user"] == name
    signed = clients["administrator"].application.test_client().post(
        "/api/v1/session", json={"name": name, "password": password, "totp": pyotp.TOTP(secret).now()})
    assert signed.status_code == 201, signed.json
    duplicate = post(clients["administrator"], "/admin/users", name=name, role="auditor")
    assert duplicate.status_code == 409 and "exists already" in duplicate.get_data(as_text=True)


def _user_id(engine: Engine, name: str) -> int:
    return count(engine, "SELECT id FROM users WHERE name = :n", n=name)


def test_a_token_is_shown_once_works_and_can_be_revoked(app: Flask, clients, world: World, settings: Settings, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    name, _ = user_with_token(settings, "investigator")
    user_id = _user_id(engine, name)
    response = post(clients["administrator"], f"/admin/users/{user_id}/tokens", days="7")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    secret = _shown(response.get_data(as_text=True), "secret")
    event = last_event(engine, tag="admin:token:create", actor=world.users["administrator"][0])
    assert event["parameters"]["user"] == name and event["parameters"]["days"] == 7
    api = app.test_client()
    assert api.get("/api/v1/cases", headers=bearer(secret)).status_code == 200
    token_id = event["parameters"]["token_id"]
    revoked = post(clients["administrator"], f"/admin/users/{user_id}/tokens/{token_id}/revoke")
    assert revoked.status_code == 303
    assert f"Token #{token_id} of {name} is revoked." in clients["administrator"].get("/admin/users").get_data(as_text=True)
    assert api.get("/api/v1/cases", headers=bearer(secret)).status_code == 401
    assert last_event(engine, tag="admin:token:revoke")["parameters"]["token_ids"] == [token_id]


def test_set_and_clear_a_users_rate_limit(clients, settings: Settings, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    name, _ = user_with_token(settings, "investigator")
    user_id = _user_id(engine, name)
    admin = clients["administrator"]
    post(admin, f"/admin/users/{user_id}/limit", rate="60/minute;1000/day")
    assert count(engine, "SELECT count(*) FROM users WHERE id = :u AND rate_limit = '60/minute;1000/day'", u=user_id) == 1
    assert last_event(engine, tag="admin:user:limit")["parameters"] == {"user": name, "rate": "60/minute;1000/day"}
    bad = post(admin, f"/admin/users/{user_id}/limit", rate="lots")
    assert "Not a rate limit" in admin.get(bad.headers["Location"]).get_data(as_text=True)
    post(admin, f"/admin/users/{user_id}/limit", rate="")
    assert count(engine, "SELECT count(*) FROM users WHERE id = :u AND rate_limit IS NULL", u=user_id) == 1


def test_unlock_a_locked_user(app: Flask, clients, settings: Settings, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    name, secret = person_with_password(settings, "auditor")
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET locked_until = :t WHERE name = :n"),
                     {"t": datetime.now(UTC) + timedelta(minutes=10), "n": name})
    admin = clients["administrator"]
    assert "Unlock" in admin.get("/admin/users").get_data(as_text=True)
    post(admin, f"/admin/users/{_user_id(engine, name)}/unlock")
    assert last_event(engine, tag="admin:user:unlock")["parameters"]["user"] == name
    sign_in_as(app, name, secret)  # signs in again at once


def test_register_an_institution_and_issue_it_a_new_key(app: Flask, clients, world: World, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    code = new_bic("PA")
    admin = clients["administrator"]
    not_a_bic = post(admin, "/admin/institutions", "/admin/institutions", code="PA" + uuid.uuid4().hex[:8].upper(),
                     name="Page Bank", kind="bank", country="hr")
    assert not_a_bic.status_code == 422 and "neither a BIC" in not_a_bic.get_data(as_text=True)
    response = post(admin, "/admin/institutions", "/admin/institutions", code=code, name="Page Bank",
                    kind="bank", country="hr")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    key = _shown(response.get_data(as_text=True), "secret")
    event = last_event(engine, tag="admin:institution:add")
    assert event["parameters"]["code"] == code and event["actor"] == world.users["administrator"][0]
    assert _bank_signs_in(app, code, key)
    again = post(admin, "/admin/institutions", "/admin/institutions", code=code, name="Page Bank")
    assert again.status_code == 409
    new_key = _shown(post(admin, f"/admin/institutions/{code}/key", "/admin/institutions").get_data(as_text=True), "secret")
    assert last_event(engine, tag="admin:institution:rekey")["parameters"]["code"] == code
    assert not _bank_signs_in(app, code, key) and _bank_signs_in(app, code, new_key)


def _bank_signs_in(app: Flask, code: str, key: str) -> bool:
    client = app.test_client()
    token = form_token(client.get("/bank/sign-in").get_data(as_text=True))
    return client.post("/bank/sign-in", data={"code": code, "key": key, "csrf_token": token}).status_code == 303


def test_supervisors_read_the_users_page_without_its_forms(clients) -> None:  # type: ignore[no-untyped-def]
    page = clients["supervisor"].get("/admin/users").get_data(as_text=True)
    assert "Users, API tokens" in page and "Create a user" not in page and "New token" not in page


# ---- investigators' batch search -----------------------------------------------------------

def test_a_batch_of_names_is_searched_one_by_one(clients, world: World, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    inv = clients["investigator"]
    form = f"/search/batch?case_id={world.case_id}"
    response = post(inv, form, form, names="Katarina Horvatova; 1971\n\nMarko Horvat\n")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "1. Katarina Horvatova" in page and "2. Marko Horvat" in page
    # A result links to the person by the registry id of the record's current version.
    assert re.search(rf"party={world.parties['P1']}\b", page)
    with engine.connect() as conn:
        logged = conn.execute(text(
            "SELECT parameters FROM audit_events WHERE tag = 'search:person:query' AND actor = :a "
            "ORDER BY id DESC LIMIT 2"), {"a": world.users["investigator"][0]}).scalars().all()
    assert [p["batch_index"] for p in reversed(logged)] == [0, 1]
    assert logged[1]["birth_date"] == "1971"


def test_a_bad_line_is_named_by_its_number(clients, world: World) -> None:  # type: ignore[no-untyped-def]
    form = f"/search/batch?case_id={world.case_id}"
    response = post(clients["investigator"], form, form, names="Katarina Horvat\nK; 1971-02-31")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "line 2: name" in page and "line 2: birth_date" in page


def test_when_the_limit_runs_out_the_rest_is_listed_to_send_again(app: Flask, settings: Settings, engine: Engine) -> None:
    name, secret = person_with_password(settings, "investigator")
    run(settings, "users", "limit", name, "3/minute")
    out = run(settings, "cases", "open", unique("BATCH"), "--legal-basis", "fiu_analysis",
              "--offence", "money_laundering", "--assign", name)
    case_id = int(out.strip().splitlines()[-1])
    client = sign_in_as(app, name, secret)
    form = f"/search/batch?case_id={case_id}"
    names = [f"Person Number{i}" for i in range(5)]
    response = post(client, form, form, names="\n".join(names))
    page = response.get_data(as_text=True)
    assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 60
    assert "after 3 of 5 names" in page and "not searched" in page
    assert re.search(r"<textarea[^>]*>Person Number3\nPerson Number4</textarea>", page)
    event = last_event(engine, tag="search:person:query", actor=name, outcome="rate_limited")
    assert event["parameters"]["not_run"] == 2 and event["case_id"] == case_id


def test_person_search_results_carry_the_party_id(app: Flask, clients, world: World, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    token = run(settings, "tokens", "create", world.users["investigator"][0]).strip().splitlines()[-1]
    answer = app.test_client().post("/api/v1/search/persons", headers=bearer(token),
                                    json={"case_id": world.case_id, "name": SUBJECT}).json
    ids = [r["party_id"] for result in answer["results"] for r in result["records"]]
    assert world.parties["P1"] in ids and all(isinstance(i, int) for i in ids)
    form = f"/search?case_id={world.case_id}"
    page = post(clients["investigator"], form, form, name=SUBJECT).get_data(as_text=True)
    # Other modules' worlds hold the same person at other banks: one result may merge them.
    links = [parse_qs(urlparse(h.replace("&amp;", "&")).query)
             for h in re.findall(r'href="(/person\?[^"]+)"', page)]
    assert any(str(world.parties["P1"]) in link.get("party", []) for link in links)
    assert all(link["case_id"] == [str(world.case_id)] and "record" not in link for link in links)


def test_the_command_line_calls_the_same_service(app: Flask, settings: Settings, engine: Engine) -> None:
    name, token = user_with_token(settings, "investigator")
    assert run(settings, "tokens", "revoke", name).strip().splitlines()[-1] == "1"
    event = last_event(engine, tag="admin:token:revoke", actor="cli")
    assert event["parameters"]["user"] == name and len(event["parameters"]["token_ids"]) == 1
    assert app.test_client().get("/api/v1/cases", headers=bearer(token)).status_code == 401
    refused = CliRunner().invoke(main, ["users", "limit", name, "lots"], env=cli_env(settings))
    assert refused.exit_code != 0 and "Not a rate limit" in refused.output
    duplicate = CliRunner().invoke(main, ["users", "create", name, "--role", "auditor"], env=cli_env(settings))
    assert duplicate.exit_code != 0 and "exists already" in duplicate.output
