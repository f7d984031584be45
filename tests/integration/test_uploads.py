"""Banks upload through the API with their key; the worker applies; each sees only its own."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import Engine

from registry.admin import add_institution
from registry.config import Settings
from registry.processing import process_uploads
from tests.integration.helpers import account, person, role, write_extract


def new_bank(engine: Engine) -> tuple[str, str]:
    code = "UP" + uuid.uuid4().hex[:6].upper() + "XXX"
    return code, add_institution(engine, code, f"Upload bank {code}")


def upload(client, key: str, path: Path):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/extracts", data=path.read_bytes(),
                       headers={"Authorization": f"Bearer {key}", "Content-Type": "application/octet-stream"})


def book() -> list[dict]:  # type: ignore[type-arg]
    return [person("P1", "Jana Novakova", birth_date="1975-06-01"), account("A1", 1), role("A1", "P1"),
            person("P2", "Petr Novak")]


def test_upload_is_applied_by_the_worker_with_a_scorecard(client, engine: Engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, key = new_bank(engine)
    response = upload(client, key, write_extract(tmp_path / "x.jsonl", code, book()))
    assert response.status_code == 202, response.json
    assert response.json["status"] == "received"
    location = response.headers["Location"]
    process_uploads(engine)
    status = client.get(location, headers={"Authorization": f"Bearer {key}"})
    assert status.json["status"] == "applied"
    assert status.json["counts"]["parties"]["written"] == 2
    card = status.json["counts"]["scorecard"]
    # P2 holds nothing; both persons lack identifiers.
    assert card["parties_without_role"] == 1 and card["parties_without_identifiers"] == 2
    assert card["accounts_without_holder"] == 0
    assert set(status.json["timings"]) >= {"stage", "apply", "total"}


def test_an_institution_sees_only_its_own_extracts(client, engine: Engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, key = new_bank(engine)
    _, other_key = new_bank(engine)
    location = upload(client, key, write_extract(tmp_path / "x.jsonl", code, book())).headers["Location"]
    assert client.get(location, headers={"Authorization": f"Bearer {other_key}"}).status_code == 404
    listed = client.get("/api/v1/extracts", headers={"Authorization": f"Bearer {other_key}"}).json
    assert listed["extracts"] == []


def test_header_naming_another_institution_is_rejected(client, engine: Engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, key = new_bank(engine)
    victim, _ = new_bank(engine)
    location = upload(client, key, write_extract(tmp_path / "x.jsonl", victim, book())).headers["Location"]
    process_uploads(engine)
    status = client.get(location, headers={"Authorization": f"Bearer {key}"}).json
    assert status["status"] == "rejected"
    assert "belongs to" in status["errors"]["problems"][0]["message"]
    text = client.get(location + "?format=text", headers={"Authorization": f"Bearer {key}"})
    assert text.mimetype == "text/plain" and "line 1" in text.get_data(as_text=True)


def test_a_rejected_upload_reports_every_line(client, engine: Engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, key = new_bank(engine)
    records = book()
    records[0] = {**records[0], "birth_date": "1975-02-31"}
    records[1] = {**records[1], "currency": "EURO"}
    location = upload(client, key, write_extract(tmp_path / "x.jsonl", code, records)).headers["Location"]
    process_uploads(engine)
    errors = client.get(location, headers={"Authorization": f"Bearer {key}"}).json["errors"]
    assert {(p["line"], p["field"]) for p in errors["problems"]} >= {(2, "birth_date"), (3, "currency")}


def test_uploads_need_an_institution_key(client, engine: Engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert client.post("/api/v1/extracts", data=b"x").status_code == 401
    assert upload(client, "inst_not-a-real-key",
                  write_extract(tmp_path / "y.jsonl", "NOPEXXXX", [])).status_code == 401


def test_empty_and_oversized_bodies_are_refused(app, engine: Engine, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _, key = new_bank(engine)
    client = app.test_client()
    empty = client.post("/api/v1/extracts", data=b"", headers={"Authorization": f"Bearer {key}"})
    assert empty.status_code == 400
    limit = settings.max_upload_bytes
    app.extensions["registry"].settings = type(settings)(**{**settings.__dict__, "max_upload_bytes": 10})
    try:
        big = client.post("/api/v1/extracts", data=b"x" * 100, headers={"Authorization": f"Bearer {key}"})
    finally:
        app.extensions["registry"].settings = type(settings)(**{**settings.__dict__, "max_upload_bytes": limit})
    assert big.status_code == 413
    assert big.mimetype == "application/problem+json"
