"""Query builders are pure: compared as dicts, no server."""

from __future__ import annotations

import json
from datetime import date

from search.queries import CANDIDATES, PersonQuery, baseline_person_search, person_search, validity_filter


def clauses(body: dict) -> list[dict]:  # type: ignore[type-arg]
    return body["query"]["bool"]["should"]


def test_person_query_filters_kind_and_current_records() -> None:
    body = person_search(PersonQuery("Anna Schmidt"))
    assert body["size"] == CANDIDATES
    assert {"term": {"kind": "person"}} in body["query"]["bool"]["filter"]
    assert validity_filter(None)[0] in body["query"]["bool"]["filter"]


def test_as_of_selects_the_period_that_contains_it() -> None:
    body = person_search(PersonQuery("Anna Schmidt", as_of=date(2021, 3, 3)))
    text = json.dumps(body["query"]["bool"]["filter"])
    assert '"lte": "2021-03-03"' in text and '"gt": "2021-03-03"' in text


def keyword_terms(name: str) -> dict[str, list[str]]:
    return {field: sorted(values) for c in clauses(person_search(PersonQuery(name))) if "terms" in c
            for field, values in c["terms"].items() if field != "boost"}


def test_token_order_and_diacritics_do_not_change_the_query() -> None:
    reordered = keyword_terms("Müller José")
    assert reordered == keyword_terms("José Müller")
    assert reordered["name_phonetic"] == keyword_terms("Jose Muller")["name_phonetic"]


def test_user_text_never_reaches_query_string() -> None:
    body = json.dumps(person_search(PersonQuery('company a/b OR "x" AND (y', identifier="AB 12-34")))
    assert "query_string" not in body and "simple_query_string" not in body


def test_identifier_is_decisive_and_birth_date_partial() -> None:
    body = person_search(PersonQuery("Anna Schmidt", birth_date="1980-03", identifier="ab-12 34"))
    idents = [c for c in clauses(body) if "term" in c and "identifiers" in c["term"]]
    assert idents and idents[0]["term"]["identifiers"]["boost"] >= 10
    births = [c for c in clauses(body) if "terms" in c and "birth_keys" in c["terms"]]
    assert "1980-03" in births[0]["terms"]["birth_keys"]


def test_baseline_is_a_plain_fuzzy_match() -> None:
    assert baseline_person_search("Anna", 10) == {
        "size": 10, "query": {"match": {"name_text": {"query": "Anna", "fuzziness": "AUTO"}}}}
