"""A real server for the browser: the app on a free loopback port in a thread, a worker
thread applying uploads as `registry worker` does, and Debian's Chromium driven by
Playwright (which never downloads a browser of its own here)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine
from werkzeug.serving import make_server

from registry.config import Settings
from registry.processing import process_uploads
from tests.conftest import ROOT
from tests.e2e.world import World, build

CHROMIUM = os.environ.get("REGISTRY_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "var" / "screenshots"


@pytest.fixture(scope="session")
def world(settings: Settings, engine: Engine, gateway, tmp_path_factory) -> World:  # type: ignore[no-untyped-def]
    return build(settings, engine, gateway, tmp_path_factory.mktemp("e2e"))


# Package scope: the server and the worker end with the browser tests, so the worker does
# not go on taking up extracts the integration tests load afterwards.
@pytest.fixture(scope="package")
def server(settings: Settings) -> Iterator[str]:
    from registry.app import create_app

    # Plain http on loopback: the cookie cannot be Secure-only here.
    app = create_app(replace(settings, session_cookie_secure=False))
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join()
    app.extensions["registry"].engine.dispose()


@pytest.fixture(scope="package")
def worker(settings: Settings) -> Iterator[None]:
    from registry.db import make_engine

    engine = make_engine(settings.database_url, pool_size=2)  # the application's role, as deployed
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(0.3):
            process_uploads(engine)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join()
    engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `make browser` installs Debian's")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shoot() -> object:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> None:  # type: ignore[no-untyped-def]
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return save
