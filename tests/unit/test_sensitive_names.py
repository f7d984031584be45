"""Which names an answer shows resemble a name marked sensitive: the same answer whether the
list is short (compared whole) or long (compared through the search keys)."""

from __future__ import annotations

import random
import string

import pytest

from registry.cases import FULL_SCAN, NameList

MARKED = ["Wilhelmina Quarzburg", "Mohammed Al-Rashid", "Aleksandr Ivanov", "Jean-Pierre Dubois"]
# Invented fillers, unlike any of the marked names, to make the list long.
FILLERS = [f"Filler{chr(65 + i % 26)}{chr(65 + i // 26)} Person{i}" for i in range(FULL_SCAN + 8)]
SHOWN = ["Wilhelmina Quarzburg", "QUARZBURG, Wilhelmina", "Wilhelmina Quarzburk", "Muhammad Alrashid",
         "Alexander Ivanov", "Александр Иванов", "Jean Pierre Dubois", "Theodor Quarzburg",
         "Anna Schmidt", "Ivanova Alexandra"]


@pytest.mark.parametrize("name", SHOWN)
def test_a_long_list_answers_as_the_whole_comparison_does(name: str) -> None:
    short, long = NameList(MARKED), NameList(MARKED + FILLERS)
    assert len(long.entries) > FULL_SCAN >= len(short.entries)
    assert long.match_shown(name) == short.match_shown(name) == short.match(name)


BASE = ["Ottilie Quarnstrom", "Katarzyna Nowakowska", "Giuseppe Verdicchio", "Mohammed Al Rashid",
        "Svetlana Kuznetsova", "Jean-Baptiste Lemaire", "Hendrik van der Berg", "Bartholomew Featherstone"]


def _typo(rng: random.Random, word: str) -> str:
    at, letter = rng.randrange(1, len(word)), rng.choice(string.ascii_lowercase)
    return rng.choice([word[:at] + letter + word[at + 1:], word[:at] + word[at + 1:],
                       word[:at] + letter + word[at:]])


def test_a_typo_in_every_word_is_caught_by_the_long_lists_route_too() -> None:
    """Spellings that share no search key with the marked name (a typo in every word) must
    not slip past a long list: the string-closeness route catches what the keys miss."""
    rng = random.Random(7)
    marked = NameList(BASE + FILLERS)
    assert len(marked.entries) > FULL_SCAN
    variants = [" ".join(_typo(rng, w) for w in rng.choice(BASE).split()) for _ in range(2000)]
    found = [(v, marked.match(v)) for v in variants]
    assert sum(1 for _, hit in found if hit) > 1500  # the variants are mostly still the person
    assert [v for v, hit in found if marked.match_shown(v) != hit] == []
