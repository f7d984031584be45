"""Who may use the registry: users, their credentials and rate limits, and the reporting
institutions with their API keys. The command line (`registry users …`, `registry tokens …`,
`registry institutions add`) and the administrator's pages make the same calls here.

Every change is an audit event in the caller's transaction; the service flushes, the caller
commits. Secrets (passwords, TOTP secrets, tokens, API keys) are returned once, to be shown
once; only their hashes are stored.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from limits import parse_many
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry import audit
from registry.auth import hash_secret, new_secret
from registry.credentials import WeakPassword, hash_password, new_totp_secret, provisioning_uri
from registry.errors import Conflict, InvalidRequest, NotFound
from registry.models import ROLES, Agency, ApiToken, Institution, User

# How the audit log names changes made with the command line: whoever runs it holds the
# database's credentials, which only administrators do.
COMMAND_LINE = {"actor": "cli", "role": "administrator"}
DEFAULT_TOKEN_DAYS = 90
# 18 random bytes: 24 characters, well over the 12 a password needs, and easy to pass on
# once; the user is expected to keep it in a password manager.
INITIAL_PASSWORD_BYTES = 18


@dataclass(frozen=True)
class Enrolment:
    """What a user needs to sign in to the pages, shown once: the password (when the registry
    made it) and the TOTP secret with its provisioning URI (for an authenticator app)."""

    user: str
    password: str | None
    totp_secret: str | None
    totp_uri: str | None


@dataclass(frozen=True)
class UserRow:
    id: int
    name: str
    role: str
    agency: str | None
    active: bool
    locked: bool
    rate_limit: str | None
    second_factor: bool
    tokens: list[dict[str, Any]]


def agency_named(session: Session, name: str | None) -> Agency | None:
    """The agency of that name, created the first time it is named."""
    if name is None:
        return None
    agency = session.execute(select(Agency).where(Agency.name == name)).scalar_one_or_none()
    if agency is None:
        agency = Agency(name=name)
        session.add(agency)
        session.flush()
    return agency


def check_rate(rate: str | None) -> str | None:
    """A limit as flask-limiter reads it ("60/minute;1000/day"), or None for the default."""
    if rate is None:
        return None
    try:
        parse_many(rate)
    except ValueError as error:
        raise InvalidRequest(f"Not a rate limit: {rate!r} (write e.g. 60/minute;1000/day).") from error
    return rate


class Directory:
    """Users, tokens and institutions, as an administrator changes them. `actor`: who acts,
    as the audit log records it (`caller_fields` on a page, the command line's own)."""

    def __init__(self, session: Session, actor: Mapping[str, Any]) -> None:
        self.session = session
        self.actor = dict(actor)

    # -- reads --

    def user(self, user_id: int) -> User:
        user = self.session.get(User, user_id)
        if user is None:
            raise NotFound(f"There is no user {user_id}.")
        return user

    def user_named(self, name: str) -> User:
        user = self.session.execute(select(User).where(User.name == name)).scalar_one_or_none()
        if user is None:
            raise NotFound(f"There is no user named {name!r}.")
        return user

    def users(self) -> list[UserRow]:
        now = datetime.now(UTC)
        tokens: dict[int, list[dict[str, Any]]] = {}
        for token in self.session.execute(select(ApiToken).order_by(ApiToken.id)).scalars():
            state = ("revoked" if token.revoked_at else "expired" if token.expires_at <= now
                     else "active")
            tokens.setdefault(token.user_id, []).append(
                {"id": token.id, "state": state, "created_at": token.created_at,
                 "expires_at": token.expires_at})
        rows = self.session.execute(select(User, Agency.name).outerjoin(
            Agency, Agency.id == User.agency_id).order_by(User.role, User.name)).all()
        return [UserRow(u.id, u.name, u.role, agency, u.active,
                        bool(u.locked_until and u.locked_until > now), u.rate_limit,
                        bool(u.totp_secret), tokens.get(u.id, [])) for u, agency in rows]

    def institutions(self) -> list[dict[str, Any]]:
        rows = self.session.execute(select(Institution).order_by(Institution.code)).scalars()
        return [{"id": i.id, "code": i.code, "name": i.name, "kind": i.kind, "country": i.country,
                 "has_key": bool(i.api_key_hash), "created_at": i.created_at} for i in rows]

    # -- users --

    def create_user(self, name: str, role: str, agency: str | None) -> User:
        if role not in ROLES:
            raise InvalidRequest(f"{role!r} is not a role.")
        if self.session.execute(select(User.id).where(User.name == name)).first():
            raise Conflict(f"A user named {name!r} exists already.")
        found = agency_named(self.session, agency)
        user = User(name=name, role=role, agency_id=found.id if found else None)
        self.session.add(user)
        self.session.flush()
        self._audit("admin:user:create", {"name": name, "role": role, "agency": agency,
                                          "user_id": user.id})
        return user

    def register_user(self, name: str, role: str, agency: str | None) -> Enrolment:
        """A new user with a first password and TOTP secret, made here to be handed over once
        (the pages; the command line lets the administrator type the password)."""
        return self.enrol(self.create_user(name, role, agency))

    def enrol(self, user: User, password: str | None = None, new_totp: bool = True) -> Enrolment:
        """Set the password (made here when none is given) and, by default, a new TOTP
        secret; a lock from failed sign-ins ends with it."""
        made = password is None
        chosen = secrets.token_urlsafe(INITIAL_PASSWORD_BYTES) if password is None else password
        try:
            user.password_hash = hash_password(chosen)
        except WeakPassword as error:
            raise InvalidRequest(str(error)) from error
        user.failed_logins, user.locked_until = 0, None
        if new_totp:
            user.totp_secret, user.totp_last_step = new_totp_secret(), None
        self.session.flush()
        self._audit("admin:user:password", {"user": user.name, "new_totp": new_totp,
                                            "generated": made})
        secret = user.totp_secret if new_totp else None
        return Enrolment(user.name, chosen if made else None, secret,
                         provisioning_uri(secret, user.name) if secret else None)

    def set_rate_limit(self, user: User, rate: str | None) -> None:
        user.rate_limit = check_rate(rate)
        self.session.flush()
        self._audit("admin:user:limit", {"user": user.name, "rate": user.rate_limit})

    def unlock(self, user: User) -> None:
        """End a lock from repeated failed sign-ins before it runs out by itself."""
        if user.locked_until is None or user.locked_until <= datetime.now(UTC):
            raise Conflict(f"{user.name} is not locked.")
        user.failed_logins, user.locked_until = 0, None
        self.session.flush()
        self._audit("admin:user:unlock", {"user": user.name})

    # -- API tokens --

    def create_token(self, user: User, days: int = DEFAULT_TOKEN_DAYS) -> tuple[ApiToken, str]:
        if not user.active:
            raise Conflict(f"{user.name} is inactive: a token would not work.")
        secret = new_secret("reg")
        token = ApiToken(user_id=user.id, token_hash=hash_secret(secret),
                         expires_at=datetime.now(UTC) + timedelta(days=days))
        self.session.add(token)
        self.session.flush()
        self._audit("admin:token:create", {"user": user.name, "days": days, "token_id": token.id})
        return token, secret

    def revoke_tokens(self, user: User, token_id: int | None = None) -> int:
        """Revoke one live token of the user, or every one; returns how many."""
        query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        if token_id is not None:
            query = query.where(ApiToken.id == token_id)
        live = self.session.execute(query).scalars().all()
        if token_id is not None and not live:
            raise NotFound(f"{user.name} has no live token {token_id}.")
        for token in live:
            token.revoked_at = datetime.now(UTC)
        self.session.flush()
        self._audit("admin:token:revoke", {"user": user.name, "revoked": len(live),
                                           "token_ids": [t.id for t in live]})
        return len(live)

    # -- reporting institutions --

    def add_institution(self, code: str, name: str, kind: str = "bank",
                        country: str | None = None) -> tuple[Institution, str]:
        """Register an institution; returns it with its API key, shown only once."""
        if self.session.execute(select(Institution.id).where(Institution.code == code)).first():
            raise Conflict(f"Institution {code} is registered already; issue it a new key instead.")
        institution = Institution(code=code, name=name, kind=kind, country=country)
        self.session.add(institution)
        self.session.flush()
        key = self._key(institution)
        self._audit("admin:institution:add", {"code": code, "name": name, "kind": kind,
                                              "country": country, "institution_id": institution.id})
        return institution, key

    def rekey_institution(self, code: str) -> tuple[Institution, str]:
        """A new API key; the old one, and every page session opened with it, stop working."""
        institution = self.session.execute(
            select(Institution).where(Institution.code == code)).scalar_one_or_none()
        if institution is None:
            raise NotFound(f"There is no institution {code}.")
        key = self._key(institution)
        self._audit("admin:institution:rekey", {"code": code, "institution_id": institution.id})
        return institution, key

    def _key(self, institution: Institution) -> str:
        key = new_secret("inst")
        institution.api_key_hash = hash_secret(key)
        self.session.flush()
        return key

    def _audit(self, tag: str, parameters: dict[str, Any]) -> None:
        audit.record(self.session, tag, "ok", **self.actor, parameters=parameters)
