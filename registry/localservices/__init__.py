"""`registry services up | down | status`: the project's own Postgres, Elasticsearch and Redis.

A service whose URL variable (DATABASE_URL, ELASTICSEARCH_URL, REDIS_URL) is already set
in the environment is somebody else's: we neither start nor stop it.
After `up`, the URLs of the services we run are written to `.local/services.env`, which the
command line and the tests read for any variable the environment does not set. For Postgres
that is two: DATABASE_URL (the application's role) and REGISTRY_MIGRATE_DATABASE_URL (the
schema owner, for migrations and audit pruning).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from registry.localservices.base import Layout, ServiceError
from registry.localservices.elasticsearch import Elasticsearch
from registry.localservices.postgres import Postgres
from registry.localservices.redis import Redis

URL_VARIABLES = {"postgres": "DATABASE_URL", "elasticsearch": "ELASTICSEARCH_URL", "redis": "REDIS_URL"}


class LocalService(Protocol):
    name: str

    @property
    def url(self) -> str: ...

    def up(self) -> None: ...

    def down(self) -> None: ...

    def status(self) -> str: ...


def project_root() -> Path:
    return Path(os.environ.get("REGISTRY_ROOT", Path.cwd())).resolve()


def local_services(root: Path | None = None, external: set[str] | None = None) -> list[LocalService]:
    """The services this checkout runs itself: all three minus those pointed at from outside."""
    layout = Layout(root or project_root())
    external = external if external is not None else external_variables()
    services: list[LocalService] = [Postgres(layout), Elasticsearch(layout), Redis(layout)]
    return [s for s in services if URL_VARIABLES[s.name] not in external]


def external_variables() -> set[str]:
    return {var for var in URL_VARIABLES.values() if os.environ.get(var)}


def up(root: Path | None = None, external: set[str] | None = None) -> dict[str, str]:
    services = local_services(root, external)
    urls = {}
    for service in services:
        print(f"{service.name}: starting ...", flush=True)
        service.up()
        urls[URL_VARIABLES[service.name]] = service.url
        urls.update(getattr(service, "extra_env", {}))  # e.g. the database owner's URL
        print(f"{service.name}: {service.status()}", flush=True)
    layout = Layout(root or project_root())
    # Keys a local run needs and nobody should have to invent: made once per checkout.
    urls["REGISTRY_SECRET_KEY"] = layout.secret("flask")
    urls["REGISTRY_AUDIT_SIGNING_KEY"] = layout.secret("audit")
    write_env_file(layout.env_file, urls)
    return urls


def down(root: Path | None = None, external: set[str] | None = None) -> None:
    # Reverse order: the app-facing services first, the database last.
    for service in reversed(local_services(root, external)):
        service.down()
        print(f"{service.name}: {service.status()}", flush=True)


def status(root: Path | None = None, external: set[str] | None = None) -> dict[str, str]:
    result = {s.name: s.status() for s in local_services(root, external)}
    for name, var in URL_VARIABLES.items():
        result.setdefault(name, f"external ({var} is set)")
    return result


def write_env_file(path: Path, urls: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{key}={value}\n" for key, value in sorted(urls.items())))
    path.chmod(0o600)


def load_env_file(root: Path | None = None) -> None:
    """Fill in service URLs and keys from `.local/services.env` for variables the
    environment does not set; one set explicitly, even to empty, wins over the file."""
    path = Layout(root or project_root()).env_file
    if not path.exists():
        return
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key not in os.environ:
            os.environ[key] = value


__all__ = ["ServiceError", "down", "load_env_file", "local_services", "status", "up"]
