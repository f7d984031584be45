"""Investigator pages: choose a case, search, a person's records, the ownership picture.

The case travels in the query string (`?case_id=`) of every look, as the rate limiter
reads it there; searches are POSTed, so searched names stay out of URLs, histories and
access logs.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any

from flask import Response, current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError
from werkzeug.exceptions import TooManyRequests

from registry.account_search import AccountSearchService
from registry.api.search import person_query
from registry import audit
from registry.auth import allow, caller_fields
from registry.cases import CaseService, case_json
from registry.entity_search import EntitySearchService
from registry.errors import Forbidden
from registry.limits import rate_limited
from registry.ownership.interests import DEFAULT_THRESHOLD
from registry.ownership.service import HOLDINGS_TAG, OWNERS_TAG, OwnershipService, Question
from registry.records import RECORD_TAG, RecordService
from registry.search_budget import RequestBudget
from registry.search_service import PersonSearchService
from registry.web import blueprint
from registry.web.charts import ownership_diagram, share_text
from registry.web.exports import EXPORT_TAG, SearchExport
from registry.web.forms import (
    AccountSearchForm,
    CaseArgs,
    EntitySearchForm,
    OwnershipArgs,
    PersonSearchForm,
    RecordArgs,
    filled,
    multi,
)
from registry.web.results import shown
from registry.web.services import party_ids
from registry.web.timeline import timeline
from search.queries import EntityQuery


def _ext() -> Any:
    return current_app.extensions["registry"]


def request_case_id() -> int:
    """The case named in the query string, where the rate limiter reads it too."""
    return int(CaseArgs().load(filled(request.args))["case_id"])


def case_heading() -> dict[str, Any]:
    """The case for the page's heading. Looks at the registry are refused (and the refusal
    audited) by the service they call, before this is asked."""
    service = CaseService(_ext().session(), g.caller)
    case = service.get(request_case_id())
    if case.status != "open":
        raise Forbidden("That case is closed: choose an open one.")
    return case_json(service, case)


@blueprint.get("/cases")
@allow("investigator")
def cases() -> ResponseReturnValue:
    service = CaseService(_ext().session(), g.caller)
    return render_template("cases.html", cases=[case_json(service, c) for c in service.list("open")])


KINDS = ("persons", "entities", "accounts")


def _page(kind: str, **values: Any) -> str:
    shown = {"form": request.form, "errors": {}, "results": None, **values}
    return render_template("search.html", case=case_heading(), kind=kind, kinds=KINDS, **shown)


@blueprint.get("/search")
@allow("investigator")
def search() -> ResponseReturnValue:
    kind = request.args.get("kind", "persons")
    return _page(kind if kind in KINDS else "persons", form={})


def _search_args(case_id: int) -> dict[str, Any]:
    return PersonSearchForm().load({**filled(request.form), "case_id": case_id})


@blueprint.post("/search")
@allow("investigator")
@rate_limited("search:person:query")
def search_submit() -> ResponseReturnValue:
    try:
        args = _search_args(request_case_id())
    except ValidationError as invalid:
        return _page("persons", errors=invalid.messages), 422
    service = PersonSearchService(_ext().session(), _ext().search)
    results = service.search(g.caller, args["case_id"], person_query(args), args["limit"], request.remote_addr)
    return _page("persons", results=shown(results), withheld=service.withheld)


@blueprint.post("/search/entities")
@allow("investigator")
@rate_limited("search:entity:query")
def search_entities() -> ResponseReturnValue:
    try:
        args = EntitySearchForm().load({**filled(request.form), "case_id": request_case_id()})
    except ValidationError as invalid:
        return _page("entities", errors=invalid.messages), 422
    query = EntityQuery(args["name"], args["registration_number"], args["lei"], args["country"],
                        args["as_of"])
    service = EntitySearchService(_ext().session(), _ext().search)
    results = service.search(g.caller, args["case_id"], query, args["limit"], request.remote_addr)
    return _page("entities", results=shown(results), withheld=service.withheld)


@blueprint.post("/search/accounts")
@allow("investigator")
@rate_limited("search:account:query")
def search_accounts() -> ResponseReturnValue:
    try:
        args = AccountSearchForm().load({**filled(request.form), "case_id": request_case_id()})
    except ValidationError as invalid:
        return _page("accounts", errors=invalid.messages), 422
    service = AccountSearchService(_ext().session())
    results = service.search(g.caller, args["case_id"], args["iban"], args["number"], args["as_of"],
                             request.remote_addr)
    return _page("accounts", accounts=results, withheld=service.withheld)


@blueprint.post("/search/export")
@allow("investigator")
@rate_limited(EXPORT_TAG)
def search_export() -> ResponseReturnValue:
    args = _search_args(request_case_id())
    text = SearchExport(_ext().session(), _ext().search).persons(
        g.caller, args["case_id"], person_query(args), args["limit"], request.remote_addr)
    response = Response(text, mimetype="text/csv", content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f"attachment; filename=search-case-{args['case_id']}.csv"
    return response


@blueprint.get("/person")
@allow("investigator")
@rate_limited(RECORD_TAG)
def person() -> ResponseReturnValue:
    """Every record of one human: those a search result merged (by registry id) or an
    account's holder (by "<institution id>:<ref>", until the account search gives ids)."""
    args = RecordArgs().load(multi(request.args, "record", "party"))
    service = RecordService(_ext().session())
    ids = [*args["party"], *party_ids(_ext().session(), args["record"])] or [0]
    wanted = list(dict.fromkeys(ids))
    _pay_for_views(args["case_id"], len(wanted))
    records = [service.party_record(g.caller, args["case_id"], party_id, request.remote_addr)
               for party_id in wanted]
    return render_template("person.html", case=case_heading(), records=records, timeline=timeline(records))


