"""International cooperation: record a request; statistics by offence, state, legal basis."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields, validate

from loaders.schemas import Country
from registry import audit
from registry.api import blueprint
from registry.auth import allow, audit_fields
from registry.cooperation import CooperationService, Period
from registry.models import OFFENCES
from registry.models.access import ASSISTANCE_TYPES, COOPERATION_BASES


class CooperationRequestSchema(Schema):
    direction = fields.String(required=True, validate=validate.OneOf(("received", "sent")))
    counterpart_state = Country(required=True)
    assistance_type = fields.String(required=True, validate=validate.OneOf(ASSISTANCE_TYPES))
    legal_basis = fields.String(required=True, validate=validate.OneOf(COOPERATION_BASES))
    offence = fields.String(required=True, validate=validate.OneOf(OFFENCES))
    case_id = fields.Integer(load_default=None)
    received_on = fields.Date(required=True)
    acknowledged_on = fields.Date(load_default=None)
    executed_on = fields.Date(load_default=None)
    refused_on = fields.Date(load_default=None)
    refusal_reason = fields.String(load_default=None, validate=validate.Length(max=2000))
    confidential = fields.Boolean(load_default=True)


class PeriodSchema(Schema):
    direction = fields.String(load_default=None, validate=validate.OneOf(("received", "sent")))
    since = fields.Date(load_default=None, data_key="from")
    until = fields.Date(load_default=None, data_key="to")


@blueprint.post("/cooperation/requests")
@allow("supervisor")
def create_cooperation_request() -> ResponseReturnValue:
    values: dict[str, Any] = CooperationRequestSchema().load(request.get_json(silent=True) or {})
    session = current_app.extensions["registry"].session()
    created = CooperationService(session).add(values)
    audit.record(session, "cooperation:request:create", "ok", **audit_fields(g.caller),
                 case_id=created.case_id, parameters={"id": created.id, "direction": created.direction,
                                                      "state": created.counterpart_state})
    return jsonify({"id": created.id}), 201


@blueprint.get("/statistics/cooperation")
@allow("supervisor", "auditor", "administrator")
def cooperation_statistics() -> ResponseReturnValue:
    period = Period(**PeriodSchema().load(request.args.to_dict()))
    return jsonify(CooperationService(current_app.extensions["registry"].session()).statistics(period))
