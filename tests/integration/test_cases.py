"""The supervisor's workflow through the API: open a case of one's agency, assign and
unassign investigators of that agency, close it, approve searches for names marked
sensitive. Every change is audited; other agencies can neither see nor touch the case.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from registry.auth import Caller
from registry.cases import open_case
from registry.config import Settings
from registry.errors import Forbidden
from tests.integration.test_access import bearer, last_event, marked_sensitive, unique, user_with_token
from tests.integration.test_access import open_case as open_case_from_cli
from tests.integration.test_slice import run

SENSITIVE = "Ottokar Vandenbrink"


class Team(NamedTuple):
    agency: str
    supervisor: str
    investigator: str
    investigator_token: str
    investigator_id: int


def team(settings: Settings, engine: Engine) -> Team:
    agency = unique("AGENCY")
    _, supervisor = user_with_token(settings, "supervisor", agency=agency)
    name, token = user_with_token(settings, "investigator", agency=agency)
    with engine.connect() as conn:
        user_id = conn.exec_driver_sql("SELECT id FROM users WHERE name = %s", (name,)).scalar_one()
    return Team(agency, supervisor, name, token, user_id)


@pytest.fixture(scope="module")
def fiu(settings: Settings, engine: Engine) -> Team:
    return team(settings, engine)


@pytest.fixture(scope="module")
def other(settings: Settings, engine: Engine) -> Team:
    return team(settings, engine)


def new_case(client, supervisor: str, **extra: Any) -> Any:  # type: ignore[no-untyped-def]
    body = {"reference": unique("C"), "legal_basis": "fiu_analysis", "offence": "money_laundering",
            "subjects": ["Anna Schmidt"], **extra}
    return client.post("/api/v1/cases", json=body, headers=bearer(supervisor))


def opened(client, who: Team, **extra: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = new_case(client, who.supervisor, assign=[who.investigator], **extra)
    assert response.status_code == 201, response.json
    return response.json  # type: ignore[no-any-return]


def record_view(client, who: Team, case_id: int):  # type: ignore[no-untyped-def]
    # A party id nobody has: the case gate answers first, and the case is what is tested here.
    return client.get("/api/v1/parties/999999999", query_string={"case_id": case_id},
                      headers=bearer(who.investigator_token))


def test_a_supervisor_opens_a_case_of_their_agency_and_assigns(client, engine, fiu) -> None:  # type: ignore[no-untyped-def]
    case = opened(client, fiu)
    assert case["agency"] == fiu.agency and case["status"] == "open"
    assert [a["user"] for a in case["assigned"]] == [fiu.investigator]
    assert last_event(engine, tag="admin:case:open", case_id=case["id"])["outcome"] == "ok"
    assert last_event(engine, tag="admin:case:assign", case_id=case["id"])["parameters"]["user"] == fiu.investigator
    seen = client.get("/api/v1/cases", headers=bearer(fiu.investigator_token)).json["cases"]
    assert case["id"] in {c["id"] for c in seen}
    listed = client.get("/api/v1/cases", query_string={"status": "open"}, headers=bearer(fiu.supervisor))
    assert case["id"] in {c["id"] for c in listed.json["cases"]}
    # The investigator can now work under it (here: a record view of an unknown party).
    assert record_view(client, fiu, case["id"]).status_code == 404


def test_an_incoming_mla_request_names_the_requesting_state(client, fiu) -> None:  # type: ignore[no-untyped-def]
    assert new_case(client, fiu.supervisor, legal_basis="incoming_mla_request").status_code == 422
    response = new_case(client, fiu.supervisor, legal_basis="incoming_mla_request", requesting_state="fr")
    assert response.status_code == 201 and response.json["requesting_state"] == "FR"
    assert new_case(client, fiu.supervisor, legal_basis="not_a_basis").status_code == 422


def test_another_agency_neither_sees_nor_changes_the_case(client, engine, fiu, other) -> None:  # type: ignore[no-untyped-def]
    case = opened(client, fiu)
    assert client.get(f"/api/v1/cases/{case['id']}", headers=bearer(other.supervisor)).status_code == 404
    assert case["id"] not in {c["id"] for c in client.get("/api/v1/cases", headers=bearer(other.supervisor)).json["cases"]}
    assert client.get(f"/api/v1/cases/{case['id']}", headers=bearer(other.investigator_token)).status_code == 404
    refused = client.post(f"/api/v1/cases/{case['id']}/close", headers=bearer(other.supervisor))
    assert refused.status_code == 403
    assert last_event(engine, tag="admin:case:close", case_id=case["id"])["outcome"] == "refused"
    # Nor may a supervisor staff their case with another agency's investigator.
    cross = client.post(f"/api/v1/cases/{case['id']}/assignments", json={"user": other.investigator},
                        headers=bearer(fiu.supervisor))
    assert cross.status_code == 403
    assert last_event(engine, tag="admin:case:assign", case_id=case["id"])["outcome"] == "refused"


def test_assignments_come_and_go(client, engine, settings, fiu) -> None:  # type: ignore[no-untyped-def]
    case = opened(client, fiu)
    url = f"/api/v1/cases/{case['id']}/assignments"
    again = client.post(url, json={"user": fiu.investigator}, headers=bearer(fiu.supervisor))
    assert again.status_code == 409
    auditor, _ = user_with_token(settings, "auditor", agency=fiu.agency)
    assert client.post(url, json={"user": auditor}, headers=bearer(fiu.supervisor)).status_code == 422
    gone = client.delete(f"{url}/{fiu.investigator_id}", headers=bearer(fiu.supervisor))
    assert gone.status_code == 204
    assert last_event(engine, tag="admin:case:unassign", case_id=case["id"])["outcome"] == "ok"
    refused = record_view(client, fiu, case["id"])
    assert refused.status_code == 403 and "not assigned" in refused.json["detail"]
    assert client.delete(f"{url}/{fiu.investigator_id}", headers=bearer(fiu.supervisor)).status_code == 404


def test_a_closed_case_names_no_more_searches(client, engine, fiu) -> None:  # type: ignore[no-untyped-def]
    case = opened(client, fiu)
    closed = client.post(f"/api/v1/cases/{case['id']}/close", headers=bearer(fiu.supervisor))
    assert closed.status_code == 200 and closed.json["status"] == "closed" and closed.json["closed_at"]
    assert last_event(engine, tag="admin:case:close", case_id=case["id"])["outcome"] == "ok"
    refused = record_view(client, fiu, case["id"])
    assert refused.status_code == 403 and "closed" in refused.json["detail"]
    assert client.post(f"/api/v1/cases/{case['id']}/close", headers=bearer(fiu.supervisor)).status_code == 409
    late = client.post(f"/api/v1/cases/{case['id']}/assignments", json={"user": fiu.investigator},
                       headers=bearer(fiu.supervisor))
    assert late.status_code == 409


# ---- sensitive searches need a supervisor's approval ---------------------------------------

@pytest.fixture(scope="module")
def sensitive(settings: Settings, engine: Engine) -> Iterator[str]:
    with marked_sensitive(settings, engine, SENSITIVE):
        yield SENSITIVE


def caller_of(engine: Engine, who: Team) -> Caller:
    return Caller("user", who.investigator_id, who.investigator, "investigator", who.agency)


def gate(engine: Engine, who: Team, case_id: int, name: str) -> str | None:
    """What open_case says to a search for `name` (None: allowed); committed like a request."""
    with Session(engine) as session:
        try:
            open_case(session, caller_of(engine, who), case_id, "search:person:query", "127.0.0.1",
                      {"name": name}, searched_names=[name])
            return None
        except Forbidden as refusal:
            return refusal.detail
        finally:
            session.commit()


def test_a_sensitive_name_is_refused_until_a_supervisor_approves(client, engine, fiu, sensitive) -> None:  # type: ignore[no-untyped-def]
    case = opened(client, fiu)
    # Word order and a respelling are the same person to the gate, as to the search.
    for name in (sensitive, "Vandenbrink Ottokar", "Otokar Vandenbrinck"):
        detail = gate(engine, fiu, case["id"], name)
        assert detail is not None and "marked sensitive" in detail and "approve" in detail, name
    refused = last_event(engine, tag="search:person:query", case_id=case["id"])
    assert refused["outcome"] == "refused" and "sensitive" in refused["detail"]
    assert "pep" not in refused["detail"] and "pep" not in (detail or "")  # the reason stays protected
    assert gate(engine, fiu, case["id"], "Anna Schmidt") is None

    url = f"/api/v1/cases/{case['id']}/approvals"
    approved = client.post(url, json={"name": sensitive, "reason": "subject's brother-in-law"},
                           headers=bearer(fiu.supervisor))
    assert approved.status_code == 201, approved.json
    assert last_event(engine, tag="admin:approval:grant", case_id=case["id"])["parameters"]["name"] == sensitive
    assert gate(engine, fiu, case["id"], "vandenbrink, ottokar") is None
    listed = client.get(url, headers=bearer(fiu.investigator_token)).json["approvals"]
    assert [(a["name"], a["active"]) for a in listed] == [(sensitive, True)]

    withdrawn = client.post(f"{url}/{approved.json['id']}/withdraw", headers=bearer(fiu.supervisor))
    assert withdrawn.status_code == 200 and withdrawn.json["active"] is False
    assert gate(engine, fiu, case["id"], sensitive) is not None


def test_an_approval_holds_for_its_case_only(client, engine, fiu, sensitive) -> None:  # type: ignore[no-untyped-def]
    first, second = opened(client, fiu), opened(client, fiu)
    client.post(f"/api/v1/cases/{first['id']}/approvals", json={"name": sensitive, "reason": "needed"},
                headers=bearer(fiu.supervisor))
    assert gate(engine, fiu, first["id"], sensitive) is None
    assert gate(engine, fiu, second["id"], sensitive) is not None


def test_approvals_are_for_sensitive_names_and_own_cases(client, fiu, other, sensitive) -> None:  # type: ignore[no-untyped-def]
    case = opened(client, fiu)
    url = f"/api/v1/cases/{case['id']}/approvals"
    plain = client.post(url, json={"name": "Anna Schmidt", "reason": "why not"}, headers=bearer(fiu.supervisor))
    assert plain.status_code == 422 and "not marked sensitive" in plain.json["detail"]
    foreign = client.post(url, json={"name": sensitive, "reason": "curious"}, headers=bearer(other.supervisor))
    assert foreign.status_code == 403
    assert client.post(url, json={"name": sensitive}, headers=bearer(fiu.supervisor)).status_code == 422
    assert client.post(url, json={"name": sensitive, "reason": "subject"}, headers=bearer(fiu.supervisor)).status_code == 201
    assert client.post(url, json={"name": sensitive, "reason": "twice"}, headers=bearer(fiu.supervisor)).status_code == 409


def test_the_command_line_approves_for_cases_without_an_agency(settings, engine, fiu, sensitive) -> None:  # type: ignore[no-untyped-def]
    reference = unique("CLI")
    case_id = int(run(settings, "cases", "open", reference, "--legal-basis", "tax_investigation",
                      "--offence", "illicit_enrichment", "--assign", fiu.investigator).strip().splitlines()[-1])
    assert gate(engine, fiu, case_id, sensitive) is not None
    run(settings, "cases", "approve", reference, sensitive, "--reason", "ordered by the prosecutor")
    assert gate(engine, fiu, case_id, sensitive) is None
    assert last_event(engine, tag="admin:approval:grant", case_id=case_id)["actor"] == "cli"


def test_a_case_refused_for_its_assignees_is_not_half_made(client, engine, fiu, other) -> None:  # type: ignore[no-untyped-def]
    for assignee, status in ((other.investigator, 403), ("nobody-of-that-name", 422)):
        reference = unique("C")
        refused = new_case(client, fiu.supervisor, reference=reference, assign=[assignee])
        assert refused.status_code == status
        with engine.connect() as conn:
            made = conn.execute(text("SELECT count(*) FROM cases WHERE reference = :r"), {"r": reference}).scalar()
        assert made == 0
    assert last_event(engine, tag="admin:case:open")["outcome"] == "refused"


def test_a_supervisor_of_no_agency_supervises_no_case(client, settings) -> None:  # type: ignore[no-untyped-def]
    investigator, _ = user_with_token(settings, "investigator")
    agencyless = open_case_from_cli(settings, investigator)  # no agency
    name = unique("supervisor")
    run(settings, "users", "create", name, "--role", "supervisor")
    token = run(settings, "tokens", "create", name).strip().splitlines()[-1]
    listed = client.get("/api/v1/cases", headers=bearer(token))
    assert listed.status_code == 200 and listed.json["cases"] == []
    assert client.post(f"/api/v1/cases/{agencyless}/close", headers=bearer(token)).status_code == 403
