"""Every endpoint declares who may call it; a request is checked before its view runs.

Declarations: `@allow("public")`, `@allow("institution")` (a reporting institution's API
key) or `@allow("investigator", "supervisor", ...)` (a user's bearer token, or the session
cookie set by `POST /api/v1/session` or the sign-in page). A bank signed in on its pages with
its API key holds a session cookie too, as an institution caller. An endpoint with no declaration is refused, and a
test walks the URL map to keep it that way. Every refusal here is an audit event.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from flask import Flask, current_app, g, request, session
from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from registry import audit
from registry.credentials import csrf_matches, is_locked, new_csrf_token
from registry.errors import Forbidden, Unauthorized
from registry.models import Agency, ApiToken, Institution, User
from registry.models.access import EndedSession

PUBLIC = "public"
INSTITUTION = "institution"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
F = TypeVar("F", bound=Callable[..., Any])


def allow(*callers: str) -> Callable[[F], F]:
    def mark(view: F) -> F:
        view.allowed_callers = frozenset(callers)  # type: ignore[attr-defined]
        return view

    return mark


def declared_callers(view: Callable[..., Any]) -> frozenset[str] | None:
    return getattr(view, "allowed_callers", None)


def hash_secret(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_secret(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


@dataclass(frozen=True)
class Caller:
    kind: str  # "user" or "institution"
    id: int
    name: str
    role: str
    agency: str | None = None
    # The user's own search rate limit, when an administrator set one.
    rate_limit: str | None = None


def caller_fields(caller: Caller | None) -> dict[str, Any]:
    """Who did it, as every audit event records it."""
    if caller is None:
        return {}
    fields: dict[str, Any] = {"user_id": caller.id} if caller.kind == "user" else {}
    return {**fields, "actor": caller.name, "role": caller.role, "agency": caller.agency}


def audit_fields(caller: Caller | None) -> dict[str, Any]:
    """Who did it and from where, for events written while answering a request."""
    return {**caller_fields(caller), "client_address": request.remote_addr}


def _user_query() -> Any:
    return select(User, Agency.name).outerjoin(Agency, Agency.id == User.agency_id)


def user_caller(user: User, agency: str | None) -> Caller:
    return Caller("user", user.id, user.name, user.role, agency, user.rate_limit)


# Built once, with only the columns a Caller holds: every API request runs it.
_TOKEN_CALLER = (
    select(User.id, User.name, User.role, Agency.name, User.rate_limit)
    .outerjoin(Agency, Agency.id == User.agency_id)
    .join(ApiToken, ApiToken.user_id == User.id).where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        ApiToken.expires_at > bindparam("now"),
        User.active.is_(True),
    ))


def _token_caller(db: Session, token: str) -> Caller | None:
    # On the session's connection: plain rows need none of the ORM session's bookkeeping.
    row = db.connection().execute(_TOKEN_CALLER, {"token_hash": hash_secret(token),
                                                  "now": datetime.now(UTC)}).first()
    return Caller("user", *row) if row else None


def _institution_caller(db: Session, token: str) -> Caller | None:
    row = db.execute(
        select(Institution).where(Institution.api_key_hash == hash_secret(token))
    ).scalar_one_or_none()
    return Caller("institution", row.id, row.code, INSTITUTION) if row else None


def _bearer_caller(db: Session, header: str) -> Caller:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send 'Authorization: Bearer <token>'.")
    caller = _token_caller(db, token.strip()) or _institution_caller(db, token.strip())
    if caller is None:
        raise Unauthorized("The token is unknown, expired or revoked.")
    return caller


EPOCH = "1970-01-01T00:00:00+00:00"  # a cookie without its sign-in time is as old as can be


def _cookie_caller(db: Session) -> Caller:
    """The signed-in user of the session cookie; unsafe methods must echo its CSRF token."""
    hours = current_app.extensions["registry"].settings.session_hours
    signed_in = datetime.fromisoformat(session.get("at", EPOCH))
    if datetime.now(UTC) - signed_in > timedelta(hours=hours):
        session.clear()
        raise Unauthorized("The session has expired; sign in again.")
    if _ended(db, session.get("sid")):
        session.clear()
        raise Unauthorized("The session has ended; sign in again.")
    caller = _session_institution(db) if session.get("inst") is not None else _session_user(db)
    if caller is None:
        session.clear()
        raise Unauthorized("The session's user is no longer allowed in.")
    if request.method not in SAFE_METHODS and not csrf_matches(
            session.get("csrf"), request.headers.get(CSRF_HEADER) or request.form.get("csrf_token")):
        g.refused_caller = caller
        raise Forbidden(f"A signed-in request that changes something must send {CSRF_HEADER}.",
                        audit_tag="auth:csrf:refuse")
    return caller


def _session_user(db: Session) -> Caller | None:
    row = db.execute(_user_query().where(User.id == session.get("uid"), User.active.is_(True))).first()
    if row is None or is_locked(row[0], datetime.now(UTC)):
        return None
    # New credentials (a reset after a compromise) end the sessions signed in with the old.
    return user_caller(*row) if session.get("cred") == credential_fingerprint(row[0]) else None


def start_session(**values: Any) -> str:
    """A fresh page session (nothing set before it carries over: no fixation) with its own
    id, which signing out ends; returns its CSRF token."""
    session.clear()
    session.permanent = True
    session.update(at=datetime.now(UTC).isoformat(), csrf=new_csrf_token(),
                   sid=secrets.token_urlsafe(32), **values)
    return str(session["csrf"])


def end_session(db: Session, cookie: Mapping[str, Any], client: str | None) -> None:
    """Sign out the cookie's user or bank (API and pages alike): audited, and ended in every
    copy of the cookie (`sign_out`). The caller clears the cookie itself."""
    if cookie.get("uid") is None and cookie.get("inst") is None:
        return
    audit.record(db, "auth:session:delete", "ok", user_id=cookie.get("uid"),
                 actor=cookie.get("name"), role=cookie.get("role"), client_address=client)
    sign_out(db, cookie)


def sign_out(db: Session, cookie: Mapping[str, Any]) -> None:
    """End the cookie's session, in any copy of the cookie too: the browser clears its own,
    a copy (stolen, say) is refused by its id until it would have expired anyway."""
    if not cookie.get("sid"):
        return
    hours = current_app.extensions["registry"].settings.session_hours
    expires = datetime.fromisoformat(cookie.get("at", EPOCH)) + timedelta(hours=hours)
    db.execute(delete(EndedSession).where(EndedSession.expires_at < datetime.now(UTC)))
    # Two sign-outs at once (a double click, two tabs) end the same session: not an error.
    db.execute(insert(EndedSession).values(sid=cookie["sid"], expires_at=expires)
               .on_conflict_do_nothing(index_elements=[EndedSession.sid]))


def _ended(db: Session, sid: Any) -> bool:
    # A cookie from before session ids (an upgrade) is treated as ended: sign in again.
    return not sid or db.get(EndedSession, sid) is not None


def credential_fingerprint(user: User) -> str:
    """Kept in a user's session: changing the password or the TOTP secret ends it."""
    return hash_secret(f"{user.password_hash or ''}|{user.totp_secret or ''}")[:16]


