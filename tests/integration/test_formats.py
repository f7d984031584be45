"""CSV bundles and BODS files through the real pipeline, into the real database.

The BODS examples are Open Ownership's (data-standard repository, BODS 0.4, Apache 2.0), as
laid out in shared/data/bods (see shared/data/README.md).
"""

from __future__ import annotations

import json
import uuid
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from loaders.csv_bundle import MEMBERS, describe_position
from loaders.pipeline import ExtractLoader
from registry.admin import add_institution
from tests.integration.test_extracts import snapshot
from tests.unit.test_bods import EXAMPLES as BODS_EXAMPLES
from tests.unit.test_bods import EXPECTED_COUNTS

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "examples"


def institution(engine: Engine, kind: str) -> str:
    code = ("CR" if kind == "company_register" else "TB") + uuid.uuid4().hex[:6].upper() + "XXX"
    add_institution(engine, code, f"Test {kind} {code}", kind)
    return code


@pytest.fixture()
def register(engine: Engine) -> str:
    return institution(engine, "company_register")


@pytest.fixture()
def bank(engine: Engine) -> str:
    return institution(engine, "bank")


def rows(engine: Engine, code: str, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            sql + " AND t.institution_id = (SELECT id FROM institutions WHERE code = :code)"),
            {"code": code})]


def current_ownership(engine: Engine, code: str) -> set[tuple[Any, ...]]:
    return set(rows(engine, code, "SELECT owner_ref, owned_ref, share_min, share_max, valid_to "
                                  "FROM ownership_interests t WHERE superseded_at IS NULL"))


@pytest.mark.parametrize("name", sorted(EXPECTED_COUNTS))
def test_every_bods_example_loads(engine: Engine, register: str, name: str) -> None:
    result = ExtractLoader(engine).load(BODS_EXAMPLES / name, institution_code=register)
    assert result.status == "applied", result.report and result.report.as_text()
    persons, entities, ownerships = EXPECTED_COUNTS[name]
    assert result.counts["read"] == {"person": persons, "entity": entities, "account": 0,
                                     "role": 0, "ownership": ownerships}


def test_a_bods_file_is_the_uploaders_next_delta(engine: Engine, register: str, tmp_path: Path) -> None:
    loader = ExtractLoader(engine)
    first = loader.load(BODS_EXAMPLES / "bods-package.json", uploader=register)
    assert first.status == "applied", first.report and first.report.as_text()
    assert current_ownership(engine, register) == {("10478c6cf6de", "c359f58d2977", 100, 100, None)}
    assert loader.load(BODS_EXAMPLES / "bods-package.json", uploader=register).status == "duplicate"

    # The register later publishes that the relationship ended.
    statements = json.loads((BODS_EXAMPLES / "bods-package.json").read_text())
    ended = dict(statements[2], statementId="a" * 32, statementDate="2021-05-01",
                 recordStatus="closed")
    second = loader.load(write(tmp_path / "closed.json", [ended]), uploader=register)
    assert second.status == "applied", second.report and second.report.as_text()
    # The end is a fact with its own date (the statement's), kept as a new version of the link.
    assert second.counts["ownership_interests"] == {"written": 1, "closed": 0}
    assert current_ownership(engine, register) == {
        ("10478c6cf6de", "c359f58d2977", 100, 100, date(2021, 5, 1))}
    with engine.connect() as conn:
        extracts = conn.execute(text(
            "SELECT e.sequence, e.kind, e.as_of FROM extracts e JOIN institutions i ON i.id = "
            "e.institution_id WHERE i.code = :c AND e.status = 'applied' ORDER BY e.sequence"),
            {"c": register}).all()
    assert [tuple(e) for e in extracts] == [(1, "delta", date(2020, 3, 4)), (2, "delta", date(2021, 5, 1))]


def write(path: Path, statements: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(statements))
    return path


def test_bods_history_in_one_file_leaves_the_state_it_ends_in(engine: Engine, register: str) -> None:
    result = ExtractLoader(engine).load(BODS_EXAMPLES / "fermcat.json", institution_code=register)
    assert result.status == "applied", result.report and result.report.as_text()
    # Riyadh and Declan left before the file's last statement. Their links are kept with the
    # end dates the statements give, so an as_of before those dates still shows them; only
    # Patrick's 100 % is open now.
    assert current_ownership(engine, register) == {
        ("per-41c0bb0cef246f7c", "ent-93c75c87ab28f889", 100, 100, None),
        ("per-5faa4103dee78621", "ent-93c75c87ab28f889", 50, 50, date(2021, 4, 3)),
        ("per-e334cc6258e56467", "ent-93c75c87ab28f889", 50, 50, date(2022, 1, 21))}
    names = rows(engine, register, "SELECT full_name, valid_to IS NULL FROM parties t "
                                   "WHERE superseded_at IS NULL")
    # The people their ended links name are kept too, so those links have parties to name.
    # A party record has no end date of its own in the extract format, so they stay open;
    # their links carry the ends (a known limit, docs/formats.md).
    assert sorted(names) == [("Declan Byrne-Amin", True), ("Fermcat Ltd", True),
                             ("Patrick O'Donohue", True), ("Riyadh Byrne-Amin", True)]


def test_bods_without_an_institution_is_rejected_clearly(engine: Engine) -> None:
    result = ExtractLoader(engine).load(BODS_EXAMPLES / "bods-package.json")
    assert result.status == "rejected" and result.report is not None
    assert "no registry header" in result.report.as_text()


