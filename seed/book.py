"""How a plan's customers are spread over its banks.

Only counts and the small per-bank list of shared humans are kept in memory;
every customer is regenerated from (seed, bank, number) when it is written.
"""

from __future__ import annotations

import random
from array import array
from dataclasses import dataclass, field
from datetime import date

from seed.accounts import ACCOUNT_DIGITS, AccountIssuer
from seed.banks import Bank, national_banks
from seed.keys import Purpose, keyed_rng, scramble
from seed.people import Human, make_human

ENTITY_SHARE = 0.15
# Share of person records that are one appearance of a human who banks with
# two or three of the plan's banks.
SHARED_PERSON_SHARE = 0.05
_MEAN_APPEARANCES = 2.3
# Every eighth domestic person has no account of their own: they are on the
# books only as co-holder, signatory, representative or owner.
RELATED_ONLY_EVERY = 8
CUSTOMER_DIGITS = 9
_REF_PREFIXES = ("", "C", "K", "CU", "CIF", "P")


@dataclass
class BankBook:
    """One bank's share of the plan."""

    bank: Bank
    index: int
    seed: int
    as_of: date
    persons: int
    entities: int
    shared: array[int]  # global numbers of the shared humans banking here, ascending
    bank_countries: tuple[str, ...]
    prefix: str = field(init=False)
    salt: int = field(init=False)
    issuer: AccountIssuer = field(init=False)

    def __post_init__(self) -> None:
        rng = keyed_rng(self.seed, Purpose.LAYOUT, self.index)
        self.prefix = rng.choice(_REF_PREFIXES)
        self.salt = rng.randrange(10**CUSTOMER_DIGITS)
        self.issuer = AccountIssuer(self.bank, rng.randrange(10**ACCOUNT_DIGITS), self.as_of)

    @property
    def parties(self) -> int:
        return self.persons + self.entities

    @property
    def own_persons(self) -> int:
        return self.persons - len(self.shared)

    def person_ref(self, i: int) -> str:
        # Persons and entities share the bank's customer numbering (even/odd),
        # so a role's party reference is never ambiguous.
        return f"{self.prefix}{scramble(2 * i, CUSTOMER_DIGITS, self.salt):09d}"

    def entity_ref(self, e: int) -> str:
        return f"{self.prefix}{scramble(2 * e + 1, CUSTOMER_DIGITS, self.salt):09d}"

    def is_shared(self, i: int) -> bool:
        return self.own_persons <= i < self.persons

    def related_only(self, i: int) -> bool:
        return i < self.own_persons and i % RELATED_ONLY_EVERY == RELATED_ONLY_EVERY - 1

    def human(self, i: int) -> Human:
        if self.is_shared(i):
            number = self.shared[i - self.own_persons]
            home = self.bank_countries[number % len(self.bank_countries)]
            return make_human(keyed_rng(self.seed, Purpose.SHARED_HUMAN, number), home, self.as_of)
        rng = keyed_rng(self.seed, Purpose.HUMAN, self.index, i)
        return make_human(rng, self.bank.country, self.as_of)

    def related_person(self, rng: random.Random) -> int:
        """A person to act as co-holder, signatory or owner, preferring those with no account."""
        pool = self.own_persons // RELATED_ONLY_EVERY
        if pool and rng.random() < 0.6:
            return rng.randrange(pool) * RELATED_ONLY_EVERY + RELATED_ONLY_EVERY - 1
        return rng.randrange(self.persons)


def layout(parties: int, banks: int, seed: int, as_of: date) -> list[BankBook]:
    """Split `parties` over `banks` national banks, with humans shared between them."""
    if parties < 0 or banks < 1:
        raise ValueError("a plan needs at least one bank and a non-negative party count")
    institutions = national_banks(banks, seed)
    sizes = [parties // banks + (1 if b < parties % banks else 0) for b in range(banks)]
    entities = [round(n * ENTITY_SHARE) for n in sizes]
    persons = [n - e for n, e in zip(sizes, entities, strict=True)]
    shared = _shared_humans(seed, persons)
    countries = tuple(bank.country for bank in institutions)
    return [
        BankBook(institutions[b], b, seed, as_of, persons[b], entities[b], shared[b], countries)
        for b in range(banks)
    ]


def _shared_humans(seed: int, persons: list[int]) -> list[array[int]]:
    banks = len(persons)
    shared = [array("q") for _ in range(banks)]
    if banks < 2:
        return shared
    count = round(sum(persons) * SHARED_PERSON_SHARE / _MEAN_APPEARANCES)
    for number in range(count):
        home = number % banks
        rng = keyed_rng(seed, Purpose.SHARING, number)
        others = 1 if banks == 2 or rng.random() < 0.7 else 2
        for b in [home, *rng.sample([o for o in range(banks) if o != home], others)]:
            # A tiny plan cannot hold more shared humans than it has persons.
            if len(shared[b]) < persons[b] // 2:
                shared[b].append(number)
    return shared
