"""Supervisors' pages: the agency's cases, opening and closing them, their investigators, and
the approvals a search for a name marked sensitive needs; and the cooperation statistics.

Every change is a `registry.cases.CaseService` call, as through the API, so the same rules
hold (only the supervisor's own agency, only its active investigators, an MLA request names
its requesting state) and the same audit events are written. Changes answer with a redirect
to the case (post/redirect/get) and a one-line message; a refused change is said there too.
Administrators see the list, as oversight of the registry, but change no case.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from registry.api.cooperation import PeriodSchema
from registry.auth import allow
from registry.cases import CaseService, approval_json, case_json
from registry.cooperation import CooperationService, Period
from registry.errors import Conflict, InvalidRequest
from registry.models import LEGAL_BASES, OFFENCES
from registry.web import blueprint
from registry.web.charts import bar_chart
from registry.web.forms import ApprovalForm, AssignmentForm, NewCaseForm, error_text, filled

SUPERVISION = ("supervisor", "administrator")
# What a supervisor can put right on the same page; refusals (another agency's case) and
# unknown cases are error pages instead.
CORRECTABLE = (Conflict, InvalidRequest, ValidationError)


def _db() -> Any:
    return current_app.extensions["registry"].session()


def _cases() -> CaseService:
    return CaseService(_db(), g.caller, request.remote_addr)


@blueprint.get("/supervision/cases")
@allow(*SUPERVISION)
def supervision_cases() -> ResponseReturnValue:
    return render_template("supervision_cases.html", cases=_cases().overview())


def _new_case_page(errors: dict[str, Any] | None = None, problem: str | None = None) -> str:
    return render_template("case_new.html", form=request.form, errors=errors or {}, problem=problem,
                           legal_bases=LEGAL_BASES, offences=OFFENCES)


@blueprint.get("/supervision/cases/new")
@allow("supervisor")
def case_new() -> ResponseReturnValue:
    return _new_case_page()


@blueprint.post("/supervision/cases/new")
@allow("supervisor")
def case_open() -> ResponseReturnValue:
    try:
        case = _cases().open(NewCaseForm.parse(request.form))
    except ValidationError as invalid:
        return _new_case_page(errors=invalid.messages), 422
    except (Conflict, InvalidRequest) as refused:
        return _new_case_page(problem=refused.detail), refused.status
    flash(f"Case {case.reference} is open. Assign its investigators below.")
    return redirect(url_for("web.supervision_case", case_id=case.id), 303)


@blueprint.get("/supervision/cases/<int:case_id>")
@allow("supervisor")
def supervision_case(case_id: int) -> ResponseReturnValue:
    service = _cases()
    case = service.get(case_id)
    shown = case_json(service, case, detail=True)
    return render_template("supervision_case.html", case=shown,
                           investigators=service.investigators(case) if case.status == "open" else [])


def _change(case_id: int, act: Callable[[CaseService], str]) -> ResponseReturnValue:
    try:
        flash(act(_cases()))
    except CORRECTABLE as refused:
        flash(error_text(refused), "error")
    return redirect(url_for("web.supervision_case", case_id=case_id), 303)


@blueprint.post("/supervision/cases/<int:case_id>/assignments")
@allow("supervisor")
def case_assign(case_id: int) -> ResponseReturnValue:
    def act(service: CaseService) -> str:
        user = AssignmentForm().load(filled(request.form))["user"]
        service.assign(case_id, user)
        return f"{user} is assigned to the case."
    return _change(case_id, act)


@blueprint.post("/supervision/cases/<int:case_id>/assignments/<int:user_id>/remove")
@allow("supervisor")
def case_unassign(case_id: int, user_id: int) -> ResponseReturnValue:
    def act(service: CaseService) -> str:
        service.unassign(case_id, user_id)
        return "The investigator is no longer assigned to the case."
    return _change(case_id, act)


@blueprint.post("/supervision/cases/<int:case_id>/close")
@allow("supervisor")
def case_close(case_id: int) -> ResponseReturnValue:
    def act(service: CaseService) -> str:
        case = service.close(case_id)
        return f"Case {case.reference} is closed: no search may name it any more."
    return _change(case_id, act)


@blueprint.post("/supervision/cases/<int:case_id>/approvals")
@allow("supervisor")
def case_approve(case_id: int) -> ResponseReturnValue:
    def act(service: CaseService) -> str:
        args = ApprovalForm().load(filled(request.form))
        shown = approval_json(service.approve(case_id, args["name"], args["reason"]))
        return f"Searching for {shown['name']} is approved under this case."
    return _change(case_id, act)


@blueprint.post("/supervision/cases/<int:case_id>/approvals/<int:approval_id>/withdraw")
@allow("supervisor")
def case_withdraw(case_id: int, approval_id: int) -> ResponseReturnValue:
    def act(service: CaseService) -> str:
        return f"The approval for {service.withdraw(case_id, approval_id).name} is withdrawn."
    return _change(case_id, act)


@blueprint.get("/cooperation")
@allow("supervisor", "auditor", "administrator")
def cooperation() -> ResponseReturnValue:
    args = PeriodSchema().load(filled(request.args))
    stats = CooperationService(_db()).statistics(Period(**args))
    charts = [bar_chart(title, ((key, row["total"]) for key, row in stats[group].items()))
              for group, title in (("by_state", "Requests by state"),
                                   ("by_offence", "Requests by offence"),
                                   ("by_legal_basis", "Requests by legal basis"))]
    return render_template("cooperation.html", stats=stats, charts=charts, filters=filled(request.args))
