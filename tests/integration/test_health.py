"""GET /healthz against the real services, and against one that is not there."""

from __future__ import annotations

from dataclasses import replace

from registry.app import create_app
from registry.config import Settings
from tests.integration.test_access import bearer, user_with_token


def test_healthz_reports_each_service_and_only_administrators_see_versions(client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    public = client.get("/healthz")
    assert public.status_code == 200, public.json
    assert public.json["services"] == {name: {"status": "ok"} for name in ("postgres", "elasticsearch", "redis")}
    _, token = user_with_token(settings, "administrator")
    response = client.get("/healthz/versions", headers=bearer(token))
    assert response.status_code == 200, response.json
    services = response.json["services"]
    assert set(services) == {"postgres", "elasticsearch", "redis"}
    assert services["elasticsearch"]["version"].split(".")[0] in {"8", "9"}
    assert services["postgres"]["version"][:2].isdigit()
    assert services["redis"]["version"].count(".") == 2


def test_healthz_names_the_dependency_that_failed(settings: Settings) -> None:
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    app = create_app(replace(settings, elasticsearch_url="http://127.0.0.1:1"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["failed"] == ["elasticsearch"]
    assert "elasticsearch" in response.json["detail"]
    assert response.json["services"]["postgres"]["status"] == "ok"
    app.extensions["registry"].engine.dispose()


def test_unknown_paths_are_json_problems(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 404
