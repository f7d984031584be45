"""Reading and validating extract records, with no server."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from loaders.errors import ErrorReport, ExtractRejected, Problem
from loaders.pipeline import read_header
from loaders.reader import MAX_DEPTH, parse_line, raw_lines
from loaders.records import date_problems, record_hash
from loaders.sources import open_source
from loaders.schemas import RECORD_SCHEMAS, Country

HEADER = (b'{"record":"header","format":"registry-extract","version":1,"institution":"COBADEFFXXX",'
          b'"kind":"full","as_of":"2026-01-01","sequence":1,"counts":{"person":0}}\n')


def test_header_is_read_from_plain_and_gzip(tmp_path: Path) -> None:
    plain = tmp_path / "a.jsonl"
    plain.write_bytes(HEADER)
    packed = tmp_path / "a.jsonl.gz"
    packed.write_bytes(gzip.compress(HEADER))
    assert read_header(open_source(plain)) == read_header(open_source(packed))
    assert read_header(open_source(plain)).institution == "COBADEFFXXX"


def test_truncated_gzip_is_a_clear_rejection(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl.gz"
    path.write_bytes(gzip.compress(HEADER * 200)[:-30])
    with pytest.raises(ExtractRejected, match="truncated or corrupt"):
        list(raw_lines(path))


def test_empty_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_bytes(b"\n\n")
    with pytest.raises(ExtractRejected, match="empty"):
        list(raw_lines(path))


@pytest.mark.parametrize("line, message", [
    (b"\xff\xfe{}", "not UTF-8"),
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "one JSON object"),
    (b'{"a":' * (MAX_DEPTH + 2) + b"1" + b"}" * (MAX_DEPTH + 2), "nested deeper"),
])
def test_bad_lines_say_why(line: bytes, message: str) -> None:
    value, error = parse_line(line)
    assert value is None and error is not None and message in error


@given(st.binary(max_size=200))
def test_parse_line_never_raises(data: bytes) -> None:
    value, error = parse_line(data)
    assert (value is None) != (error is None)


def test_person_validation_names_each_bad_field() -> None:
    with pytest.raises(ValidationError) as caught:
        RECORD_SCHEMAS["person"].load({"record": "person", "id": "p1", "full_name": "A B",
                                       "nationalities": ["ZZ"], "birth_date": "1980-13",
                                       "shoe_size": 42})
    assert set(caught.value.messages) == {"nationalities", "birth_date", "shoe_size"}


def test_account_needs_valid_iban_and_ordered_dates() -> None:
    schema = RECORD_SCHEMAS["account"]
    good = schema.load({"record": "account", "id": "a1", "iban": "DE89 3704 0044 0532 0130 00",
                        "type": "current", "opened_on": "2020-01-01"})
    assert good["iban"] == "DE89370400440532013000"
    with pytest.raises(ValidationError) as caught:
        schema.load({"record": "account", "id": "a1", "iban": "DE89370400440532013001", "type": "current",
                     "opened_on": "2020-01-01", "closed_on": "2019-01-01"})
    assert "iban" in caught.value.messages


def test_share_ranges_are_checked() -> None:
    schema = RECORD_SCHEMAS["ownership"]
    with pytest.raises(ValidationError):
        schema.load({"record": "ownership", "owner": "p1", "owned": "e1", "share": {"min": 60, "max": 40}})
    with pytest.raises(ValidationError):
        schema.load({"record": "ownership", "owner": "p1", "owned": "e1", "share": {"exact": 101}})
    loaded = schema.load({"record": "ownership", "owner": "p1", "owned": "e1", "share": {"min": 25, "max": 50}})
    assert loaded["share"] == {"min": 25, "max": 50}


def test_future_openings_and_odd_birth_years_are_problems() -> None:
    as_of = date(2026, 1, 1)
    assert date_problems("account", {"opened_on": date(2027, 1, 1)}, as_of)[0][0] == "opened_on"
    assert date_problems("person", {"birth_date": "1850"}, as_of)[0][0] == "birth_date"
    assert date_problems("person", {"birth_date": "1970-02"}, as_of) == []


def test_record_hash_ignores_key_order_and_op() -> None:
    a = {"record": "person", "id": "1", "full_name": "A B"}
    b = {"full_name": "A B", "id": "1", "record": "person", "op": "upsert"}
    assert record_hash(a) == record_hash(b)
    assert record_hash(a) != record_hash({**a, "full_name": "A C"})


def test_error_report_caps_and_counts() -> None:
    report = ErrorReport()
    for line in range(1, 1506):
        report.add(Problem(line, "r", "f", "bad"))
    data = report.as_json()
    assert data["total"] == 1505 and data["shown"] == 1000 and data["not_shown"] == 505
    assert report.as_text().endswith("... and 505 more")


class NestedIdentifier(Schema):
    """What the hand-written `Identifiers` field replaced, kept here as its specification."""

    class Meta:
        unknown = RAISE

    scheme = fields.String(required=True, validate=validate.Length(min=1, max=40))
    country = Country(allow_none=True)
    value = fields.String(required=True, validate=validate.Length(min=1, max=100))


_TEXT = st.one_of(st.none(), st.integers(), st.sampled_from(["", " de ", "DE", "ZZ", "x" * 41, "x" * 101]),
                  st.text(max_size=5))
_IDENTIFIER = st.one_of(
    st.integers(),
    st.dictionaries(st.sampled_from(["scheme", "country", "value", "extra"]), _TEXT, max_size=4))


@given(st.lists(_IDENTIFIER, max_size=3))
def test_identifiers_field_agrees_with_a_nested_schema(items: list[object]) -> None:
    expected = fields.List(fields.Nested(NestedIdentifier))
    field = RECORD_SCHEMAS["person"].fields["identifiers"]
    try:
        wanted = expected.deserialize(items)
    except ValidationError as error:
        with pytest.raises(ValidationError) as caught:
            field.deserialize(items)
        assert caught.value.messages == error.messages
    else:
        assert field.deserialize(items) == wanted
