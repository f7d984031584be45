"""Search: persons (one or a batch), entities and accounts, each under a case."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema
from stdnum import lei as stdnum_lei

from loaders.schemas import Country, Iban, PartialDate
from registry.account_search import AccountSearchService
from registry.api import blueprint
from registry.api.fields import RowId
# Importing openapi also registers GET /openapi.json on the blueprint.
from registry.api.openapi import request_body, response_body
from registry.api.responses import AccountSearchAnswer, BatchSearchAnswer, PartySearchAnswer
from registry.auth import allow
from registry.entity_search import EntitySearchService
from registry.errors import problem
from registry.limits import rate_limited
from registry.search_budget import RequestBudget
from registry.search_service import MAX_BATCH, PersonSearchService
from search.names import fold
from search.queries import EntityQuery, PersonQuery

# C0 and C1 control characters: never part of a name or number, often part of an attack.
# So are invisible marks: direction overrides and isolates (U+202E makes "Anna" show as
# "annA" in the audit log), line and paragraph separators, the byte-order mark, zero-width
# spaces, soft hyphens, fillers, tags and noncharacters. The search folds them away, but
# the auditors' filters match the name as typed, and "An\u200bna" is not "Anna" there.
# Lone surrogates (a JSON "\ud83d" without its pair) are no text at all: nothing can encode
# them, so they failed deep inside as a 500, or as "Elasticsearch cannot be reached".
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\xad\u061c\u115f\u1160\u180e\u200b\u200e\u200f\u2028-\u202e"
                     "\u2060-\u2064\u2066-\u2069\u3164\ufeff\uffa0\ufdd0-\ufdef\U000e0000-\U000e007f]"
                     # A joiner belongs between letters of the scripts that need it, never
                     # inside a Latin word, where it only hides the word from a filter.
                     "|(?<=[A-Za-z])[\u200c\u200d]|[\u200c\u200d](?=[A-Za-z])"
                     # Noncharacters, in every plane (U+FFFE, U+1FFFE ...).
                     "|[\ufffe\uffff\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0003fffe\U0003ffff"
                     "\U000efffe\U000effff\U000ffffe\U000fffff\U0010fffe\U0010ffff]")
SURROGATE = re.compile(r"[\ud800-\udfff]")


class Text(fields.String):
    """User text for a query: bounded, no control characters."""

    def __init__(self, min_length: int = 1, max_length: int = 100, **kw: Any) -> None:
        super().__init__(validate=validate.Length(min=min_length, max=max_length), **kw)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        text = super()._deserialize(value, attr, data, **kw)
        if CONTROL.search(text):
            raise ValidationError("control characters and invisible marks (such as U+202E) are not allowed")
        if SURROGATE.search(text):
            raise ValidationError("not valid text: a UTF-16 surrogate without its pair")
        return text


class Name(Text):
    """A name of 2 to 200 characters with at least two letters or digits in it; or, as a
    `part` (given names, a family name), 1 to 100 characters with one, for an initial ("J.")."""

    def __init__(self, part: bool = False, **kw: Any) -> None:
        super().__init__(min_length=1 if part else 2, max_length=100 if part else 200, **kw)
        self.letters = 1 if part else 2

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        text = super()._deserialize(value, attr, data, **kw)
        # Punctuation alone folds to nothing: there would be nothing to search by.
        if len(fold(text).replace(" ", "")) < self.letters:
            raise ValidationError("a name needs at least two letters or digits" if self.letters > 1
                                  else "a name part needs a letter or a digit")
        return text


class BirthDate(PartialDate):
    """A birth date as the loader takes it, and not after today."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        text = super()._deserialize(value, attr, data, **kw)
        if text > date.today().isoformat()[:len(text)]:
            raise ValidationError("a birth date cannot be in the future")
        return text


# Nobody alive, nor in any bank's book, was born before this.
MIN_BIRTH_YEAR = 1850


class BirthYear(fields.Integer):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> int:
        year = int(super()._deserialize(value, attr, data, **kw))
        if not MIN_BIRTH_YEAR <= year <= date.today().year:
            raise ValidationError(f"a year from {MIN_BIRTH_YEAR} to this year")
        return year


