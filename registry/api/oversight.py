"""The audit log for auditors: events, CSV export, activity per user, flags, chain check.

Only auditors may call these; every read of the log is itself an audit event, so the
overseers are overseen too.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields, post_load, validate

from registry import audit
from registry.api import blueprint
from registry.api.fields import RowId
from registry.models.base import MAX_ROW_ID
from registry.auth import allow, audit_fields
from registry.oversight import EventFilter, OversightService


class EventFilterSchema(Schema):
    user = fields.String(load_default=None, validate=validate.Length(max=100))
    agency = fields.String(load_default=None, validate=validate.Length(max=200))
    case_id = RowId(load_default=None)
    since = fields.Date(load_default=None, data_key="from")
    until = fields.Date(load_default=None, data_key="to")
    name = fields.String(load_default=None, validate=validate.Length(min=2, max=200))
    identifier = fields.String(load_default=None, validate=validate.Length(min=2, max=200))
    tag = fields.String(load_default=None, validate=validate.Length(max=80))
    outcome = fields.String(load_default=None, validate=validate.Length(max=20))

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> EventFilter:
        return EventFilter(**data)


class EventPageSchema(EventFilterSchema):
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))
    after_id = fields.Integer(load_default=None, validate=validate.Range(0, MAX_ROW_ID))

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> tuple[EventFilter, int, int | None]:  # type: ignore[override]
        limit, after_id = data.pop("limit"), data.pop("after_id")
        return EventFilter(**data), limit, after_id


def _service() -> OversightService:
    ext = current_app.extensions["registry"]
    return OversightService(ext.session(), ext.settings.timezone, ext.settings.working_hours)


def _audited(tag: str, flt: EventFilter, count: int) -> None:
    audit.record(current_app.extensions["registry"].session(), tag, "ok",
                 **audit_fields(g.caller), parameters=flt.as_parameters(), result_count=count)


def _filter(schema: Schema) -> Any:
    return schema.load(request.args.to_dict())


@blueprint.get("/audit/events")
@allow("auditor")
def audit_events() -> ResponseReturnValue:
    flt, limit, after_id = _filter(EventPageSchema())
    events = _service().events(flt, limit, after_id)
    _audited("audit:events:query", flt, len(events))
    return jsonify({"events": events, "next_after_id": events[-1]["id"] if events else None})


@blueprint.get("/audit/events.csv")
@allow("auditor")
def audit_events_csv() -> ResponseReturnValue:
    flt = _filter(EventFilterSchema())
    text, rows, truncated = _service().export_csv(flt)
    _audited("audit:events:export", flt, rows)
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=audit-events.csv"
    response.headers["X-Truncated"] = "true" if truncated else "false"
    return response


@blueprint.get("/audit/activity")
@allow("auditor")
def audit_activity() -> ResponseReturnValue:
    flt = _filter(EventFilterSchema())
    rows = _service().activity(flt)
    _audited("audit:activity:query", flt, len(rows))
    return jsonify({"activity": rows})


@blueprint.get("/audit/flags")
@allow("auditor")
def audit_flags() -> ResponseReturnValue:
    flt = _filter(EventFilterSchema())
    found = _service().flags(flt)
    _audited("audit:flags:query", flt, len(found))
    return jsonify({"flags": [f.__dict__ for f in found]})


@blueprint.get("/audit/verify")
@allow("auditor")
def audit_verify() -> ResponseReturnValue:
    ext = current_app.extensions["registry"]
    result = audit.verify(ext.session(), ext.settings.audit_signing_key)
    audit.record(ext.session(), "audit:chain:verify", "ok" if result.ok else "broken",
                 **audit_fields(g.caller), result_count=result.events,
                 detail=result.broken.detail if result.broken else None)
    return jsonify(result.as_dict())
