"""The production-shaped deployment files agree with what the app reads."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
VARIABLES = {"DATABASE_URL", "ELASTICSEARCH_URL", "REDIS_URL"}


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_every_service_and_the_same_variables() -> None:
    services = compose()["services"]
    assert {"postgres", "elasticsearch", "redis", "web", "worker"} <= set(services)
    for name in ("web", "worker"):
        assert VARIABLES <= set(services[name]["environment"])
    es = services["elasticsearch"]
    assert es["image"].split(":")[-1].startswith("9.")
    assert es["environment"]["xpack.security.enabled"] == "true"
    assert "ELASTIC_PASSWORD" in es["environment"]


def test_the_app_connects_as_its_own_role_and_only_migrate_as_the_owner() -> None:
    services = compose()["services"]
    for name in ("web", "worker", "migrate"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://registry_web:")
        assert env["REGISTRY_MIGRATE_DATABASE_URL"].startswith("postgresql://registry:")
    init = (ROOT / "deploy" / "postgres-init.sh").read_text()
    assert "GRANT registry_app TO registry_web" in init
    mounts = services["postgres"]["volumes"]
    assert any(m.startswith("./deploy/postgres-init.sh:/docker-entrypoint-initdb.d/") for m in mounts)


def test_docker_compose_accepts_the_file_where_the_client_can() -> None:
    docker = shutil.which("docker")
    has_compose = docker is not None and subprocess.run(
        [docker, "compose", "version"], capture_output=True, check=False).returncode == 0
    if not has_compose:
        # This machine's docker client has no compose plugin: the YAML checks above stand.
        assert compose()["name"] == "account-registry"
        return
    env = {"POSTGRES_PASSWORD": "p", "APP_DB_PASSWORD": "a", "ELASTIC_PASSWORD": "e", "REDIS_PASSWORD": "r",
           "REGISTRY_SECRET_KEY": "k", "PATH": "/usr/bin:/bin:/usr/local/bin"}
    result = subprocess.run([docker, "compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
                            capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr


def test_dockerfile_installs_the_pinned_constraints() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "-c constraints.txt" in text and "registry.wsgi:app" in text