class Lei(Text):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        text = super()._deserialize(value, attr, data, **kw)
        if not stdnum_lei.is_valid(text):
            raise ValidationError("not a valid LEI (20 characters, ISO 17442 check digits)")
        return str(stdnum_lei.compact(text))


class PersonQuerySchema(Schema):
    name = Name(load_default=None, metadata={"description": "the whole name, in any order"})
    given_names = Name(part=True, load_default=None, metadata={"description": "instead of name, with family_name"})
    family_name = Name(part=True, load_default=None, metadata={"description": "instead of name, with given_names"})
    birth_date = BirthDate(load_default=None, metadata={"description": "YYYY, YYYY-MM or YYYY-MM-DD"})
    birth_year_from = BirthYear(load_default=None, metadata={"description": "born in or after; instead of birth_date"})
    birth_year_to = BirthYear(load_default=None, metadata={"description": "born in or before; instead of birth_date"})
    nationality = Country(load_default=None, metadata={"description": "ISO 3166 alpha-2"})
    identifier = Text(min_length=2, load_default=None, metadata={"description": "any scheme"})
    as_of = fields.Date(load_default=None, metadata={"description": "what was true on that date"})

    @validates_schema
    def _a_name_and_one_birth(self, data: dict[str, Any], **_: Any) -> None:
        parts = data.get("given_names") or data.get("family_name")
        if bool(data.get("name")) == bool(parts):
            raise ValidationError("give a name, or its parts (given_names, family_name), not both", "name")
        whole = " ".join(p for p in (data.get("given_names"), data.get("family_name")) if p)
        if parts and len(fold(whole).replace(" ", "")) < 2:
            raise ValidationError("a name needs at least two letters or digits", "family_name")
        ranged = data.get("birth_year_from") is not None or data.get("birth_year_to") is not None
        if ranged and data.get("birth_date"):
            raise ValidationError("give a birth_date or a range of birth years, not both", "birth_date")
        low, high = data.get("birth_year_from"), data.get("birth_year_to")
        if low is not None and high is not None and low > high:
            raise ValidationError("birth_year_from is after birth_year_to", "birth_year_from")

    @post_load
    def _whole(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """The name the parts make (words are matched in any order), and the range's years."""
        if not data["name"]:
            data["name"] = " ".join(p for p in (data["given_names"], data["family_name"]) if p)
        low, high = data.pop("birth_year_from"), data.pop("birth_year_to")
        data["birth_years"] = None if low is None and high is None else (
            low if low is not None else MIN_BIRTH_YEAR, high if high is not None else date.today().year)
        return data


class CaseBound(Schema):
    case_id = RowId(required=True, metadata={"description": "an open case you are assigned to"})


class PersonSearchRequest(CaseBound, PersonQuerySchema):
    limit = fields.Integer(load_default=10, validate=validate.Range(1, 50))


class PersonBatchRequest(CaseBound):
    queries = fields.List(fields.Nested(PersonQuerySchema), required=True,
                          validate=validate.Length(min=1, max=MAX_BATCH))
    limit = fields.Integer(load_default=5, validate=validate.Range(1, 50),
                           metadata={"description": "results per query"})


class EntitySearchRequest(CaseBound):
    name = Name(load_default=None)
    registration_number = Text(load_default=None)
    lei = Lei(load_default=None)
    country = Country(load_default=None, metadata={"description": "ISO 3166 alpha-2"})
    as_of = fields.Date(load_default=None)
    limit = fields.Integer(load_default=10, validate=validate.Range(1, 50))

    @validates_schema
    def _something_to_search_by(self, data: dict[str, Any], **_: Any) -> None:
        if not (data.get("name") or data.get("registration_number") or data.get("lei")):
            raise ValidationError("give a name, a registration_number or a lei", "name")


class AccountSearchRequest(CaseBound):
    iban = Iban(load_default=None)
    number = Text(load_default=None, metadata={"description": "account number, separators ignored"})
    as_of = fields.Date(load_default=None, metadata={"description": "only roles valid on that date"})

    @validates_schema
    def _one_key(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("iban") is None) == (data.get("number") is None):
            raise ValidationError("give exactly one of iban and number", "iban")


# Built once: a marshmallow schema keeps no state between loads, and building one costs
# about as much as loading a request with it.
PERSON_SEARCH, PERSON_BATCH = PersonSearchRequest(), PersonBatchRequest()
ENTITY_SEARCH, ACCOUNT_SEARCH = EntitySearchRequest(), AccountSearchRequest()


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def person_query(args: dict[str, Any]) -> PersonQuery:
    """The query a loaded PersonQuerySchema (or a form built on it) asks."""
    return PersonQuery(args["name"], args["birth_date"], args["nationality"], args["identifier"],
                       args["as_of"], birth_years=args["birth_years"])


WITHHELD_NOTICE = ("Some results are withheld: they show people marked sensitive. A supervisor of "
                   "your agency sees whom, among the names waiting for approval under the case, "
                   "and may approve them.")


def withheld(count: int) -> dict[str, Any]:
    """`withheld`: how many results showed a name marked sensitive and were left out."""
    return {"withheld": count, **({"notice": WITHHELD_NOTICE} if count else {})}


def _services() -> Any:
    return current_app.extensions["registry"]


@blueprint.post("/search/persons")
@allow("investigator")
@rate_limited("search:person:query")
@request_body(PersonSearchRequest)
@response_body(PartySearchAnswer)
def search_persons() -> ResponseReturnValue:
    """Find a person however the banks spell them: one result per human, with every record and account."""
    args = PERSON_SEARCH.load(_body())
    service = PersonSearchService(_services().session(), _services().search)
    results = service.search(g.caller, args["case_id"], person_query(args), args["limit"],
                             request.remote_addr)
    return jsonify({"case_id": args["case_id"], "results": results, **withheld(service.withheld)})


@blueprint.post("/search/persons/batch")
@allow("investigator")
@rate_limited("search:person:query")
@request_body(PersonBatchRequest)
@response_body(BatchSearchAnswer)
def search_persons_batch() -> ResponseReturnValue:
    """Search up to 100 persons at once; each query costs one search of the rate limit."""
    args = PERSON_BATCH.load(_body())
    service = PersonSearchService(_services().session(), _services().search)
    budget = RequestBudget()
    outcome = service.search_batch(g.caller, args["case_id"], [person_query(q) for q in args["queries"]],
                                   args["limit"], request.remote_addr, budget)
    answers = [{**a, **withheld(a["withheld"])} for a in outcome.answers]
    if not outcome.not_run:
        return jsonify({"case_id": args["case_id"], "answers": answers})
    response = problem(429, "Too many requests",
                       f"The rate limit ran out after {len(outcome.answers)} of {len(args['queries'])} "
                       "queries; send the queries listed in not_run again after Retry-After seconds.",
                       case_id=args["case_id"], answers=answers, not_run=outcome.not_run)
    response.headers["Retry-After"] = str(budget.retry_after())
    return response


@blueprint.post("/search/entities")
@allow("investigator")
@rate_limited("search:entity:query")
@request_body(EntitySearchRequest)
@response_body(PartySearchAnswer)
def search_entities() -> ResponseReturnValue:
    """Find a company or other legal entity by name, registration number or LEI."""
    args = ENTITY_SEARCH.load(_body())
    service = EntitySearchService(_services().session(), _services().search)
    query = EntityQuery(args["name"], args["registration_number"], args["lei"], args["country"],
                        args["as_of"])
    results = service.search(g.caller, args["case_id"], query, args["limit"], request.remote_addr)
    return jsonify({"case_id": args["case_id"], "results": results, **withheld(service.withheld)})


@blueprint.post("/search/accounts")
@allow("investigator")
@rate_limited("search:account:query")
@request_body(AccountSearchRequest)
@response_body(AccountSearchAnswer)
def search_accounts() -> ResponseReturnValue:
    """Find an account by IBAN or number (exact), with its institution, holders and their roles."""
    args = ACCOUNT_SEARCH.load(_body())
    service = AccountSearchService(_services().session(), _services().search)
    results = service.search(g.caller, args["case_id"], args["iban"], args["number"], args["as_of"],
                             request.remote_addr)
    return jsonify({"case_id": args["case_id"], "results": results, **withheld(service.withheld)})