def test_invalid_bods_is_rejected_whole_with_the_statement_named(
        engine: Engine, register: str, tmp_path: Path) -> None:
    statements = json.loads((BODS_EXAMPLES / "bods-package.json").read_text())
    statements[1]["recordDetails"]["birthDate"] = "78-07"
    result = ExtractLoader(engine).load(write(tmp_path / "bad.json", statements),
                                        institution_code=register)
    assert result.status == "rejected" and result.report is not None
    [problem] = [p for p in result.report.problems if p.kind == "syntax"]
    assert problem.line == 2 and "019a93f1-e470-42e9-957b-03559861b2e2" in problem.message
    assert "recordDetails.birthDate" in problem.message
    assert snapshot(engine, register) == {"parties": 0, "accounts": 0, "account_roles": 0,
                                          "ownership_interests": 0}


def make_bundle(path: Path, code: str, replace: dict[str, bytes] | None = None) -> Path:
    folder = DOCS / "example-bundle"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in MEMBERS:
            data = (replace or {}).get(name) or (folder / name).read_bytes()
            archive.writestr(name, data.replace(b"COBADEFFXXX", code.encode())
                             if name == "header.json" else data)
    return path


def test_the_example_bundle_and_jsonl_load_the_same_book(engine: Engine, tmp_path: Path) -> None:
    loader = ExtractLoader(engine)
    via_csv, via_jsonl = institution(engine, "bank"), institution(engine, "bank")
    csv_result = loader.load(make_bundle(tmp_path / "b.zip", via_csv))
    assert csv_result.status == "applied", csv_result.report and csv_result.report.as_text()
    jsonl = tmp_path / "e.jsonl"
    jsonl.write_bytes((DOCS / "example.jsonl").read_bytes().replace(b"COBADEFFXXX", via_jsonl.encode(), 1))
    assert loader.load(jsonl).status == "applied"
    assert snapshot(engine, via_csv) == snapshot(engine, via_jsonl) == {
        "parties": 3, "accounts": 2, "account_roles": 3, "ownership_interests": 1}
    query = ("SELECT ref, full_name, nationalities, identifiers, pep, record_hash FROM parties t "
             "WHERE superseded_at IS NULL")
    assert sorted(rows(engine, via_csv, query)) == sorted(rows(engine, via_jsonl, query))


def test_a_bad_bundle_is_rejected_with_file_and_row(engine: Engine, bank: str, tmp_path: Path) -> None:
    accounts = (DOCS / "example-bundle" / "account.csv").read_bytes().replace(
        b"DE62370400440532013001", b"DE62370400440532013002")
    persons = (DOCS / "example-bundle" / "person.csv").read_bytes() + b"C-1003,\xff,,X,,,,,,,,\n"
    path = make_bundle(tmp_path / "bad.zip", bank, {"account.csv": accounts, "person.csv": persons})
    result = ExtractLoader(engine).load(path)
    assert result.status == "rejected" and result.report is not None
    iban = next(p for p in result.report.problems if p.field == "iban")
    assert (describe_position(iban.line or 0), iban.record_id) == ("account.csv row 3", "A-2")
    syntax = next(p for p in result.report.problems if p.kind == "syntax")
    assert syntax.message == "person.csv row 4, column given_names: not UTF-8"
    assert describe_position(syntax.line or 0) == "person.csv row 4"
    assert snapshot(engine, bank)["parties"] == 0


def test_formulas_in_cells_are_stored_as_text(engine: Engine, bank: str, tmp_path: Path) -> None:
    persons = (DOCS / "example-bundle" / "person.csv").read_text().replace(
        "Jörg Schmidt,", '"=HYPERLINK(""http://x.example"",""Jörg"")",').encode()
    result = ExtractLoader(engine).load(make_bundle(tmp_path / "f.zip", bank, {"person.csv": persons}))
    assert result.status == "applied", result.report and result.report.as_text()
    [(name,)] = rows(engine, bank, "SELECT full_name FROM parties t WHERE ref = 'C-1002'")
    assert name == '=HYPERLINK("http://x.example","Jörg")'


def test_a_zip_bomb_is_rejected_before_anything_is_read(engine: Engine, bank: str, tmp_path: Path) -> None:
    bomb = b"id,full_name\n" + b"0" * (16 * 1024 * 1024)
    path = make_bundle(tmp_path / "bomb.zip", bank, {"person.csv": bomb})
    result = ExtractLoader(engine).load(path)
    assert result.status == "rejected" and result.report is not None
    assert "expands more than 200:1" in result.report.as_text()


def test_a_nul_character_in_json_text_is_an_error_of_its_line(
        engine: Engine, bank: str, register: str, tmp_path: Path) -> None:
    # Postgres text cannot hold NUL: caught when read, it is a line's error, not a failed COPY.
    jsonl = tmp_path / "nul.jsonl"
    jsonl.write_bytes((DOCS / "example.jsonl").read_bytes().replace(b"COBADEFFXXX", bank.encode(), 1)
                      .replace(b'"birth_place": "K', b'"birth_place": "\\u0000K'))
    result = ExtractLoader(engine).load(jsonl)
    assert result.status == "rejected" and result.report is not None
    [problem] = [p for p in result.report.problems if p.kind == "syntax"]
    assert problem.line == 2 and "NUL" in problem.message
    statements = json.loads((BODS_EXAMPLES / "bods-package.json").read_text())
    statements[0]["recordDetails"]["name"] = "Profitech\u0000 Ltd"
    bods = ExtractLoader(engine).load(write(tmp_path / "nul.json", statements), institution_code=register)
    assert bods.status == "rejected" and bods.report is not None
    assert [(p.line, "NUL" in p.message) for p in bods.report.problems if p.kind == "syntax"] == [(1, True)]
