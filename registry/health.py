"""GET /healthz: whether each backing service answers; 503 naming whichever failed. Public,
so it says no more: versions tell an attacker which known flaws to try, and only an
administrator sees them (GET /healthz/versions)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from registry.auth import PUBLIC, allow

blueprint = Blueprint("health", __name__)


def _postgres(ext: Any) -> str:
    with ext.engine.connect() as conn:
        return str(conn.execute(text("SHOW server_version")).scalar_one())


def _elasticsearch(ext: Any) -> str:
    # The integ-test-zip build answers GET / with 405, so ask the local node for its version.
    nodes = ext.es.options(request_timeout=3).nodes.info(node_id="_local", filter_path="nodes.*.version")
    return str(next(iter(nodes["nodes"].values()))["version"])


def _redis(ext: Any) -> str:
    return str(ext.redis.info("server")["redis_version"])


CHECKS = {"postgres": _postgres, "elasticsearch": _elasticsearch, "redis": _redis}


@blueprint.get("/healthz")
@allow(PUBLIC)
def healthz() -> Response:
    return _report(versions=False)


@blueprint.get("/healthz/versions")
@allow("administrator")
def versions() -> Response:
    return _report(versions=True)


def _report(versions: bool) -> Response:
    ext = current_app.extensions["registry"]
    report: dict[str, Any] = {}
    failed = []
    for name, check in CHECKS.items():
        try:
            version = check(ext)
            report[name] = {"status": "ok", "version": version} if versions else {"status": "ok"}
        except Exception as error:  # noqa: BLE001 - any failure makes the dependency unhealthy
            failed.append(name)
            report[name] = {"status": "unavailable", "error": type(error).__name__}
    body = {"status": "ok" if not failed else "unavailable", "services": report}
    if failed:
        body["failed"] = failed
        body["detail"] = f"unavailable: {', '.join(failed)}"
    response = jsonify(body)
    response.status_code = 503 if failed else 200
    return response
