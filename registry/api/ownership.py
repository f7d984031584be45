"""Beneficial ownership, read under a case:

    GET /api/v1/entities/<id>/owners?case_id=…[&as_of=YYYY-MM-DD][&threshold=25]
    GET /api/v1/persons/<id>/holdings?case_id=…[&as_of=…][&threshold=…]
    GET /api/v1/parties/<id>/bods?case_id=…[&as_of=…]

`<id>` is a party's registry id (`parties.id`); the answer is about that party's current
version (an older version's id names the same party). Ownership is reported per institution,
so the network is the one the party's institution reported. docs/ownership.md explains the
figures.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from flask import current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields, validate

from registry.api import blueprint
from registry.api.fields import RowId
from registry.auth import allow
from registry.limits import rate_limited
from registry.ownership.interests import DEFAULT_THRESHOLD
from registry.ownership.service import (
    EXPORT_TAG,
    HOLDINGS_TAG,
    OWNERS_TAG,
    OwnershipService,
    Question,
)


class OwnershipRequest(Schema):
    case_id = RowId(required=True)
    as_of = fields.Date(load_default=date.today)
    threshold = fields.Decimal(load_default=lambda: DEFAULT_THRESHOLD, places=None,
                               validate=validate.Range(0, 100, min_inclusive=False))


def _question(party_id: int) -> Question:
    args = OwnershipRequest().load(request.args)
    return Question(g.caller, args["case_id"], party_id, args["as_of"], Fraction(args["threshold"]),
                    request.remote_addr)


def _service() -> OwnershipService:
    return OwnershipService(current_app.extensions["registry"].session())


@blueprint.get("/entities/<int:party_id>/owners")
@allow("investigator")
@rate_limited(OWNERS_TAG)
def entity_owners(party_id: int) -> ResponseReturnValue:
    return jsonify(_service().owners(_question(party_id)))


@blueprint.get("/persons/<int:party_id>/holdings")
@allow("investigator")
@rate_limited(HOLDINGS_TAG)
def person_holdings(party_id: int) -> ResponseReturnValue:
    return jsonify(_service().holdings(_question(party_id)))


@blueprint.get("/parties/<int:party_id>/bods")
@allow("investigator")
@rate_limited(EXPORT_TAG)
def party_bods(party_id: int) -> ResponseReturnValue:
    return jsonify(_service().bods(_question(party_id)))
