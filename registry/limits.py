"""Search rate limits: per user and per case, counted in Redis so that every worker process
shares one budget.

Views opt in with `@rate_limited("search:person:query")`; the tag names the audit event a
breach or a refusal writes, the same tag the search itself writes, so a look at the
registry is exactly one event whatever its outcome.

Fail closed: the limiter is built without `swallow_errors`, and with the storage's errors
wrapped, so an unreachable Redis raises `StorageError`, which becomes a 503. A search is
never served without its limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limit, Limiter, RequestLimit
from limits.errors import StorageError
from sqlalchemy.orm import Session

from registry import audit
from registry.auth import audit_fields
from registry.errors import problem
from registry.models import Case
from registry.models.base import MAX_ROW_ID

F = TypeVar("F", bound=Callable[..., Any])
USER_SCOPE = "search-user"
CASE_SCOPE = "search-case"
# How long a client should wait before trying again while Redis is away.
UNAVAILABLE_RETRY_SECONDS = 30


def rate_limited(tag: str) -> Callable[[F], F]:
    """Put a view under the per-user and per-case search limits."""
    def mark(view: F) -> F:
        view.rate_limit_tag = tag  # type: ignore[attr-defined]
        return view

    return mark


def limited_tag() -> str | None:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "rate_limit_tag", None)


def _exempt() -> bool:
    # Only a signed-in caller reaches a limited view; public and refused requests are not counted.
    return limited_tag() is None or g.get("caller") is None


def requested_case_id() -> int | None:
    """The case a search names, read where its view reads it: an API search's JSON body,
    otherwise (pages, GETs) the query string. Read anywhere else, a request could pay under
    one case and search under another: a GET with a JSON body naming any number escaped the
    case's limit."""
    body = request.get_json(silent=True) if request.method == "POST" and request.is_json else None
    source = body if isinstance(body, dict) else request.args
    try:
        case_id = int(source.get("case_id"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return case_id if 0 < case_id <= MAX_ROW_ID else None


def _user_key() -> str:
    return f"user:{g.caller.id}"


def _case_key() -> str:
    # Requests that name no valid case share one bucket: they are refused anyway, but still
    # counted, so guessing case ids is slowed down too.
    case_id = requested_case_id()
    return f"case:{case_id if case_id is not None else 'none'}"


def _settings() -> Any:
    return current_app.extensions["registry"].settings


def _user_limit() -> str:
    caller = g.get("caller")
    return caller.rate_limit if caller is not None and caller.rate_limit else _settings().search_rate_limit


def _case_limit() -> str:
    return str(_settings().case_rate_limit)


def _case_fields(db: Session) -> dict[str, Any]:
    case_id = requested_case_id()
    case = db.get(Case, case_id) if case_id is not None else None
    return {"case_id": case.id, "legal_basis": case.legal_basis} if case else {}


def _on_breach(limit: RequestLimit) -> None:
    """Every breach is an audit event, committed with the 429 (status < 500 commits)."""
    db = current_app.extensions["registry"].session()
    per = "case" if CASE_SCOPE in limit.key else "user"
    audit.record(db, limited_tag() or "search:unknown:query", "rate_limited",
                 **audit_fields(g.get("caller")), **_case_fields(db),
                 parameters={"limit": str(limit.limit), "per": per, "case_id": requested_case_id()},
                 detail=f"rate limit {limit.limit} per {per} exceeded")


STORAGE_REFUSAL = ("Searches are refused while the rate-limit store (Redis) cannot be reached; "
                   "nothing was searched.")


def refuse_without_storage(error: StorageError) -> None:
    """Audit the refusal in a transaction of its own (the request's rolls back); the API and
    the pages then each answer 503 with STORAGE_REFUSAL."""
    current_app.logger.error("rate-limit storage unreachable: %s", error)
    _audit_alone("unavailable", "refused: the rate-limit store is unreachable")


def _audit_alone(outcome: str, detail: str) -> None:
    """One event for this lookup, in a transaction of its own: the request's rolls back."""
    ext = current_app.extensions["registry"]
    request_session: Session | None = g.pop("db_session", None)
    if request_session is not None:  # release anything it holds (the chain's lock) first
        request_session.rollback()
        request_session.close()
    with ext.session_factory() as own:
        audit.record(own, limited_tag() or "search:unknown:query", outcome,
                     **audit_fields(g.get("caller")), **_case_fields(own),
                     parameters={"case_id": requested_case_id()}, detail=detail)
        own.commit()
    g.lookup_audited = True


def _audit_unanswered(response: Response) -> Response:
    """A lookup that failed (Elasticsearch away, an internal error) is still a look at the
    registry, audited like any other, though its own transaction rolled back."""
    if (response.status_code >= 500 and limited_tag() is not None and g.get("caller") is not None
            and not g.get("lookup_audited")):
        outcome = "unavailable" if response.status_code == 503 else "failed"
        _audit_alone(outcome, f"not answered: the registry answered {response.status_code}")
    return response


def _storage_unavailable(error: StorageError) -> Response:
    refuse_without_storage(error)
    response = problem(503, "Service unavailable", STORAGE_REFUSAL)
    response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_SECONDS)
    return response


def install(app: Flask) -> Limiter:
    """Build the limiter on the app's Redis connection pool. Call after `auth.install`: the
    limiter's check must run after the caller is known, and Flask runs them in order."""
    ext = app.extensions["registry"]
    limits = [Limit(_user_limit, key_function=_user_key, scope=USER_SCOPE, shared=True,
                    exempt_when=_exempt),
              Limit(_case_limit, key_function=_case_key, scope=CASE_SCOPE, shared=True,
                    exempt_when=_exempt)]
    limiter = Limiter(
        _user_key, default_limits=limits, storage_uri=ext.settings.redis_url,
        storage_options={"connection_pool": ext.redis.connection_pool, "wrap_exceptions": True},
        # A moving window: "30 per minute" holds for any 60 seconds, not per clock minute.
        strategy="moving-window", headers_enabled=True, on_breach=_on_breach,
        # Each test run and each deployment counts in its own keys.
        key_prefix=ext.settings.index_prefix,
        swallow_errors=False,  # fail closed
    )
    limiter.init_app(app)
    app.register_error_handler(StorageError, _storage_unavailable)
    app.after_request(_audit_unanswered)
    return limiter
