"""The JSON Schema of the canonical extract records (loaders/json_schemas/extract.schema.json):
what banks read to write extracts. It must accept what the registry accepts and say the same
as the marshmallow schemas that validate uploads."""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from loaders.bods import BodsSource
from loaders.csv_bundle import CsvBundleSource
from loaders.schemas import ACCOUNT_TYPES, INTEREST_TYPES, RECORD_SCHEMAS, ROLES
from seed.extract import read_extract
from seed.generate import SeedPlan, write_delta, write_extracts

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "loaders" / "json_schemas" / "extract.schema.json"
EXAMPLES = ROOT / "docs" / "examples"


@cache
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def problems(record: dict[str, Any]) -> list[str]:
    return [error.message for error in validator().iter_errors(record)]


def test_the_example_extract_is_valid() -> None:
    lines = [json.loads(line) for line in (EXAMPLES / "example.jsonl").read_text().splitlines()]
    assert lines[0]["record"] == "header" and len(lines) == 10
    for line in lines:
        assert problems(line) == [], line


def test_the_seed_generators_full_and_delta_extracts_are_valid(tmp_path: Path) -> None:
    plan = SeedPlan(parties=60, banks=2, seed=5, as_of=date(2026, 1, 1))
    paths = write_extracts(plan, tmp_path)
    paths.append(write_delta(plan, tmp_path, 0, 0.5, 2, date(2026, 2, 1)))
    kinds: set[str] = set()
    for path in paths:
        for line in read_extract(path):
            assert problems(line) == [], line
            kinds.add(line["record"] + (":close" if line.get("op") == "close" else ""))
    assert {"header", "person", "entity", "account", "role", "ownership", "account:close"} <= kinds


def test_other_formats_yield_records_of_the_same_shape() -> None:
    bundle = [r for _, r, _ in CsvBundleSource(EXAMPLES / "example-bundle.zip").records()]
    bods = [r for _, r, _ in BodsSource(EXAMPLES / "example-bods.json", "DEREGISTER1", 1).records()]
    assert len(bundle) == 9 and len(bods) == 3
    for record in [*bundle, *bods]:
        assert record is not None and problems(record) == [], record


PERSON = {"record": "person", "id": "P1", "full_name": "Ann Lee"}


@pytest.mark.parametrize("record", [
    {"record": "person", "id": "P1"},
    {**PERSON, "shoe_size": 42},
    {**PERSON, "birth_date": "14.03.1980"},
    {**PERSON, "nationalities": "DE"},
    {**PERSON, "op": "delete"},
    {"record": "ownership", "owner": "P1", "owned": "E1", "share": {"exact": 50, "min": 40}},
    {"record": "ownership", "owner": "P1", "owned": "E1", "share": {"max": 101}},
    {"record": "ownership", "owner": "P1", "owned": "E1", "interests": ["friendship"]},
    {"record": "account", "id": "A1", "type": "current"},
    {"record": "account", "id": "A1", "iban": "DE89370400440532013000", "type": "cheque"},
    {"record": "role", "account": "A1", "party": "P1", "role": "holder", "from": "2020-02-30"},
    {"record": "person", "op": "close", "id": "P1", "full_name": "Ann Lee"},
    {"record": "header", "format": "registry-extract", "version": 2, "institution": "COBADEFFXXX",
     "kind": "full", "as_of": "2026-01-01", "sequence": 1, "counts": {}},
    {"record": "header", "format": "registry-extract", "version": 1, "institution": "COBADEFFXXX",
     "kind": "full", "as_of": "2026-01-01", "sequence": 1, "counts": {"persons": 1}},
])
def test_records_the_registry_refuses_are_invalid(record: dict[str, Any]) -> None:
    assert problems(record) != []


@pytest.mark.parametrize("record", [
    PERSON, {**PERSON, "op": "upsert", "birth_date": "1980", "residence_country": None},
    {"record": "person", "op": "close", "id": "P1"},
    {"record": "role", "op": "close", "account": "A1", "party": "P1", "role": "holder"},
    {"record": "ownership", "owner": "P1", "owned": "E1", "share": {"min": 25}, "voting": None},
    {"record": "account", "id": "A1", "number": "0001234", "type": "safe_deposit_box"},
])
def test_records_the_registry_accepts_are_valid(record: dict[str, Any]) -> None:
    assert problems(record) == []
    if record.get("op") != "close":
        RECORD_SCHEMAS[record["record"]].load(record)


def test_each_record_has_the_fields_of_its_marshmallow_schema() -> None:
    defs = json.loads(SCHEMA.read_text())["$defs"]
    for kind, schema in RECORD_SCHEMAS.items():
        fields = {f.data_key or name for name, f in schema.fields.items()}
        assert set(defs[kind]["properties"]) == fields, kind
    assert defs["account"]["properties"]["type"]["enum"] == list(ACCOUNT_TYPES)
    assert defs["role"]["properties"]["role"]["enum"] == list(ROLES)
    assert defs["ownership"]["properties"]["interests"]["items"]["enum"] == list(INTEREST_TYPES)
