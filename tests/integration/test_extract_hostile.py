"""Hostile uploads and delta mistakes against the real services: the worker survives what it
cannot load, a rejected extract changes nothing, deltas close only what was reported and take
their links with them (the review of the bank-extract loader, /tmp/review-load)."""

from __future__ import annotations

import gzip
import logging
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

import loaders.pipeline
from loaders.errors import INTERNAL_ERROR
from loaders.pipeline import ExtractLoader, LoadResult
from registry.admin import add_institution
from registry.extracts import ExtractService
from registry.processing import _lost_database, process_uploads
from registry.worker import run_worker
from tests.integration.helpers import account, person, role, write_extract


def new_bank(engine: Engine) -> tuple[str, str]:
    code = "HX" + uuid.uuid4().hex[:6].upper() + "XXX"
    return code, add_institution(engine, code, f"Hostile test bank {code}")


@pytest.fixture()
def bank(engine: Engine) -> str:
    return new_bank(engine)[0]


def upload(client, key: str, data: bytes, query: str = ""):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/extracts" + query, data=data,
                       headers={"Authorization": f"Bearer {key}",
                                "Content-Type": "application/octet-stream"})


def extract_row(engine: Engine, location: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(text("SELECT status, errors FROM extracts WHERE id = :i"),
                            {"i": int(location.rsplit("/", 1)[1])}).one()


def current(engine: Engine, code: str, table: str, columns: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            f"SELECT ref, {columns} FROM {table} t JOIN institutions i ON i.id = t.institution_id "
            "WHERE i.code = :c AND superseded_at IS NULL ORDER BY ref"), {"c": code})]


def versions(engine: Engine, code: str, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(
            f"SELECT count(*) FROM {table} t JOIN institutions i ON i.id = t.institution_id "
            "WHERE i.code = :c"), {"c": code}).scalar_one())


def problems(result: LoadResult) -> list[str]:
    assert result.report is not None, result.status
    return [f"{p.line} {p.field}: {p.message}" for p in result.report.problems]


# 1: one bad upload stopped the worker for every bank, for ever.
def test_an_extract_that_breaks_the_loader_is_rejected_and_the_worker_goes_on(
        client, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
        caplog: pytest.LogCaptureFixture) -> None:
    evil, evil_key = new_bank(engine)
    good, good_key = new_bank(engine)
    real_apply = loaders.pipeline.apply_staged

    def apply_then_fail(cursor: Any, institution_id: int, *args: Any) -> Any:
        counts = real_apply(cursor, institution_id, *args)
        if institution_id == evil_id:  # after writing: the partial work must roll back
            raise RuntimeError("a bug the loader did not foresee")
        return counts

    with engine.connect() as conn:
        evil_id = conn.execute(text("SELECT id FROM institutions WHERE code = :c"), {"c": evil}).scalar()
    monkeypatch.setattr(loaders.pipeline, "apply_staged", apply_then_fail)
    bad = upload(client, evil_key, write_extract(tmp_path / "bad.jsonl", evil,
                                                 [person("P1", "Jana Novakova")]).read_bytes())
    fine = upload(client, good_key, write_extract(tmp_path / "good.jsonl", good,
                                                  [person("P1", "Petr Novak")]).read_bytes())
    with caplog.at_level(logging.ERROR, logger="registry.worker"):
        process_uploads(engine)
    status, errors = extract_row(engine, bad.headers["Location"])
    assert status == "rejected"
    assert errors["problems"] == [{"line": None, "record_id": None, "field": None,
                                   "message": INTERNAL_ERROR, "kind": "internal"}]
    assert "Traceback" not in orjson.dumps(errors).decode()
    assert versions(engine, evil, "parties") == 0, "a rejected extract changes nothing"
    assert extract_row(engine, fine.headers["Location"])[0] == "applied"
    logged = [r for r in caplog.records if "internal error" in r.getMessage()]
    assert logged and logged[0].exc_info is not None, "the traceback stays in the server's log"


