"""Who may look: every endpoint declares its callers, tokens and sign-in work as promised,
refusals are audited, and the database keeps the audit log append-only whoever asks.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from registry import audit
from registry.auth import CSRF_HEADER, declared_callers, sign_out
from registry.config import Settings
from tests.integration.test_slice import run

PASSWORD = "a long enough passphrase"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def user_with_token(settings: Settings, role: str, agency: str = "FIU", name: str | None = None) -> tuple[str, str]:
    name = name or unique(role)
    run(settings, "users", "create", name, "--role", role, "--agency", agency)
    return name, run(settings, "tokens", "create", name).strip().splitlines()[-1]


def open_case(settings: Settings, assignee: str, *subjects: str) -> int:
    args = [f"--subject={s}" for s in subjects]
    out = run(settings, "cases", "open", unique("CASE"), "--legal-basis", "fiu_analysis",
              "--offence", "money_laundering", "--assign", assignee, *args)
    return int(out.strip().splitlines()[-1])


@contextmanager
def marked_sensitive(settings: Settings, engine: Engine, *names: str,
                     reason: str = "protected_witness") -> Iterator[None]:
    """Names marked sensitive for a while. The tests share one index: a name left marked
    would refuse other modules' searches whose answers happen to show it."""
    for name in names:
        run(settings, "sensitive", "add", name, "--reason", reason)
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM sensitive_names WHERE name = ANY(:n)"), {"n": list(names)})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def last_event(engine: Engine, **where: object) -> dict[str, object]:
    clause = " AND ".join(f"{k} = :{k}" for k in where)
    with engine.connect() as conn:
        row = conn.execute(text(f"SELECT * FROM audit_events WHERE {clause} ORDER BY id DESC LIMIT 1"),
                           where).mappings().first()
    assert row is not None, f"no audit event where {where}"
    return dict(row)


def with_password(settings: Settings, role: str) -> tuple[str, str]:
    """A user with a password and a TOTP secret; returns (name, secret)."""
    name, _ = user_with_token(settings, role)
    uri = run(settings, "users", "password", name, "--password", PASSWORD).strip().splitlines()[-1]
    return name, parse_qs(urlparse(uri).query)["secret"][0]


def sign_in(client, name: str, secret: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/session", json={"name": name, "password": password,
                                                "totp": pyotp.TOTP(secret).now()})


def test_every_endpoint_declares_its_callers(app) -> None:  # type: ignore[no-untyped-def]
    undeclared = [rule.endpoint for rule in app.url_map.iter_rules()
                  if rule.endpoint != "static" and declared_callers(app.view_functions[rule.endpoint]) is None]
    assert undeclared == []


def test_search_needs_a_token(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/search/persons", json={"case_id": 1, "name": "Anna Schmidt"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_unknown_token_is_refused_and_audited(client, engine) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/search/persons", headers=bearer("reg_not-a-token"),
                           json={"case_id": 1, "name": "Anna Schmidt"})
    assert response.status_code == 401
    event = last_event(engine, tag="auth:token:refuse")
    assert event["outcome"] == "refused" and event["parameters"]["endpoint"] == "api.search_persons"


def test_auditor_may_not_search_and_the_refusal_is_audited(client, engine, settings) -> None:  # type: ignore[no-untyped-def]
    name, token = user_with_token(settings, "auditor")
    response = client.post("/api/v1/search/persons", headers=bearer(token),
                           json={"case_id": 1, "name": "Anna Schmidt"})
    assert response.status_code == 403
    event = last_event(engine, tag="auth:endpoint:refuse", actor=name)
    assert (event["role"], event["agency"], event["outcome"]) == ("auditor", "FIU", "refused")


def test_revoked_and_expired_tokens_are_refused(client, settings, engine) -> None:  # type: ignore[no-untyped-def]
    name, token = user_with_token(settings, "auditor")
    assert client.get("/api/v1/audit/events?limit=1", headers=bearer(token)).status_code == 200
    assert run(settings, "tokens", "revoke", name).strip().splitlines()[-1] == "1"
    assert client.get("/api/v1/audit/events?limit=1", headers=bearer(token)).status_code == 401
    other, old = user_with_token(settings, "auditor")
    with engine.begin() as conn:
        conn.execute(text("UPDATE api_tokens SET expires_at = now() - interval '1 second' "
                          "WHERE user_id = (SELECT id FROM users WHERE name = :n)"), {"n": other})
    assert client.get("/api/v1/audit/events?limit=1", headers=bearer(old)).status_code == 401


