"""International cooperation requests: recorded by supervisors (API) and administrators
(command line), counted by offence, state and legal basis, with days to execute."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from registry.config import Settings
from tests.integration.test_access import bearer, last_event, user_with_token
from tests.integration.test_slice import run

YEAR = 2003  # this module's requests only: the statistics are asked for this year
START = date(YEAR, 2, 1)


def request_body(days: int | None, **extra: Any) -> dict[str, Any]:
    body = {"direction": "received", "counterpart_state": "FR", "assistance_type": "account_information",
            "legal_basis": "uncac_art46", "offence": "bribery_foreign_officials",
            "received_on": START.isoformat(), "acknowledged_on": (START + timedelta(days=2)).isoformat()}
    if days is not None:
        body["executed_on"] = (START + timedelta(days=days)).isoformat()
    return {**body, **extra}


@pytest.fixture(scope="module")
def recorded(settings: Settings, app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    client = app.test_client()
    _, supervisor = user_with_token(settings, "supervisor")
    _, auditor = user_with_token(settings, "auditor")
    bodies = [request_body(10), request_body(20), request_body(30, counterpart_state="IT"),
              request_body(40, legal_basis="bilateral_treaty", offence="money_laundering"),
              request_body(None, counterpart_state="IT", refused_on=f"{YEAR}-03-01",
                           refusal_reason="dual criminality not met"),
              request_body(None, counterpart_state="ES")]
    for body in bodies:
        response = client.post("/api/v1/cooperation/requests", json=body, headers=bearer(supervisor))
        assert response.status_code == 201, response.json
    run(settings, "cooperation", "add", "--direction", "sent", "--state", "ch", "--assistance", "freezing",
        "--legal-basis", "reciprocity", "--offence", "money_laundering", "--received", f"{YEAR}-05-01",
        "--executed", f"{YEAR}-05-06")
    return {"supervisor": supervisor, "auditor": auditor}


def statistics(app, token: str, **query: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = app.test_client().get("/api/v1/statistics/cooperation", headers=bearer(token),
                                     query_string={"from": f"{YEAR}-01-01", "to": f"{YEAR}-12-31", **query})
    assert response.status_code == 200, response.json
    return response.json  # type: ignore[no-any-return]


def test_counts_by_offence_state_and_legal_basis(app, recorded) -> None:  # type: ignore[no-untyped-def]
    stats = statistics(app, recorded["auditor"])
    assert stats["totals"] == {"received": 6, "sent": 1}
    assert stats["by_state"] == {"CH": {"received": 0, "sent": 1, "total": 1},
                                 "ES": {"received": 1, "sent": 0, "total": 1},
                                 "FR": {"received": 3, "sent": 0, "total": 3},
                                 "IT": {"received": 2, "sent": 0, "total": 2}}
    assert stats["by_offence"]["money_laundering"] == {"received": 1, "sent": 1, "total": 2}
    assert stats["by_offence"]["bribery_foreign_officials"]["total"] == 5
    assert stats["by_legal_basis"] == {"bilateral_treaty": {"received": 1, "sent": 0, "total": 1},
                                       "reciprocity": {"received": 0, "sent": 1, "total": 1},
                                       "uncac_art46": {"received": 5, "sent": 0, "total": 5}}
    assert stats["status"] == {"executed": 5, "refused": 1, "pending": 1}


def test_median_and_90th_percentile_days_to_execute(app, recorded) -> None:  # type: ignore[no-untyped-def]
    durations = statistics(app, recorded["supervisor"])["days_to_execute"]
    # 10, 20, 30, 40 days: median 25; 90th percentile interpolated 30 + 0.7 * 10 = 37.
    assert durations["received"] == {"executed": 4, "median": 25.0, "p90": 37.0}
    assert durations["sent"] == {"executed": 1, "median": 5.0, "p90": 5.0}
    assert statistics(app, recorded["supervisor"], direction="sent")["totals"] == {"sent": 1}


def test_creation_is_audited(engine, recorded) -> None:  # type: ignore[no-untyped-def]
    event = last_event(engine, tag="cooperation:request:create", role="supervisor")
    assert event["parameters"]["direction"] == "received"


@pytest.mark.parametrize("change, problem", [
    ({"refused_on": f"{YEAR}-03-01"}, "reason"),
    ({"executed_on": f"{YEAR}-01-01"}, "before received_on"),
    ({"executed_on": f"{YEAR}-03-01", "refused_on": f"{YEAR}-03-01", "refusal_reason": "x"}, "not both"),
    ({"case_id": 999999}, "no case"),
])
def test_inconsistent_requests_are_refused(app, recorded, change, problem) -> None:  # type: ignore[no-untyped-def]
    response = app.test_client().post("/api/v1/cooperation/requests", json=request_body(None, **change),
                                      headers=bearer(recorded["supervisor"]))
    assert response.status_code == 422 and problem in response.json["detail"]


@pytest.mark.parametrize("field, value", [("counterpart_state", "XX"), ("legal_basis", "goodwill"),
                                          ("offence", "jaywalking")])
def test_controlled_lists_are_enforced(app, recorded, field, value) -> None:  # type: ignore[no-untyped-def]
    response = app.test_client().post("/api/v1/cooperation/requests", json=request_body(None, **{field: value}),
                                      headers=bearer(recorded["supervisor"]))
    assert response.status_code == 422 and field in response.json["errors"]


# ---- following a request: list, read, record its progress ---------------------------------

LATER = YEAR + 1  # requests of their own, so the statistics above stay as they are


def later_request(app, token: str, **extra: Any) -> int:  # type: ignore[no-untyped-def]
    body = {**request_body(None, counterpart_state="PT", received_on=f"{LATER}-02-01"), **extra}
    body.pop("acknowledged_on")
    response = app.test_client().post("/api/v1/cooperation/requests", json=body, headers=bearer(token))
    assert response.status_code == 201, response.json
    return int(response.json["id"])


def patch(app, token: str, request_id: int, **changes: Any):  # type: ignore[no-untyped-def]
    return app.test_client().patch(f"/api/v1/cooperation/requests/{request_id}", json=changes,
                                   headers=bearer(token))


def test_progress_is_recorded_checked_and_counted(app, engine, recorded) -> None:  # type: ignore[no-untyped-def]
    token = recorded["supervisor"]
    request_id = later_request(app, token)
    assert patch(app, token, request_id, acknowledged_on=f"{LATER}-02-03").status_code == 200
    early = patch(app, token, request_id, executed_on=f"{LATER}-01-15")
    assert early.status_code == 422 and "before received_on" in early.json["detail"]
    before_ack = patch(app, token, request_id, executed_on=f"{LATER}-02-02")
    assert before_ack.status_code == 422 and "before acknowledged_on" in before_ack.json["detail"]
    done = patch(app, token, request_id, executed_on=f"{LATER}-03-02")  # 2004 is a leap year: 30 days
    assert done.status_code == 200 and done.json["status"] == "executed"
    event = last_event(engine, tag="cooperation:request:update", role="supervisor")
    assert event["parameters"] == {"id": request_id, "changed": {
        "executed_on": {"from": None, "to": f"{LATER}-03-02"}}}

    def days() -> Any:
        return app.test_client().get("/api/v1/statistics/cooperation", headers=bearer(token), query_string={
            "from": f"{LATER}-01-01", "to": f"{LATER}-12-31"}).json["days_to_execute"]["received"]

    assert days() == {"executed": 1, "median": 30.0, "p90": 30.0}
    # A corrected date is what the statistics count from then on.
    assert patch(app, token, request_id, executed_on=f"{LATER}-02-21").status_code == 200
    assert days() == {"executed": 1, "median": 20.0, "p90": 20.0}


def test_a_refusal_needs_its_reason(app, recorded) -> None:  # type: ignore[no-untyped-def]
    token = recorded["supervisor"]
    request_id = later_request(app, token)
    bare = patch(app, token, request_id, refused_on=f"{LATER}-02-10")
    assert bare.status_code == 422 and "reason" in bare.json["detail"]
    refused = patch(app, token, request_id, refused_on=f"{LATER}-02-10", refusal_reason="no dual criminality")
    assert refused.status_code == 200 and refused.json["status"] == "refused"
    both = patch(app, token, request_id, executed_on=f"{LATER}-02-11")
    assert both.status_code == 422 and "not both" in both.json["detail"]
    assert patch(app, token, 99999999, acknowledged_on=f"{LATER}-02-10").status_code == 404
    assert patch(app, token, request_id, received_on=f"{LATER}-01-01").status_code == 422  # fixed at entry


def test_supervisors_and_auditors_list_and_read_requests(app, engine, recorded) -> None:  # type: ignore[no-untyped-def]
    request_id = later_request(app, recorded["supervisor"], counterpart_state="NO")
    listed = app.test_client().get("/api/v1/cooperation/requests", headers=bearer(recorded["auditor"]),
                                   query_string={"state": "no", "status": "pending"})
    assert listed.status_code == 200
    assert [r["id"] for r in listed.json["requests"]] == [request_id]
    assert last_event(engine, tag="cooperation:requests:query", role="auditor")["result_ids"] == [str(request_id)]
    one = app.test_client().get(f"/api/v1/cooperation/requests/{request_id}", headers=bearer(recorded["auditor"]))
    assert one.status_code == 200 and one.json["counterpart_state"] == "NO" and one.json["status"] == "pending"
    assert last_event(engine, tag="cooperation:request:view", role="auditor")["parameters"] == {"id": request_id}


def test_a_supervisor_handles_only_the_requests_of_their_agency(app, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    _, ours = user_with_token(settings, "supervisor", agency="Prosecution Office")
    _, theirs = user_with_token(settings, "supervisor", agency="Tax Investigations")
    _, auditor = user_with_token(settings, "auditor")
    made = client.post("/api/v1/cooperation/requests", json=request_body(5, counterpart_state="PT"),
                       headers=bearer(ours))
    assert made.status_code == 201
    url = f"/api/v1/cooperation/requests/{made.json['id']}"
    assert client.get(url, headers=bearer(ours)).status_code == 200
    # The other agency neither reads, lists nor changes it: to them it is not there.
    assert client.get(url, headers=bearer(theirs)).status_code == 404
    assert client.patch(url, json={"acknowledged_on": START.isoformat()}, headers=bearer(theirs)).status_code == 404
    listed = client.get("/api/v1/cooperation/requests", query_string={"state": "PT"}, headers=bearer(theirs))
    assert made.json["id"] not in {r["id"] for r in listed.json["requests"]}
    # Auditors oversee every agency's requests.
    assert client.get(url, headers=bearer(auditor)).status_code == 200


def test_a_request_belongs_to_a_case_of_the_supervisors_own_agency(app, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    _, ours = user_with_token(settings, "supervisor", agency="Asset Recovery Office")
    _, theirs = user_with_token(settings, "supervisor", agency="Customs Fraud Unit")
    case = client.post("/api/v1/cases", headers=bearer(theirs), json={
        "reference": f"COOP-{START}-{id(client)}", "legal_basis": "fiu_analysis", "offence": "money_laundering"})
    assert case.status_code == 201, case.json
    own = client.post("/api/v1/cases", headers=bearer(ours), json={
        "reference": f"COOP-OWN-{id(client)}", "legal_basis": "fiu_analysis", "offence": "money_laundering"})
    # Another agency's case is answered exactly like a case that does not exist: ids cannot be probed.
    foreign = client.post("/api/v1/cooperation/requests", json=request_body(3, case_id=case.json["id"]),
                          headers=bearer(ours))
    missing = client.post("/api/v1/cooperation/requests", json=request_body(3, case_id=999_999_999),
                          headers=bearer(ours))
    assert (foreign.status_code, missing.status_code) == (422, 422)
    assert foreign.json["detail"].replace(str(case.json["id"]), "N") == missing.json["detail"].replace("999999999", "N")
    linked = client.post("/api/v1/cooperation/requests", json=request_body(3, case_id=own.json["id"]),
                         headers=bearer(ours))
    assert linked.status_code == 201, linked.json


def test_a_supervisor_of_no_agency_records_no_request(app, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    name = f"supervisor-noagency-{id(app)}"
    run(settings, "users", "create", name, "--role", "supervisor")
    token = run(settings, "tokens", "create", name).strip().splitlines()[-1]
    made = app.test_client().post("/api/v1/cooperation/requests", json=request_body(3), headers=bearer(token))
    assert made.status_code == 403 and "no agency" in made.json["detail"]
