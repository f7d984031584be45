"""Loading extracts: validation, rejection that changes nothing, history, sequences."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from loaders.pipeline import ExtractLoader
from registry.admin import add_institution, load_one
from tests.integration.helpers import account, person, role, write_extract


@pytest.fixture()
def bank(engine: Engine) -> str:
    # A BIC-shaped code of this test's own, so tests never share an institution.
    code = "TB" + uuid.uuid4().hex[:6].upper() + "XXX"
    add_institution(engine, code, f"Test bank {code}")
    return code


def snapshot(engine: Engine, code: str) -> dict[str, int]:
    with engine.connect() as conn:
        return {table: conn.execute(text(
            f"SELECT count(*) FROM {table} t JOIN institutions i ON i.id = t.institution_id "
            "WHERE i.code = :code"), {"code": code}).scalar_one()
            for table in ("parties", "accounts", "account_roles", "ownership_interests")}


def book(n: int = 3) -> list[dict]:  # type: ignore[type-arg]
    records: list[dict] = []  # type: ignore[type-arg]
    for i in range(n):
        records += [person(f"P{i}", f"Anna{i} Schmidt", birth_date="1980-03-14", nationalities=["DE"]),
                    account(f"A{i}", i), role(f"A{i}", f"P{i}")]
    return records


def test_full_extract_applies_then_a_change_keeps_history(engine: Engine, bank: str, tmp_path: Path) -> None:
    loader = ExtractLoader(engine)
    first = loader.load(write_extract(tmp_path / "1.jsonl", bank, book()))
    assert first.status == "applied", first.report and first.report.as_text()
    assert first.counts["parties"]["written"] == 3

    changed = book()
    changed[0] = person("P0", "Anna0 Schmidt-Weber", birth_date="1980-03-14", nationalities=["DE"])
    del changed[6:9]  # P2, A2 and its role are gone from the book
    second = loader.load(write_extract(tmp_path / "2.jsonl", bank, changed, sequence=2,
                                       as_of=date(2026, 2, 1)))
    assert second.status == "applied"
    assert second.counts["parties"] == {"written": 1, "closed": 1}
    with engine.connect() as conn:
        versions = conn.execute(text(
            "SELECT full_name, superseded_at IS NULL AS current FROM parties p JOIN institutions i "
            "ON i.id = p.institution_id WHERE i.code = :c AND ref = 'P0' ORDER BY p.id"), {"c": bank}).all()
        closed = conn.execute(text(
            "SELECT valid_to FROM parties p JOIN institutions i ON i.id = p.institution_id "
            "WHERE i.code = :c AND ref = 'P2' AND superseded_at IS NULL"), {"c": bank}).scalar_one()
    assert [tuple(v) for v in versions] == [("Anna0 Schmidt", False), ("Anna0 Schmidt-Weber", True)]
    assert closed == date(2026, 2, 1)


def test_a_bad_extract_is_rejected_whole_with_every_problem(engine: Engine, bank: str, tmp_path: Path) -> None:
    records = book()
    records[1] = {**records[1], "iban": "DE00000000000000000000"}
    records.append(role("A9", "P0"))  # refers to an account nobody reported
    records.append(person("P1", "Duplicate Person"))
    path = write_extract(tmp_path / "bad.jsonl", bank, records,
                         counts={"person": 9, "account": 3, "role": 4})
    result = ExtractLoader(engine).load(path)
    assert result.status == "rejected"
    assert result.report is not None
    kinds = result.report.by_kind
    assert kinds["invalid"] >= 1 and kinds["duplicate"] == 1
    # A9 was never reported; A0 was, but its IBAN failed, so its role cannot resolve either.
    missing = sorted(p.message.split("'")[1] for p in result.report.problems if p.kind == "reference")
    assert missing == ["A0", "A9"]
    assert kinds["counts"] == 1
    iban = next(p for p in result.report.problems if p.field == "iban")
    assert iban.line == 3 and iban.record_id == "A0"
    assert snapshot(engine, bank) == {"parties": 0, "accounts": 0, "account_roles": 0,
                                      "ownership_interests": 0}


def test_sequence_gaps_and_resends(engine: Engine, bank: str, tmp_path: Path) -> None:
    loader = ExtractLoader(engine)
    path = write_extract(tmp_path / "1.jsonl", bank, book())
    assert loader.load(path).status == "applied"
    before = snapshot(engine, bank)
    assert loader.load(path).status == "duplicate"
    assert snapshot(engine, bank) == before
    gap = loader.load(write_extract(tmp_path / "3.jsonl", bank, book(), sequence=3))
    assert gap.status == "rejected"
    assert gap.report is not None and "sequence 2 expected" in gap.report.as_text()
    older = loader.load(write_extract(tmp_path / "2.jsonl", bank, book(), sequence=2, as_of=date(2025, 12, 1)))
    assert older.status == "rejected" and older.report is not None
    assert "sequence 2 is expected as of 2026-01-01 or later" in older.report.as_text()
    assert snapshot(engine, bank) == before


def test_delta_closes_what_it_names(engine: Engine, bank: str, tmp_path: Path) -> None:
    loader = ExtractLoader(engine)
    loader.load(write_extract(tmp_path / "1.jsonl", bank, book()))
    delta = [{"record": "account", "id": "A1", "op": "close"},
             person("P7", "Neue Kundin", birth_date="1999")]
    result = loader.load(write_extract(tmp_path / "2.jsonl", bank, delta, sequence=2, kind="delta",
                                       as_of=date(2026, 3, 1)))
    assert result.status == "applied", result.report and result.report.as_text()
    assert result.counts["accounts"] == {"written": 0, "closed": 1}
    assert result.counts["parties"] == {"written": 1, "closed": 0}
    with engine.connect() as conn:
        closed_on = conn.execute(text(
            "SELECT closed_on FROM accounts a JOIN institutions i ON i.id = a.institution_id "
            "WHERE i.code = :c AND ref = 'A1' AND superseded_at IS NULL"), {"c": bank}).scalar_one()
    assert closed_on == date(2026, 3, 1)


def test_the_load_progress_bar_counts_towards_the_header_total(engine: Engine, bank: str, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    records = book()
    result = load_one(ExtractLoader(engine), write_extract(tmp_path / "1.jsonl", bank, records))
    assert result.status == "applied"
    assert f"/{len(records)}" in capsys.readouterr().err  # "0/12", not a bare counter
