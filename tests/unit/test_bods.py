"""BODS 0.4 files: validation against the official schema, mapping to canonical records,
the synthesised header, and bad bytes.

The examples and the schema are Open Ownership's, from the `data-standard` repository
(BODS 0.4, Apache 2.0), as laid out in shared/data/bods (see shared/data/README.md).
"""

from __future__ import annotations

import copy
import gzip
import json
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loaders import bods
from loaders.bods import BodsSource, statement_problem
from loaders.bods_mapping import country_code, total_share
from loaders.errors import ExtractRejected
from loaders.pipeline import read_header
from loaders.schemas import CLOSE_SCHEMA, RECORD_SCHEMAS
from loaders.sources import JsonLinesSource, open_source

ROOT = Path(__file__).resolve().parents[2]
SHARED_BODS = ROOT.parent / "shared" / "data" / "bods"
EXAMPLES = SHARED_BODS / "examples"
PACKAGED = ROOT / "loaders" / "json_schemas" / "bods"
CODE = "GBREGISTRY1"

# (persons, entities, ownerships) each example comes out as, closes included.
EXPECTED_COUNTS = {
    "bods-package-annotations.json": (0, 2, 1),
    "bods-package-entity-owning-entity.json": (0, 2, 1),
    "bods-package-fi-soe.json": (0, 4, 5),
    "bods-package-linking-annotations.json": (1, 1, 1),
    "bods-package.json": (1, 1, 1),
    # 2 persons and 2 relationships closed over the file's history: the relationships are kept
    # with their ends, and so are the closed persons they name.
    "fermcat.json": (3, 1, 3),
    "full-pep-declaration.json": (1, 1, 1),
    "indirect-ownership.json": (1, 2, 3),
    "joint-ownership.json": (2, 2, 3),
    "levent.json": (2, 1, 2),  # the anonymous beneficiary and its relationship are skipped
    "listed-company-exempt-from-disclosure.json": (0, 1, 0),  # unspecified owner: skipped
    # Person 1's relationship to A declares a direct and an indirect interest: two links.
    "mixed-direct-and-indirect-ownership.json": (1, 2, 4),
    "multiple-indirect-ownership.json": (1, 3, 5),
    "multiple-tax-residencies.json": (1, 1, 1),
    "mutilple-indirect-ownership-2.json": (1, 3, 5),
    "nomination.json": (2, 2, 4),
    "plc-entity-statement.json": (0, 1, 0),
    "simple-pep-declaration.json": (1, 1, 1),
    "tecido.json": (1, 2, 2),
}

Record = dict[str, Any]


def load(path: Path) -> list[Record]:
    source = BodsSource(path, CODE, 1)
    got = list(source.records())
    assert [error for _, _, error in got if error] == []
    return [record for _, record, _ in got if record is not None]


def edges(records: list[Record]) -> set[tuple[str, str, str | None, bool | None]]:
    """Ownership as (owner name, owned name, share, direct): the chains an investigator sees."""
    names = {r["id"]: r.get("full_name") or r.get("name") for r in records
             if r["record"] != "ownership" and r.get("op") != "close"}
    return {(names.get(r["owner"], r["owner"]), names.get(r["owned"], r["owned"]),
             json.dumps(r.get("share"), sort_keys=True) if r.get("share") else None, r.get("direct"))
            for r in records if r["record"] == "ownership" and r.get("op") != "close"}


def write(path: Path, statements: list[Any]) -> Path:
    path.write_text(json.dumps(statements))
    return path


