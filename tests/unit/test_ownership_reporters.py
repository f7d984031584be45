"""One party across reporters (registry/ownership/reporters.py, pure): records grouped by the
keys they share, and whose declarations about an entity's owners are used."""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from registry.ownership.interests import Interval
from registry.ownership.reporters import Declaration, Parties, choose, groups

REGISTER, BANK = (1, "company_register"), (2, "bank")
OTHER_BANK = (3, "bank")


def declared(id_: int, reporter: tuple[int, str], owner: str, owned: str, share: float = 50,
             day: int = 1, direct: bool | None = True) -> Declaration:
    return Declaration(id_, reporter[0], f"I{reporter[0]}", reporter[1], owner, owned,
                       Interval.of(share, share), None, ("shareholding",), direct, None, None,
                       datetime(2025, 1, day, tzinfo=timezone.utc))


def parties_of(*groups_: list[tuple[int, str]]) -> Parties:
    parties = Parties()
    for group in groups_:
        parties.add_group(group)
    return parties


def test_records_sharing_keys_are_one_party_transitively() -> None:
    shared = {"lei:X": {(1, "c"), (2, "C1")}, "reg:GB:1": {(2, "C1"), (3, "co")},
              "nid:NO:1:1975": {(1, "p")}}
    found = sorted(sorted(g) for g in groups([(1, "c"), (1, "p"), (4, "alone")], shared))
    assert found == [[(1, "c"), (2, "C1"), (3, "co")], [(1, "p")], [(4, "alone")]]


def test_the_register_is_used_over_a_more_recent_bank() -> None:
    parties = parties_of([(1, "c"), (2, "C")], [(1, "p"), (2, "P")], [(1, "q")])
    verdicts = choose([declared(1, REGISTER, "p", "c", 60), declared(2, REGISTER, "q", "c", 40),
                       declared(3, BANK, "P", "C", 100, day=20)], parties)
    assert verdicts[1] is None and verdicts[2] is None
    assert verdicts[3] == "the owners declared by the company register I1 are used"


def test_without_a_register_the_latest_reporter_is_used() -> None:
    parties = parties_of([(2, "C"), (3, "c")], [(2, "P"), (3, "p")])
    verdicts = choose([declared(1, BANK, "P", "C", day=1), declared(2, OTHER_BANK, "p", "c", day=5)],
                      parties)
    assert verdicts == {1: "the owners declared most recently, by I3, are used", 2: None}


def test_one_reporter_twice_about_one_party_uses_the_latest() -> None:
    # Bank 2 has two customer records of the same person, each said to hold the company.
    parties = parties_of([(2, "C")], [(2, "P1"), (2, "P2")])
    verdicts = choose([declared(1, BANK, "P1", "C", day=1), declared(2, BANK, "P2", "C", day=3),
                       declared(3, BANK, "P1", "C", direct=False)], parties)
    assert verdicts[2] is None and verdicts[3] is None and "latest" in str(verdicts[1])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([REGISTER, BANK, OTHER_BANK]), st.sampled_from("pqr"),
                          st.sampled_from("cd"), st.integers(1, 28)), max_size=12))
def test_each_entity_has_its_owners_from_exactly_one_reporter(
        rows: list[tuple[tuple[int, str], str, str, int]]) -> None:
    parties = parties_of(*([(i, ref) for i in (1, 2, 3)] for ref in "pqrcd"))
    found = [declared(n, reporter, owner, owned, day=day)
             for n, (reporter, owner, owned, day) in enumerate(rows)]
    verdicts = choose(found, parties)
    for owned in "cd":
        about = [d for d in found if d.owned_ref == owned]
        used = {d.institution_id for d in about if verdicts[d.id] is None}
        assert len(used) == (1 if about else 0)
        if any(d.institution_kind == "company_register" for d in about):
            assert used == {1}
