"""Settings, read from the environment once, inside create_app (never at import time)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


class ConfigurationError(RuntimeError):
    """A required setting is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    elasticsearch_url: str
    redis_url: str
    # Every index and alias name starts with this; each test run uses its own.
    index_prefix: str = "registry"
    secret_key: str = field(default="", repr=False)
    upload_dir: Path = Path("var/uploads")
    # Per user and per case (issue: access). Separated by ';' as flask-limiter expects.
    search_rate_limit: str = "30/minute;500/day"
    max_upload_bytes: int = 2 * 1024**3
    testing: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        missing = [k for k in ("DATABASE_URL", "ELASTICSEARCH_URL", "REDIS_URL") if not env.get(k)]
        if missing:
            raise ConfigurationError(
                f"{', '.join(missing)} not set: run `registry services up` (or `make demo`), "
                "or point these variables at existing services"
            )
        return cls(
            database_url=_sqlalchemy_url(env["DATABASE_URL"]),
            elasticsearch_url=env["ELASTICSEARCH_URL"],
            redis_url=env["REDIS_URL"],
            index_prefix=env.get("REGISTRY_INDEX_PREFIX", "registry"),
            secret_key=env.get("REGISTRY_SECRET_KEY", ""),
            upload_dir=Path(env.get("REGISTRY_UPLOAD_DIR", "var/uploads")),
            search_rate_limit=env.get("REGISTRY_SEARCH_RATE_LIMIT", "30/minute;500/day"),
            max_upload_bytes=int(env.get("REGISTRY_MAX_UPLOAD_BYTES", str(2 * 1024**3))),
        )


def _sqlalchemy_url(url: str) -> str:
    """Accept the plain `postgresql://` form most tools print; we drive it with psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