@pytest.mark.parametrize("why", ["closed", "not_assigned"])
def test_search_under_a_closed_or_foreign_case_is_refused_and_audited(client, settings, engine, why) -> None:  # type: ignore[no-untyped-def]
    name, token = user_with_token(settings, "investigator")
    colleague, _ = user_with_token(settings, "investigator")
    case_id = open_case(settings, name if why == "closed" else colleague)
    if why == "closed":
        with engine.connect() as conn:
            ref = conn.execute(text("SELECT reference FROM cases WHERE id = :i"), {"i": case_id}).scalar_one()
        run(settings, "cases", "close", ref)
    response = client.post("/api/v1/search/persons", headers=bearer(token),
                           json={"case_id": case_id, "name": "Anna Schmidt"})
    assert response.status_code == 403
    assert "case" in response.json["detail"]
    event = last_event(engine, tag="search:person:query", actor=name)
    assert (event["outcome"], event["case_id"], event["legal_basis"]) == ("refused", case_id, "fiu_analysis")
    assert event["parameters"]["name"] == "Anna Schmidt", "a refusal records what was asked"


def test_sign_in_with_password_and_totp_sets_a_safe_cookie(client, settings, engine) -> None:  # type: ignore[no-untyped-def]
    name, secret = with_password(settings, "auditor")
    response = sign_in(client, name, secret)
    assert response.status_code == 201, response.json
    cookie = response.headers["Set-Cookie"]
    assert "registry_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert ("Secure" in cookie) == settings.session_cookie_secure
    assert last_event(engine, tag="auth:session:create", actor=name)["outcome"] == "ok"
    # A TOTP code is accepted once: replaying it within its 30 seconds is refused.
    assert sign_in(client, name, secret).status_code == 401


def test_cookie_session_needs_the_csrf_token_for_changes(app, settings, engine) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    name, secret = with_password(settings, "supervisor")
    csrf = sign_in(client, name, secret).json["csrf_token"]
    stats = client.get("/api/v1/statistics/cooperation")
    assert stats.status_code == 200, "a signed-in GET needs no CSRF token"
    body = {"direction": "received", "counterpart_state": "FR", "assistance_type": "freezing",
            "legal_basis": "uncac_art46", "offence": "money_laundering", "received_on": "1999-01-05"}
    refused = client.post("/api/v1/cooperation/requests", json=body)
    assert refused.status_code == 403 and CSRF_HEADER in refused.json["detail"]
    assert last_event(engine, tag="auth:csrf:refuse", actor=name)["outcome"] == "refused"
    accepted = client.post("/api/v1/cooperation/requests", json=body, headers={CSRF_HEADER: csrf})
    assert accepted.status_code == 201, accepted.json
    assert client.delete("/api/v1/session").status_code == 204
    assert client.get("/api/v1/statistics/cooperation").status_code == 401


def test_signing_out_ends_every_copy_of_the_session(app, settings) -> None:  # type: ignore[no-untyped-def]
    """The cookie is signed, not stored: a copy taken before signing out (stolen, say) must
    not outlive the sign-out."""
    client, thief = app.test_client(), app.test_client()
    name, secret = with_password(settings, "supervisor")
    assert sign_in(client, name, secret).status_code == 201
    thief.set_cookie("registry_session", client.get_cookie("registry_session").value)
    assert thief.get("/api/v1/statistics/cooperation").status_code == 200
    assert client.delete("/api/v1/session").status_code == 204
    refused = thief.get("/api/v1/statistics/cooperation")
    assert refused.status_code == 401 and "ended" in refused.json["detail"]


def test_two_sign_outs_one_after_the_other_are_no_error(app, settings) -> None:  # type: ignore[no-untyped-def]
    client, second_tab = app.test_client(), app.test_client()
    name, secret = with_password(settings, "auditor")
    assert sign_in(client, name, secret).status_code == 201
    second_tab.set_cookie("registry_session", client.get_cookie("registry_session").value)
    assert [c.delete("/api/v1/session").status_code for c in (client, second_tab)] == [204, 204]


def test_two_sign_outs_at_once_are_no_error(app) -> None:  # type: ignore[no-untyped-def]
    """A double click: the second sign-out's insert waits on the first's, then must find the
    session ended rather than fail on the duplicate."""
    cookie = {"uid": 1, "sid": f"race-{uuid.uuid4().hex}", "at": datetime.now(UTC).isoformat()}
    factory = app.extensions["registry"].session_factory
    failures: list[BaseException] = []

    def second() -> None:
        with app.app_context(), factory() as db:
            try:
                sign_out(db, cookie)  # blocks until the first commits
                db.commit()
            except BaseException as error:  # noqa: BLE001 - reported by the assertion below
                failures.append(error)

    with app.app_context(), factory() as first:
        sign_out(first, cookie)
        first.flush()  # the row is written, not yet committed
        racer = threading.Thread(target=second)
        racer.start()
        racer.join(timeout=1)
        assert racer.is_alive(), "the second insert should wait for the first transaction"
        first.commit()
    racer.join(timeout=30)
    assert not racer.is_alive() and failures == []


def test_new_credentials_end_the_sessions_signed_in_with_the_old(app, settings) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    name, secret = with_password(settings, "supervisor")
    assert sign_in(client, name, secret).status_code == 201
    assert client.get("/api/v1/statistics/cooperation").status_code == 200
    run(settings, "users", "password", name, "--password", PASSWORD + " renewed")  # an administrator's reset
    assert client.get("/api/v1/statistics/cooperation").status_code == 401


