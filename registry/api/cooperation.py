"""International cooperation: record a request, list and read them, record its progress
(acknowledged, executed, refused with a reason); statistics by offence, state, legal basis.

Requests are confidential (a requesting state may ask for it), so each read is audited too.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields, post_load, validate

from loaders.schemas import Country
from registry import audit
from registry.api import blueprint
from registry.api.fields import RowId
from registry.models.base import MAX_ROW_ID
from registry.auth import allow, audit_fields
from registry.cooperation import STATUSES, CooperationService, Period, RequestFilter, Scope, request_json
from registry.models import OFFENCES, User
from registry.models.access import ASSISTANCE_TYPES, COOPERATION_BASES


class CooperationRequestSchema(Schema):
    direction = fields.String(required=True, validate=validate.OneOf(("received", "sent")))
    counterpart_state = Country(required=True)
    assistance_type = fields.String(required=True, validate=validate.OneOf(ASSISTANCE_TYPES))
    legal_basis = fields.String(required=True, validate=validate.OneOf(COOPERATION_BASES))
    offence = fields.String(required=True, validate=validate.OneOf(OFFENCES))
    case_id = RowId(load_default=None)
    received_on = fields.Date(required=True)
    acknowledged_on = fields.Date(load_default=None)
    executed_on = fields.Date(load_default=None)
    refused_on = fields.Date(load_default=None)
    refusal_reason = fields.String(load_default=None, validate=validate.Length(max=2000))
    confidential = fields.Boolean(load_default=True)


class ProgressSchema(Schema):
    """Only what happens to a request after it is entered; null clears a mistaken date."""

    acknowledged_on = fields.Date(allow_none=True)
    executed_on = fields.Date(allow_none=True)
    refused_on = fields.Date(allow_none=True)
    refusal_reason = fields.String(allow_none=True, validate=validate.Length(min=3, max=2000))


class RequestFilterSchema(Schema):
    direction = fields.String(load_default=None, validate=validate.OneOf(("received", "sent")))
    state = Country(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    case_id = RowId(load_default=None)
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))
    after_id = fields.Integer(load_default=None, validate=validate.Range(0, MAX_ROW_ID))

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> tuple[RequestFilter, int, int | None]:
        limit, after_id = data.pop("limit"), data.pop("after_id")
        return RequestFilter(**data), limit, after_id


class PeriodSchema(Schema):
    direction = fields.String(load_default=None, validate=validate.OneOf(("received", "sent")))
    since = fields.Date(load_default=None, data_key="from")
    until = fields.Date(load_default=None, data_key="to")


@blueprint.post("/cooperation/requests")
@allow("supervisor")
def create_cooperation_request() -> ResponseReturnValue:
    values: dict[str, Any] = CooperationRequestSchema().load(request.get_json(silent=True) or {})
    session = current_app.extensions["registry"].session()
    created = CooperationService(session, _scope()).add(values)
    audit.record(session, "cooperation:request:create", "ok", **audit_fields(g.caller),
                 case_id=created.case_id, parameters={"id": created.id, "direction": created.direction,
                                                      "state": created.counterpart_state})
    return jsonify({"id": created.id}), 201


@blueprint.get("/statistics/cooperation")
@allow("supervisor", "auditor", "administrator")
def cooperation_statistics() -> ResponseReturnValue:
    period = Period(**PeriodSchema().load(request.args.to_dict()))
    return jsonify(CooperationService(current_app.extensions["registry"].session()).statistics(period))


def _session() -> Any:
    return current_app.extensions["registry"].session()


def _scope() -> Scope:
    """Auditors oversee every request; a supervisor handles their own agency's."""
    if g.caller.role == "auditor":
        return Scope()
    user = _session().get(User, g.caller.id)
    return Scope(agency_id=user.agency_id if user is not None else None, every_agency=False)


@blueprint.get("/cooperation/requests")
@allow("supervisor", "auditor")
def list_cooperation_requests() -> ResponseReturnValue:
    flt, limit, after_id = RequestFilterSchema().load(request.args.to_dict())
    found = CooperationService(_session(), _scope()).list(flt, limit, after_id)
    audit.record(_session(), "cooperation:requests:query", "ok", **audit_fields(g.caller),
                 parameters={k: v for k, v in flt.__dict__.items() if v is not None},
                 result_count=len(found), result_ids=[str(r.id) for r in found])
    return jsonify({"requests": [request_json(r) for r in found],
                    "next_after_id": found[-1].id if len(found) == limit else None})


@blueprint.get("/cooperation/requests/<int:request_id>")
@allow("supervisor", "auditor")
def get_cooperation_request(request_id: int) -> ResponseReturnValue:
    found = CooperationService(_session(), _scope()).get(request_id)
    audit.record(_session(), "cooperation:request:view", "ok", **audit_fields(g.caller),
                 case_id=found.case_id, parameters={"id": request_id}, result_count=1,
                 result_ids=[str(found.id)])
    return jsonify(request_json(found))


@blueprint.patch("/cooperation/requests/<int:request_id>")
@allow("supervisor")
def update_cooperation_request(request_id: int) -> ResponseReturnValue:
    changes = ProgressSchema().load(request.get_json(silent=True) or {})
    service = CooperationService(_session(), _scope())
    changed = service.record_progress(request_id, changes)
    found = service.get(request_id)
    audit.record(_session(), "cooperation:request:update", "ok", **audit_fields(g.caller),
                 case_id=found.case_id, parameters={"id": request_id, "changed": changed})
    return jsonify(request_json(found))
