"""Query builders are pure: compared as dicts, no server."""

from __future__ import annotations

import json
from datetime import date

from search.queries import (
    CANDIDATES,
    EntityQuery,
    PersonQuery,
    baseline_person_search,
    entity_search,
    person_search,
    validity_filter,
)


def clauses(body: dict) -> list[dict]:  # type: ignore[type-arg]
    return body["query"]["bool"]["should"]


def test_person_query_filters_kind_and_current_records() -> None:
    body = person_search(PersonQuery("Anna Schmidt"))
    assert body["size"] == CANDIDATES
    assert {"term": {"kind": "person"}} in body["query"]["bool"]["filter"]
    assert validity_filter(None)[0] in body["query"]["bool"]["filter"]


def test_as_of_leaves_out_only_parties_closed_by_then() -> None:
    body = person_search(PersonQuery("Anna Schmidt", as_of=date(2021, 3, 3)))
    text = json.dumps(body["query"]["bool"]["filter"])
    assert '"valid_to": {"gt": "2021-03-03"}' in text
    # A party's valid_from is its bank's first report, not the relationship's start.
    assert "valid_from" not in text


def clause_set(name: str) -> list[str]:
    return sorted(json.dumps(c, sort_keys=True) for c in clauses(person_search(PersonQuery(name))))


def test_token_order_and_diacritics_do_not_change_the_query() -> None:
    assert clause_set("Müller José") == clause_set("José Müller") == clause_set("Jose Muller")
    assert clause_set("José Müller") != clause_set("José Müller Weber")


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


def test_entity_query_filters_kind_and_makes_identifiers_decisive() -> None:
    body = entity_search(EntityQuery(name="Müller Holding", lei="5299000j2n45ddne4y28",
                                     registration_number="HRB 1234", country="de"))
    assert {"term": {"kind": "entity"}} in body["query"]["bool"]["filter"]
    idents = {c["term"]["identifiers"]["value"]: c["term"]["identifiers"]["boost"]
              for c in clauses(body) if "term" in c and "identifiers" in c["term"]}
    assert idents == {"lei:5299000J2N45DDNE4Y28": 20.0, "HRB1234": 20.0}
    assert {"term": {"countries": {"value": "DE", "boost": 0.5}}} in clauses(body)


def test_entity_query_by_identifier_alone_has_no_name_clauses() -> None:
    body = entity_search(EntityQuery(lei="5299000J2N45DDNE4Y28"))
    assert clauses(body) == [{"term": {"identifiers": {"value": "lei:5299000J2N45DDNE4Y28", "boost": 20.0}}}]
    assert body["query"]["bool"]["minimum_should_match"] == 1


def test_entity_user_text_never_reaches_query_string() -> None:
    body = json.dumps(entity_search(EntityQuery('company a/b "(*)~', registration_number="a/b OR *")))
    assert "query_string" not in body


def test_a_range_of_birth_years_asks_for_each_year_weakly() -> None:
    body = person_search(PersonQuery("Anna Schmidt", birth_years=(1978, 1981)))
    assert {"terms": {"birth_keys": ["1978", "1979", "1980", "1981"], "boost": 0.25}} in clauses(body)
    # A birth date given too wins: the range is the form's other way of saying it.
    both = person_search(PersonQuery("Anna Schmidt", birth_date="1980-03-14", birth_years=(1978, 1981)))
    assert not any("1978" in json.dumps(c) for c in clauses(both))
