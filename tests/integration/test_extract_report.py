"""What a bank is told about its extracts: the scorecard of each and of its book, every problem
of a rejected one said the right way, and what was read before it was turned down."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from loaders.pipeline import ExtractLoader
from registry.admin import add_institution
from registry.config import Settings
from registry.processing import process_uploads
from tests.e2e.world import form_token
from tests.integration.helpers import account, person, role, write_extract
from tests.integration.test_formats import DOCS, make_bundle

AS_OF = date(2026, 1, 1)


def new_bank(engine: Engine) -> tuple[str, str]:
    code = "RP" + uuid.uuid4().hex[:6].upper() + "XXX"
    return code, add_institution(engine, code, f"Report bank {code}")


def entity(ref: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"record": "entity", "id": ref, "name": name, "registration_number": f"HRB {ref}",
            "registration_country": "DE", **extra}


def ownership(owner: str, owned: str, share: float, **extra: Any) -> dict[str, Any]:
    return {"record": "ownership", "owner": owner, "owned": owned, "share": {"exact": share},
            "interests": ["shareholding"], "direct": True, **extra}


def upload(client: FlaskClient, key: str, path: Path) -> str:
    response = client.post("/api/v1/extracts", data=path.read_bytes(), headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/octet-stream"})
    assert response.status_code == 202, response.json
    return str(response.headers["Location"])


def get(client: FlaskClient, key: str, location: str) -> Any:
    return client.get(location, headers={"Authorization": f"Bearer {key}"})


def bank_page(client: FlaskClient, code: str, key: str, page: str) -> str:
    token = form_token(client.get("/bank/sign-in").get_data(as_text=True))
    signed = client.post("/bank/sign-in", data={"code": code, "key": key, "csrf_token": token})
    assert signed.status_code == 303
    return client.get(page).get_data(as_text=True)


def owned_book() -> list[dict[str, Any]]:
    """E1 is held 60 + 20 + 20 % directly, and P1 declares 10 % of it held through H1; E2 is
    held 70 + 40 %; P5's only link, to E3, ended in 2015."""
    return [
        entity("E1", "Eins GmbH"), entity("E2", "Zwei GmbH"), entity("E3", "Drei GmbH"),
        entity("H1", "Holding GmbH"),
        *[person(f"P{i}", f"Greta{i} Lorenz") for i in (1, 2, 3, 5)],
        ownership("H1", "E1", 60), ownership("P2", "E1", 20), ownership("P3", "E1", 20),
        ownership("P1", "E1", 10, direct=False),
        ownership("P1", "H1", 100),
        ownership("P2", "E2", 70), ownership("P3", "E2", 40),
        ownership("P5", "E3", 50, **{"from": "2010-01-01", "to": "2015-01-01"}),
    ]


def test_the_scorecard_counts_direct_holdings_and_current_links_only(
        client: FlaskClient, engine: Engine, tmp_path: Path) -> None:
    code, key = new_bank(engine)
    location = upload(client, key, write_extract(tmp_path / "x.jsonl", code, owned_book()))
    process_uploads(engine)
    answer = get(client, key, location).json
    assert answer["status"] == "applied", answer["errors"]
    card = answer["counts"]["scorecard"]
    # E2 only: E1's declared indirect 10 % is inside H1's 60 %, not on top of it.
    assert card["ownership_above_100_percent"] == 1
    # P5 and E3, whose only link has ended.
    assert card["parties_without_role"] == 2
    assert card["errors_by_kind"] == {}
    # The book as a whole, beside the list of extracts, and on the bank's page.
    listed = get(client, key, "/api/v1/extracts").json
    assert listed["book"] == {"extract_id": answer["id"], "as_of": "2026-01-01", "scorecard": card}
    page = bank_page(client, code, key, "/bank/extracts")
    assert "Data quality of your current book" in page and "owned directly more than 100 %" in page


def test_a_rejected_extract_shows_what_was_read_how_long_it_took_and_its_errors_by_kind(
        client: FlaskClient, engine: Engine, tmp_path: Path) -> None:
    code, key = new_bank(engine)
    records = [person("P1", "Jana Novakova"), account("A1", 1, currency="EURO"), role("A1", "P1"),
               role("A9", "P1")]
    location = upload(client, key, write_extract(tmp_path / "x.jsonl", code, records))
    process_uploads(engine)
    answer = get(client, key, location).json
    assert answer["status"] == "rejected"
    assert answer["counts"]["read"] == {"person": 1, "entity": 0, "account": 1, "role": 2,
                                        "ownership": 0}
    assert {"stage", "total"} <= set(answer["timings"])
    # The currency; A1 that failed over it; A9 that is nowhere.
    assert answer["counts"]["scorecard"] == {"errors_by_kind": {"invalid": 1, "reference": 2}}
    page = bank_page(client, code, key, location.replace("/api/v1", "/bank"))
    assert "Errors by kind" in page and "reference" in page
    assert answer["errors"]["by_kind"] == {"invalid": 1, "reference": 2}
    # No book yet: nothing of this bank's was ever applied.
    assert get(client, key, "/api/v1/extracts").json["book"] is None


def load(engine: Engine, path: Path) -> Any:
    result = ExtractLoader(engine).load(path)
    assert result.status == "rejected"
    return result.report


