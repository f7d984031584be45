"""POST /api/v1/search/persons."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, ValidationError, fields, validate, validates

from loaders.schemas import Country, PartialDate
from registry.api import blueprint
from registry.auth import allow
from registry.limits import rate_limited
from registry.search_service import PersonSearchService
from search.queries import PersonQuery

CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class PersonSearchRequest(Schema):
    case_id = fields.Integer(required=True)
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    birth_date = PartialDate(load_default=None)
    nationality = Country(load_default=None)
    identifier = fields.String(load_default=None, validate=validate.Length(min=2, max=100))
    as_of = fields.Date(load_default=None)
    limit = fields.Integer(load_default=10, validate=validate.Range(1, 50))

    @validates("name")
    def _no_control(self, value: str, **_: Any) -> None:
        if CONTROL.search(value):
            raise ValidationError("control characters are not allowed in a name")
        if len(value.strip()) < 2:
            raise ValidationError("a name needs at least two characters")


@blueprint.post("/search/persons")
@allow("investigator")
@rate_limited("search:person:query")
def search_persons() -> ResponseReturnValue:
    args = PersonSearchRequest().load(request.get_json(silent=True) or {})
    ext = current_app.extensions["registry"]
    service = PersonSearchService(ext.session(), ext.search)
    query = PersonQuery(args["name"], args["birth_date"], args["nationality"], args["identifier"],
                        args["as_of"])
    results = service.search(g.caller, args["case_id"], query, args["limit"], request.remote_addr)
    return jsonify({"case_id": args["case_id"], "results": results})
