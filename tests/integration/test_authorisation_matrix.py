"""Every role against every endpoint: the declared callers are the table below, and the
app answers each caller accordingly (401 without credentials, 403 for a wrong role, and
neither for a caller the endpoint allows).

Adding an endpoint means adding it here, with a decision about who may call it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from registry.auth import INSTITUTION, PUBLIC, declared_callers
from registry.config import Settings
from tests.integration.institution_codes import new_bic
from tests.integration.test_access import user_with_token
from tests.integration.test_slice import run

ROLES = ("investigator", "supervisor", "auditor", "administrator", INSTITUTION)
AUDITORS = frozenset({"auditor"})
EXPECTED: dict[str, frozenset[str]] = {
    "health.healthz": frozenset({PUBLIC}),
    "health.versions": frozenset({"administrator"}),
    "api.create_session": frozenset({PUBLIC}),
    "api.delete_session": frozenset({PUBLIC}),
    # search (#5)
    "api.search_persons": frozenset({"investigator"}),
    "api.search_persons_batch": frozenset({"investigator"}),
    "api.search_entities": frozenset({"investigator"}),
    "api.search_accounts": frozenset({"investigator"}),
    "api.openapi_document": frozenset({"investigator", "supervisor", "auditor", "administrator"}),
    # ownership (#6)
    "api.entity_owners": frozenset({"investigator"}),
    "api.person_holdings": frozenset({"investigator"}),
    "api.party_bods": frozenset({"investigator"}),
    # access, audit, oversight, cooperation (#4)
    "api.audit_events": AUDITORS,
    "api.audit_events_csv": AUDITORS,
    "api.audit_activity": AUDITORS,
    "api.audit_flags": AUDITORS,
    "api.audit_verify": AUDITORS,
    "api.cooperation_statistics": frozenset({"supervisor", "auditor", "administrator"}),
    "api.create_cooperation_request": frozenset({"supervisor"}),
    "api.list_cooperation_requests": frozenset({"supervisor", "auditor"}),
    "api.get_cooperation_request": frozenset({"supervisor", "auditor"}),
    "api.update_cooperation_request": frozenset({"supervisor"}),
    "api.create_case": frozenset({"supervisor"}),
    "api.list_cases": frozenset({"supervisor", "investigator"}),
    "api.get_case": frozenset({"supervisor", "investigator"}),
    "api.assign_investigator": frozenset({"supervisor"}),
    "api.unassign_investigator": frozenset({"supervisor"}),
    "api.close_case": frozenset({"supervisor"}),
    "api.list_approvals": frozenset({"supervisor", "investigator"}),
    "api.approve_sensitive_search": frozenset({"supervisor"}),
    "api.withdraw_approval": frozenset({"supervisor"}),
    "api.party_record": frozenset({"investigator"}),
    # extracts (#3)
    "api.upload_extract": frozenset({INSTITUTION}),
    "api.list_extracts": frozenset({INSTITUTION}),
    "api.get_extract": frozenset({INSTITUTION}),
    # pages (#7)
    "web.asset": frozenset({PUBLIC}),
    "web.home": frozenset({PUBLIC}),
    "web.sign_in": frozenset({PUBLIC}),
    "web.sign_in_submit": frozenset({PUBLIC}),
    "web.bank_sign_in": frozenset({PUBLIC}),
    "web.bank_sign_in_submit": frozenset({PUBLIC}),
    "web.sign_out": frozenset({PUBLIC}),
    "web.cases": frozenset({"investigator"}),
    "web.search": frozenset({"investigator"}),
    "web.search_submit": frozenset({"investigator"}),
    "web.search_export": frozenset({"investigator"}),
    "web.search_entities": frozenset({"investigator"}),
    "web.search_accounts": frozenset({"investigator"}),
    "web.person": frozenset({"investigator"}),
    "web.owners": frozenset({"investigator"}),
    "web.holdings": frozenset({"investigator"}),
    "web.audit_log": AUDITORS,
    "web.audit_flags": AUDITORS,
    "web.audit_activity": AUDITORS,
    "web.audit_verify": AUDITORS,
    "web.search_batch": frozenset({"investigator"}),
    "web.search_batch_submit": frozenset({"investigator"}),
    "web.supervision_cases": frozenset({"supervisor", "administrator"}),
    "web.supervision_case": frozenset({"supervisor"}),
    "web.case_new": frozenset({"supervisor"}),
    "web.case_open": frozenset({"supervisor"}),
    "web.case_assign": frozenset({"supervisor"}),
    "web.case_unassign": frozenset({"supervisor"}),
    "web.case_close": frozenset({"supervisor"}),
    "web.case_approve": frozenset({"supervisor"}),
    "web.case_withdraw": frozenset({"supervisor"}),
    "web.users": frozenset({"supervisor", "administrator"}),
    "web.user_create": frozenset({"administrator"}),
    "web.user_enrol": frozenset({"administrator"}),
    "web.user_limit": frozenset({"administrator"}),
    "web.user_unlock": frozenset({"administrator"}),
    "web.token_create": frozenset({"administrator"}),
    "web.token_revoke": frozenset({"administrator"}),
    "web.institutions": frozenset({"administrator"}),
    "web.institution_add": frozenset({"administrator"}),
    "web.institution_rekey": frozenset({"administrator"}),
    "web.cooperation": frozenset({"supervisor", "auditor", "administrator"}),
    "web.extracts": frozenset({INSTITUTION}),
    "web.upload": frozenset({INSTITUTION}),
    "web.extract": frozenset({INSTITUTION}),
}
# A bank's own pages: its uploads, and nothing else.
BANK_PAGES = {"web.extracts", "web.upload", "web.extract"}


def endpoints(app) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    adapter = app.url_map.bind("localhost")
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        url = adapter.build(rule.endpoint, {arg: 999999 for arg in rule.arguments})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, url))
    return found


@pytest.fixture(scope="module")
def credentials(settings: Settings, engine: Engine) -> Iterator[dict[str, str]]:
    tokens = {role: user_with_token(settings, role)[1] for role in ROLES if role != INSTITUTION}
    code = new_bic("MX")
    tokens[INSTITUTION] = run(settings, "institutions", "add", code, "--name", "Matrix Bank").strip().splitlines()[-1]
    yield tokens
    # The institution's (empty) upload must not wait in the queue for other tests' workers.
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM extracts WHERE institution_id = "
                          "(SELECT id FROM institutions WHERE code = :c)"), {"c": code})


def test_declared_callers_are_the_table(app) -> None:  # type: ignore[no-untyped-def]
    declared = {rule.endpoint: declared_callers(app.view_functions[rule.endpoint])
                for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert set(declared) - set(EXPECTED) == set(), "an endpoint nobody decided about"
    # The table may name endpoints a branch has not registered yet; those it names must agree.
    assert declared == {endpoint: EXPECTED[endpoint] for endpoint in declared}


def test_institutions_reach_nothing_about_searches_or_the_audit_log() -> None:
    # Confidentiality of requests: a bank must not learn whether its customers were searched.
    reachable = {e for e, callers in EXPECTED.items() if INSTITUTION in callers}
    assert reachable == {"api.upload_extract", "api.list_extracts", "api.get_extract", *BANK_PAGES}


def test_anonymous_callers_reach_only_public_endpoints(app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    for endpoint, method, url in endpoints(app):
        status = client.open(url, method=method, json={}).status_code
        if PUBLIC in EXPECTED[endpoint]:
            assert status not in (401, 403), (endpoint, method, status)
        else:
            assert status == 401, (endpoint, method, status)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_its_endpoints(app, credentials: dict[str, str], role: str) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    outcomes: dict[tuple[str, str], Any] = {}
    for endpoint, method, url in endpoints(app):
        response = client.open(url, method=method, json={},
                               headers={"Authorization": f"Bearer {credentials[role]}"})
        allowed = PUBLIC in EXPECTED[endpoint] or role in EXPECTED[endpoint]
        outcomes[(endpoint, method)] = (allowed, response.status_code)
    wrong = {k: v for k, v in outcomes.items()
             if (v[0] and v[1] in (401, 403)) or (not v[0] and v[1] != 403)}
    assert wrong == {}
