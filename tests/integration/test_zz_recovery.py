"""Elasticsearch goes away and comes back while the app runs: /healthz follows it.

Named to run last: it stops the shared local Elasticsearch for a few seconds.
"""

from __future__ import annotations

import time

import pytest

from registry.config import Settings
from registry.localservices.base import Layout
from registry.localservices.elasticsearch import Elasticsearch
from tests.conftest import ROOT


def wait_for_status(client, status: int, seconds: float = 120) -> dict:  # type: ignore[no-untyped-def, type-arg]
    deadline = time.monotonic() + seconds
    while True:
        response = client.get("/healthz")
        if response.status_code == status or time.monotonic() > deadline:
            return {"status": response.status_code, "body": response.json}
        time.sleep(1)


def test_healthz_turns_503_without_elasticsearch_and_recovers(client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    service = Elasticsearch(Layout(ROOT))
    if service.url != settings.elasticsearch_url:
        pytest.skip("ELASTICSEARCH_URL points at a server these tests did not start; not stopping it")
    assert wait_for_status(client, 200)["status"] == 200
    service.down()
    try:
        down = wait_for_status(client, 503, 30)
        assert down["status"] == 503
        assert down["body"]["failed"] == ["elasticsearch"]
    finally:
        service.up()
    # The same app object, untouched: it reconnects by itself.
    assert wait_for_status(client, 200)["status"] == 200
