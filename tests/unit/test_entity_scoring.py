"""Entities are scored by name without legal form, with identifiers as decisive evidence."""

from __future__ import annotations

from search.entity_scoring import ENTITY_LIKELY, core_name, score_entity
from search.queries import EntityQuery

LEI = "5299000J2N45DDNE4Y28"
MUELLER = {"full_name": "Müller Holding GmbH", "lei": LEI, "registration_number": "HRB 1234",
           "registration_country": "DE"}


def test_legal_forms_are_not_part_of_the_name() -> None:
    assert core_name("MÜLLER HOLDING G.m.b.H.") == core_name("Müller Holding Ltd.") == "muller holding"
    assert core_name("Banco Exemplo S.A.") == "banco exemplo"
    assert core_name("GmbH") == "gmbh"  # nothing else left: keep it


def test_the_name_alone_scores_by_similarity() -> None:
    scored = score_entity(EntityQuery(name="Muller Holding Ltd"), MUELLER)
    assert scored.score >= ENTITY_LIKELY and scored.explanation == ["name similarity 1.00"]
    assert score_entity(EntityQuery(name="Acme Trading"), MUELLER).score < ENTITY_LIKELY


def test_a_matching_identifier_is_decisive() -> None:
    by_lei = score_entity(EntityQuery(name="Completely Different", lei=LEI.lower()), MUELLER)
    assert by_lei.score == 1.0 and "LEI matches" in by_lei.explanation
    by_number = score_entity(EntityQuery(registration_number="hrb-1234"), MUELLER)
    assert by_number.score == 1.0 and by_number.explanation == ["registration number matches"]


def test_a_conflicting_identifier_or_country_lowers_the_score() -> None:
    plain = score_entity(EntityQuery(name="Müller Holding"), MUELLER).score
    other_lei = score_entity(EntityQuery(name="Müller Holding", lei="529900T8BM49AURSDO55"), MUELLER)
    assert other_lei.score < ENTITY_LIKELY <= plain and "LEI conflicts" in other_lei.explanation
    elsewhere = score_entity(EntityQuery(name="Müller Holding", country="AT"), MUELLER)
    assert elsewhere.score < plain and "country conflicts (DE)" in elsewhere.explanation


def test_without_a_name_or_a_matching_identifier_nothing_scores() -> None:
    assert score_entity(EntityQuery(registration_number="HRB 9999"), MUELLER).score == 0.0
