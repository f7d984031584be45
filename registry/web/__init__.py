"""The pages: server-rendered, thin views over the same services as the JSON API.

Every page declares its callers with `@allow`, like every API endpoint. Signed-in pages use
the session cookie; every form carries the session's CSRF token (checked in `registry.auth`
for every request that changes something). Errors are rendered as pages here, not as JSON
problems, because a person reads them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from elasticsearch import NotFoundError, TransportError
from flask import Blueprint, Response, current_app, g, render_template, send_from_directory, session
from flask.typing import ResponseReturnValue
from limits.errors import StorageError
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from registry.auth import PUBLIC, allow
from registry.errors import RegistryError, Unauthorized, search_unavailable
from registry.limits import STORAGE_REFUSAL, UNAVAILABLE_RETRY_SECONDS, refuse_without_storage

STATIC = Path(__file__).parent / "static"
blueprint = Blueprint("web", __name__, template_folder="templates")


@blueprint.get("/assets/<path:filename>")
@allow(PUBLIC)
def asset(filename: str) -> ResponseReturnValue:
    # Shipped inside the package: the pages never load anything from another site.
    return send_from_directory(STATIC, filename, max_age=3600)


@blueprint.app_template_global()
def csrf_token() -> str:
    return str(session.get("csrf", ""))


@blueprint.context_processor
def _caller() -> dict[str, Any]:
    return {"caller": g.get("caller"), "signed_in": _signed_in()}


def _signed_in() -> dict[str, str] | None:
    """Who the cookie says is signed in, for the navigation on public pages too."""
    if session.get("uid") is None and session.get("inst") is None:
        return None
    return {"name": str(session.get("name", "")), "role": str(session.get("role", ""))}


def _page(status: int, title: str, detail: str, errors: Any = None) -> Response:
    body = render_template("error.html", status=status, title=title, detail=detail, errors=errors)
    return Response(body, status=status, mimetype="text/html")


@blueprint.errorhandler(Unauthorized)
def _unauthorized(error: Unauthorized) -> Response:
    body = render_template("signin_needed.html", detail=error.detail)
    return Response(body, status=401, mimetype="text/html")


@blueprint.errorhandler(RegistryError)
def _registry_error(error: RegistryError) -> Response:
    return _page(error.status, error.title, error.detail)


@blueprint.errorhandler(ValidationError)
def _invalid(error: ValidationError) -> Response:
    return _page(422, "Some fields are invalid", "Correct them and try again.", error.messages)


@blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    response = _page(error.code or 500, error.name, error.description or "")
    # A rate-limited search says when to try again, on a page as in the API.
    retry = error.get_response().headers.get("Retry-After")
    if retry:
        response.headers["Retry-After"] = retry
    return response


@blueprint.errorhandler(TransportError)
@blueprint.errorhandler(NotFoundError)
def _search_failed(error: Exception) -> Response:
    failure = search_unavailable(current_app, error)  # type: ignore[arg-type]
    return _page(failure.status, failure.title, failure.detail)


@blueprint.errorhandler(StorageError)
def _limits_unreachable(error: StorageError) -> Response:
    # Fail closed on a page as in the API: refused, audited, and said so, not a 500.
    refuse_without_storage(error)
    response = _page(503, "Service unavailable", STORAGE_REFUSAL)
    response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_SECONDS)
    return response


@blueprint.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    # The trace goes to the log, never to the page.
    current_app.logger.exception("unhandled error on a page", exc_info=error)
    return _page(500, "Internal error", "The registry hit an unexpected error; it is logged.")


from registry.web import (  # noqa: E402,F401
    access,
    administration,
    bank,
    batch,
    investigator,
    oversight,
    supervision,
)
