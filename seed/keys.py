"""Deterministic randomness keyed by what a value describes.

Keying by (bank, customer number) instead of drawing from one long stream means
a party can be regenerated on its own: a delta extract re-derives exactly the
customers it amends, and adding banks or parties to a plan does not reshuffle
the ones already there.
"""

from __future__ import annotations

import random
from datetime import date
from enum import IntEnum

# A prime well above any part value, so that distinct key tuples give distinct
# integers (Random accepts arbitrarily large ints as seeds).
_KEY_BASE = 1_000_000_007

# Odd and not a multiple of 5, hence coprime to every power of ten: multiplying by
# it permutes [0, 10**n), which turns consecutive indices into unique numbers
# that do not look sequential.
_SCRAMBLE_FACTOR = 7_919_113_357


class Purpose(IntEnum):
    """Separates the key spaces of unrelated draws."""

    HUMAN = 1
    SHARED_HUMAN = 2
    SHARING = 3
    SPELLING = 4
    PARTY = 5
    BANK = 6
    DELTA = 7
    LAYOUT = 8


def keyed_rng(seed: int, purpose: Purpose, *parts: int) -> random.Random:
    """A generator whose stream depends only on the seed, purpose and parts."""
    key = seed * _KEY_BASE + int(purpose)
    for part in parts:
        key = key * _KEY_BASE + part
    return random.Random(key)


def scramble(index: int, digits: int, salt: int) -> int:
    """A bijection of [0, 10**digits): unique, non-sequential reference numbers."""
    modulus: int = 10**digits
    if not 0 <= index < modulus:
        raise ValueError(f"index {index} does not fit in {digits} digits")
    return (index * _SCRAMBLE_FACTOR + salt) % modulus


def random_date(rng: random.Random, earliest: date, latest: date) -> date:
    """A uniform date in [earliest, latest]; `latest` wins if they cross."""
    first, last = earliest.toordinal(), latest.toordinal()
    if first >= last:
        return latest
    return date.fromordinal(rng.randint(first, last))


def add_years(day: date, years: int) -> date:
    """Same calendar day `years` later (28 February stands in for the 29th)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
