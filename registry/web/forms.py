"""What the pages' forms send, parsed with marshmallow like the API's JSON.

Browsers send an empty string for a field left blank; `filled` drops those, so "not given"
means the same here as in the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from registry.admin import NewInstitution
from registry.api.cases import ApprovalSchema, AssignmentSchema, NewCaseSchema
from registry.api.fields import RowId
from registry.api.search import (
    AccountSearchRequest,
    EntitySearchRequest,
    PersonBatchRequest,
    PersonSearchRequest,
)
from registry.cases import NewCase
from registry.directory import DEFAULT_TOKEN_DAYS
from registry.errors import RegistryError
from registry.models import ROLES
from registry.search_service import MAX_BATCH


def filled(values: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in values.items() if v.strip()}


class Form(Schema):
    class Meta:
        unknown = EXCLUDE  # the CSRF token and the submit button travel with every form


class SignInForm(Form):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    totp = fields.String(required=True, validate=validate.Length(min=6, max=10))


class BankSignInForm(Form):
    code = fields.String(required=True, validate=validate.Length(min=1, max=20))
    key = fields.String(required=True, validate=validate.Length(min=10, max=200))


class CaseArgs(Form):
    case_id = RowId(required=True)


class PersonSearchForm(PersonSearchRequest):
    """The API's person search, field for field, so both refuse the same input."""

    class Meta:
        unknown = EXCLUDE


class EntitySearchForm(EntitySearchRequest):
    class Meta:
        unknown = EXCLUDE


class AccountSearchForm(AccountSearchRequest):
    class Meta:
        unknown = EXCLUDE


class RecordArgs(CaseArgs):
    # Person and entity results name their records by registry id (`party`); the account
    # search's holders still by "<institution id>:<ref>" (`record`).
    record = fields.List(fields.String(validate=validate.Regexp(r"^\d+:.+$")), load_default=list,
                         validate=validate.Length(max=20))
    party = fields.List(RowId(), load_default=list, validate=validate.Length(max=20))


class OwnershipArgs(CaseArgs):
    party = RowId(required=True)
    as_of = fields.Date(load_default=None)
    threshold = fields.Decimal(load_default=None, places=None,
                               validate=validate.Range(0, 100, min_inclusive=False))


def multi(values: Any, *lists: str) -> dict[str, Any]:
    """A MultiDict as a dict, keeping every value of the fields that are lists."""
    plain = filled(values.to_dict())
    for name in lists:
        plain[name] = [v for v in values.getlist(name) if v.strip()]
    return plain


def error_text(error: Exception) -> str:
    """A refused change in one line, for the message above the page it returns to."""
    if isinstance(error, RegistryError):
        return error.detail
    messages = error.messages if isinstance(error, ValidationError) else {"form": [str(error)]}
    listed = messages.items() if isinstance(messages, dict) else [("form", messages)]
    return "; ".join(f"{field}: {' '.join(map(str, why))}" for field, why in listed)


def lines(text: str | None) -> list[str]:
    """A textarea's non-empty lines, trimmed."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


# ---- supervisors ---------------------------------------------------------------------------

class NewCaseForm(NewCaseSchema):
    """The API's new case, field for field; subjects come one per line."""

    class Meta:
        unknown = EXCLUDE

    @classmethod
    def parse(cls, form: Any) -> NewCase:
        values: dict[str, Any] = {**filled(form.to_dict()), "subjects": lines(form.get("subjects"))}
        return cls().load(values)  # type: ignore[no-any-return]


class AssignmentForm(AssignmentSchema):
    class Meta:
        unknown = EXCLUDE


class ApprovalForm(ApprovalSchema):
    class Meta:
        unknown = EXCLUDE


# ---- administrators ------------------------------------------------------------------------

class NewUserForm(Form):
    # Letters, digits and . _ - only: the name is typed at sign-in and printed in the log.
    name = fields.String(required=True, validate=[validate.Length(min=2, max=100),
                                                  validate.Regexp(r"^[\w.-]+$")])
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    agency = fields.String(load_default=None, validate=validate.Length(min=2, max=200))


class TokenForm(Form):
    days = fields.Integer(load_default=DEFAULT_TOKEN_DAYS, validate=validate.Range(1, 365))


class RateLimitForm(Form):
    rate = fields.String(load_default=None, validate=validate.Length(max=100),
                         metadata={"description": "empty for the default"})


class NewInstitutionForm(NewInstitution):
    """What `registry institutions add` accepts: a BIC or an LEI, so that the bank's extract
    headers can name it."""

    class Meta:
        unknown = EXCLUDE


# ---- investigators' batch search -----------------------------------------------------------

class BatchSearchForm(PersonBatchRequest):
    """The API's batch, written as one name per line with an optional birth date after a
    semicolon ("Ana Kovač; 1975"). Errors come back keyed by line number."""

    class Meta:
        unknown = EXCLUDE

    @classmethod
    def parse(cls, form: Any, case_id: int) -> dict[str, Any]:
        queries = [_line_query(line) for line in lines(form.get("names"))]
        values = {**filled(form.to_dict()), "case_id": case_id, "queries": queries}
        try:
            return cls().load(values)  # type: ignore[no-any-return]
        except ValidationError as invalid:
            raise ValidationError(_by_line(invalid.messages)) from invalid


def _line_query(line: str) -> dict[str, str]:
    name, _, born = line.partition(";")
    return {"name": name.strip(), **({"birth_date": born.strip()} if born.strip() else {})}


def _by_line(messages: Any) -> dict[str, list[str]]:
    """{"queries": {3: {"name": [...]}}} as {"names": ["line 4: name: ..."]}."""
    found = dict(messages) if isinstance(messages, dict) else {"names": messages}
    queries = found.pop("queries", None)
    shown = [f"{k}: {' '.join(map(str, v))}" for k, v in found.items() if k != "names"]
    if isinstance(queries, dict):
        shown += [f"line {int(n) + 1}: {field}: {' '.join(map(str, why))}"
                  for n, errors in sorted(queries.items(), key=lambda item: int(item[0]))
                  for field, why in (errors.items() if isinstance(errors, dict) else [("", errors)])]
    elif queries:
        shown.append(f"{' '.join(map(str, queries))} (one name per line, at most {MAX_BATCH})")
    return {"names": shown}