def test_repeated_failures_lock_the_account(app, settings, engine) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    name, secret = with_password(settings, "investigator")
    for _ in range(settings.login_max_failures):
        assert sign_in(client, name, secret, password="wrong " + PASSWORD).status_code == 401
    locked = sign_in(client, name, secret)
    # Said exactly as to a name that does not exist: a lock must not tell which names do.
    nobody = client.post("/api/v1/session", json={"name": unique("nobody"), "password": PASSWORD,
                                                  "totp": "123456"})
    assert locked.status_code == nobody.status_code == 401
    assert locked.json["detail"] == nobody.json["detail"] and "locked" in locked.json["detail"]
    event = last_event(engine, tag="auth:session:create", actor=name)
    assert event["outcome"] == "refused" and "locked" in event["detail"]
    with engine.connect() as conn:
        until = conn.execute(text("SELECT locked_until FROM users WHERE name = :n"), {"n": name}).scalar_one()
    assert until > datetime.now(UTC) + timedelta(minutes=settings.login_lockout_minutes - 1)


def test_unknown_user_and_wrong_code_get_the_same_answer(client, settings) -> None:  # type: ignore[no-untyped-def]
    name, secret = with_password(settings, "investigator")
    unknown = client.post("/api/v1/session", json={"name": unique("nobody"), "password": PASSWORD,
                                                   "totp": "123456"})
    wrong_code = client.post("/api/v1/session", json={"name": name, "password": PASSWORD,
                                                      "totp": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"})
    assert unknown.status_code == wrong_code.status_code == 401
    assert unknown.json["detail"] == wrong_code.json["detail"]


def test_audit_events_cannot_be_updated_or_deleted(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:  # chained, as every writer must, so the log still verifies
        audit.record(session, "test:audit:insert", "ok")
        session.commit()
    for statement in ("UPDATE audit_events SET outcome = 'edited'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))


@pytest.mark.parametrize("statement, allowed", [
    ("INSERT INTO audit_events (tag, outcome, parameters, result_ids) VALUES ('t:t:t', 'ok', '{}', '{}')", True),
    ("SELECT count(*) FROM audit_events", True),
    ("SELECT count(*) FROM parties", True),
    ("UPDATE users SET failed_logins = failed_logins WHERE false", True),
    ("UPDATE audit_events SET outcome = 'x' WHERE false", False),
    ("DELETE FROM audit_events WHERE false", False),
    ("TRUNCATE audit_events", False),
    ("DELETE FROM audit_checkpoints WHERE false", False),
    ("SELECT prune_audit_events(0)", False),
])
def test_application_role_may_append_to_the_audit_log_but_not_change_it(engine, statement, allowed) -> None:  # type: ignore[no-untyped-def]
    # Privileges are checked before triggers, so "permission denied" here is the role's own.
    with engine.connect() as conn, conn.begin() as outer:
        conn.execute(text("SET LOCAL ROLE registry_app"))
        if allowed:
            conn.execute(text(statement))
        else:
            with pytest.raises(DBAPIError, match=re.compile("permission denied", re.I)):
                conn.execute(text(statement))
        outer.rollback()


def test_the_app_connects_as_a_member_of_the_application_role(app) -> None:  # type: ignore[no-untyped-def]
    with app.extensions["registry"].engine.connect() as conn:
        who = conn.execute(text("SELECT current_user, pg_has_role(current_user, 'registry_app', 'MEMBER'), "
                                "(SELECT tableowner FROM pg_tables WHERE tablename = 'audit_events')")).one()
    assert who[1], f"{who[0]} is not a member of registry_app"
    assert who[0] != who[2], "the app connects as the owner of the audit log"


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET outcome = 'edited' WHERE id = (SELECT max(id) FROM audit_events)",
                                       "DELETE FROM audit_events WHERE id = (SELECT max(id) FROM audit_events)",
                                       "TRUNCATE audit_events", "SELECT prune_audit_events(0)"])
def test_the_apps_own_engine_may_not_change_the_audit_log(app, statement) -> None:  # type: ignore[no-untyped-def]
    ext = app.extensions["registry"]
    with Session(ext.engine) as session:  # a real event for the statements to aim at
        audit.record(session, "test:audit:insert", "ok")
        session.commit()
    # "permission denied" is the role's privilege; the trigger would say "append-only".
    with pytest.raises(DBAPIError, match=re.compile(r"permission denied for (table|function)")), \
            ext.engine.begin() as conn:
        conn.execute(text(statement))


def test_every_table_is_granted_to_the_application_role(engine) -> None:  # type: ignore[no-untyped-def]
    # A migration that adds a table must grant it (0002 deliberately sets no default privileges).
    with engine.connect() as conn:
        missing = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND NOT has_table_privilege('registry_app', format('%I.%I', schemaname, tablename), 'SELECT')")).scalars().all()
    assert missing == []
