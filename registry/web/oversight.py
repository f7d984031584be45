"""Auditor pages: the log with filters, flags with their reasons, activity charts, the
chain's verification. Every read of the log is itself an audit event, as in the API; the
filters are the API's, and the CSV link is the API's export with the same filters.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask import current_app, g, render_template, request
from flask.typing import ResponseReturnValue

from registry import audit
from registry.api.oversight import EventFilterSchema, EventPageSchema
from registry.auth import allow, audit_fields
from registry.oversight import EventFilter, OversightService
from registry.web import blueprint
from registry.web.charts import bar_chart
from registry.web.forms import filled

AUDITOR = "auditor"
PAGE = 50


def _service() -> OversightService:
    ext = current_app.extensions["registry"]
    return OversightService(ext.session(), ext.settings.timezone, ext.settings.working_hours)


def _audited(tag: str, flt: EventFilter, count: int) -> None:
    audit.record(current_app.extensions["registry"].session(), tag, "ok",
                 **audit_fields(g.caller), parameters=flt.as_parameters(), result_count=count)


def _filters() -> dict[str, str]:
    return filled(request.args)


@blueprint.get("/audit")
@allow(AUDITOR)
def audit_log() -> ResponseReturnValue:
    args = _filters()
    flt, _, after_id = EventPageSchema().load({**args, "limit": PAGE})
    events = _service().events(flt, PAGE, after_id)
    _audited("audit:events:query", flt, len(events))
    plain = {k: v for k, v in args.items() if k != "after_id"}
    return render_template("audit_log.html", events=events, filters=plain,
                           next_after_id=events[-1]["id"] if len(events) == PAGE else None)


@blueprint.get("/audit/flags")
@allow(AUDITOR)
def audit_flags() -> ResponseReturnValue:
    args = _filters()
    flt = EventFilterSchema().load(args)
    found = _service().flags(flt)
    _audited("audit:flags:query", flt, len(found))
    return render_template("audit_flags.html", flags=found, filters=args)


@blueprint.get("/audit/activity")
@allow(AUDITOR)
def audit_activity() -> ResponseReturnValue:
    args = _filters()
    flt = EventFilterSchema().load(args)
    rows = _service().activity(flt)
    _audited("audit:activity:query", flt, len(rows))
    return render_template("audit_activity.html", charts=_per_user(rows), rows=rows, filters=args)


def _per_user(rows: list[dict[str, Any]]) -> list[Any]:
    by_user: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for row in rows:
        by_user[row["user"] or "(unknown)"].append((row["day"][5:], row["searches"]))
    return [bar_chart(f"Searches per day: {user}", days) for user, days in sorted(by_user.items())]


@blueprint.get("/audit/verify")
@allow(AUDITOR)
def audit_verify() -> ResponseReturnValue:
    ext = current_app.extensions["registry"]
    result = audit.verify(ext.session(), ext.settings.audit_signing_key)
    audit.record(ext.session(), "audit:chain:verify", "ok" if result.ok else "broken",
                 **audit_fields(g.caller), result_count=result.events,
                 detail=result.broken.detail if result.broken else None)
    return render_template("audit_verify.html", result=result)
