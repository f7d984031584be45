"""Shared fixtures. Integration tests talk to the real services `make test` starts (or those
DATABASE_URL, ELASTICSEARCH_URL and REDIS_URL point at); each run gets its own database and
its own index prefix, removed at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from registry import localservices
from registry.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
# One key for every checkpoint the tests sign, the app's and the command line's alike: a
# checkpoint signed with another key would fail every later verification of the chain.
AUDIT_SIGNING_KEY = "integration-test-signing-key"
MIGRATE_VARIABLE = "REGISTRY_MIGRATE_DATABASE_URL"


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    localservices.load_env_file(ROOT)
    return Settings.from_env()


@pytest.fixture(scope="session")
def settings(base_settings: Settings) -> Iterator[Settings]:
    """A database and an index prefix of this test run's own. The schema's owner creates and
    migrates it; the app then connects as the application's role (DATABASE_URL), as deployed."""
    run = uuid.uuid4().hex[:8]
    owner_url, app_url = make_url(base_settings.owner_database_url), make_url(base_settings.database_url)
    test_db = f"registry_test_{run}"
    admin = create_engine(owner_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{test_db}"'))
    test_settings = replace(
        base_settings,
        database_url=app_url.set(database=test_db).render_as_string(hide_password=False),
        migrate_database_url=owner_url.set(database=test_db).render_as_string(hide_password=False),
        index_prefix=f"test-{run}", testing=True, secret_key="test-secret",
        audit_signing_key=AUDIT_SIGNING_KEY,
        upload_dir=ROOT / "var" / "test-uploads" / run,
    )
    from registry.db import make_engine
    from registry.migrate import upgrade

    engine = make_engine(test_settings.owner_database_url, pool_size=2)
    upgrade(engine)
    engine.dispose()
    # Commands the tests run (CliRunner, subprocesses) start from os.environ, where
    # services.env put the shared database's owner URL: point it at this run's database.
    previous = os.environ.get(MIGRATE_VARIABLE)
    os.environ[MIGRATE_VARIABLE] = test_settings.owner_database_url
    yield test_settings
    _restore(MIGRATE_VARIABLE, previous)
    from registry.app import make_es

    make_es(test_settings.elasticsearch_url).indices.delete(
        index=f"{test_settings.index_prefix}-*", ignore_unavailable=True)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{test_db}" WITH (FORCE)'))
    admin.dispose()


def _restore(variable: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(variable, None)
    else:
        os.environ[variable] = value


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    """The schema owner's engine, for tests that arrange data or tamper with the log; the
    app's own engine (`app.extensions["registry"].engine`) has the application's role."""
    from registry.db import make_engine

    eng = make_engine(settings.owner_database_url, pool_size=5)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def app(settings: Settings):  # type: ignore[no-untyped-def]
    from registry.app import create_app

    application = create_app(settings)
    yield application
    application.extensions["registry"].engine.dispose()


@pytest.fixture()
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture(scope="session")
def gateway(settings: Settings):  # type: ignore[no-untyped-def]
    from registry.app import make_es
    from search.gateway import SearchGateway

    return SearchGateway(make_es(settings.elasticsearch_url), settings.index_prefix)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in str(item.path):
            item.add_marker(pytest.mark.integration)


os.environ.setdefault("REGISTRY_ROOT", str(ROOT))