def test_the_worker_loop_survives_postgres_being_away(gateway, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    # Port 1 on loopback: nothing listens there, so every connection is refused at once.
    away = create_engine("postgresql+psycopg://registry@127.0.0.1:1/registry")
    try:
        with caplog.at_level(logging.WARNING, logger="registry.worker"):
            run_worker(away, gateway, once=True)
    finally:
        away.dispose()
    said = [r.getMessage() for r in caplog.records]
    assert any("processing uploads failed" in m for m in said)
    assert any("indexing postponed, Postgres unreachable" in m for m in said)


# 1a-c: the causes the reviewer found, each now an error of its line (or stored safely).
def test_what_crashed_the_loader_is_now_an_error_of_its_line(engine: Engine, bank: str,
                                                              tmp_path: Path) -> None:
    path = write_extract(tmp_path / "x.jsonl", bank, [
        person("P1", "Jana Novakova", birth_date="1980-03-14\n"),
        person("P" * 150, "Petr Novak"), account("A" * 150, 1), role("A" * 150, "P" * 150)],
        counts={"person": 2, "account": 1, "role": 1})
    path.write_bytes(path.read_bytes() + b'{"record": ["person"], "id": "X"}\n')
    result = ExtractLoader(engine).load(path)
    assert result.status == "rejected"
    found = problems(result)
    assert any(p.startswith("2 birth_date: expected YYYY") for p in found)
    assert any(p.startswith("5 None: its key account|party|role is 308") for p in found)
    assert any(p.startswith("6 record: unknown record type ['person']") for p in found)


def test_a_lei_with_spaces_is_stored_compact(engine: Engine, bank: str, tmp_path: Path) -> None:
    result = ExtractLoader(engine).load(write_extract(tmp_path / "x.jsonl", bank, [
        {"record": "entity", "id": "E1", "name": "Acme", "lei": "529900 t8bm 49au rsdo 55"}]))
    assert result.status == "applied", problems(result)
    assert current(engine, bank, "parties", "lei") == [("E1", "529900T8BM49AURSDO55")]


def test_a_bad_csv_number_is_rejected_through_the_worker(client, engine: Engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import zipfile

    code, key = new_bank(engine)
    header = orjson.dumps({"record": "header", "format": "registry-extract", "version": 1,
                           "institution": code, "kind": "full", "as_of": "2026-01-01",
                           "sequence": 1, "counts": {"ownership": 1}})
    path = tmp_path / "b.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("header.json", header)
        bundle.writestr("ownership.csv", b"owner,owned,share_exact\nP1,E1," + b"1" * 5000 + b"\n")
    location = upload(client, key, path.read_bytes()).headers["Location"]
    process_uploads(engine)
    status, errors = extract_row(engine, location)
    assert status == "rejected"
    assert "column share_exact" in errors["problems"][0]["message"]


# 2: a small file must not make a huge report.
def test_a_report_quotes_only_the_start_of_huge_values(engine: Engine, bank: str, tmp_path: Path) -> None:
    huge = "x" * 500_000
    path = write_extract(tmp_path / "x.jsonl", bank, [], counts={})
    path.write_bytes(path.read_bytes() + b"".join(
        orjson.dumps({"record": huge, "id": huge}) + b"\n" for _ in range(40)))
    result = ExtractLoader(engine).load(path)
    assert result.status == "rejected" and result.report is not None
    assert result.report.total == 40
    with engine.connect() as conn:
        size = conn.execute(text("SELECT pg_column_size(errors) FROM extracts WHERE id = :i"),
                            {"i": result.extract_id}).scalar_one()
    assert size < 50_000


# 3: gzip bombs.
def test_a_gzip_bomb_is_rejected(engine: Engine, bank: str, tmp_path: Path) -> None:
    header = write_extract(tmp_path / "h.jsonl", bank, [], counts={}).read_bytes()
    path = tmp_path / "bomb.jsonl.gz"
    path.write_bytes(gzip.compress(header + b"\n" * (40 << 20)))
    result = ExtractLoader(engine).load(path)
    assert result.status == "rejected"
    assert "expands more than 200:1" in problems(result)[0]


# 4: an unknown format crashed the upload and left its file behind.
def upload_files(app) -> set[Path]:  # type: ignore[no-untyped-def]
    folder = app.extensions["registry"].settings.upload_dir
    return set(folder.glob("*")) if folder.exists() else set()


@pytest.mark.parametrize("fmt", ["xxx", "x" * 30, "JSONL"])
def test_an_unknown_format_is_refused_before_anything_is_stored(
        app, client, engine: Engine, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    code, key = new_bank(engine)
    before = upload_files(app)
    response = upload(client, key, write_extract(tmp_path / "x.jsonl", code, []).read_bytes(),
                      f"?format={fmt}")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert "jsonl, csv-bundle, bods" in response.json["detail"]
    assert upload_files(app) == before


def test_a_known_format_is_accepted(client, engine: Engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, key = new_bank(engine)
    response = upload(client, key, write_extract(tmp_path / "x.jsonl", code, []).read_bytes(),
                      "?format=jsonl")
    assert response.status_code == 202 and response.json["format"] == "jsonl"
    process_uploads(engine)


def test_a_file_is_removed_when_its_extract_cannot_be_recorded(
        app, client, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    code, key = new_bank(engine)

    def fail(*_: Any) -> None:
        raise RuntimeError("the database said no")

    monkeypatch.setattr(ExtractService, "receive", fail)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    before = upload_files(app)
    response = upload(client, key, write_extract(tmp_path / "x.jsonl", code, []).read_bytes())
    assert response.status_code == 500
    assert upload_files(app) == before


# 5: deltas close only what was reported, refuse links to what is closed, and close links with
# what they hang on.
def full_book(engine: Engine, code: str, tmp_path: Path) -> ExtractLoader:
    loader = ExtractLoader(engine)
    result = loader.load(write_extract(tmp_path / "1.jsonl", code, [
        person("P1", "Jana Novakova"), person("P2", "Petr Novak"),
        {"record": "entity", "id": "E1", "name": "Novak s.r.o."},
        account("A1", 1), account("A2", 2), role("A1", "P1"), role("A2", "P2"),
        role("A1", "P2", "authorised_signatory"),
        {"record": "ownership", "owner": "P1", "owned": "E1", "share": {"exact": 60}},
        {"record": "ownership", "owner": "P2", "owned": "E1", "share": {"exact": 40}}]))
    assert result.status == "applied", problems(result)
    return loader


def delta(loader: ExtractLoader, tmp_path: Path, code: str, records: list[dict[str, Any]],
          sequence: int = 2, as_of: date = date(2026, 2, 1)) -> LoadResult:
    return loader.load(write_extract(tmp_path / f"{sequence}.jsonl", code, records,
                                     sequence=sequence, kind="delta", as_of=as_of))


def test_closing_what_was_never_reported_is_an_error_naming_it(engine: Engine, bank: str, tmp_path: Path) -> None:
    loader = full_book(engine, bank, tmp_path)
    result = delta(loader, tmp_path, bank, [
        {"record": "person", "op": "close", "id": "NO-SUCH-PERSON"},
        {"record": "account", "op": "close", "id": "NO-SUCH-ACCOUNT"},
        {"record": "role", "op": "close", "account": "A9", "party": "P9", "role": "holder"}])
    assert result.status == "rejected"
    tail = "which the institution has not reported: only what was reported can be closed"
    assert problems(result) == [f"2 op: closes party 'NO-SUCH-PERSON', {tail}",
                                f"3 op: closes account 'NO-SUCH-ACCOUNT', {tail}",
                                f"4 op: closes role 'A9|P9|holder', {tail}"]
    closed = delta(loader, tmp_path, bank, [{"record": "account", "op": "close", "id": "A2"}])
    assert closed.status == "applied"
    # The next delta closing it again, or its roles the first one closed with it, changes
    # nothing and is no error: banks send closes that way.
    again = delta(loader, tmp_path, bank, [{"record": "account", "op": "close", "id": "A2"}],
                  sequence=3, as_of=date(2026, 3, 1))
    assert again.status == "applied", problems(again)
    assert again.counts["accounts"]["closed"] == 0


def test_closing_a_party_closes_its_roles_and_ownerships_keeping_history(
        engine: Engine, bank: str, tmp_path: Path) -> None:
    loader = full_book(engine, bank, tmp_path)
    roles_before = versions(engine, bank, "account_roles")
    result = delta(loader, tmp_path, bank, [{"record": "person", "op": "close", "id": "P1"}])
    assert result.status == "applied", problems(result)
    assert result.counts["account_roles"]["closed"] == 1
    assert result.counts["ownership_interests"]["closed"] == 1
    ended = date(2026, 2, 1)
    assert current(engine, bank, "account_roles", "valid_to") == [
        ("A1|P1|holder", ended), ("A1|P2|authorised_signatory", None), ("A2|P2|holder", None)]
    assert current(engine, bank, "ownership_interests", "valid_to") == [
        ("P1|E1", ended), ("P2|E1", None)]
    # The open version was superseded, not overwritten.
    assert versions(engine, bank, "account_roles") == roles_before + 1


def test_closing_an_account_closes_its_roles(engine: Engine, bank: str, tmp_path: Path) -> None:
    loader = full_book(engine, bank, tmp_path)
    result = delta(loader, tmp_path, bank, [{"record": "account", "op": "close", "id": "A1"}])
    assert result.status == "applied", problems(result)
    ended = date(2026, 2, 1)
    assert current(engine, bank, "account_roles", "valid_to") == [
        ("A1|P1|holder", ended), ("A1|P2|authorised_signatory", ended), ("A2|P2|holder", None)]
    assert current(engine, bank, "parties", "valid_to") == [("E1", None), ("P1", None), ("P2", None)]


def test_an_account_sent_with_its_closing_date_closes_its_roles_that_day(
        engine: Engine, bank: str, tmp_path: Path) -> None:
    loader = full_book(engine, bank, tmp_path)
    result = delta(loader, tmp_path, bank, [account("A2", 2, closed_on="2026-01-20")])
    assert result.status == "applied", problems(result)
    assert ("A2|P2|holder", date(2026, 1, 20)) in current(engine, bank, "account_roles", "valid_to")


def test_a_new_link_to_something_closed_is_refused(engine: Engine, bank: str, tmp_path: Path) -> None:
    loader = full_book(engine, bank, tmp_path)
    assert delta(loader, tmp_path, bank, [{"record": "person", "op": "close", "id": "P1"}]).status == "applied"
    later = delta(loader, tmp_path, bank, [
        role("A2", "P1", "co_holder"),
        {"record": "ownership", "owner": "P1", "owned": "E1", "share": {"exact": 10}},
        {"record": "person", "op": "close", "id": "P2"}, role("A2", "P2", "co_holder"),
        {"record": "account", "op": "close", "id": "A2"}],
        sequence=3, as_of=date(2026, 3, 1))
    assert later.status == "rejected"
    refused = {(p.line, p.field) for p in later.report.problems}  # type: ignore[union-attr]
    assert refused == {(2, "party"), (3, "owner"), (5, "party"), (5, "account"), (2, "account")}
    assert all("which is closed" in p.message for p in later.report.problems)  # type: ignore[union-attr]


def test_an_ended_link_to_something_closed_is_history_and_accepted(
        engine: Engine, bank: str, tmp_path: Path) -> None:
    loader = full_book(engine, bank, tmp_path)
    assert delta(loader, tmp_path, bank, [{"record": "account", "op": "close", "id": "A1"}]).status == "applied"
    result = delta(loader, tmp_path, bank, [role("A1", "P1", "co_holder", to="2026-01-15")],
                   sequence=3, as_of=date(2026, 3, 1))
    assert result.status == "applied", problems(result)


# 6: an end in the future could never be closed again.
def test_an_end_after_as_of_is_refused(engine: Engine, bank: str, tmp_path: Path) -> None:
    result = ExtractLoader(engine).load(write_extract(tmp_path / "x.jsonl", bank, [
        person("P1", "Jana Novakova"), account("A1", 1, closed_on="2999-12-31"),
        role("A1", "P1", to="2026-06-01")]))
    assert result.status == "rejected"
    assert problems(result) == ["3 closed_on: 2999-12-31 is after the extract's as_of 2026-01-01",
                                "4 to: 2026-06-01 is after the extract's as_of 2026-01-01"]


# 7: ids holding the key separator collided.
def test_ids_holding_the_key_separator_are_refused(engine: Engine, bank: str, tmp_path: Path) -> None:
    result = ExtractLoader(engine).load(write_extract(tmp_path / "x.jsonl", bank, [
        person("P", "Jana Novakova"), person("B|P", "Petr Novak"), account("A|B", 1),
        account("A", 2), role("A|B", "P"), role("A", "B|P")]))
    assert result.status == "rejected"
    refused = [p.split(":")[0] for p in problems(result) if "may not contain '|'" in p]
    assert refused == ["3 id", "4 id", "6 account", "7 party"]
    assert not any("duplicate" in p for p in problems(result))


@pytest.mark.parametrize("error, lost", [
    (psycopg.OperationalError("server closed the connection unexpectedly"), True),
    (psycopg.errors.AdminShutdown("terminating connection due to administrator command"), True),
    (psycopg.errors.DeadlockDetected("deadlock detected"), True),
    (psycopg.errors.DiskFull("could not extend file"), False),
    (psycopg.InterfaceError("the connection is closed"), True),
    (psycopg.errors.ProgramLimitExceeded("total size of jsonb array elements exceeds the maximum"), False),
    (RuntimeError("a bug"), False),
])
def test_only_a_lost_database_is_left_for_the_next_poll(error: Exception, lost: bool) -> None:
    assert _lost_database(error) is lost


def test_an_extract_whose_database_went_away_is_loaded_again_not_rejected(
        client, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    code, key = new_bank(engine)
    real_apply = loaders.pipeline.apply_staged

    def apply_then_lose_the_connection(cursor: Any, *args: Any) -> Any:
        # The real Postgres ends this very connection mid-apply, as a restart would.
        real_apply(cursor, *args)
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")

    sent = upload(client, key, write_extract(tmp_path / "x.jsonl", code, [person("P1", "Eva Dvorak")]).read_bytes())
    monkeypatch.setattr(loaders.pipeline, "apply_staged", apply_then_lose_the_connection)
    with pytest.raises((psycopg.OperationalError, DBAPIError)):
        process_uploads(engine)
    assert extract_row(engine, sent.headers["Location"])[0] in ("received", "validating", "applying")
    monkeypatch.undo()
    process_uploads(engine)
    assert extract_row(engine, sent.headers["Location"])[0] == "applied"
