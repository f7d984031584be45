"""Domain errors and their JSON problem (RFC 9457) rendering, in one table."""

from __future__ import annotations

from typing import Any

from elasticsearch import NotFoundError, TransportError
from flask import Flask, Response, jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException


class RegistryError(Exception):
    """Base of the errors a user may see; `status` and `title` become the problem."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(RegistryError):
    status = 404
    title = "Not found"


class Forbidden(RegistryError):
    status = 403
    title = "Forbidden"


class Unauthorized(RegistryError):
    status = 401
    title = "Authentication required"


class Conflict(RegistryError):
    status = 409
    title = "Conflict"


class InvalidRequest(RegistryError):
    """Well-formed but not acceptable: a date before another, a reason missing."""

    status = 422
    title = "Invalid request"


class Unavailable(RegistryError):
    status = 503
    title = "Service unavailable"


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def search_unavailable(app: Flask, error: Exception) -> Unavailable:
    """What the API and the pages say when Elasticsearch fails a search: nothing was
    searched, and why, instead of an internal error."""
    if isinstance(error, NotFoundError):
        # The only index the app reads is the parties alias: missing means never built.
        app.logger.error("search index missing: %s", error)
        return Unavailable("Search is unavailable: the search index has not been built. "
                           "An administrator runs `registry index rebuild`.")
    app.logger.warning("elasticsearch unreachable: %s", error)
    return Unavailable("Search is unavailable: Elasticsearch cannot be reached. Nothing was "
                       "searched; try again shortly.")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(RegistryError)
    def _registry_error(error: RegistryError) -> Response:
        return problem(error.status, error.title, error.detail, **error.extra)

    @app.errorhandler(ValidationError)
    def _validation_error(error: ValidationError) -> Response:
        return problem(422, "Invalid request", "Some fields are invalid", errors=error.messages)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        response = problem(error.code or 500, error.name, error.description)
        for header in ("Retry-After", "Allow"):
            if error.get_response().headers.get(header):
                response.headers[header] = error.get_response().headers[header]
        return response

    @app.errorhandler(TransportError)
    @app.errorhandler(NotFoundError)
    def _search_failed(error: Exception) -> Response:
        failure = search_unavailable(app, error)
        return problem(failure.status, failure.title, failure.detail)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        # The trace goes to the log, never to the user.
        app.logger.exception("unhandled error", exc_info=error)
        return problem(500, "Internal error", "The registry hit an unexpected error; it is logged.")
