"""Every record one customer contributes to an extract.

A person brings their own accounts and the roles on them (holder, sometimes a
co-holder or signatory from elsewhere in the book); a company brings its
owners, its accounts, and the people who represent it or own it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from typing import Any

from seed.accounts import (
    ENTITY_ACCOUNT_TYPES,
    PERSON_ACCOUNT_TYPES,
    account_slot,
    make_role,
    pick_type,
)
from seed.book import BankBook
from seed.companies import entity_record
from seed.keys import Purpose, add_years, keyed_rng, random_date
from seed.people import Human, person_record

Record = dict[str, Any]

# Number of accounts per customer (value, weight): 1.12 per person with an
# account, 1.8 per company, giving the book's ~1.2 accounts per party.
_PERSON_ACCOUNTS = ((1, 80), (2, 14), (3, 4), (4, 2))
_ENTITY_ACCOUNTS = ((1, 55), (2, 25), (3, 12), (4, 5), (5, 3))
# Owners recorded per company: ~1.4 on average, ~0.2 ownership links per party.
_OWNER_COUNTS = ((0, 25), (1, 35), (2, 22), (3, 12), (4, 4), (5, 2))
# EU AML rules (Directive 2015/849 art. 3(6)): more than 25% of the shares or
# votes makes a beneficial owner; a published band starting at 25 means "more
# than 25%" (UK PSC register wording).
BENEFICIAL_THRESHOLD = 25
_PSC_BANDS = ((0, 25), (25, 50), (50, 75), (75, 100))


def _weighted_count(rng: random.Random, options: tuple[tuple[int, int], ...]) -> int:
    values, weights = zip(*options, strict=True)
    count: int = rng.choices(values, weights)[0]
    return count


def person_and_rng(book: BankBook, i: int) -> tuple[Record, random.Random, Human]:
    """The person record at this bank, and the generator that continues with its accounts."""
    rng = keyed_rng(book.seed, Purpose.PARTY, book.index, 2 * i)
    human = book.human(i)
    record = person_record(human, book.person_ref(i), book.bank.country, rng, book.is_shared(i))
    return record, rng, human


def person_party(book: BankBook, i: int) -> Iterator[Record]:
    record, rng, human = person_and_rng(book, i)
    yield record
    if book.related_only(i):
        return
    adult = add_years(human.birth, 18)
    # Parents open accounts for their children, so a minor's may date from birth.
    earliest = adult if adult < book.as_of else human.birth
    for ordinal in range(_weighted_count(rng, _PERSON_ACCOUNTS)):
        kind = pick_type(rng, PERSON_ACCOUNT_TYPES)
        account = book.issuer.open(rng, account_slot(2 * i, ordinal), kind, earliest)
        yield account
        yield from _person_account_roles(rng, book, account, record["id"])


def _person_account_roles(rng: random.Random, book: BankBook, account: Record,
                          holder: str) -> Iterator[Record]:
    box = account["type"] == "safe_deposit_box"
    first = "box_lessee" if box else "holder"
    yield make_role(rng, account, holder, first, book.as_of, holder=True)
    extras: list[str] = []
    if box and rng.random() < 0.2:
        extras.append("box_lessee")
    if account["type"] in ("current", "savings") and rng.random() < 0.15:
        extras.append("co_holder")
    if not box and rng.random() < 0.04:
        extras.append("authorised_signatory")
    for role in extras:
        other = book.person_ref(book.related_person(rng))
        if other != holder:
            yield make_role(rng, account, other, role, book.as_of)


def entity_party(book: BankBook, e: int) -> Iterator[Record]:
    rng = keyed_rng(book.seed, Purpose.PARTY, book.index, 2 * e + 1)
    record = entity_record(rng, book.entity_ref(e), book.bank.country, book.as_of)
    yield record
    incorporated = date.fromisoformat(record["incorporated_on"])
    beneficial = []
    for ownership, owner_is_entity in _ownerships(rng, book, e, record["id"], incorporated):
        yield ownership
        if _is_beneficial(ownership) and not owner_is_entity:
            beneficial.append(ownership["owner"])
    for ordinal in range(_weighted_count(rng, _ENTITY_ACCOUNTS)):
        kind = pick_type(rng, ENTITY_ACCOUNT_TYPES)
        account = book.issuer.open(rng, account_slot(2 * e + 1, ordinal), kind, incorporated)
        yield account
        yield from _entity_account_roles(rng, book, account, record["id"], beneficial)


def _entity_account_roles(rng: random.Random, book: BankBook, account: Record, entity: str,
                          beneficial: list[str]) -> Iterator[Record]:
    box = account["type"] == "safe_deposit_box"
    first = "box_lessee" if box else "holder"
    yield make_role(rng, account, entity, first, book.as_of, holder=True)
    if rng.random() < 0.7:
        representative = rng.choice(beneficial) if beneficial and rng.random() < 0.5 else None
        representative = representative or book.person_ref(book.related_person(rng))
        yield make_role(rng, account, representative, "legal_representative", book.as_of)
    signatories = _weighted_count(rng, ((0, 75), (1, 20), (2, 5)))
    for _ in range(signatories):
        yield make_role(rng, account, book.person_ref(book.related_person(rng)),
                        "authorised_signatory", book.as_of)
    for owner in beneficial:
        yield make_role(rng, account, owner, "beneficial_owner", book.as_of)


def _ownerships(rng: random.Random, book: BankBook, e: int, owned: str,
                incorporated: date) -> Iterator[tuple[Record, bool]]:
    owners: dict[str, bool] = {}
    for _ in range(_weighted_count(rng, _OWNER_COUNTS)):
        # Owning companies come earlier in the book, so ownership never cycles.
        if e > 0 and rng.random() < 0.2:
            owners.setdefault(book.entity_ref(rng.randrange(e)), True)
        else:
            owners.setdefault(book.person_ref(book.related_person(rng)), False)
    shares = _split_shares(rng, len(owners))
    for (owner, is_entity), share in zip(owners.items(), shares, strict=True):
        yield _ownership(rng, book, owner, owned, share, is_entity, incorporated), is_entity


def _split_shares(rng: random.Random, count: int) -> list[float]:
    if count == 0:
        return []
    if count == 2 and rng.random() < 0.35:
        return [50.0, 50.0]
    # Some owners' shares are not all known: the rest is free float or unreported.
    total = 100.0 if rng.random() < 0.85 else rng.uniform(50, 99)
    weights = [rng.random() + 0.2 for _ in range(count)]
    scale = total / sum(weights)
    whole = rng.random() < 0.7
    # Rounded down, so the shares in one company never add up to more than total.
    return [float(int(w * scale)) if whole else int(w * scale * 100) / 100 for w in weights]


def _ownership(rng: random.Random, book: BankBook, owner: str, owned: str, share: float,
               is_entity: bool, incorporated: date) -> Record:
    share_value = _share_shape(rng, share)
    voting = _voting(rng, share, share_value)
    interests = ["shareholding"] + (["votingRights"] if voting else [])
    if share > 50 and rng.random() < 0.5:
        interests.append("appointmentOfBoard")
    if rng.random() < 0.05:
        interests.append("otherInfluenceOrControl")
    start = incorporated if rng.random() < 0.6 else random_date(rng, incorporated, book.as_of)
    return {
        "record": "ownership", "owner": owner, "owned": owned, "share": share_value,
        "voting": voting, "interests": interests,
        "direct": True if is_entity else rng.random() < 0.9,
        "from": start.isoformat(), "to": None,
    }


def _share_shape(rng: random.Random, share: float) -> dict[str, float]:
    # Registers such as the UK's PSC register publish bands, not exact figures.
    if rng.random() < 0.75:
        return {"exact": share}
    low, high = next(b for b in _PSC_BANDS if b[0] <= share <= b[1])
    return {"min": float(low), "max": float(high)}


def _voting(rng: random.Random, share: float, shape: dict[str, float]) -> dict[str, float] | None:
    draw = rng.random()
    if draw < 0.7:
        return dict(shape)
    if draw < 0.85:
        return {"exact": min(100.0, float(int(share * rng.uniform(0.5, 1.5))))}
    return None


def _is_beneficial(ownership: Record) -> bool:
    share = ownership["share"]
    if "exact" in share:
        exact: float = share["exact"]
        return exact > BENEFICIAL_THRESHOLD
    least: float = share["min"]
    return least >= BENEFICIAL_THRESHOLD
