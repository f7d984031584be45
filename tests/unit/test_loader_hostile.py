"""Hostile and sloppy input to the loader's parsers and schemas, with no server: each must end
in a clear per-line error or a clean rejection, never a crash or a value the columns cannot
hold (the review of the bank-extract loader, /tmp/review-load)."""

from __future__ import annotations

import gzip
import json
import os
import zlib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from marshmallow import ValidationError

from loaders import reader
from loaders.bods import BodsSource, _latest_date
from loaders.csv_bundle import CellError, build_record
from loaders.errors import MAX_REPORTED, ErrorReport, ExtractRejected, Problem
from loaders.pipeline import read_header
from loaders.reader import raw_lines
from loaders.records import Header, date_problems, stage_records
from loaders.schemas import CLOSE_SCHEMA, HEADER_SCHEMA, RECORD_SCHEMAS
from loaders.sources import detect_format, open_source
from loaders.tables import Target

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
HEADER = {"record": "header", "format": "registry-extract", "version": 1,
          "institution": "COBADEFFXXX", "kind": "full", "as_of": "2026-01-01", "sequence": 1,
          "counts": {"person": 1}}


class Staged:
    """Stands in for the COPY stager: keeps what would be staged."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, int, str, str]] = []
        self.failures: list[tuple[int, str, str]] = []

    def write(self, target: Target, line: int, ref: str, record_hash: str | None, op: str,
              values: tuple[Any, ...]) -> None:
        self.rows.append((target.table, line, ref, op))

    def failed(self, line: int, record: str, ref: str) -> None:
        self.failures.append((line, record, ref))


def stage(tmp_path: Path, records: list[dict[str, Any]] | list[bytes],
          header: dict[str, Any] = HEADER) -> tuple[ErrorReport, Staged]:
    lines = [json.dumps(header).encode()]
    lines += [r if isinstance(r, bytes) else json.dumps(r).encode() for r in records]
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    source = open_source(path)
    report, out = ErrorReport(), Staged()
    stage_records(source, out, report, read_header(source))  # type: ignore[arg-type]
    return report, out


def messages(report: ErrorReport) -> list[str]:
    return [f"{p.line} {p.field}: {p.message}" for p in report.problems]


# 1a: a record type that is not a string crashed the worker (unhashable list).
@pytest.mark.parametrize("kind", [["person"], {"a": 1}, 7, None])
def test_a_record_type_that_is_not_a_string_is_an_error_of_its_line(tmp_path: Path, kind: Any) -> None:
    report, out = stage(tmp_path, [{"record": kind, "id": "X"}])
    assert out.rows == []
    [problem] = report.problems
    assert (problem.line, problem.field, problem.kind) == (2, "record", "record")
    assert problem.message.startswith("unknown record type")


# 1b: Python refuses int() of over 4,300 digits; the CSV reader let the ValueError out.
def test_a_csv_share_of_thousands_of_digits_is_an_error_of_its_cell() -> None:
    with pytest.raises(CellError, match="column share_exact: .* is not a percentage"):
        build_record("ownership", ["owner", "owned", "share_exact"], ["P1", "E1", "1" * 5000])
    assert build_record("ownership", ["owner", "owned", "share_exact"],
                        ["P1", "E1", "12.5"])["share"] == {"exact": 12.5}


# 1c: values that passed validation but overflowed their columns.
@pytest.mark.parametrize("sent", ["529900 T8BM 49AU RSDO 55", "529900t8bm49aursdo55",
                                  " 529900T8BM49AURSDO55 "])
def test_a_lei_is_stored_compact_and_upper_case(sent: str) -> None:
    entity = RECORD_SCHEMAS["entity"].load({"record": "entity", "id": "E1", "name": "Acme", "lei": sent})
    assert entity["lei"] == "529900T8BM49AURSDO55"


def test_a_role_whose_key_is_too_long_for_the_registry_is_an_error_of_its_line(tmp_path: Path) -> None:
    role = {"record": "role", "account": "A" * 150, "party": "P" * 150, "role": "holder"}
    report, out = stage(tmp_path, [role], {**HEADER, "counts": {"role": 1}})
    assert out.rows == []
    [problem] = report.problems
    assert problem.line == 2 and "account|party|role is 308 characters" in problem.message
    assert len(problem.record_id or "") <= 100


def test_a_close_whose_key_is_too_long_is_an_error_of_its_line(tmp_path: Path) -> None:
    close = {"record": "ownership", "op": "close", "owner": "O" * 150, "owned": "E" * 150}
    report, out = stage(tmp_path, [close], {**HEADER, "kind": "delta", "counts": {"ownership": 1}})
    assert out.rows == [] and "owner|owned is 301 characters" in report.problems[0].message


@pytest.mark.parametrize("birth", ["1980-03-14\n", "1980\n", "١٩٨٠", "1980-3-14", " 1980"])
def test_a_birth_date_is_ascii_digits_and_nothing_else(birth: str) -> None:
    with pytest.raises(ValidationError) as error:
        RECORD_SCHEMAS["person"].load({"record": "person", "id": "P1", "full_name": "A B",
                                       "birth_date": birth})
    assert "birth_date" in error.value.messages


@pytest.mark.parametrize("day", ["20260101", "2026-W01-1", "2026-01-01\n", "٢٠٢٦-٠١-٠١"])
def test_dates_are_yyyy_mm_dd_only(day: str) -> None:
    with pytest.raises(ValidationError):
        RECORD_SCHEMAS["account"].load({"record": "account", "id": "A1", "number": "1",
                                        "type": "current", "opened_on": day})


# 2: echoed values made a 310 KB upload's report 1.6 GB.
def test_a_problem_keeps_only_the_start_of_what_it_quotes() -> None:
    report = ErrorReport()
    report.add(Problem(1, "r" * 10**6, "f" * 10**6, "m" * 10**6))
    [problem] = report.problems
    assert len(problem.record_id or "") == 100 and problem.record_id.endswith("…")  # type: ignore[union-attr]
    assert len(problem.field or "") <= 200 and len(problem.message) <= 600


def test_huge_values_make_a_small_report(tmp_path: Path) -> None:
    huge = "x" * 200_000
    records: list[dict[str, Any]] = [{"record": huge, "id": huge} for _ in range(20)]
    records += [{"record": "person", "id": "P1", "full_name": "A B", huge: 1,
                 "nationalities": [huge]}]
    report, _ = stage(tmp_path, records)
    assert report.total == 22  # 20 record types, an unknown field, a nationality
    assert all("…" in p.message for p in report.problems[:20])
    assert len(json.dumps(report.as_json())) < 30_000


def test_a_full_report_stays_under_a_megabyte() -> None:
    report = ErrorReport()
    for line in range(5 * MAX_REPORTED):
        report.add(Problem(line, "r" * 10**4, "f" * 10**4, "m" * 10**4))
    assert len(json.dumps(report.as_json())) < 1024 * 1024


def test_a_header_with_huge_unknown_keys_is_rejected_with_a_short_message(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text(json.dumps({**HEADER, "k" * 10**6: 1}) + "\n")
    with pytest.raises(ExtractRejected) as error:
        read_header(open_source(path))
    assert len(error.value.report.problems[0].message) <= 600


# 3: gzip had no limit on what it expands to.
def gzip_of_blank_lines(path: Path, megabytes: int) -> Path:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(path, "wb") as out:
        out.write(packer.compress(json.dumps(HEADER).encode() + b"\n"))
        for _ in range(megabytes):
            out.write(packer.compress(b"\n" * (1 << 20)))
        out.write(packer.flush())
    return path


def test_a_gzip_bomb_is_rejected_while_it_is_read(tmp_path: Path) -> None:
    path = gzip_of_blank_lines(tmp_path / "bomb.jsonl.gz", 20)  # ~1000:1
    with pytest.raises(ExtractRejected, match="expands more than 200:1"):
        list(raw_lines(path))


def test_a_gzip_file_may_expand_no_further_than_the_limit(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.jsonl.gz"
    lines = [os.urandom(500).hex().encode() for _ in range(3000)]  # 3 MB, about 2:1
    path.write_bytes(gzip.compress(json.dumps(HEADER).encode() + b"\n" + b"\n".join(lines)))
    assert sum(1 for _ in raw_lines(path)) == 3001  # within the ratio: read whole
    monkeypatch.setattr(reader, "MAX_UNCOMPRESSED", 1_000_000)
    monkeypatch.setattr(reader, "RATIO_FLOOR", 1_000)
    with pytest.raises(ExtractRejected, match="expands to more than 1000000 bytes"):
        list(raw_lines(path))


def test_a_gzip_bods_file_is_held_to_the_same_limit(tmp_path: Path) -> None:
    path = tmp_path / "bomb.json.gz"
    path.write_bytes(gzip.compress(b"[" + b" " * (30 << 20) + b"]"))
    with pytest.raises(ExtractRejected, match="expands more than 200:1"):
        list(BodsSource(path, "COBADEFFXXX", 1).statements())


# 4 (minor): blank lines before a BODS array.
@pytest.mark.parametrize("before", [b"\n", b"\r\n\r\n", b" " * 100 + b"\n", b"\xef\xbb\xbf\n"])
def test_a_bods_array_after_blank_lines_is_bods(tmp_path: Path, before: bytes) -> None:
    path = tmp_path / "bods.json"
    path.write_bytes(before + (EXAMPLES / "example-bods.json").read_bytes())
    assert detect_format(path) == "bods"
    assert len(list(BodsSource(path, "COBADEFFXXX", 1).statements())) == 3


# 6: an end after as_of could never be closed by a later full extract.
@pytest.mark.parametrize(("kind", "record", "field"), [
    ("account", {"closed_on": date(2999, 12, 31)}, "closed_on"),
    ("role", {"to": date(2026, 1, 2)}, "to"),
    ("ownership", {"to": date(2027, 1, 1)}, "to"),
])
def test_an_end_after_as_of_is_a_date_problem(kind: str, record: dict[str, Any], field: str) -> None:
    problems = date_problems(kind, record, date(2026, 1, 1))
    assert problems == [(field, f"{record[field.rstrip('_')]} is after the extract's as_of 2026-01-01")]
    assert date_problems(kind, {field: date(2026, 1, 1)}, date(2026, 1, 1)) == []


def test_a_bods_end_date_counts_towards_its_as_of() -> None:
    statement = {"statementDate": "2024-01-01", "recordDetails": {
        "interests": [{"startDate": "2020-01-01", "endDate": "2024-03-01"}]}}
    assert _latest_date(statement) == "2024-03-01"


# 7: keys joined with "|" collided: role(A|B, P) and role(A, B|P).
@pytest.mark.parametrize(("kind", "record"), [
    ("person", {"id": "B|P", "full_name": "A B"}),
    ("account", {"id": "A|B", "number": "1", "type": "current"}),
    ("role", {"account": "A", "party": "B|P", "role": "holder"}),
    ("ownership", {"owner": "O|X", "owned": "E"}),
])
def test_an_id_may_not_hold_the_key_separator(kind: str, record: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match=r"may not contain '\|'"):
        RECORD_SCHEMAS[kind].load({"record": kind, **record})


def test_a_close_may_not_hold_the_key_separator() -> None:
    with pytest.raises(ValidationError):
        CLOSE_SCHEMA.load({"record": "role", "op": "close", "account": "A|B", "party": "P",
                           "role": "holder"})


# 8: lax validation.
@pytest.mark.parametrize(("field", "value"), [
    ("sequence", 2.9), ("sequence", "3"), ("sequence", True), ("version", 1.0), ("version", "1"),
    ("counts", {"person": 2.5}), ("counts", {"person": "3"}), ("sequence", 2.0),
])
def test_header_numbers_are_json_integers(field: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        HEADER_SCHEMA.load({**HEADER, field: value})


@pytest.mark.parametrize("value", [1, 0, "yes", "on", "true", "True", None])
def test_flags_are_json_booleans(value: Any) -> None:
    person = {"record": "person", "id": "P1", "full_name": "A B"}
    ownership = {"record": "ownership", "owner": "P1", "owned": "E1"}
    with pytest.raises(ValidationError):
        RECORD_SCHEMAS["person"].load({**person, "pep": value})
    with pytest.raises(ValidationError):
        RECORD_SCHEMAS["ownership"].load({**ownership, "share": {"min": 25, "min_exclusive": value}})
    if value is not None:  # an unknown directness is null
        with pytest.raises(ValidationError):
            RECORD_SCHEMAS["ownership"].load({**ownership, "direct": value})
    assert RECORD_SCHEMAS["person"].load({**person, "pep": True})["pep"] is True


@pytest.mark.parametrize(("cell", "value"), [("true", True), ("FALSE", False), (" True ", True)])
def test_csv_true_and_false_become_booleans_before_validation(cell: str, value: bool) -> None:
    record = build_record("person", ["id", "full_name", "pep"], ["P1", "A B", cell])
    assert RECORD_SCHEMAS["person"].load(record)["pep"] is value
    with pytest.raises(ValidationError):
        RECORD_SCHEMAS["person"].load(build_record("person", ["id", "full_name", "pep"],
                                                   ["P1", "A B", "yes"]))


@pytest.mark.parametrize(("kind", "record", "field"), [
    ("person", {"id": "   ", "full_name": "A B"}, "id"),
    ("person", {"id": "P1", "full_name": " \t "}, "full_name"),
    ("person", {"id": "P1", "full_name": "A B", "other_names": [" "]}, "other_names"),
    ("entity", {"id": "E1", "name": "  "}, "name"),
    ("account", {"id": "A1", "number": "   ", "type": "current"}, "number"),
    ("role", {"account": " ", "party": "P1", "role": "holder"}, "account"),
])
def test_blank_ids_names_and_numbers_are_refused(kind: str, record: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as error:
        RECORD_SCHEMAS[kind].load({"record": kind, **record})
    assert field in error.value.messages


def test_ids_and_names_lose_the_spaces_around_them() -> None:
    person = RECORD_SCHEMAS["person"].load({"record": "person", "id": " P1 ", "full_name": " A B "})
    assert (person["id"], person["full_name"]) == ("P1", "A B")
