"""Credentials: argon2 password hashes, TOTP second factor, lockout, CSRF tokens.

Pure functions over values (and a `User`'s counters), so they are unit-tested without a
server; the sign-in endpoint and the command line put them together.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry import audit
from registry.config import Settings
from registry.models import User

# argon2id with the library's defaults (RFC 9106 "second recommended" profile: 64 MiB,
# 3 passes): slow enough to make an offline guess expensive, fast enough for a sign-in.
_HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 12
# One step either side: a phone's clock may be 30 s off; more widens the guessing window.
TOTP_WINDOW = 1


class WeakPassword(ValueError):
    """The password is refused before it is hashed."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    if not stored:
        # Hash anyway, so an unknown user or one without a password costs the same time.
        _HASHER.hash(password)
        return False
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _HASHER.check_needs_rehash(stored)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, name: str, issuer: str = "Account registry") -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=issuer)


def totp_step(secret: str, code: str, at: datetime, last_step: int | None) -> int | None:
    """The time step `code` belongs to, or None if it is wrong or already used.

    Returning the step (not a bool) lets the caller store it: a code is accepted once, so
    one read over a shoulder or from a log cannot be replayed within its 30 seconds.
    """
    totp = pyotp.TOTP(secret)
    if not code.isdigit() or len(code) != totp.digits:
        return None
    now_step = totp.timecode(at)
    for step in range(now_step - TOTP_WINDOW, now_step + TOTP_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step if last_step is None or step > last_step else None
    return None


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    lock_for: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings: Settings) -> LockoutPolicy:
        return cls(settings.login_max_failures, timedelta(minutes=settings.login_lockout_minutes))


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def register_failure(user: User, now: datetime, policy: LockoutPolicy) -> bool:
    """Count a failed sign-in; returns True when this failure locks the account."""
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins >= policy.max_failures:
        user.locked_until = now + policy.lock_for
        user.failed_logins = 0
        return True
    return False


def register_success(user: User) -> None:
    user.failed_logins = 0
    user.locked_until = None


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, sent: str | None) -> bool:
    """Constant-time comparison; an absent token on either side never matches."""
    return bool(expected and sent) and hmac.compare_digest(str(expected), str(sent))


REFUSAL = ("Name, password or code is wrong, or the account is locked for a while after "
           "repeated failures.")


class SignInRefused(Exception):
    """Wrong name, password or code, or a locked account; the detail is safe to show."""


class SignInService:
    """Password and TOTP sign-in, with lockout; every attempt is an audit event."""

    def __init__(self, session: Session, policy: LockoutPolicy) -> None:
        self.session = session
        self.policy = policy

    def sign_in(self, name: str, password: str, code: str, client: str | None,
                now: datetime) -> User:
        user = self.session.execute(
            select(User).where(User.name == name, User.active.is_(True))).scalar_one_or_none()
        if user is None:
            verify_password(None, password)
            self._refuse(None, name, client, "unknown or inactive user")
        assert user is not None
        if is_locked(user, now):
            self._refuse(user, name, client, "account locked after repeated failures")
        failure = self._check(user, password, code, now)
        if failure is not None:
            locked = register_failure(user, now, self.policy)
            self._refuse(user, name, client, failure + ("; account now locked" if locked else ""))
        register_success(user)
        if user.password_hash and needs_rehash(user.password_hash):
            user.password_hash = _HASHER.hash(password)
        audit.record(self.session, "auth:session:create", "ok", user_id=user.id, actor=user.name,
                     role=user.role, client_address=client)
        return user

    def _check(self, user: User, password: str, code: str, now: datetime) -> str | None:
        if not verify_password(user.password_hash, password):
            return "wrong password"
        if not user.totp_secret:
            return "no second factor set up"
        step = totp_step(user.totp_secret, code, now, user.totp_last_step)
        if step is None:
            return "wrong or reused TOTP code"
        user.totp_last_step = step
        return None

    def _refuse(self, user: User | None, name: str, client: str | None, reason: str) -> None:
        audit.record(self.session, "auth:session:create", "refused",
                     user_id=user.id if user else None, actor=name[:100],
                     role=user.role if user else None, client_address=client, detail=reason)
        # One message for every cause, the lock included: it must not tell which part was
        # wrong, nor, by a lock that only real accounts get, which names exist.
        raise SignInRefused(REFUSAL)
