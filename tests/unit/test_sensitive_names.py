"""Which names an answer shows resemble a name marked sensitive: the same answer whether the
list is short (compared whole) or long (compared through the search keys)."""

from __future__ import annotations

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