def _pay_for_views(case_id: int, views: int) -> None:
    """Each record shown is a record view and pays the rate limit as one in the API would:
    the request paid for the first, the rest are charged on the same keys before any is
    shown, so a refusal shows (and logs as seen) nothing."""
    budget = RequestBudget()
    if all(budget() for _ in range(views)):
        return
    audit.record(_ext().session(), RECORD_TAG, "rate_limited", **caller_fields(g.caller),
                 client_address=request.remote_addr, parameters={"case_id": case_id, "records": views},
                 detail=f"rate limit reached: {views} records asked at once")
    raise TooManyRequests(f"Showing these {views} records would pass your rate limit.",
                          retry_after=budget.retry_after())


def _question(args: dict[str, Any]) -> Question:
    threshold = args["threshold"] if args["threshold"] is not None else DEFAULT_THRESHOLD
    return Question(g.caller, args["case_id"], args["party"], args["as_of"] or date.today(),
                    Fraction(threshold), request.remote_addr)


@blueprint.get("/ownership/owners")
@allow("investigator")
@rate_limited(OWNERS_TAG)
def owners() -> ResponseReturnValue:
    args = OwnershipArgs().load(filled(request.args))
    answer = OwnershipService(_ext().session()).owners(_question(args))
    return _picture(case_heading(), answer, answer["subject"], answer["owners"], upward=True)


@blueprint.get("/ownership/holdings")
@allow("investigator")
@rate_limited(HOLDINGS_TAG)
def holdings() -> ResponseReturnValue:
    args = OwnershipArgs().load(filled(request.args))
    answer = OwnershipService(_ext().session()).holdings(_question(args))
    return _picture(case_heading(), answer, answer["holder"], answer["entities"], upward=False)


def _picture(case: dict[str, Any], answer: dict[str, Any], subject: dict[str, Any],
             listed: list[dict[str, Any]], upward: bool) -> ResponseReturnValue:
    parties = {subject["id"]: subject}
    parties.update({s["party"]["id"]: s["party"] for s in listed if s["party"].get("id") is not None})
    diagram = ownership_diagram(subject, parties, answer["interests"], upward)
    return render_template("ownership.html", case=case, answer=answer, subject=subject,
                           listed=listed, upward=upward, share_text=share_text, diagram=diagram)
