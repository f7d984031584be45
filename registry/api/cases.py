"""Cases, for supervisors (open, staff, close, approve sensitive searches) and the
investigators assigned to them (read):

    POST   /api/v1/cases                                   open a case of the supervisor's agency
    GET    /api/v1/cases[?status=open]                     the agency's (supervisor) or one's own cases
    GET    /api/v1/cases/<id>
    POST   /api/v1/cases/<id>/assignments                  {"user": NAME}
    DELETE /api/v1/cases/<id>/assignments/<user_id>
    POST   /api/v1/cases/<id>/close
    GET    /api/v1/cases/<id>/approvals
    POST   /api/v1/cases/<id>/approvals                    {"name": …, "reason": …}
    POST   /api/v1/cases/<id>/approvals/<approval_id>/withdraw
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields, post_load, validate

from loaders.schemas import Country
from registry.api import blueprint
from registry.auth import allow
from registry.cases import CaseService, NewCase, approval_json, case_json, requested_names
from registry.models import LEGAL_BASES, OFFENCES

READERS = ("supervisor", "investigator")
NAME = validate.Length(min=2, max=200)


class NewCaseSchema(Schema):
    reference = fields.String(required=True, validate=validate.Length(min=1, max=100))
    legal_basis = fields.String(required=True, validate=validate.OneOf(LEGAL_BASES))
    offence = fields.String(required=True, validate=validate.OneOf(OFFENCES))
    subjects = fields.List(fields.String(validate=NAME), load_default=list,
                           validate=validate.Length(max=100))
    requesting_state = Country(load_default=None)
    assign = fields.List(fields.String(validate=validate.Length(min=1, max=100)), load_default=list)

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> NewCase:
        return NewCase(**data)


class CaseListSchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(("open", "closed")))


class AssignmentSchema(Schema):
    user = fields.String(required=True, validate=validate.Length(min=1, max=100))


class ApprovalSchema(Schema):
    name = fields.String(required=True, validate=NAME)
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000))


def _service() -> CaseService:
    return CaseService(current_app.extensions["registry"].session(), g.caller, request.remote_addr)


def _body() -> dict[str, Any]:
    return request.get_json(silent=True) or {}


@blueprint.post("/cases")
@allow("supervisor")
def create_case() -> ResponseReturnValue:
    new: NewCase = NewCaseSchema().load(_body())
    service = _service()
    case = service.open(new)
    return jsonify(case_json(service, case, detail=True)), 201, {
        "Location": url_for("api.get_case", case_id=case.id)}


@blueprint.get("/cases")
@allow(*READERS)
def list_cases() -> ResponseReturnValue:
    args = CaseListSchema().load(request.args.to_dict())
    service = _service()
    return jsonify({"cases": [case_json(service, c) for c in service.list(args["status"])]})


@blueprint.get("/cases/<int:case_id>")
@allow(*READERS)
def get_case(case_id: int) -> ResponseReturnValue:
    service = _service()
    return jsonify(case_json(service, service.get(case_id), detail=True))


@blueprint.post("/cases/<int:case_id>/assignments")
@allow("supervisor")
def assign_investigator(case_id: int) -> ResponseReturnValue:
    args = AssignmentSchema().load(_body())
    assignment = _service().assign(case_id, args["user"])
    return jsonify({"case_id": case_id, "user_id": assignment.user_id, "user": args["user"]}), 201


@blueprint.delete("/cases/<int:case_id>/assignments/<int:user_id>")
@allow("supervisor")
def unassign_investigator(case_id: int, user_id: int) -> ResponseReturnValue:
    _service().unassign(case_id, user_id)
    return "", 204


@blueprint.post("/cases/<int:case_id>/close")
@allow("supervisor")
def close_case(case_id: int) -> ResponseReturnValue:
    service = _service()
    return jsonify(case_json(service, service.close(case_id)))


@blueprint.get("/cases/<int:case_id>/approvals")
@allow(*READERS)
def list_approvals(case_id: int) -> ResponseReturnValue:
    service = _service()
    case = service.get(case_id)
    found: dict[str, Any] = {"approvals": [approval_json(a) for a in service.approvals(case)]}
    if g.caller.role == "supervisor":
        # Not for the investigators: they were refused without being told the name.
        found["requested_names"] = requested_names(service.session, case)
    return jsonify(found)


@blueprint.post("/cases/<int:case_id>/approvals")
@allow("supervisor")
def approve_sensitive_search(case_id: int) -> ResponseReturnValue:
    args = ApprovalSchema().load(_body())
    return jsonify(approval_json(_service().approve(case_id, args["name"], args["reason"]))), 201


@blueprint.post("/cases/<int:case_id>/approvals/<int:approval_id>/withdraw")
@allow("supervisor")
def withdraw_approval(case_id: int, approval_id: int) -> ResponseReturnValue:
    return jsonify(approval_json(_service().withdraw(case_id, approval_id)))
