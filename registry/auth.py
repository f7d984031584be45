"""Every endpoint declares who may call it; a request is checked before its view runs.

Declarations: `@allow("public")`, `@allow("institution")` (a reporting institution's API
key) or `@allow("investigator", "supervisor", ...)` (a user's bearer token). An endpoint
with no declaration is refused, and a test walks the URL map to keep it that way.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Flask, current_app, g, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.errors import Forbidden, Unauthorized
from registry.models import ApiToken, Institution, User

PUBLIC = "public"
INSTITUTION = "institution"
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


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Send 'Authorization: Bearer <token>'.")
    return token.strip()


def _user_caller(session: Session, token: str) -> Caller | None:
    row = session.execute(
        select(User).join(ApiToken, ApiToken.user_id == User.id).where(
            ApiToken.token_hash == hash_secret(token),
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > datetime.now(UTC),
            User.active.is_(True),
        )
    ).scalar_one_or_none()
    return Caller("user", row.id, row.name, row.role) if row else None


def _institution_caller(session: Session, token: str) -> Caller | None:
    row = session.execute(
        select(Institution).where(Institution.api_key_hash == hash_secret(token))
    ).scalar_one_or_none()
    return Caller("institution", row.id, row.code, INSTITUTION) if row else None


def authenticate(session: Session, callers: frozenset[str]) -> Caller | None:
    if PUBLIC in callers:
        return None
    token = _bearer()
    caller = _user_caller(session, token) or _institution_caller(session, token)
    if caller is None:
        raise Unauthorized("The token is unknown, expired or revoked.")
    if caller.role not in callers:
        raise Forbidden(f"A {caller.role} may not call this endpoint.")
    return caller


def install(app: Flask) -> None:
    @app.before_request
    def _check_caller() -> None:
        view = app.view_functions.get(request.endpoint or "")
        if view is None:
            return  # 404 and 405 are answered by Flask itself
        callers = declared_callers(view)
        if callers is None:
            raise Forbidden("This endpoint declares no callers, so nobody may call it.")
        g.caller = authenticate(current_app.extensions["registry"].session(), callers)
