"""Settings, read from the environment once, inside create_app (never at import time)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path


class ConfigurationError(RuntimeError):
    """A required setting is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    # The application and the worker connect as a login role that is a member of
    # `registry_app` (no UPDATE or DELETE on the audit log); migrations and pruning run as the
    # owner of the schema, through `migrate_database_url` (the same URL when one role does both).
    database_url: str
    elasticsearch_url: str
    redis_url: str
    migrate_database_url: str = field(default="", repr=False)
    # Every index and alias name starts with this; each test run uses its own.
    index_prefix: str = "registry"
    secret_key: str = field(default="", repr=False)
    upload_dir: Path = Path("var/uploads")
    # Per user and per case (issue: access). Separated by ';' as flask-limiter expects.
    search_rate_limit: str = "30/minute;500/day"
    # A case is shared by its team, so its budget is larger than one person's.
    case_rate_limit: str = "120/minute;2000/day"
    max_upload_bytes: int = 2 * 1024**3
    testing: bool = False
    # The EU keeps search logs five years (AMLD Art. 32a(4)); pruning older events is by hand.
    audit_retention_days: int = 5 * 365 + 1
    # Signs checkpoints of the audit chain head; held by whoever must be able to prove the log.
    audit_signing_key: str = field(default="", repr=False)
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    session_hours: int = 8
    # Off only for plain-http local development; production is served over TLS.
    session_cookie_secure: bool = True
    # Oversight flags searches outside these hours (local time of the registry), weekdays only.
    working_hours: tuple[int, int] = (7, 19)
    timezone: str = "UTC"

    @property
    def owner_database_url(self) -> str:
        """Where migrations and audit pruning connect."""
        return self.migrate_database_url or self.database_url

    def on_database(self, name: str) -> Settings:
        """The same settings pointed at database `name`, for both roles (scratch databases)."""
        from sqlalchemy.engine import make_url

        app, owner = make_url(self.database_url), make_url(self.owner_database_url)
        return replace(self, database_url=app.set(database=name).render_as_string(hide_password=False),
                       migrate_database_url=owner.set(database=name).render_as_string(hide_password=False))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        missing = [k for k in ("DATABASE_URL", "ELASTICSEARCH_URL", "REDIS_URL") if not env.get(k)]
        if missing:
            raise ConfigurationError(
                f"{', '.join(missing)} not set: run `registry services up` (or `make demo`), "
                "or point these variables at existing services"
            )
        database_url = _sqlalchemy_url(env["DATABASE_URL"])
        return cls(
            database_url=database_url,
            migrate_database_url=_migrate_url(database_url, env.get("REGISTRY_MIGRATE_DATABASE_URL")),
            elasticsearch_url=env["ELASTICSEARCH_URL"],
            redis_url=env["REDIS_URL"],
            index_prefix=env.get("REGISTRY_INDEX_PREFIX", "registry"),
            secret_key=env.get("REGISTRY_SECRET_KEY", ""),
            upload_dir=Path(env.get("REGISTRY_UPLOAD_DIR", "var/uploads")),
            search_rate_limit=_rate(env.get("REGISTRY_SEARCH_RATE_LIMIT", "30/minute;500/day")),
            case_rate_limit=_rate(env.get("REGISTRY_CASE_RATE_LIMIT", "120/minute;2000/day")),
            max_upload_bytes=int(env.get("REGISTRY_MAX_UPLOAD_BYTES", str(2 * 1024**3))),
            audit_retention_days=int(env.get("REGISTRY_AUDIT_RETENTION_DAYS", str(5 * 365 + 1))),
            audit_signing_key=env.get("REGISTRY_AUDIT_SIGNING_KEY", ""),
            login_max_failures=int(env.get("REGISTRY_LOGIN_MAX_FAILURES", "5")),
            login_lockout_minutes=int(env.get("REGISTRY_LOGIN_LOCKOUT_MINUTES", "15")),
            session_hours=int(env.get("REGISTRY_SESSION_HOURS", "8")),
            session_cookie_secure=env.get("REGISTRY_SESSION_COOKIE_SECURE", "1") != "0",
            working_hours=_hours(env.get("REGISTRY_WORKING_HOURS", "7-19")),
            timezone=_timezone(env.get("REGISTRY_TIMEZONE", "UTC")),
        )


def _rate(value: str) -> str:
    """Fail at start-up, not on the first search, when a rate limit is mistyped."""
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError as error:
        raise ConfigurationError(f"not a rate limit: {value!r} (e.g. 30/minute;500/day)") from error
    return value


def _timezone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigurationError(f"REGISTRY_TIMEZONE is not a time zone: {value!r}") from error
    return value


def _hours(value: str) -> tuple[int, int]:
    start, _, end = value.partition("-")
    try:
        hours = (int(start), int(end))
    except ValueError as error:
        raise ConfigurationError(f"REGISTRY_WORKING_HOURS must look like 7-19, not {value!r}") from error
    if not 0 <= hours[0] < hours[1] <= 24:
        raise ConfigurationError(f"REGISTRY_WORKING_HOURS out of range: {value!r}")
    return hours


def _migrate_url(database_url: str, migrate: str | None) -> str:
    """The owner's URL, which must name the same database as the application's: a migration or
    a prune run against another database than the one configured would be a silent mistake."""
    if not migrate:
        return database_url
    from sqlalchemy.engine import make_url

    owner, app = make_url(_sqlalchemy_url(migrate)), make_url(database_url)
    if (owner.host, owner.port, owner.database) != (app.host, app.port, app.database):
        raise ConfigurationError(
            "REGISTRY_MIGRATE_DATABASE_URL and DATABASE_URL name different databases "
            f"({owner.host}:{owner.port}/{owner.database} and {app.host}:{app.port}/{app.database}); "
            "set both, or only DATABASE_URL")
    return _sqlalchemy_url(migrate)


def _sqlalchemy_url(url: str) -> str:
    """Accept the plain `postgresql://` form most tools print; we drive it with psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