def messages(report: Any) -> dict[int | None, list[str]]:
    found: dict[int | None, list[str]] = {}
    for problem in report.problems:
        found.setdefault(problem.line, []).append(problem.message)
    return found


def test_a_reference_to_a_record_that_failed_says_so(engine: Engine, tmp_path: Path) -> None:
    code, _ = new_bank(engine)
    records = [person("P1", "Jana Novakova"), account("A1", 1, currency="EURO"), role("A1", "P1")]
    said = messages(load(engine, write_extract(tmp_path / "x.jsonl", code, records)))
    assert said[4] == ["refers to account 'A1', which failed validation on line 3"]


def test_a_duplicate_of_a_record_that_failed_is_reported(engine: Engine, tmp_path: Path) -> None:
    code, _ = new_bank(engine)
    records = [entity("X1", "Falsch AG", lei="529900T8BM49AURSDO56"), person("X1", "Jana Novakova")]
    said = messages(load(engine, write_extract(tmp_path / "x.jsonl", code, records)))
    assert "duplicate id, first seen on line 2" in said[3]


def test_an_owned_person_is_not_called_a_missing_entity(engine: Engine, tmp_path: Path) -> None:
    code, _ = new_bank(engine)
    records = [person("P1", "Jana Novakova"), entity("E1", "Eins GmbH"), ownership("E1", "P1", 50)]
    said = messages(load(engine, write_extract(tmp_path / "x.jsonl", code, records)))
    assert said[4] == ["names person 'P1' as owned: only an entity can be owned"]


def test_an_unreadable_line_is_not_also_a_count_error(engine: Engine, tmp_path: Path) -> None:
    code, _ = new_bank(engine)
    path = write_extract(tmp_path / "x.jsonl", code, [person("P1", "Jana Novakova"),
                                                      person("P2", "Petr Novak")])
    lines = path.read_bytes().splitlines()
    lines[2] = b'{"record": "person", "id": "P2", "full_name": "Petr \xff"}'
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = load(engine, path)
    assert report.by_kind == {"syntax": 1}
    # An extra unreadable line leaves the counts short by nothing: they are then wrong.
    path.write_bytes(b"\n".join([*lines, b"{not json"]) + b"\n")
    counts = [p.message for p in load(engine, path).problems if p.kind == "counts"]
    assert counts == ["header declares 2 person records but 1 were read, besides 2 line(s) that "
                      "could not be read"]


def test_a_banks_bods_file_follows_its_json_lines_extracts(engine: Engine, tmp_path: Path) -> None:
    code, _ = new_bank(engine)
    loader = ExtractLoader(engine)
    jsonl = tmp_path / "e.jsonl"
    jsonl.write_bytes((DOCS / "example.jsonl").read_bytes().replace(b"COBADEFFXXX", code.encode(), 1))
    assert loader.load(jsonl).status == "applied"
    # Its statements are of 2025-12-15 and 16, before the JSON Lines extract's as_of.
    result = loader.load(DOCS / "example-bods.json", institution_code=code)
    assert result.status == "applied", result.report and result.report.as_text()
    with engine.connect() as conn:
        as_of = conn.execute(text("SELECT as_of FROM extracts WHERE id = :i"),
                             {"i": result.extract_id}).scalar_one()
        starts = conn.execute(text(
            "SELECT min(valid_from) FROM parties WHERE extract_id = :i"), {"i": result.extract_id}).scalar_one()
    # Never back: what the file adds is the registry's from the last as_of on, not before it.
    assert as_of == AS_OF and starts == AS_OF


def test_a_bundles_report_names_files_and_rows(client: FlaskClient, engine: Engine, tmp_path: Path) -> None:
    code, key = new_bank(engine)
    accounts = (DOCS / "example-bundle" / "account.csv").read_bytes().replace(
        b"DE62370400440532013001", b"DE62370400440532013002")
    location = upload(client, key, make_bundle(tmp_path / "bad.zip", code, {"account.csv": accounts}))
    process_uploads(engine)
    report = get(client, key, location + "?format=text").get_data(as_text=True)
    assert "account.csv row 3 [A-2] iban:" in report
    assert "which failed validation on account.csv row 3" in report
    page = bank_page(client, code, key, location.replace("/api/v1", "/bank"))
    assert "<td>account.csv row 3</td>" in page


def test_registry_load_names_a_bundles_files_and_rows_too(engine: Engine, settings: Settings,
                                                          tmp_path: Path) -> None:
    from click.testing import CliRunner

    from registry.cli import main
    from tests.integration.test_slice import cli_env

    code, _ = new_bank(engine)
    accounts = (DOCS / "example-bundle" / "account.csv").read_bytes().replace(
        b"DE62370400440532013001", b"DE62370400440532013002")
    bundle = make_bundle(tmp_path / "bad.zip", code, {"account.csv": accounts})
    result = CliRunner().invoke(main, ["load", "--no-index", str(bundle)], env=cli_env(settings))
    assert result.exit_code == 1
    assert "account.csv row 3 [A-2] iban:" in result.output


def test_json_lines_may_start_with_a_byte_order_mark(engine: Engine, tmp_path: Path) -> None:
    code, _ = new_bank(engine)
    path = write_extract(tmp_path / "x.jsonl", code, [person("P1", "Jana Novakova")])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    result = ExtractLoader(engine).load(path)
    assert result.status == "applied", result.report and result.report.as_text()
