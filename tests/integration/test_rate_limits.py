"""Rate limits hold across worker processes (real gunicorn, two workers, the real Redis),
every breach is an audit event, and without Redis searches are refused (fail closed).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from registry import audit
from registry.app import create_app
from registry.config import Settings
from tests.conftest import ROOT
from tests.integration.test_access import bearer, last_event, open_case, user_with_token
from tests.integration.test_slice import run

CASE_LIMIT = "6/minute"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def post(url: str, token: str, body: dict[str, Any]) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={**bearer(token), "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers)


def wait_until_up(base: str, server: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, "gunicorn exited while starting"
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("gunicorn did not come up")


@pytest.fixture(scope="module")
def server(settings: Settings, gateway) -> Iterator[str]:  # type: ignore[no-untyped-def]
    gateway.ensure_index()  # an empty index: searches answer 200 with no results
    port = free_port()
    env = {**os.environ, "DATABASE_URL": settings.database_url, "ELASTICSEARCH_URL": settings.elasticsearch_url,
           "REDIS_URL": settings.redis_url, "REGISTRY_INDEX_PREFIX": settings.index_prefix,
           "REGISTRY_SECRET_KEY": "test-secret", "REGISTRY_CASE_RATE_LIMIT": CASE_LIMIT}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "registry.wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def burst(base: str, calls: list[tuple[str, dict[str, Any]]]) -> list[tuple[int, dict[str, str]]]:
    """Send all calls at once from one thread each, released together."""
    gate = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def call(i: int, token: str, body: dict[str, Any]) -> None:
        gate.wait()
        results[i] = post(f"{base}/api/v1/search/persons", token, body)

    threads = [threading.Thread(target=call, args=(i, t, b)) for i, (t, b) in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def outcomes(engine: Engine, *names: str) -> Counter[str]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT outcome FROM audit_events WHERE tag = 'search:person:query' "
                                 "AND actor = ANY(:names)"), {"names": list(names)}).scalars()
        return Counter(rows)


def test_per_user_limit_holds_across_two_workers(server: str, settings: Settings, engine) -> None:  # type: ignore[no-untyped-def]
    name, token = user_with_token(settings, "investigator")
    run(settings, "users", "limit", name, "5/minute")
    cases = [open_case(settings, name) for _ in range(3)]  # spread, so no case limit is reached
    results = burst(server, [(token, {"case_id": cases[i % 3], "name": "Anna Schmidt"}) for i in range(12)])
    statuses = Counter(status for status, _ in results)
    assert statuses == {200: 5, 429: 7}
    for status, headers in results:
        if status == 429:
            assert 0 < int(headers["Retry-After"]) <= 60
    # Exactly one event per search, whatever its outcome.
    assert outcomes(engine, name) == {"ok": 5, "rate_limited": 7}
    breach = last_event(engine, actor=name, outcome="rate_limited")
    assert breach["parameters"]["per"] == "user" and breach["parameters"]["limit"] == "5 per 1 minute"
    assert breach["case_id"] in cases and breach["legal_basis"] == "fiu_analysis"
    with Session(engine) as session:
        chain = audit.verify(session)
    assert chain.ok, f"concurrent writers from two processes broke the chain: {chain.broken}"


def test_per_case_limit_is_shared_by_the_case_team(server: str, settings: Settings, engine) -> None:  # type: ignore[no-untyped-def]
    first, token_a = user_with_token(settings, "investigator")
    second, token_b = user_with_token(settings, "investigator")
    for name in (first, second):
        run(settings, "users", "limit", name, "100/minute")
    out = run(settings, "cases", "open", f"TEAM-{first}", "--legal-basis", "asset_recovery",
              "--offence", "illicit_enrichment", "--assign", first, "--assign", second)
    case_id = int(out.strip().splitlines()[-1])
    calls = [(token, {"case_id": case_id, "name": "Anna Schmidt"}) for token in (token_a, token_b) * 5]
    statuses = Counter(status for status, _ in burst(server, calls))
    assert statuses == {200: 6, 429: 4}
    assert outcomes(engine, first, second) == {"ok": 6, "rate_limited": 4}
    assert last_event(engine, case_id=case_id, outcome="rate_limited")["parameters"]["per"] == "case"


def test_without_redis_searches_are_refused_not_unlimited(settings: Settings, engine) -> None:  # type: ignore[no-untyped-def]
    name, token = user_with_token(settings, "investigator")
    case_id = open_case(settings, name)
    # Port 1 on loopback: nothing listens there, so every Redis call fails at once.
    app = create_app(replace(settings, redis_url="redis://127.0.0.1:1/0"))
    try:
        client = app.test_client()
        response = client.post("/api/v1/search/persons", headers=bearer(token),
                               json={"case_id": case_id, "name": "Anna Schmidt"})
        assert response.status_code == 503
        assert response.mimetype == "application/problem+json"
        assert "Redis" in response.json["detail"] and response.headers["Retry-After"]
        event = last_event(engine, actor=name, tag="search:person:query")
        assert (event["outcome"], event["case_id"]) == ("unavailable", case_id)
        assert outcomes(engine, name) == {"unavailable": 1}, "nothing was searched"
        # Endpoints without a search limit do not depend on Redis.
        _, auditor = user_with_token(settings, "auditor")
        assert client.get("/api/v1/audit/events?limit=1", headers=bearer(auditor)).status_code == 200
    finally:
        app.extensions["registry"].engine.dispose()
        app.extensions["registry"].redis.close()


def test_the_case_limit_counts_the_case_the_view_reads(settings: Settings, engine) -> None:  # type: ignore[no-untyped-def]
    """A GET reads its case from the query string; a JSON body naming other case ids must not
    move it into other buckets (it did: ten views under a case limited to three)."""
    name, token = user_with_token(settings, "investigator")
    case_id = open_case(settings, name)
    app = create_app(replace(settings, case_rate_limit="3/minute", search_rate_limit="1000/minute"))
    try:
        client = app.test_client()
        statuses = [client.get("/api/v1/parties/999999999", headers=bearer(token),
                               query_string={"case_id": case_id}, json={"case_id": 10_000_000 + i}).status_code
                    for i in range(5)]
        assert statuses == [404, 404, 404, 429, 429]
        breach = last_event(engine, actor=name, outcome="rate_limited")
        assert (breach["case_id"], breach["parameters"]["per"]) == (case_id, "case")
    finally:
        app.extensions["registry"].engine.dispose()
        app.extensions["registry"].redis.close()


def test_a_search_that_fails_is_still_one_audit_event(settings: Settings, engine) -> None:  # type: ignore[no-untyped-def]
    """The request's transaction rolls back on a 5xx; the look at the registry is still logged."""
    name, token = user_with_token(settings, "investigator")
    case_id = open_case(settings, name)
    # Port 1 on loopback: nothing listens there, so Elasticsearch fails at once.
    app = create_app(replace(settings, elasticsearch_url="http://127.0.0.1:1"))
    try:
        response = app.test_client().post("/api/v1/search/persons", headers=bearer(token),
                                          json={"case_id": case_id, "name": "Somebody Searched"})
        assert response.status_code == 503
        assert outcomes(engine, name) == {"unavailable": 1}
        event = last_event(engine, actor=name, tag="search:person:query")
        assert event["case_id"] == case_id and "503" in event["detail"]
    finally:
        app.extensions["registry"].engine.dispose()
        app.extensions["registry"].redis.close()


@pytest.mark.parametrize("path, query", [
    ("/api/v1/parties/1", {"case_id": str(2**63)}),
    ("/api/v1/parties/1", {"case_id": "0"}),
    ("/api/v1/entities/1/owners", {"case_id": str(2**70)}),
])
def test_ids_beyond_bigint_are_a_422_not_an_overflow(client, settings: Settings, path: str, query: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    _, token = user_with_token(settings, "investigator")
    response = client.get(path, headers=bearer(token), query_string=query)
    assert response.status_code == 422 and "case_id" in response.json["errors"]


@pytest.mark.parametrize("party", [str(2**63), "9" * 5000])  # 5,000 digits: beyond what int() reads
def test_a_path_id_beyond_bigint_matches_no_route(client, settings: Settings, party: str) -> None:  # type: ignore[no-untyped-def]
    _, token = user_with_token(settings, "investigator")
    response = client.get(f"/api/v1/parties/{party}", headers=bearer(token), query_string={"case_id": "1"})
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_paging_from_zero_is_allowed(client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _, auditor = user_with_token(settings, "auditor")
    for path in ("/api/v1/audit/events", "/api/v1/cooperation/requests"):
        assert client.get(path, headers=bearer(auditor), query_string={"after_id": "0"}).status_code == 200
