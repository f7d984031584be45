"""Passwords, TOTP, lockout and CSRF tokens, without any server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from registry.credentials import (
    LockoutPolicy,
    WeakPassword,
    csrf_matches,
    hash_password,
    is_locked,
    needs_rehash,
    new_csrf_token,
    new_totp_secret,
    provisioning_uri,
    register_failure,
    register_success,
    totp_step,
    verify_password,
)
from registry.models import User

NOW = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)


def test_argon2_hash_verifies_only_the_right_password() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse batterY")
    assert not needs_rehash(stored)


def test_same_password_hashes_differently_each_time() -> None:
    assert hash_password("correct horse battery") != hash_password("correct horse battery")


def test_missing_or_garbled_hash_never_verifies() -> None:
    assert not verify_password(None, "anything at all")
    assert not verify_password("not-a-hash", "anything at all")


def test_short_password_is_refused_before_hashing() -> None:
    with pytest.raises(WeakPassword):
        hash_password("short")


def test_totp_code_is_accepted_once_and_within_one_step() -> None:
    secret = new_totp_secret()
    totp = pyotp.TOTP(secret)
    code = totp.at(NOW)
    step = totp_step(secret, code, NOW, None)
    assert step == totp.timecode(NOW)
    assert totp_step(secret, code, NOW, step) is None, "a replayed code is refused"
    assert totp_step(secret, totp.at(NOW - timedelta(seconds=30)), NOW, None) is not None
    assert totp_step(secret, totp.at(NOW - timedelta(seconds=90)), NOW, None) is None


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 345"])
def test_malformed_totp_codes_are_refused(code: str) -> None:
    assert totp_step(new_totp_secret(), code, NOW, None) is None


def test_provisioning_uri_names_user_and_issuer() -> None:
    uri = provisioning_uri(new_totp_secret(), "ines")
    assert uri.startswith("otpauth://totp/") and "ines" in uri and "issuer=" in uri


def test_lockout_after_max_failures_and_reset_on_success() -> None:
    user = User(name="ines", role="investigator", failed_logins=0)
    policy = LockoutPolicy(max_failures=3, lock_for=timedelta(minutes=15))
    assert not register_failure(user, NOW, policy)
    assert not register_failure(user, NOW, policy)
    assert register_failure(user, NOW, policy), "the third failure locks"
    assert is_locked(user, NOW + timedelta(minutes=14))
    assert not is_locked(user, NOW + timedelta(minutes=16))
    register_success(user)
    assert user.failed_logins == 0 and user.locked_until is None


def test_csrf_tokens_compare_in_constant_time_and_never_match_empty() -> None:
    token = new_csrf_token()
    assert len(token) >= 32
    assert csrf_matches(token, token)
    assert not csrf_matches(token, token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert not csrf_matches(None, None)
    assert not csrf_matches("", "")
