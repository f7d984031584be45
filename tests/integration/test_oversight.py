"""Auditors read, filter and export the query log, see activity per user, and get flags
raised automatically with their reasons; investigators cannot read any of it.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.config import Settings
from registry.oversight import EventFilter, OversightService, safe_cell
from tests.integration.helpers import account, person, role, write_extract
from tests.integration.institution_codes import new_bic
from tests.integration.test_access import bearer, last_event, marked_sensitive, unique, user_with_token
from tests.integration.test_slice import run

SUBJECT = "Ottoline Vasquez-Pryor"
PEP = "Zebulon Quartermaine"
OTHER = "Bartholomew Inchcape"


def search(client, token: str, case_id: int, name: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/search/persons", headers=bearer(token),
                           json={"case_id": case_id, "name": name})
    assert response.status_code == 200, response.json
    return response.json  # type: ignore[no-any-return]


def open_case(settings: Settings, assignee: str, *subjects: str) -> tuple[int, str]:
    reference = unique("OV")
    out = run(settings, "cases", "open", reference, "--legal-basis", "asset_recovery",
              "--offence", "illicit_enrichment", "--assign", assignee, *[f"--subject={s}" for s in subjects])
    return int(out.strip().splitlines()[-1]), reference


@pytest.fixture(scope="module")
def world(settings: Settings, app, engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    with marked_sensitive(settings, engine, SUBJECT, reason="agency_staff"):
        yield _world(settings, app, tmp_path_factory)


def _world(settings: Settings, app, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    client = app.test_client()
    bank = new_bic("OV")
    run(settings, "institutions", "add", bank, "--name", "Oversight Bank")
    records = [person("P1", SUBJECT, birth_date="1975-06-01"), account("A1", 1), role("A1", "P1"),
               person("P2", PEP, birth_date="1960-01-01", pep=True), account("A2", 2), role("A2", "P2")]
    run(settings, "load", str(write_extract(tmp_path_factory.mktemp("ov") / "1.jsonl", bank, records)))
    agency = unique("AGENCY")
    investigator, token = user_with_token(settings, "investigator", agency=agency)
    _, auditor = user_with_token(settings, "auditor")
    first, first_ref = open_case(settings, investigator, SUBJECT)
    second, second_ref = open_case(settings, investigator, OTHER)
    # Marked sensitive (by the fixture) and approved, since a sensitive name is searched only
    # with approval; the flag stands anyway. Approved, since a sensitive name is searched only with approval; the flag stands anyway.
    for reference in (first_ref, second_ref):
        run(settings, "cases", "approve", reference, SUBJECT, "--reason", "the case's subject")
    found = search(client, token, first, SUBJECT)
    search(client, token, first, PEP)
    search(client, token, second, SUBJECT)
    return {"investigator": investigator, "agency": agency, "auditor": auditor, "token": token,
            "first": first, "first_ref": first_ref, "second": second,
            "subject_id": found["results"][0]["id"]}


def events(client, world: dict[str, Any], **query: Any) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/audit/events", headers=bearer(world["auditor"]), query_string=query)
    assert response.status_code == 200, response.json
    return response.json["events"]  # type: ignore[no-any-return]


def test_events_filter_by_user_agency_case_date_name_and_identifier(client, world) -> None:  # type: ignore[no-untyped-def]
    mine = [e for e in events(client, world, user=world["investigator"]) if e["tag"] == "search:person:query"]
    assert len(mine) == 3 and {e["agency"] for e in mine} == {world["agency"]}
    assert len(events(client, world, agency=world["agency"], tag="search:*")) == 3
    assert {e["case_id"] for e in events(client, world, case_id=world["second"])} == {world["second"]}
    today = date.today().isoformat()
    assert len(events(client, world, user=world["investigator"], tag="search:*", **{"from": today, "to": today})) == 3
    assert events(client, world, user=world["investigator"], **{"to": "2000-01-01"}) == []
    by_name = events(client, world, name="vasquez-PRYOR", user=world["investigator"])
    assert len(by_name) == 2 and all(SUBJECT in e["parameters"]["name"] for e in by_name)
    by_id = events(client, world, identifier=world["subject_id"])
    assert {e["case_id"] for e in by_id} == {world["first"], world["second"]}


def test_every_read_of_the_log_is_itself_audited(client, engine, world) -> None:  # type: ignore[no-untyped-def]
    events(client, world, user=world["investigator"])
    event = last_event(engine, tag="audit:events:query")
    assert event["role"] == "auditor" and event["parameters"] == {"user": world["investigator"]}


def test_investigators_cannot_read_the_log(client, world) -> None:  # type: ignore[no-untyped-def]
    for path in ("/api/v1/audit/events", "/api/v1/audit/events.csv", "/api/v1/audit/flags"):
        assert client.get(path, headers=bearer(world["token"])).status_code == 403


def test_csv_export_cannot_smuggle_a_formula(client, engine, settings, world) -> None:  # type: ignore[no-untyped-def]
    evil = "=HYPERLINK(\"http://x.example\")" + uuid.uuid4().hex[:6]
    user_with_token(settings, "investigator", name=evil)
    response = client.get("/api/v1/audit/events.csv", headers=bearer(world["auditor"]),
                          query_string={"tag": "admin:*"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["X-Truncated"] == "false"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    created = [r for r in rows if r["parameters"].find(evil[:10]) >= 0 and r["tag"] == "admin:user:create"]
    assert created, "the user's creation is in the export"
    assert all(not r[c].startswith(("=", "+", "-", "@")) for r in rows for c in r)
    assert last_event(engine, tag="audit:events:export")["result_count"] == len(rows)


@pytest.mark.parametrize("value, shown", [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"),
                                          ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"),
                                          ("plain", "plain"), (-1, -1), (None, "")])
def test_safe_cell(value: Any, shown: Any) -> None:
    assert safe_cell(value) == shown


def test_activity_counts_each_users_searches_per_day(client, world) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/audit/activity", headers=bearer(world["auditor"]),
                          query_string={"user": world["investigator"]})
    assert response.status_code == 200
    (row,) = response.json["activity"]
    refused = events(client, world, user=world["investigator"], outcome="refused")
    assert (row["user"], row["searches"], row["refused"]) == (world["investigator"], 3, len(refused))
    assert row["day"] == datetime.now(UTC).date().isoformat()


def test_flags_explain_why_a_search_needs_a_look(client, world) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/audit/flags", headers=bearer(world["auditor"]),
                          query_string={"user": world["investigator"]})
    assert response.status_code == 200
    flags = response.json["flags"]
    kinds = {(f["kind"], f["case_id"]) for f in flags}
    assert ("not_subject", world["first"]) in kinds, "the PEP is not a subject of the first case"
    assert ("unrelated_cases", world["second"]) in kinds
    assert ("not_subject", world["second"]) in kinds
    sensitive = [f["explanation"] for f in flags if f["kind"] == "sensitive"]
    assert any("agency_staff" in s for s in sensitive)
    assert any("politically exposed" in s for s in sensitive)
    not_subject = next(f for f in flags if f["kind"] == "not_subject" and f["case_id"] == world["first"])
    assert PEP in not_subject["explanation"] and world["first_ref"] in not_subject["explanation"]


def test_volume_and_hours_flags(engine, world) -> None:  # type: ignore[no-untyped-def]
    hour = datetime.now(UTC).hour
    # A one-hour working day far from now: every search of this test is outside it.
    start = next(h for h in range(23) if min(abs(h - hour), 24 - abs(h - hour)) > 2)
    with Session(engine) as session:
        service = OversightService(session, "UTC", (start, start + 1), volume_floor=2)
        flags = service.flags(EventFilter(user=world["investigator"]))
    kinds = [f.kind for f in flags]
    assert kinds.count("outside_hours") == 3
    volume = [f for f in flags if f.kind == "volume"]
    assert len(volume) == 1 and "3 lookups" in volume[0].explanation
    assert "usual 0" in volume[0].explanation


def test_record_views_by_id_raise_flags_like_searches(client, engine, settings, world) -> None:  # type: ignore[no-untyped-def]
    """Paging through parties by number names nobody; it must still count and be flagged."""
    viewer, token = user_with_token(settings, "investigator")
    case_id, _ = open_case(settings, viewer)
    with engine.connect() as conn:
        pep_id = conn.execute(text("SELECT id FROM parties WHERE full_name = :n AND superseded_at IS NULL"),
                              {"n": PEP}).scalar_one()
    for _ in range(3):
        assert client.get(f"/api/v1/parties/{pep_id}", headers=bearer(token),
                          query_string={"case_id": case_id}).status_code == 200
    hour = datetime.now(UTC).hour
    start = next(h for h in range(23) if min(abs(h - hour), 24 - abs(h - hour)) > 2)
    with Session(engine) as session:
        service = OversightService(session, "UTC", (start, start + 1), volume_floor=1)
        kinds = [f.kind for f in service.flags(EventFilter(user=viewer))]
        (activity,) = service.activity(EventFilter(user=viewer))
    assert kinds.count("outside_hours") == 3 and kinds.count("volume") == 1
    assert kinds.count("sensitive") == 3  # each view showed a politically exposed person
    assert (activity["searches"], activity["views"]) == (0, 3)
