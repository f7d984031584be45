"""Marshmallow schemas for the canonical extract format (docs/extract-format.md).

They check one record at a time; what needs the whole extract (duplicate ids, references,
header counts) is checked in SQL after staging, so memory does not grow with the file.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pycountry
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum import lei as stdnum_lei

from loaders.errors import echo

ACCOUNT_TYPES = ("current", "savings", "deposit", "securities", "loan", "payment", "e_money",
                 "crypto", "safe_deposit_box")
ROLES = ("holder", "co_holder", "authorised_signatory", "legal_representative",
         "beneficial_owner", "box_lessee")
# BODS 0.4 interestType codelist.
INTEREST_TYPES = (
    "shareholding", "votingRights", "appointmentOfBoard", "otherInfluenceOrControl",
    "seniorManagingOfficial", "settlor", "trustee", "protector", "beneficiaryOfLegalArrangement",
    "rightsToSurplusAssetsOnDissolution", "rightsToProfitOrIncome", "rightsGrantedByContract",
    "conditionalRightsGrantedByContract", "controlViaCompanyRulesOrArticles",
    "controlByLegalFramework", "boardMember", "boardChair", "unknownInterest",
    "unpublishedInterest", "enjoymentAndUseOfAssets", "rightToProfitOrIncomeFromAssets",
    "nominee", "nominator",
)
# ASCII digits, the whole text: `\d` also matches Arabic-Indic digits and `$` a final newline,
# which then overflowed the 10-character column.
PARTIAL_DATE = re.compile(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# The registry joins ids with "|" into the keys of roles and ownerships (account|party|role):
# an id holding one could name another record's key.
KEY_SEPARATOR = "|"
MAX_REF = 200


# Sets, not pycountry lookups: a national book checks millions of codes.
COUNTRIES = frozenset(c.alpha_2 for c in pycountry.countries)
CURRENCIES = frozenset(c.alpha_3 for c in pycountry.currencies)


def _country(value: str) -> None:
    if value not in COUNTRIES:
        raise ValidationError(f"{echo(value)} is not an ISO 3166 alpha-2 country code")


def _currency(value: str) -> None:
    if value not in CURRENCIES:
        raise ValidationError(f"{echo(value)} is not an ISO 4217 currency code")


class Text(fields.String):
    """Text with the spaces around it removed, which must leave something: a name or an id
    of only spaces names nobody."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        text = super()._deserialize(value, attr, data, **kw).strip()
        if not text:
            raise ValidationError("may not be empty or only spaces")
        return text


class Ref(Text):
    """An institution's own reference for a record: what keys and references are made of."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(validate=validate.Length(max=MAX_REF), **kw)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        text = super()._deserialize(value, attr, data, **kw)
        if KEY_SEPARATOR in text:
            raise ValidationError(f"may not contain '{KEY_SEPARATOR}' (the registry joins ids "
                                  "with it into the keys of roles and ownerships)")
        return text


class StrictBoolean(fields.Boolean):
    """JSON true or false only: marshmallow's own also takes 1, "yes" and "on", and a PEP
    flag is too important to guess at. (The CSV bundle turns its true/false cells into
    booleans before validation.)"""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> bool:
        if value is True or value is False:
            return value
        raise self.make_error("invalid", input=value)


class StrictInteger(fields.Integer):
    """A JSON integer only: not 2.9 (read as 2), not "3"."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(strict=True, **kw)

    def _validated(self, value: Any) -> int:
        if isinstance(value, float):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class IsoDate(fields.Date):
    """YYYY-MM-DD only. Python also reads 20260101 and 2026-W01-1 as dates; banks must not
    come to rely on that."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> Any:
        if isinstance(value, str) and not ISO_DATE.fullmatch(value):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kw)


class Lei(fields.String):
    """Stored in the compact upper-case form (no spaces): it fits the 20-character column and
    the same LEI always compares equal."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        text = super()._deserialize(value, attr, data, **kw)
        if not stdnum_lei.is_valid(text):
            raise ValidationError("not a valid LEI (ISO 17442 check digits)")
        return str(stdnum_lei.compact(text))


