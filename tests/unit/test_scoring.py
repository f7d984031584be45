"""Second-stage scoring: birth-date evidence, nationality, identifiers and the LIKELY line."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.documents import party_document
from search.names import analyse_name
from search.queries import PersonQuery
from search.scoring import (
    BIRTH_AGREES,
    BIRTH_CLOSE,
    BIRTH_CONFLICTS,
    BIRTH_UNKNOWN,
    LIKELY,
    birth_date_evidence,
    score_person,
)


def record(name: str, birth_date: str | None = None, nationalities: tuple[str, ...] = (),
           identifiers: tuple[dict[str, str], ...] = ()) -> dict[str, Any]:
    """A search document as the index holds it, built the way indexing builds it."""
    party = {"institution_id": 1, "ref": "c1", "kind": "person", "full_name": name,
             "birth_date": birth_date, "nationalities": list(nationalities),
             "identifiers": list(identifiers)}
    return party_document(party, "BANK")


def score(query: PersonQuery, source: dict[str, Any]) -> float:
    return score_person(query, analyse_name(query.name), source).score


@pytest.mark.parametrize(
    ("wanted", "recorded", "value", "said"),
    [
        ("1980-03-14", "1980-03-14", BIRTH_AGREES, "agrees"),
        ("1980-03-14", "1980-03-15", BIRTH_CLOSE, "one day apart"),
        ("1981-02-28", "1981-03-01", BIRTH_CLOSE, "one day apart"),
        ("1980-03-04", "1980-04-03", BIRTH_CLOSE, "day and month swapped"),
        ("1980-03-14", "1981-03-14", BIRTH_CLOSE, "year one apart"),
        ("1980-03-14", "1980-08-14", BIRTH_CLOSE, "one digit differs"),
        ("1963-03-14", "1936-03-14", BIRTH_CLOSE, "two digits swapped"),
        ("1980-03-14", "1975-11-02", BIRTH_CONFLICTS, "conflicts"),
        ("1980-03-14", "1980-03-25", BIRTH_CONFLICTS, "conflicts"),
        ("1980-03", "1980-03-14", 0.75, "consistent (month)"),
        ("1980", "1980-03-14", 0.6, "consistent (year)"),
        ("1981", "1980-03-14", BIRTH_CONFLICTS, "conflicts"),
        # 1 January is how registers write "born in 1858, day unknown".
        ("1858-01-01", "1858-06-30", 0.6, "consistent (year)"),
        ("1858-01-01", "1858-01-01", 0.6, "consistent (year)"),
        (None, "1980-03-14", BIRTH_UNKNOWN, "unknown"),
        ("1980-03-14", None, BIRTH_UNKNOWN, "unknown"),
        ("14/03/1980", "1980-03-14", BIRTH_UNKNOWN, "unknown"),
    ],
)
def test_birth_date_evidence(wanted: str | None, recorded: str | None, value: float, said: str) -> None:
    got, explanation = birth_date_evidence(wanted, recorded)
    assert got == value
    assert explanation.endswith(said) or said in explanation


def test_birth_date_evidence_is_symmetric_for_full_dates() -> None:
    for left, right in [("1980-03-04", "1980-04-03"), ("1980-03-14", "1980-03-15"),
                        ("1980-03-14", "1975-11-02"), ("1963-03-14", "1936-03-14")]:
        assert birth_date_evidence(left, right) == birth_date_evidence(right, left)


def test_same_name_ranks_by_birth_date_evidence() -> None:
    query = PersonQuery("Anna Schmidt", birth_date="1980-03-14")
    ranked = [score(query, record("Anna Schmidt", born)) for born in
              ("1980-03-14", "1980-03-15", "1980", None, "1975-11-02")]
    assert ranked == sorted(ranked, reverse=True)
    assert len(set(ranked)) == len(ranked)


def test_a_date_lifts_half_a_name_above_a_bare_name() -> None:
    # "Eric" with the right birth date is more likely "Eric Stanger" born that day than
    # any "Eric" whose date nobody knows.
    query = PersonQuery("Eric", birth_date="1628-01-20")
    assert score(query, record("Eric Stanger", "1628-01-20")) > score(query, record("Eric"))


def test_a_full_name_with_a_wrong_date_ranks_above_half_a_name() -> None:
    query = PersonQuery("Florence Brown", birth_date="2002-02-24")
    assert score(query, record("Florence Brown", "1992-02-28")) > score(query, record("Brown"))


@pytest.mark.parametrize(
    ("query", "source"),
    [
        (PersonQuery("Anna Schmidt", birth_date="1980-03-14"), record("Anna Schmidt", "1980-03-14")),
        (PersonQuery("Anna Schmidt", birth_date="1980-03-14"), record("Anna Schmitt", "1980-03-14")),
        (PersonQuery("Bill Smith", birth_date="1971-06-24"), record("William Smith", "1971-06-24")),
        (PersonQuery("Anna Schmidt", birth_date="1980-03-04"), record("Anna Schmidt", "1980-04-03")),
        (PersonQuery("Anna Schmidt", birth_date="1980-03"), record("Anna Schmidt", "1980-03-14")),
        (PersonQuery("Владимир Путин", birth_date="1952-10-07"), record("Vladimir Putin", "1952-10-07")),
        (PersonQuery("Somebody Else", identifier="DE 136.695.976"),
         record("Anna Schmidt", identifiers=({"scheme": "tax_id", "country": "DE", "value": "DE136695976"},))),
    ],
)
def test_likely_when_name_and_an_independent_fact_agree(query: PersonQuery, source: dict[str, Any]) -> None:
    assert score(query, source) >= LIKELY


@pytest.mark.parametrize(
    ("query", "source"),
    [
        # A name alone, however exact, is never enough: namesakes are common.
        (PersonQuery("Anna Schmidt"), record("Anna Schmidt", "1980-03-14")),
        (PersonQuery("Anna Schmidt", birth_date="1980-03-14"), record("Anna Schmidt")),
        (PersonQuery("Anna Schmidt", birth_date="1980-03-14"), record("Anna Schmidt", "1975-11-02")),
        # A birth year alone is shared by one person in eighty.
        (PersonQuery("Anna Schmidt", birth_date="1980"), record("Anna Schmidt", "1980-03-14")),
        (PersonQuery("Anna Schmidt", birth_date="1858-01-01"), record("Anna Schmidt", "1858-01-01")),
        # The same birthday does not make a different name the same person.
        (PersonQuery("Anna Schmidt", birth_date="1980-03-14"), record("Maria Garcia", "1980-03-14")),
        (PersonQuery("Anna Schmidt", birth_date="1980-03-14"), record("Anna Weber", "1980-03-14")),
        # One word of a name and the birth date: half a name.
        (PersonQuery("Thomas", birth_date="1858-05-28"), record("Thomas", "1858-05-29")),
        # Titles alone, even with the same birthday.
        (PersonQuery("Sir 1st Baronet", birth_date="1859-04-24"), record("1st Baronet", "1859-04-24")),
    ],
)
def test_not_likely_without_agreeing_evidence(query: PersonQuery, source: dict[str, Any]) -> None:
    assert score(query, source) < LIKELY


def test_nationality_conflict_weakens_and_agreement_is_explained() -> None:
    query = PersonQuery("Anna Schmidt", birth_date="1980-03-14", nationality="de")
    same = score_person(query, analyse_name(query.name), record("Anna Schmidt", "1980-03-14", ("DE",)))
    other = score_person(query, analyse_name(query.name), record("Anna Schmidt", "1980-03-14", ("AT",)))
    unknown = score_person(query, analyse_name(query.name), record("Anna Schmidt", "1980-03-14"))
    assert other.score < same.score == unknown.score
    assert "nationality agrees" in same.explanation
    assert "nationality differs" in other.explanation


def test_explanation_lists_the_evidence() -> None:
    query = PersonQuery("Anna Schmidt", birth_date="1980-03-04", identifier="DE136695976")
    source = record("Anna Schmitt", "1980-04-03",
                    identifiers=({"scheme": "tax_id", "country": "DE", "value": "DE 136 695 976"},))
    scored = score_person(query, analyse_name(query.name), source)
    assert scored.explanation[0].startswith("name similarity 0.")
    assert "birth date close (day and month swapped)" in scored.explanation
    assert "identifier matches (tax_id)" in scored.explanation
    assert scored.score >= LIKELY


def test_only_an_identity_document_agreeing_with_the_birth_date_is_decisive() -> None:
    query = PersonQuery("Wilhelmina Zauberkraut", birth_date="1961-04-17", identifier="XK77881")
    customer = record("Totally Different", "1961-04-17",
                      identifiers=({"scheme": "customer_number", "value": "XK77881"},))
    passport = record("Totally Different", "1999-12-31",
                      identifiers=({"scheme": "passport", "country": "DE", "value": "XK77881"},))
    for source, said in ((customer, "not an identity document"), (passport, "birth date conflicts")):
        scored = score_person(query, analyse_name(query.name), source)
        assert scored.score < LIKELY and any(said in e for e in scored.explanation), scored


def test_an_identifier_that_is_not_there_is_no_conflict_but_the_match_ranks_first() -> None:
    query = PersonQuery("Anna Schmidt", birth_date="1980-03-14", identifier="X999")
    matching = score(query, record("Anna Schmidt", "1980-03-14",
                                   identifiers=({"scheme": "national_id", "value": "X 999"},)))
    other = score_person(query, analyse_name(query.name), record(
        "Anna Schmidt", "1980-03-14", identifiers=({"scheme": "passport", "value": "C01X00T47"},)))
    without = score(query, record("Anna Schmidt", "1980-03-14"))
    assert matching > other.score >= LIKELY  # another document: perhaps her passport, not his
    assert "identifier not among the record's" in other.explanation
    # Having a document never counts against a record: one without any ranks no higher.
    assert without == other.score


dates = st.dates().map(lambda d: d.isoformat()) | st.none() | st.sampled_from(["1980", "1980-03"])


@settings(deadline=None, max_examples=200)
@given(st.text(max_size=40), dates, st.text(max_size=40), dates,
       st.none() | st.sampled_from(["DE", "FR"]), st.none() | st.text(max_size=12))
def test_score_is_bounded(name: str, born: str | None, other: str, recorded: str | None,
                          nationality: str | None, identifier: str | None) -> None:
    query = PersonQuery(name or "x", birth_date=born, nationality=nationality, identifier=identifier)
    scored = score_person(query, analyse_name(query.name), record(other or "y", recorded, ("DE",)))
    assert 0.0 <= scored.score <= 1.0
    assert scored.explanation


# Honorifics, titles, particles, scripts, punctuation, digits: whatever analysis treats apart.
_WORDS = st.sampled_from(["Mr", "Dr.", "Sir", "John", "van", "de", "Smith", "1st", "Baronet", "Ch9tty",
                          "Ødegård", "محمد", "Иван", "O'Brien", "Smith-Jones", "!!", "J.", ""])
_NAMES = st.lists(_WORDS, max_size=5).map(" ".join) | st.text(max_size=30)


@settings(deadline=None, max_examples=300)
@given(_NAMES, st.lists(_NAMES, max_size=3), _NAMES.filter(lambda n: len(n) >= 2))
def test_indexed_name_words_score_as_the_names_shown(name: str, others: list[str], asked: str) -> None:
    # Documents carry each name's words for re-scoring; one indexed before they did is
    # scored from the names shown, and the two must agree.
    party = {"institution_id": 1, "ref": "c1", "kind": "person", "full_name": name or "x",
             "other_names": others}
    indexed = party_document(party, "BANK")
    older = {k: v for k, v in indexed.items() if k != "name_words"}
    query = PersonQuery(asked)
    assert score(query, indexed) == score(query, older)


def test_a_range_of_birth_years_is_weak_evidence_for_and_a_conflict_against() -> None:
    query = PersonQuery("Anna Schmidt", birth_years=(1975, 1984))
    inside, outside, unknown = (score(query, record("Anna Schmidt", born)) for born in ("1980-03-14", "1991-07-02", None))
    assert inside > unknown > outside
    assert inside < LIKELY  # a range never makes a name likely by itself
    one_year = PersonQuery("Anna Schmidt", birth_years=(1980, 1980))
    assert score(one_year, record("Anna Schmidt", "1980-03-14")) == score(
        PersonQuery("Anna Schmidt", birth_date="1980"), record("Anna Schmidt", "1980-03-14"))
