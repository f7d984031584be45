"""What the search endpoints answer, as marshmallow schemas: for the OpenAPI document
(`@response_body`), and for the tests, which load real answers with them so the document
cannot drift from what the views return. Every key is required and no other is allowed.
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields


class Answer(Schema):
    class Meta:
        unknown = RAISE


def _text(**kw: object) -> fields.String:
    return fields.String(required=True, allow_none=True, **kw)  # type: ignore[arg-type]


class Record(Answer):
    id = fields.String(required=True, metadata={"description": "registry id of the record"})
    institution = fields.String(required=True, metadata={"description": "BIC or LEI of who reported it"})
    institution_id = fields.Integer(required=True)
    customer_id = fields.String(required=True, metadata={"description": "the institution's own reference"})
    party_id = fields.Integer(required=True, allow_none=True, metadata={
        "description": "id of its current version, for GET /records/{party_id}"})
    score = fields.Float(required=True)
    explanation = fields.List(fields.String(), required=True)
    party = fields.Dict(required=True, metadata={"description": "the party exactly as reported"})


class HeldAccount(Answer):
    institution = fields.String(required=True)
    customer_id = fields.String(required=True)
    account_id = fields.String(required=True)
    iban, number = _text(), _text()
    type, currency = _text(), _text()
    role = fields.String(required=True)
    opened_on, closed_on = _text(), _text()
    role_from, role_to = _text(), _text()


class PartyResult(Answer):
    id = fields.String(required=True, metadata={"description": "the best record's id"})
    score = fields.Float(required=True, metadata={"description": "0-1"})
    likely = fields.Boolean(required=True, metadata={"description": "score >= the likely threshold"})
    explanation = fields.List(fields.String(), required=True, metadata={
        "description": "the evidence that matched or conflicted, and why records were merged"})
    records = fields.List(fields.Nested(Record), required=True)
    accounts = fields.List(fields.Nested(HeldAccount), required=True)


class Withholding(Answer):
    withheld = fields.Integer(required=True, metadata={
        "description": "results left out because they show a sensitive name not approved"})
    notice = fields.String(metadata={"description": "present when something was withheld"})


class PartySearchAnswer(Withholding):
    case_id = fields.Integer(required=True)
    results = fields.List(fields.Nested(PartyResult), required=True)


class BatchAnswer(Withholding):
    index = fields.Integer(required=True, metadata={"description": "the query's place in the batch"})
    name = fields.String(required=True)
    results = fields.List(fields.Nested(PartyResult), required=True)


class BatchSearchAnswer(Answer):
    case_id = fields.Integer(required=True)
    answers = fields.List(fields.Nested(BatchAnswer), required=True)


class Holder(Answer):
    id = fields.String(required=True)
    customer_id = fields.String(required=True)
    role = fields.String(required=True)
    role_from, role_to = _text(), _text()
    party = fields.Dict(required=True, allow_none=True)


class AccountResult(Answer):
    id = fields.String(required=True)
    institution = fields.String(required=True)
    account_id = fields.String(required=True)
    iban, number, bic = _text(), _text(), _text()
    type, currency = _text(), _text()
    opened_on, closed_on = _text(), _text()
    score = fields.Float(required=True)
    explanation = fields.List(fields.String(), required=True)
    holders = fields.List(fields.Nested(Holder), required=True)


class AccountSearchAnswer(Withholding):
    case_id = fields.Integer(required=True)
    results = fields.List(fields.Nested(AccountResult), required=True)
