"""A batch of person searches on one page: up to 100 names pasted one per line (a birth date
may follow a semicolon), as a mutual-legal-assistance request lists them.

The same call as `POST /api/v1/search/persons/batch`: each name costs one search of the
caller's and the case's rate limits and is its own audit event. When the limit runs out the
rest are not run; the page says so, lists them ready to send again, and answers 429 with
Retry-After, as the API does.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from registry.auth import allow
from registry.limits import rate_limited
from registry.api.search import person_query
from registry.search_budget import RequestBudget
from registry.search_service import MAX_BATCH, TAG, PersonSearchService
from registry.web import blueprint
from registry.web.forms import BatchSearchForm
from registry.web.investigator import case_heading, request_case_id
from registry.web.results import shown
from search.queries import PersonQuery


def _page(status: int = 200, **values: Any) -> ResponseReturnValue:
    shown_values = {"form": request.form, "errors": {}, "answers": None, "not_run": "", **values}
    return render_template("batch.html", case=case_heading(), max_batch=MAX_BATCH,
                           **shown_values), status


@blueprint.get("/search/batch")
@allow("investigator")
def search_batch() -> ResponseReturnValue:
    return _page(form={})


def _line(query: PersonQuery) -> str:
    return f"{query.name}; {query.birth_date}" if query.birth_date else query.name


@blueprint.post("/search/batch")
@allow("investigator")
@rate_limited(TAG)
def search_batch_submit() -> ResponseReturnValue:
    try:
        args = BatchSearchForm.parse(request.form, request_case_id())
    except ValidationError as invalid:
        return _page(422, errors=invalid.messages)
    ext, budget = current_app.extensions["registry"], RequestBudget()
    queries = [person_query(q) for q in args["queries"]]
    outcome = PersonSearchService(ext.session(), ext.search).search_batch(
        g.caller, args["case_id"], queries, args["limit"], request.remote_addr, budget)
    answers = [{**a, "rows": shown(a["results"])} for a in outcome.answers]
    if not outcome.not_run:
        return _page(answers=answers)
    wait = budget.retry_after()
    body, status = _page(429, answers=answers, total=len(queries), retry_after=wait,
                         not_run="\n".join(_line(queries[i]) for i in outcome.not_run))
    return body, status, {"Retry-After": str(wait)}
