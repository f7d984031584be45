"""The OpenAPI document covers every /api/v1 endpoint and is a valid OpenAPI 3 document."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate

from registry.api.openapi import API_PREFIX, RULE_ARGUMENT
from registry.auth import INSTITUTION, PUBLIC, declared_callers
from tests.integration.test_access import bearer, user_with_token


@pytest.fixture(scope="module")
def document(app, settings) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    _, token = user_with_token(settings, "auditor")
    response = app.test_client().get("/api/v1/openapi.json", headers=bearer(token))
    assert response.status_code == 200
    return response.json  # type: ignore[no-any-return]


def test_every_api_rule_and_method_is_in_the_document(app, document) -> None:  # type: ignore[no-untyped-def]
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith(API_PREFIX)]
    assert len(rules) > 10
    for rule in rules:
        path = document["paths"][RULE_ARGUMENT.sub(r"{\g<name>}", rule.rule)]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = path[method.lower()]
            assert operation["summary"], rule.endpoint
            callers = declared_callers(app.view_functions[rule.endpoint])
            said = {PUBLIC: "anyone, without credentials", INSTITUTION: "institution's API key"}
            assert all(said.get(c, c) in operation["description"] for c in callers), rule.endpoint


def test_the_document_is_valid_openapi(document) -> None:  # type: ignore[no-untyped-def]
    validate(document)
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}


def test_request_bodies_come_from_the_marshmallow_schemas(document) -> None:  # type: ignore[no-untyped-def]
    body = document["paths"]["/api/v1/search/persons/batch"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    queries = document["components"]["schemas"][ref]["properties"]["queries"]
    assert queries["maxItems"] == 100 and queries["minItems"] == 1
    persons = document["paths"]["/api/v1/search/persons"]["post"]
    assert persons["security"] == [{"bearer": []}] and "429" in persons["responses"]
    assert "investigator" in persons["description"]


def test_public_endpoints_say_so_and_institutions_may_not_read_it(app, document, client) -> None:  # type: ignore[no-untyped-def]
    assert document["paths"]["/api/v1/session"]["post"]["security"] == []
    assert client.get("/api/v1/openapi.json").status_code == 401


@pytest.mark.parametrize("path", ["persons", "persons/batch", "entities", "accounts"])
def test_each_search_documents_its_answer(document, path: str) -> None:  # type: ignore[no-untyped-def]
    ok = document["paths"][f"/api/v1/search/{path}"]["post"]["responses"]["200"]
    ref = ok["content"]["application/json"]["schema"]["$ref"]
    answer = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"results", "answers"} & set(answer["properties"])
