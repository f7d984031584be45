"""One human across banks: records merge on strong evidence only, never on a name alone."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.merging import PartyRecord, merge_entities, merge_people

NATIONAL_ID = {"scheme": "national_id", "country": "DE", "value": "T22000129"}


def record(rid: str, name: str, score: float = 0.9, **party: Any) -> PartyRecord:
    bank, _, ref = rid.partition(":")
    return PartyRecord(rid, f"BANK{bank}", ref, score, {"full_name": name, **party})


def clusters(records: list[PartyRecord]) -> list[list[str]]:
    return [[r.id for r in c.records] for c in merge_people(records)]


def test_same_national_id_and_birth_date_merge_whatever_the_spelling() -> None:
    a = record("1:C1", "Anna Schmidt", 1.0, birth_date="1980-03-14", identifiers=[NATIONAL_ID])
    b = record("2:X9", "Anja Šmitova", 0.5, birth_date="1980-03-14",
               identifiers=[{"scheme": "national_id", "country": "de", "value": "t2200-0129"}])
    (merged,) = merge_people([b, a])
    assert [r.id for r in merged.records] == ["1:C1", "2:X9"]
    assert merged.score == 1.0
    assert "same national_id (DE)" in merged.reasons[0] and "BANK2 X9" in merged.reasons[0]


def test_two_different_people_with_the_same_name_are_not_merged() -> None:
    no_dates = [record("1:A", "Anna Schmidt"), record("2:B", "Anna Schmidt")]
    assert clusters(no_dates) == [["1:A"], ["2:B"]]
    other_dates = [record("1:A", "Anna Schmidt", birth_date="1980-03-14"),
                   record("2:B", "Anna Schmidt", birth_date="1991-07-02")]
    assert clusters(other_dates) == [["1:A"], ["2:B"]]


def test_only_a_birth_year_is_not_enough_for_a_name_merge() -> None:
    assert clusters([record("1:A", "Anna Schmidt", birth_date="1980"),
                     record("2:B", "Anna Schmidt", birth_date="1980")]) == [["1:A"], ["2:B"]]


def test_1_january_is_a_year_for_a_name_merge_too() -> None:
    """The stand-in for an unknown day: namesakes born the same year must stay apart."""
    assert clusters([record("1:A", "Mariela Quintanilla Obregon", birth_date="1970-01-01"),
                     record("2:B", "Mariela Quintanilla Obregon", birth_date="1970-01-01")]) == [["1:A"], ["2:B"]]
    # A shared identity number still decides, 1 January or not.
    assert clusters([record("1:A", "Anna Schmidt", birth_date="1970-01-01", identifiers=[NATIONAL_ID]),
                     record("2:B", "Anna Schmidt", birth_date="1970-01-01", identifiers=[NATIONAL_ID])]) == [["1:A", "2:B"]]


def test_the_same_name_and_the_same_full_birth_date_merge() -> None:
    (merged,) = merge_people([record("1:A", "Anna Schmidt", birth_date="1980-03-14"),
                              record("2:B", "SCHMIDT, Anna", birth_date="1980-03-14")])
    assert "the same name and the same birth date 1980-03-14" in merged.reasons[0]


@pytest.mark.parametrize(("first", "second"), [
    ("Anna Schmidt", "Anna Schmitt"),                 # one letter inside a long word
    ("Mohammed Al Said", "Muhammad Al-Said"),         # transliterated otherwise
    ("Aleksandr Ivanov", "Alexander Ivanov"),
    ("Sergey Ivanov", "Sergei Ivanov"),
    ("Anna Nowak", "Anna Novak"),
    ("Jürgen Müller", "Juergen Mueller"),             # umlauts written out, in both words
    ("Pieter van der Berg", "Pieter Vanderberg"),     # the same words written together
    ("Lord Anna Schmidt", "Anna Schmidt"),            # a title is said of her, not her name
    ("Владимир Путин", "Vladimir Putin"),
])
def test_one_name_however_banks_write_it_merges(first: str, second: str) -> None:
    assert clusters([record("1:A", first, birth_date="1980-03-14"),
                     record("2:B", second, birth_date="1980-03-14")]) == [["1:A", "2:B"]]


@pytest.mark.parametrize(("first", "second"), [
    ("Jan Novak", "Jana Novak"),                      # twins: the ending is the sex
    ("Daniel Weber", "Daniela Weber"),
    ("Alexander Petrov", "Alexandra Petrov"),
    ("Giulio Rossi", "Giulia Rossi"),
    ("Hussein Ali", "Hassan Ali"),                    # names that sound alike
    ("Maria Weber", "Marta Weber"),                   # one letter apart, but short words
    ("Francis Walker", "Frances Walker"),             # two known given names
    ("Bill Smith", "William Smith"),                  # a nickname
    ("William Jefferson Clinton", "Bill Clinton"),
    ("Anna Schmidt", "Anna Maria Schmidt"),           # one name more
    ("Anna Schmidt", "Anja Schmitt"),                 # Anja is another name
    ("Joe Smith", "Jo Smith"),
    ("Anna Knight", "Anna Bishop"),                   # surnames that are also titles
    ("Earl Warren", "Duke Warren"),                   # given names that are also titles
    ("Sergey Ivanov", "Sergei Ivanova"),              # the ending is the sex
    ("Anna", "Anna"),                                 # one word names too many people
    ("J. Smith", "J. Smith"),
])
def test_a_similar_name_with_the_same_birth_date_is_not_merged(first: str, second: str) -> None:
    assert clusters([record("1:A", first, birth_date="1980-03-14"),
                     record("2:B", second, birth_date="1980-03-14")]) == [["1:A"], ["2:B"]]


def test_conflicting_identifier_or_nationality_vetoes_a_name_merge() -> None:
    other_id = {**NATIONAL_ID, "value": "L01X00T47"}
    assert clusters([record("1:A", "Anna Schmidt", birth_date="1980-03-14", identifiers=[NATIONAL_ID]),
                     record("2:B", "Anna Schmidt", birth_date="1980-03-14", identifiers=[other_id])]
                    ) == [["1:A"], ["2:B"]]
    assert clusters([record("1:A", "Anna Schmidt", birth_date="1980-03-14", nationalities=["DE"]),
                     record("2:B", "Anna Schmidt", birth_date="1980-03-14", nationalities=["AT"])]
                    ) == [["1:A"], ["2:B"]]


def test_a_renewed_passport_is_no_conflict_but_a_different_birth_date_is() -> None:
    old = {"scheme": "passport", "country": "DE", "value": "C01X00T47"}
    new = {**old, "value": "C02Y11T58"}
    assert clusters([record("1:A", "Anna Schmidt", birth_date="1980-03-14", identifiers=[old]),
                     record("2:B", "Anna Schmidt", birth_date="1980-03-14", identifiers=[new])]
                    ) == [["1:A", "2:B"]]
    assert clusters([record("1:A", "Anna Schmidt", birth_date="1980-03-14", identifiers=[NATIONAL_ID]),
                     record("2:B", "Anna Schmidt", birth_date="1980-04-14", identifiers=[NATIONAL_ID])]
                    ) == [["1:A"], ["2:B"]]


def test_a_chain_cannot_drag_in_a_record_that_contradicts_the_cluster() -> None:
    # B shares A's national id; C has B's exact name and birth date but another national id.
    a = record("1:A", "Anna Schmidt", 1.0, birth_date="1980-03-14", identifiers=[NATIONAL_ID])
    b = record("2:B", "Anna Schmitt", 0.9, birth_date="1980-03-14", identifiers=[NATIONAL_ID])
    c = record("3:C", "Anna Schmitt", 0.8, birth_date="1980-03-14",
               identifiers=[{**NATIONAL_ID, "value": "L01X00T47"}])
    assert clusters([c, b, a]) == [["1:A", "2:B"], ["3:C"]]


PEOPLE = [record("1:A", "Anna Schmidt", 1.0, birth_date="1980-03-14", identifiers=[NATIONAL_ID]),
          record("2:B", "Anna Schmitt", 0.7, birth_date="1980-03-14", identifiers=[NATIONAL_ID]),
          record("3:C", "Anna Schmitt", 0.7, birth_date="1980-03-14"),
          record("4:D", "Anna Schmidt", 0.9, birth_date="1991-07-02"),
          record("5:E", "Jan Novak", 0.2)]


@settings(max_examples=50)
@given(st.permutations(PEOPLE))
def test_merging_is_deterministic_whatever_the_order(shuffled: list[PartyRecord]) -> None:
    assert clusters(shuffled) == clusters(PEOPLE)


def test_clusters_come_best_first() -> None:
    assert [c.score for c in merge_people(PEOPLE)] == sorted((c.score for c in merge_people(PEOPLE)),
                                                            reverse=True)


def test_entities_merge_on_lei_or_registration_number_never_on_name() -> None:
    lei = "5299000J2N45DDNE4Y28"
    found = merge_entities([
        PartyRecord("1:E1", "BANK1", "E1", 1.0, {"full_name": "Müller Holding GmbH", "lei": lei}),
        PartyRecord("2:E7", "BANK2", "E7", 0.8, {"full_name": "MUELLER HOLDING", "lei": lei.lower()}),
        PartyRecord("3:E2", "BANK3", "E2", 0.9, {"full_name": "Müller Holding GmbH"}),
        PartyRecord("4:E3", "BANK4", "E3", 0.6, {"full_name": "Acme", "registration_number": "HRB 1234",
                                                   "registration_country": "DE"}),
        PartyRecord("5:E4", "BANK5", "E4", 0.5, {"full_name": "ACME AG", "registration_number": "hrb1234",
                                                   "registration_country": "DE"}),
    ])
    assert [[r.id for r in c.records] for c in found] == [["1:E1", "2:E7"], ["3:E2"], ["4:E3", "5:E4"]]
    assert found[0].reasons == ["BANK1 E1 and BANK2 E7: same lei"]


def test_a_number_written_with_a_slash_merges_as_the_record_view_links_it() -> None:
    a = record("1:P4", "Jana Novakova", birth_date="1970-01-15",
               identifiers=[{"scheme": "national_id", "country": "CZ", "value": "700115/1234"}])
    b = record("2:Q4", "Jana Svobodova", birth_date="1970-01-15",  # her married name
               identifiers=[{"scheme": "national_id", "country": "CZ", "value": "7001151234"}])
    assert clusters([a, b]) == [["1:P4", "2:Q4"]]
