"""Delta extracts: what changed at one bank since its full extract.

The delta is regenerated from the same keys as the full extract, so every
person it amends and every account it closes is one the full extract contains,
and new customers get numbers the full extract never uses.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from seed.accounts import PERSON_ACCOUNT_TYPES, account_slot, make_role, pick_type
from seed.book import BankBook
from seed.keys import Purpose, keyed_rng
from seed.names import pool
from seed.parties import entity_party, person_and_rng, person_party
from seed.people import Human, home_address
from seed.scripts import romanize, style_for_country

Record = dict[str, Any]

# How a delta's changes divide between amended persons, closed accounts and
# new customers.
_UPDATED, _CLOSED = 0.5, 0.3


def delta_records(book: BankBook, fraction: float, step: int, sequence: int,
                  as_of: date, closed_before: frozenset[str] = frozenset()) -> Iterator[Record]:
    """Records of the delta numbered `sequence`, the `step`-th after the full extract.
    `closed_before`: accounts earlier deltas closed, which a bank cannot close again."""
    rng = keyed_rng(book.seed, Purpose.DELTA, book.index, sequence)
    changes = round(fraction * book.parties)
    updates = min(round(changes * _UPDATED), book.persons)
    closures = round(changes * _CLOSED)
    for i in sorted(rng.sample(range(book.persons), updates)):
        yield _amended_person(rng, book, i)
    yield from _closures(rng, book, closures, closed_before)
    for n in range(changes - updates - closures):
        yield from _new_customer(book, step * book.persons + n, as_of)


def _amended_person(rng: random.Random, book: BankBook, i: int) -> Record:
    record, _, human = person_and_rng(book, i)
    renamed = rng.random() < 0.4 and _rename(rng, record, human, book.bank.country)
    if not renamed:
        moved = home_address(rng, human.residence)
        # A move within the same street and number is no move: add a flat number.
        record["address"] = moved if moved != record["address"] else f"{moved}, Apt. 2"
    return record


def _rename(rng: random.Random, record: Record, human: Human, bank_country: str) -> bool:
    """A new family name, typically on marriage; the old name stays on file."""
    new_family = rng.choice(pool(human.culture).family(human.female))
    if record["family_name"] != human.family:  # the bank writes this human in Latin script
        new_family = romanize(new_family, human.culture, style_for_country(bank_country))
    if new_family == record["family_name"]:
        return False
    old_full, old_family = record["full_name"], record["family_name"]
    record["other_names"] = [*record["other_names"], old_full]
    record["full_name"] = _swap_family(old_full, old_family, new_family)
    record["family_name"] = new_family
    return True


def _swap_family(full: str, old: str, new: str) -> str:
    if full.endswith(old):
        return full[: len(full) - len(old)] + new
    if full.startswith(old):
        return new + full[len(old):]
    return f"{full} {new}"


def _closures(rng: random.Random, book: BankBook, count: int,
              closed_before: frozenset[str]) -> Iterator[Record]:
    closed: set[str] = set(closed_before)
    count += len(closed_before)
    for _ in range(count * 3):
        if len(closed) >= count or book.parties == 0:
            return
        account = _open_account_of(book, rng.randrange(book.parties))
        if account is not None and account["id"] not in closed:
            closed.add(account["id"])
            yield {"record": "account", "id": account["id"], "op": "close"}


def _open_account_of(book: BankBook, party: int) -> Record | None:
    if party < book.persons:
        records = person_party(book, party)
    else:
        records = entity_party(book, party - book.persons)
    for record in records:
        if record["record"] == "account" and record["closed_on"] is None:
            return record
    return None


def _new_customer(book: BankBook, i: int, as_of: date) -> Iterator[Record]:
    """A customer who joined after the full extract: a person with one or two new accounts."""
    record, party_rng, _ = person_and_rng(book, i)
    yield record
    for ordinal in range(1 if party_rng.random() < 0.85 else 2):
        kind = pick_type(party_rng, PERSON_ACCOUNT_TYPES)
        account = book.issuer.open(party_rng, account_slot(2 * i, ordinal), kind,
                                   book.as_of + timedelta(days=1), latest=as_of)
        account["closed_on"] = None
        yield account
        role = "box_lessee" if kind == "safe_deposit_box" else "holder"
        yield make_role(party_rng, account, record["id"], role, as_of, holder=True)
