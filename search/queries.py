"""Pure query builders: typed input, a dict out, unit-tested without a server.

User text is only ever placed in `term`, `terms` and `match` clauses, never in
`query_string`, so no query syntax a user types can reach Elasticsearch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from search.name_query import name_clauses
from search.names import birth_date_keys, normalise_identifier

# Candidates fetched for the Python re-scoring stage: the search issue asks for at least 50.
CANDIDATES = 50
# Deep paging makes Elasticsearch sort everything it has seen; we never need to.
MAX_WINDOW = 1000
# What the re-scoring and merging stages read of a candidate. The keyword fields (name keys
# above all) are most of a document's bytes and are only needed for finding it.
PERSON_SOURCE = ["institution", "ref", "display", "birth_date", "nationalities", "identifiers", "name_words"]
ENTITY_SOURCE = ["institution", "ref", "display"]


@dataclass(frozen=True)
class PersonQuery:
    name: str
    birth_date: str | None = None
    nationality: str | None = None
    identifier: str | None = None
    as_of: date | None = None
    size: int = CANDIDATES
    # Born in one of these years, first and last included: instead of a birth_date.
    birth_years: tuple[int, int] | None = None


def validity_filter(as_of: date | None) -> list[dict[str, Any]]:
    """Only parties not closed by `as_of` (default: those still open).

    Not "opened by `as_of`" too: a party's `valid_from` is when its bank first reported it,
    not when the relationship began, so that test dropped every customer of a bank whose
    first extract came after the date, however old their accounts. What a party held on
    `as_of` is for its accounts to say (their roles' and accounts' own dates)."""
    if as_of is None:
        return [{"bool": {"must_not": {"exists": {"field": "valid_to"}}}}]
    return [{"bool": {"should": [{"bool": {"must_not": {"exists": {"field": "valid_to"}}}},
                                 {"range": {"valid_to": {"gt": as_of.isoformat()}}}]}}]


def person_search(query: PersonQuery) -> dict[str, Any]:
    should = name_clauses(query.name)
    if query.birth_date:
        # The exact date proves more than a shared year or a day-month swap.
        should.append({"term": {"birth_date": {"value": query.birth_date, "boost": 2.0}}})
        should.append({"terms": {"birth_keys": birth_date_keys(query.birth_date), "boost": 0.5}})
    elif query.birth_years:
        # A range says less than a year: it only breaks ties among the name's candidates.
        first, last = query.birth_years
        should.append({"terms": {"birth_keys": [f"{y:04d}" for y in range(first, last + 1)], "boost": 0.25}})
    if query.nationality:
        should.append({"term": {"countries": {"value": query.nationality.upper(), "boost": 0.5}}})
    if query.identifier:
        # A matching identifier is decisive evidence, whatever the name says.
        should.append({"term": {"identifiers": {"value": normalise_identifier("", None, query.identifier),
                                                 "boost": 20.0}}})
    return {
        "size": min(query.size, MAX_WINDOW),
        "track_total_hits": False,
        "_source": PERSON_SOURCE,
        "query": {"bool": {
            "filter": [{"term": {"kind": "person"}}, *validity_filter(query.as_of)],
            "should": should,
            "minimum_should_match": 1,
        }},
    }


@dataclass(frozen=True)
class EntityQuery:
    name: str | None = None
    registration_number: str | None = None
    lei: str | None = None
    country: str | None = None
    as_of: date | None = None
    size: int = CANDIDATES


def entity_search(query: EntityQuery) -> dict[str, Any]:
    should = name_clauses(query.name) if query.name else []
    if query.lei:
        # Identifiers are decisive: a matching one must outrank any spelling of the name.
        should.append({"term": {"identifiers": {
            "value": f"lei:{normalise_identifier('lei', None, query.lei)}", "boost": 20.0}}})
    if query.registration_number:
        # The bare compact form: registers differ in what they call the scheme.
        should.append({"term": {"identifiers": {
            "value": normalise_identifier("", None, query.registration_number), "boost": 20.0}}})
    if query.country:
        should.append({"term": {"countries": {"value": query.country.upper(), "boost": 0.5}}})
    return {
        "size": min(query.size, MAX_WINDOW),
        "track_total_hits": False,
        "_source": ENTITY_SOURCE,
        "query": {"bool": {
            "filter": [{"term": {"kind": "entity"}}, *validity_filter(query.as_of)],
            "should": should,
            "minimum_should_match": 1,
        }},
    }


def baseline_person_search(name: str, size: int = 10) -> dict[str, Any]:
    """The plain baseline the quality benchmark compares against."""
    return {"size": size, "query": {"match": {"name_text": {"query": name, "fuzziness": "AUTO"}}}}
