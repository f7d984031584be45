"""GET /api/v1/openapi.json: the OpenAPI 3 document of every /api/v1 endpoint.

Generated from the app itself, so it cannot drift: the URL map gives the paths and methods,
each view's docstring the summary, its `@allow` declaration the callers, and the marshmallow
schemas named by `@request_body` and `@response_body` the request body and the answer
(through apispec's marshmallow plugin).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any, TypeVar

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from marshmallow import Schema
from werkzeug.routing import Rule

from registry.api import blueprint
from registry.auth import INSTITUTION, PUBLIC, allow, declared_callers

F = TypeVar("F", bound=Callable[..., Any])
API_PREFIX = "/api/v1/"
OPENAPI_VERSION = "3.0.3"
# werkzeug's <converter(args):name>, or <name>.
RULE_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
CONVERTER_TYPES = {"int": "integer", "float": "number"}
PROBLEM = {"type": "object", "description": "RFC 9457 problem details (application/problem+json)",
           "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                          "status": {"type": "integer"}, "detail": {"type": "string"},
                          "errors": {"type": "object", "description": "field -> messages (422)"}}}
REFUSALS = {"401": "no or an unknown, expired or revoked credential",
            "403": "a caller this endpoint does not allow, a case you may not work under, or a "
                   "name marked sensitive that no supervisor approved under the case",
            "422": "invalid input; `errors` names each field"}
USERS = ("investigator", "supervisor", "auditor", "administrator")


def request_body(schema: type[Schema]) -> Callable[[F], F]:
    """Name the marshmallow schema a view loads its JSON body with, for the document."""
    def mark(view: F) -> F:
        view.request_schema = schema  # type: ignore[attr-defined]
        return view

    return mark


def response_body(schema: type[Schema]) -> Callable[[F], F]:
    """Name the marshmallow schema of a view's 200 answer, for the document."""
    def mark(view: F) -> F:
        view.response_schema = schema  # type: ignore[attr-defined]
        return view

    return mark


@blueprint.get("/openapi.json")
@allow(*USERS)
def openapi_document() -> ResponseReturnValue:
    """The OpenAPI 3 document of this API (any signed-in user; institutions use the extract format)."""
    return jsonify(build_document(current_app))


def build_document(app: Flask) -> dict[str, Any]:
    spec = APISpec(title="Account and beneficial-ownership registry", version="1",
                   openapi_version=OPENAPI_VERSION, plugins=[MarshmallowPlugin()],
                   info={"description": "Every endpoint names who may call it; see docs/search.md "
                                        "for the search endpoints."})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Problem", PROBLEM)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.rule.startswith(API_PREFIX):
            view = app.view_functions[rule.endpoint]
            spec.path(path=RULE_ARGUMENT.sub(r"{\g<name>}", rule.rule),
                      parameters=_path_parameters(rule), operations=_operations(rule, view))
    return spec.to_dict()


def _path_parameters(rule: Rule) -> list[dict[str, Any]]:
    return [{"name": m["name"], "in": "path", "required": True,
             "schema": {"type": CONVERTER_TYPES.get(m["converter"] or "", "string")}}
            for m in RULE_ARGUMENT.finditer(rule.rule)]


def _operations(rule: Rule, view: Callable[..., Any]) -> dict[str, Any]:
    methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    return {m.lower(): _operation(rule, view, m, len(methods) > 1) for m in methods}


def _operation(rule: Rule, view: Callable[..., Any], method: str, several: bool) -> dict[str, Any]:
    callers = declared_callers(view) or frozenset()
    doc = inspect.getdoc(view) or rule.endpoint.partition(".")[2].replace("_", " ").capitalize()
    summary, _, rest = doc.partition("\n")
    operation: dict[str, Any] = {
        "operationId": rule.endpoint + (f"_{method.lower()}" if several else ""),
        "summary": summary.strip(),
        "description": "\n\n".join(p for p in (rest.strip(), _who(callers)) if p),
        "tags": [rule.rule[len(API_PREFIX):].split("/")[0]],
        "responses": {"200": {"description": "done"}},
    }
    if PUBLIC in callers:
        operation["security"] = []
    else:
        operation["security"] = [{"bearer": []}]
        operation["responses"].update(_problems(REFUSALS))
    if getattr(view, "rate_limit_tag", None):
        operation["responses"].update(_problems({
            "429": "the search rate limit (per user or per case) is used up; see Retry-After",
            "503": "the rate-limit store is unreachable, so nothing was searched"}))
    schema = getattr(view, "request_schema", None)
    if schema is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    answer = getattr(view, "response_schema", None)
    if answer is not None:
        operation["responses"]["200"]["content"] = {"application/json": {"schema": answer}}
    return operation


def _who(callers: frozenset[str]) -> str:
    if PUBLIC in callers:
        return "Callers: anyone, without credentials."
    names = ["a reporting institution's API key" if c == INSTITUTION else c for c in sorted(callers)]
    return "Callers: " + ", ".join(names) + " (bearer token, or the session cookie of a signed-in user)."


def _problems(statuses: dict[str, str]) -> dict[str, Any]:
    return {code: {"description": why, "content": {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        for code, why in statuses.items()}