def institution_fingerprint(institution: Institution) -> str:
    """Kept in a bank's page session: a new API key (re-keying) ends the old sessions."""
    return hash_secret(institution.api_key_hash or "")[:16]


def _session_institution(db: Session) -> Caller | None:
    row = db.get(Institution, session["inst"])
    if row is None or not row.api_key_hash or session.get("key") != institution_fingerprint(row):
        return None
    return Caller("institution", row.id, row.code, INSTITUTION)


def authenticate(db: Session, callers: frozenset[str]) -> Caller | None:
    if PUBLIC in callers:
        return None
    header = request.headers.get("Authorization")
    if header is not None:
        caller = _bearer_caller(db, header)
    elif session.get("uid") is not None or session.get("inst") is not None:
        caller = _cookie_caller(db)
    else:
        raise Unauthorized("Send 'Authorization: Bearer <token>', or sign in.")
    if caller.role not in callers:
        g.refused_caller = caller
        raise Forbidden(f"A {caller.role} may not call this endpoint.")
    return caller


def _audit_refusal(db: Session, error: Unauthorized | Forbidden) -> None:
    caller: Caller | None = g.get("refused_caller")
    default = "auth:token:refuse" if isinstance(error, Unauthorized) else "auth:endpoint:refuse"
    audit.record(db, error.extra.pop("audit_tag", default), "refused", **audit_fields(caller),
                 parameters={"endpoint": request.endpoint, "method": request.method},
                 detail=error.detail)


def install(app: Flask) -> None:
    @app.before_request
    def _check_caller() -> None:
        view = app.view_functions.get(request.endpoint or "")
        if view is None:
            return  # 404 and 405 are answered by Flask itself
        callers = declared_callers(view)
        if callers is None:
            raise Forbidden("This endpoint declares no callers, so nobody may call it.")
        db = current_app.extensions["registry"].session()
        try:
            g.caller = authenticate(db, callers)
        except (Unauthorized, Forbidden) as error:
            _audit_refusal(db, error)
            raise