def example(name: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = json.loads((EXAMPLES / name).read_text())
    return statements


def test_the_packaged_schema_is_the_official_one_unchanged() -> None:
    shared = sorted(p.relative_to(SHARED_BODS / "schema") for p in (SHARED_BODS / "schema").rglob("*")
                    if p.is_file())
    assert shared and all((PACKAGED / p).read_bytes() == (SHARED_BODS / "schema" / p).read_bytes()
                          for p in shared)
    assert (PACKAGED / "LICENSE").read_bytes() == (SHARED_BODS / "LICENSE").read_bytes()


def test_there_are_nineteen_examples() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.json")) == sorted(EXPECTED_COUNTS)


@pytest.mark.parametrize("name", sorted(EXPECTED_COUNTS))
def test_every_example_validates_and_converts(name: str) -> None:
    for statement in example(name):
        assert statement_problem(statement) is None
    records = load(EXAMPLES / name)
    counts = Counter(r["record"] for r in records)
    assert (counts["person"], counts["entity"], counts["ownership"]) == EXPECTED_COUNTS[name]
    for record in records:
        (CLOSE_SCHEMA if record.get("op") == "close" else RECORD_SCHEMAS[record["record"]]).load(record)
    header = read_header(BodsSource(EXAMPLES / name, CODE, 4))
    assert header.counts == dict(zip(("person", "entity", "ownership"), EXPECTED_COUNTS[name], strict=True))
    assert (header.institution, header.kind, header.sequence) == (CODE, "delta", 4)


@pytest.mark.parametrize("name, chains", [
    ("indirect-ownership.json", {("Company B", "Company A", '{"exact": 60}', True),
                                 ("Person 1", "Company B", None, None),
                                 ("Person 1", "Company A", '{"exact": 30}', False)}),
    ("joint-ownership.json", {("Joint shareholding", "CHRINON LTD", '{"exact": 100}', True),
                              ("Natalie Coleman", "Joint shareholding", '{"exact": 50}', True),
                              ("Roberto Lopez", "Joint shareholding", '{"exact": 50}', True)}),
    ("bods-package-fi-soe.json", {
        ("Suomen Kaasuverkko Oy", "Gasgrid Finland Oy", '{"exact": 76.5}', True),
        ("Valtiovarainministerio", "Suomen Kaasuverkko Oy", '{"exact": 100}', True),
        ("Valtiovarainministerio", "Gasgrid Finland Oy", '{"exact": 23.5}', True),
        ("Suomen tasavalta", "Valtiovarainministerio", None, True),
        ("Suomen tasavalta", "Gasgrid Finland Oy", '{"exact": 100}', False)}),
    # A direct and an indirect holding of the same owner stay two links: the indirect one is a
    # declared total through B (not multiplied again), the direct one a link like any other.
    # (Until this session they were added up into one "100 %, directness unknown" link.)
    ("mixed-direct-and-indirect-ownership.json", {
        ("Company B", "Company A", '{"exact": 50}', True), ("Person 1", "Company B", None, None),
        ("Person 1", "Company A", '{"exact": 50}', True),
        ("Person 1", "Company A", '{"exact": 50}', False)}),
    # "At least 75 % and less than 100 %": the exclusive bound is kept.
    ("bods-package-entity-owning-entity.json", {
        ("MVJ LIMITED", "JENEX LIMITED", '{"max": 100, "max_exclusive": true, "min": 75}', True)}),
    ("nomination.json", {("Silvia Teixeira Perez", "Perez-Rivero nomination", None, True),
                         ("Vanessa Rivero", "Perez-Rivero nomination", None, True),
                         ("Perez-Rivero nomination", "Los Corazones de Plata", None, True),
                         ("Silvia Teixeira Perez", "Los Corazones de Plata", None, False)}),
    ("levent.json", {("Andrew Anderson", "Levent Trust", None, True),
                     ("Bella Buxton", "Levent Trust", None, True)}),
])
def test_ownership_chains_come_out_right(name: str, chains: set[tuple[Any, ...]]) -> None:
    assert edges(load(EXAMPLES / name)) == chains


def by_id(records: list[Record]) -> dict[str, Record]:
    return {r.get("id") or f"{r['owner']}|{r['owned']}": r for r in records}


def test_person_fields() -> None:
    jennifer = by_id(load(EXAMPLES / "bods-package.json"))["10478c6cf6de"]
    assert jennifer == {
        "record": "person", "id": "10478c6cf6de", "full_name": "Jennifer Hewitson-Smith",
        "given_names": "Jennifer", "family_name": "Hewitson-Smith",
        "other_names": ["Jenny Hewitson-Smith"], "birth_date": "1978-07", "nationalities": ["GB"],
        "address": "76 York Road Bournemouth, BH81 3LO, United Kingdom", "identifiers": [],
        "pep": False}
    assert by_id(load(EXAMPLES / "simple-pep-declaration.json"))["c9ceb68d7241"]["pep"] is True
    patrick = by_id(load(EXAMPLES / "fermcat.json"))["per-41c0bb0cef246f7c"]
    assert patrick["identifiers"] == [{"scheme": "tax_id", "country": "IE", "value": "0691084DH"}]


def test_entity_identifiers_become_lei_and_registration() -> None:
    astrazeneca = load(EXAMPLES / "plc-entity-statement.json")[0]
    assert {k: astrazeneca.get(k) for k in ("lei", "registration_number", "registration_country",
                                            "incorporated_on")} == {
        "lei": "PY6ZZQWO2IZFZC3IOL08", "registration_number": "02723534",
        "registration_country": "GB", "incorporated_on": "1992-06-17"}
    fermcat = by_id(load(EXAMPLES / "fermcat.json"))["ent-93c75c87ab28f889"]
    assert (fermcat["registration_number"], fermcat["registration_country"]) == ("434151", "IE")
    tecido = by_id(load(EXAMPLES / "tecido.json"))["01B68D7633"]  # schemeName only, US-DE
    assert (tecido["registration_number"], tecido["registration_country"]) == ("758355", "US")
    trust = by_id(load(EXAMPLES / "levent.json"))["8e40d059"]
    assert trust["legal_form"] == "fiducie surete"


def test_the_latest_statement_of_a_record_counts_and_closed_records_close() -> None:
    records = by_id(load(EXAMPLES / "tecido.json"))
    assert records["033E84672B|01B68D7633"]["share"] == {"exact": 80}  # the 2023 update
    # Maria Esteves's relationship was closed on 2023-03-03 and gives no end of its own: it is
    # kept, ending that day (as_of after it excludes it, before it includes it), and so is she.
    assert records["018AF6B3EB|01B68D7633"] == {
        "record": "ownership", "owner": "018AF6B3EB", "owned": "01B68D7633",
        "interests": ["boardChair", "shareholding", "votingRights"], "share": {"exact": 30},
        "voting": {"exact": 30}, "direct": True, "from": "2022-09-21", "to": "2023-03-03"}
    assert records["018AF6B3EB"]["full_name"] == "Maria Esteves"
    source = BodsSource(EXAMPLES / "tecido.json", CODE, 1)
    list(source.records())
    assert source.plan().notes["statement replaced by a later one for its record"] == 6
    assert source.plan().notes["closed person kept for the ended interests that name it"] == 1


def test_closed_relationships_end_on_their_interests_end_dates() -> None:
    records = by_id(load(EXAMPLES / "fermcat.json"))
    riyadh, declan = records["per-5faa4103dee78621|ent-93c75c87ab28f889"], \
        records["per-e334cc6258e56467|ent-93c75c87ab28f889"]
    assert (riyadh["from"], riyadh["to"], riyadh["share"]) == ("2019-09-11", "2021-04-03", {"exact": 50})
    assert (declan["from"], declan["to"]) == ("2021-04-03", "2022-01-21")
    assert "to" not in records["per-41c0bb0cef246f7c|ent-93c75c87ab28f889"]
    assert all(r.get("op") != "close" for r in records.values())


def test_mixed_direct_and_indirect_interests_become_two_links() -> None:
    records = [r for r in load(EXAMPLES / "mixed-direct-and-indirect-ownership.json")
               if r["record"] == "ownership" and r["owner"] == "53508b65253f"
               and r["owned"] == "9bfe59b6a869"]
    assert sorted(records, key=lambda r: r["from"]) == [
        {"record": "ownership", "owner": "53508b65253f", "owned": "9bfe59b6a869",
         "interests": ["shareholding"], "share": {"exact": 50}, "direct": False, "from": "2017-11-01"},
        {"record": "ownership", "owner": "53508b65253f", "owned": "9bfe59b6a869",
         "interests": ["shareholding"], "share": {"exact": 50}, "direct": True, "from": "2019-05-01"}]


def test_unspecified_and_nameless_parties_are_skipped_and_counted() -> None:
    levent = BodsSource(EXAMPLES / "levent.json", CODE, 1)
    assert "81337a6e" not in by_id([r for _, r, _ in levent.records() if r])
    assert levent.plan().notes == {"person without a name": 1,
                                   "relationship with a party without a name": 1}
    listed = BodsSource(EXAMPLES / "listed-company-exempt-from-disclosure.json", CODE, 1)
    assert [r["record"] for _, r, _ in listed.records() if r] == ["entity"]
    assert listed.plan().notes == {"relationship with an unspecified party": 1}


def test_of_two_relationships_between_the_same_parties_the_open_one_wins(tmp_path: Path) -> None:
    statements = example("bods-package.json")
    closed = copy.deepcopy(statements[2])
    closed.update(statementId="f" * 32, recordId="old-relationship", recordStatus="closed",
                  statementDate="2020-03-05")
    records = load(write(tmp_path / "two.json", [*statements, closed]))
    ownership = [r for r in records if r["record"] == "ownership"]
    assert ownership == [by_id(load(EXAMPLES / "bods-package.json"))["10478c6cf6de|c359f58d2977"]]


def test_total_share() -> None:
    assert total_share([{"exact": 30}]) == {"exact": 30}
    assert total_share([{"exclusiveMinimum": 25, "exclusiveMaximum": 50}]) == {
        "min": 25, "min_exclusive": True, "max": 50, "max_exclusive": True}
    assert total_share([{"minimum": 25, "exclusiveMaximum": 50}, {"exclusiveMinimum": 10}]) == {
        "min": 35, "min_exclusive": True, "max": 100}
    assert total_share([{"minimum": 75}]) == {"min": 75}
    assert total_share([{"exact": 60}, {"minimum": 30, "maximum": 50}]) == {"min": 90, "max": 100}
    assert total_share([{"minimum": 10}, {"exact": 5}]) == {"min": 15, "max": 100}
    assert total_share([None, {}]) is None


def test_country_codes() -> None:
    assert [country_code(c) for c in ("GB", "irl", "XI", "US-DE", None, "ZZ")] == [
        "GB", "IE", None, None, None, None]


def test_header_as_of_is_the_latest_date_the_file_knows_but_not_after_today(tmp_path: Path) -> None:
    assert BodsSource(EXAMPLES / "fermcat.json", CODE, 1).header()[1]["as_of"] == "2022-01-21"
    # An interest that starts after the statement (as in this example) moves as_of with it.
    linking = BodsSource(EXAMPLES / "bods-package-linking-annotations.json", CODE, 1)
    assert linking.header()[1]["as_of"] == "2018-09-19"
    future = example("bods-package.json")
    future[0]["statementDate"] = (date.today() + timedelta(days=400)).isoformat()
    path = write(tmp_path / "future.json", future)
    assert BodsSource(path, CODE, 1).header()[1]["as_of"] == date.today().isoformat()
    forced = BodsSource(path, CODE, 1, as_of=date(2024, 5, 1))
    assert forced.header()[1]["as_of"] == "2024-05-01"


def test_json_lines_and_gzip_give_the_same_records(tmp_path: Path) -> None:
    statements = example("fermcat.json")
    lines = "\n".join(json.dumps(s) for s in statements) + "\n"
    (tmp_path / "f.jsonl").write_text(lines)
    (tmp_path / "f.jsonl.gz").write_bytes(gzip.compress(lines.encode()))
    (tmp_path / "f.json.gz").write_bytes(gzip.compress((EXAMPLES / "fermcat.json").read_bytes()))
    expected = load(EXAMPLES / "fermcat.json")
    for name in ("f.jsonl", "f.jsonl.gz", "f.json.gz"):
        source = open_source(tmp_path / name, institution=CODE, sequence=1)
        assert isinstance(source, BodsSource)
        assert [r for _, r, _ in source.records()] == expected, name
    positions = [p for p, _, _ in BodsSource(tmp_path / "f.jsonl", CODE, 1).records()]
    assert positions == [p for p, _, _ in BodsSource(EXAMPLES / "fermcat.json", CODE, 1).records()]


def test_json_lines_statements_are_errors_of_their_line(tmp_path: Path) -> None:
    statement = json.dumps(example("bods-package.json")[0])
    (tmp_path / "s.jsonl").write_text(f"{statement}\n[1, 2]\n\n{{oops\n{statement}\n")
    got = list(BodsSource(tmp_path / "s.jsonl", CODE, 1).records())
    assert [(p, e) for p, _, e in got] == [
        (2, "a statement must be a JSON object"), (4, got[1][2]), (5, None)]
    assert str(got[1][2]).startswith("not valid JSON")
    (tmp_path / "n.jsonl").write_text(statement.replace("Profitech Ltd", "Profitech\\u0000 Ltd") + "\n")
    [(_, record, error)] = BodsSource(tmp_path / "n.jsonl", CODE, 1).records()
    assert record is None and error is not None and "NUL" in error


def test_open_source_needs_an_institution_for_bods(tmp_path: Path) -> None:
    with pytest.raises(ExtractRejected, match="no registry header"):
        open_source(EXAMPLES / "bods-package.json")
    registry = tmp_path / "x.jsonl"
    registry.write_text('{"record": "header", "statementId": "looks like BODS"}\n')
    assert isinstance(open_source(registry, institution=CODE, sequence=1), JsonLinesSource)


def test_invalid_statements_are_errors_at_their_position(tmp_path: Path) -> None:
    statements = example("bods-package.json")
    statements[2]["recordDetails"]["interests"][0]["share"]["exact"] = 120
    del statements[1]["recordId"]
    source = BodsSource(write(tmp_path / "bad.json", statements), CODE, 1)
    got = {p: (r, e) for p, r, e in source.records()}
    assert got[1][0] is not None and got[1][1] is None
    assert got[2] == (None, "statement 019a93f1-e470-42e9-957b-03559861b2e2: statement: "
                            "'recordId' is a required property")
    assert got[3][1] == ("statement fbfd0547-d0c6-4a00-b559-5c5e91c34f5c: recordDetails.interests[0]"
                         ".share.exact: 120 is greater than the maximum of 100")
    # Invalid statements are not counted: the header stays consistent with what is read.
    assert source.header()[1]["counts"] == {"person": 0, "entity": 1, "ownership": 0}


def test_bad_dates_fail_the_schema() -> None:
    statement = example("bods-package.json")[0]
    statement["recordDetails"]["foundingDate"] = "2019-02-30"
    assert statement_problem(statement) == ("recordDetails.foundingDate: '2019-02-30' is not a "
                                            "'date'")
    # statementDate decides which statement counts, so date-times are checked too.
    for when in ("2019-09-11T11:17:23Z", "2019-09-11T11:17:23.5+02:00", "2019-09-11"):
        assert statement_problem({**example("bods-package.json")[0], "statementDate": when}) is None
    for when in ("yesterday", "2019-09-11T24:17:23Z", "2019-09-11 11:17"):
        assert statement_problem({**example("bods-package.json")[0], "statementDate": when})


@pytest.mark.parametrize("data, message", [
    (b'[{"a": 1} {"b": 2}]', "after statement 1: expected ',' or ']'"),
    (b'[{"a": "1"}, ', "the file ends before the array is closed, at statement 2"),
    (b'[{"a": "unterminated', "the file ends inside statement 1"),
    (b'[1, 2]', "statement 1 is not a JSON object"),
    (b'[{"a": 1}] [', "data after the end of the array"),
    (b'[{"a": "' + b"x" * (bods.MAX_STATEMENT_BYTES + 10) + b'"}]', "statement 1 is longer than"),
    (b'[{"a": "' + b"x" * (3 * bods.MAX_STATEMENT_BYTES), "statement 1 is longer than"),
])
def test_broken_arrays_are_rejected(tmp_path: Path, data: bytes, message: str) -> None:
    (tmp_path / "b.json").write_bytes(data)
    with pytest.raises(ExtractRejected) as caught:
        BodsSource(tmp_path / "b.json", CODE, 1).header()
    assert caught.value.report.problems[0].message.startswith(message)


def test_bad_statements_inside_a_sound_array_are_errors_of_their_own(tmp_path: Path) -> None:
    deep = b'{"x": ' * 20 + b"1" + b"}" * 20
    (tmp_path / "b.json").write_bytes(b"\xef\xbb\xbf [" + deep + b', {"a": 1,}, {"b": "\xff"}]')
    errors = [e for _, _, e in BodsSource(tmp_path / "b.json", CODE, 1).records()]
    assert errors[0] == f"nested deeper than {bods.MAX_DEPTH} levels"
    assert errors[1] is not None and errors[1].startswith("not valid JSON")
    assert errors[2] is not None and errors[2].startswith("not valid JSON")


def test_statements_cut_at_any_buffer_boundary_read_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = load(EXAMPLES / "tecido.json")
    for chunk in (1, 2, 7, 100):
        monkeypatch.setattr(bods, "CHUNK", chunk)
        assert load(EXAMPLES / "tecido.json") == expected


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_damaged_files_are_rejected_or_reported_never_crash(
        tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    raw = bytearray((EXAMPLES / data.draw(st.sampled_from(sorted(EXPECTED_COUNTS)))).read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.sampled_from(b'{}[]",:\\ 0\xff'))
    path = tmp_path_factory.mktemp("fuzz") / "b.json"
    path.write_bytes(bytes(raw[: data.draw(st.integers(1, len(raw)))]))
    source = BodsSource(path, CODE, 1)
    try:
        counts = source.header()[1]["counts"]
        read = Counter(r["record"] for _, r, _ in source.records() if r)
        assert all(read[kind] == counts[kind] for kind in counts)
    except ExtractRejected as rejected:
        assert rejected.report.problems[0].message
