"""The application's database URL and the schema owner's: the owner's defaults to the app's,
and both must name the same database (a migration or a prune elsewhere would be silent)."""

from __future__ import annotations

import pytest

from registry.config import ConfigurationError, Settings

BASE = {"DATABASE_URL": "postgresql://registry_web:pw@db:5432/registry",
        "ELASTICSEARCH_URL": "http://es:9200", "REDIS_URL": "redis://redis:6379/0"}


def test_the_owner_url_defaults_to_the_apps() -> None:
    settings = Settings.from_env(BASE)
    assert settings.owner_database_url == settings.database_url == "postgresql+psycopg://registry_web:pw@db:5432/registry"


def test_the_owner_url_is_used_for_migrations_when_set() -> None:
    settings = Settings.from_env({**BASE, "REGISTRY_MIGRATE_DATABASE_URL": "postgresql://registry:o@db:5432/registry"})
    assert settings.owner_database_url == "postgresql+psycopg://registry:o@db:5432/registry"
    assert settings.database_url.startswith("postgresql+psycopg://registry_web:")
    assert "o@db" not in repr(settings)


@pytest.mark.parametrize("other", ["postgresql://registry:o@db:5432/registry_test_1",
                                   "postgresql://registry:o@elsewhere:5432/registry"])
def test_both_urls_must_name_the_same_database(other: str) -> None:
    with pytest.raises(ConfigurationError, match="different databases"):
        Settings.from_env({**BASE, "REGISTRY_MIGRATE_DATABASE_URL": other})