class Country(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        text = super()._deserialize(value, attr, data, **kw).strip().upper()
        _country(text)
        return text


class PartialDate(fields.String):
    """YYYY, YYYY-MM or YYYY-MM-DD, kept as text; the date it names must exist."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        text = super()._deserialize(value, attr, data, **kw)
        if not PARTIAL_DATE.fullmatch(text):
            raise ValidationError("expected YYYY, YYYY-MM or YYYY-MM-DD")
        parts = [int(p) for p in text.split("-")] + [1, 1]
        try:
            date(parts[0], parts[1], parts[2])
        except ValueError as error:
            raise ValidationError(f"no such date: {error}") from error
        return text


class Iban(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        try:
            return str(IBAN(super()._deserialize(value, attr, data, **kw)).compact)
        except SchwiftyException as error:
            raise ValidationError(f"not a valid IBAN: {error}") from error


class Bic(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        try:
            return str(BIC(super()._deserialize(value, attr, data, **kw)).compact)
        except SchwiftyException as error:
            raise ValidationError(f"not a valid BIC: {error}") from error


class Share(Schema):
    class Meta:
        unknown = RAISE

    exact = fields.Float(validate=validate.Range(0, 100))
    min = fields.Float(validate=validate.Range(0, 100))
    max = fields.Float(validate=validate.Range(0, 100))
    # "More than 25 %" (BODS exclusiveMinimum) is not "25 % or more": a bound not included.
    min_exclusive = StrictBoolean()
    max_exclusive = StrictBoolean()

    # Not skipped when a field fails: the bank is told every problem of a record at once.
    # Presence is judged on what was sent, values only on the fields that passed, so a value
    # that failed its own check is not also reported as missing.
    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _shape(self, data: dict[str, Any], original_data: Any, **_: Any) -> None:
        sent = set(original_data) if isinstance(original_data, dict) else set()
        problems = []
        if "exact" in sent and sent & {"min", "max"}:
            problems.append("give either exact or min/max, not both")
        if not sent & {"exact", "min", "max"}:
            problems.append("give exact, or min and/or max")
        low, high = data.get("min", 0), data.get("max", 100)
        if low > high:
            problems.append("min is above max")
        elif low == high and (data.get("min_exclusive") or data.get("max_exclusive")):
            problems.append("an exclusive bound leaves no share between min and max")
        problems += [f"{side}_exclusive needs {side}" for side in ("min", "max")
                     if data.get(f"{side}_exclusive") and side not in sent]
        if problems:
            raise ValidationError(problems)


IDENTIFIER_FIELDS = {"scheme": 40, "country": None, "value": 100}


class Identifiers(fields.Field[list[dict[str, Any]]]):
    """A list of {scheme, country, value}, checked by hand rather than by a nested schema
    per item: that cost 20 µs an identifier, a third of a person's validation time, and a
    national book carries millions. Messages and error paths are marshmallow's own."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            raise ValidationError("Not a valid list.")
        errors: dict[int, Any] = {}
        cleaned = []
        for index, item in enumerate(value):
            identifier, problems = _identifier(item)
            if problems:
                errors[index] = problems
            cleaned.append(identifier)
        if errors:
            raise ValidationError(errors)
        return cleaned


def _identifier(item: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    if not isinstance(item, dict):
        return {}, {"_schema": ["Invalid input type."]}
    problems = {key: ["Unknown field."] for key in item if key not in IDENTIFIER_FIELDS}
    cleaned: dict[str, Any] = {}
    for key, longest in IDENTIFIER_FIELDS.items():
        text = item.get(key)
        if text is None:
            if longest is None:
                cleaned.update({key: None} if key in item else {})
            else:
                problems[key] = ["Field may not be null." if key in item else "Missing data for required field."]
        elif not isinstance(text, str):
            problems[key] = ["Not a valid string."]
        elif longest is None:
            cleaned[key] = text.strip().upper()
            if cleaned[key] not in COUNTRIES:
                problems[key] = [f"{echo(cleaned[key])} is not an ISO 3166 alpha-2 country code"]
        elif not 1 <= len(text) <= longest:
            problems[key] = [f"Length must be between 1 and {longest}."]
        else:
            cleaned[key] = text
    return cleaned, problems


class RecordSchema(Schema):
    class Meta:
        unknown = RAISE

    record = fields.String(required=True)
    op = fields.String(validate=validate.OneOf(["upsert", "close"]))


class HeaderSchema(RecordSchema):
    format = fields.String(required=True, validate=validate.Equal("registry-extract"))
    version = StrictInteger(required=True, validate=validate.Equal(1))
    institution = fields.String(required=True, validate=validate.Length(min=8, max=20))
    kind = fields.String(required=True, validate=validate.OneOf(["full", "delta"]))
    as_of = IsoDate(required=True)
    sequence = StrictInteger(required=True, validate=validate.Range(min=1))
    counts = fields.Dict(keys=fields.String(validate=validate.OneOf(
        ["person", "entity", "account", "role", "ownership"])),
        values=StrictInteger(validate=validate.Range(min=0)), required=True)


NAME = validate.Length(max=500)


class PersonSchema(RecordSchema):
    id = Ref(required=True)
    given_names = Text(allow_none=True, validate=NAME)
    family_name = Text(allow_none=True, validate=NAME)
    full_name = Text(required=True, validate=NAME)
    other_names = fields.List(Text(validate=NAME), load_default=list)
    birth_date = PartialDate(allow_none=True)
    birth_place = Text(allow_none=True, validate=NAME)
    nationalities = fields.List(Country(), load_default=list)
    residence_country = Country(allow_none=True)
    address = fields.String(allow_none=True, validate=validate.Length(max=1000))
    identifiers = Identifiers(load_default=list)
    pep = StrictBoolean(load_default=False)


class EntitySchema(RecordSchema):
    id = Ref(required=True)
    name = Text(required=True, validate=NAME)
    other_names = fields.List(Text(validate=NAME), load_default=list)
    legal_form = Text(allow_none=True, validate=NAME)
    registration_number = fields.String(allow_none=True, validate=validate.Length(max=100))
    registration_country = Country(allow_none=True)
    lei = Lei(allow_none=True)
    incorporated_on = IsoDate(allow_none=True)
    address = fields.String(allow_none=True, validate=validate.Length(max=1000))


class AccountSchema(RecordSchema):
    id = Ref(required=True)
    iban = Iban(allow_none=True)
    number = Text(allow_none=True, validate=validate.Length(max=64))
    bic = Bic(allow_none=True)
    currency = fields.String(allow_none=True, validate=_currency)
    type = fields.String(required=True, validate=validate.OneOf(ACCOUNT_TYPES))
    opened_on = IsoDate(allow_none=True)
    closed_on = IsoDate(allow_none=True)

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _number_and_dates(self, data: dict[str, Any], original_data: Any, **_: Any) -> None:
        problems = {}
        # What was sent: an iban that failed its own check is reported as such, not as missing.
        if not any(_sent(original_data, name) for name in ("iban", "number")):
            problems["iban"] = ["an account needs an iban or a number"]
        opened, closed = data.get("opened_on"), data.get("closed_on")
        if opened and closed and closed < opened:
            problems["closed_on"] = ["closed before it was opened"]
        if problems:
            raise ValidationError(problems)


def _sent(original: Any, name: str) -> bool:
    return isinstance(original, dict) and original.get(name) is not None


def _ends_before_it_starts(data: dict[str, Any]) -> bool:
    start, end = data.get("from_"), data.get("to")
    return bool(start and end and end < start)


class RoleSchema(RecordSchema):
    account = Ref(required=True)
    party = Ref(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    from_ = IsoDate(data_key="from", allow_none=True)
    to = IsoDate(allow_none=True)

    @validates_schema(skip_on_field_errors=False)
    def _period(self, data: dict[str, Any], **_: Any) -> None:
        if _ends_before_it_starts(data):
            raise ValidationError("'to' is before 'from'", "to")


class OwnershipSchema(RecordSchema):
    owner = Ref(required=True)
    owned = Ref(required=True)
    share = fields.Nested(Share, allow_none=True)
    voting = fields.Nested(Share, allow_none=True)
    interests = fields.List(fields.String(validate=validate.OneOf(INTEREST_TYPES)), load_default=list)
    direct = StrictBoolean(allow_none=True)
    from_ = IsoDate(data_key="from", allow_none=True)
    to = IsoDate(allow_none=True)

    @validates_schema(skip_on_field_errors=False)
    def _not_self(self, data: dict[str, Any], **_: Any) -> None:
        problems = {}
        # Both must have passed: two missing ones are not the same party.
        if data.get("owner") is not None and data.get("owner") == data.get("owned"):
            problems["owned"] = ["a party cannot own itself"]
        if _ends_before_it_starts(data):
            problems["to"] = ["'to' is before 'from'"]
        if problems:
            raise ValidationError(problems)


class CloseSchema(RecordSchema):
    """`"op": "close"` in a delta names what to end and nothing else."""

    id = Ref()
    account = Ref()
    party = Ref()
    role = fields.String(validate=validate.OneOf(ROLES))
    owner = Ref()
    owned = Ref()
    # Closes the declared indirect interest of owner in owned (false) rather than the direct one.
    direct = StrictBoolean(allow_none=True)


RECORD_SCHEMAS: dict[str, Schema] = {
    "person": PersonSchema(),
    "entity": EntitySchema(),
    "account": AccountSchema(),
    "role": RoleSchema(),
    "ownership": OwnershipSchema(),
}
CLOSE_SCHEMA = CloseSchema()
HEADER_SCHEMA = HeaderSchema()
