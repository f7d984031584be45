"""`registry demo-users` (run by `make demo`) hands out everything a visitor needs: a token
for the API and a password with a TOTP secret for the pages, and both work."""

from __future__ import annotations

import re

import pyotp

from registry.config import Settings
from tests.integration.test_slice import run


def test_demo_users_can_search_the_api_and_sign_in_to_the_pages(client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    printed = run(settings, "demo-users")
    token = re.search(r"token \(valid one day\): (\S+)", printed).group(1)  # type: ignore[union-attr]
    case_id = int(re.search(r'"case_id": (\d+)', printed).group(1))  # type: ignore[union-attr]
    password = re.search(r"password (\S+), with", printed).group(1)  # type: ignore[union-attr]
    secret = re.search(r"TOTP secret (\S+)", printed).group(1)  # type: ignore[union-attr]
    cases = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert case_id in {c["id"] for c in cases.json["cases"]}
    signed_in = client.post("/api/v1/session", json={"name": "demo", "password": password,
                                                      "totp": pyotp.TOTP(secret).now()})
    assert signed_in.status_code == 201 and signed_in.json["role"] == "investigator"


def test_a_search_before_the_index_is_built_says_so(settings: Settings) -> None:
    from dataclasses import replace

    from registry.app import create_app

    app = create_app(replace(settings, index_prefix=f"{settings.index_prefix}-never-built"))
    printed = run(settings, "demo-users")
    token = re.search(r"token \(valid one day\): (\S+)", printed).group(1)  # type: ignore[union-attr]
    case_id = int(re.search(r'"case_id": (\d+)', printed).group(1))  # type: ignore[union-attr]
    answer = app.test_client().post("/api/v1/search/persons", json={"case_id": case_id, "name": "Maria Garcia"},
                                    headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 503 and "registry index rebuild" in answer.json["detail"]
    app.extensions["registry"].engine.dispose()
