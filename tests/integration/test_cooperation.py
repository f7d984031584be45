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
