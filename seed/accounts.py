"""Accounts and the roles parties hold on them.

IBANs are built by schwifty for each bank's (invented) bank code. Where the
country has no national check digits, later IBANs only swap the account number
into a template and recompute the ISO 13616 check digits, which is an order of
magnitude faster; a self-check against schwifty decides per bank whether that
shortcut is exact.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from schwifty import IBAN

from seed.banks import Bank
from seed.keys import random_date, scramble
from seed.places import COUNTRIES

# Account numbers are unique per bank: a bijection of the account's slot onto
# ten digits, which fits the account code of every bank country.
ACCOUNT_DIGITS = 10
MAX_ACCOUNTS_PER_PARTY = 8

PERSON_ACCOUNT_TYPES = (("current", 50), ("savings", 22), ("deposit", 6), ("securities", 7),
                        ("loan", 6), ("payment", 2), ("e_money", 2), ("crypto", 1),
                        ("safe_deposit_box", 4))
ENTITY_ACCOUNT_TYPES = (("current", 62), ("deposit", 12), ("savings", 4), ("securities", 6),
                        ("loan", 10), ("payment", 3), ("e_money", 1), ("crypto", 1),
                        ("safe_deposit_box", 1))
# Foreign-currency accounts: mostly the currencies of trade and of savings abroad.
_FOREIGN_CURRENCIES = ("USD", "USD", "CHF", "GBP", "EUR")
CLOSED_SHARE = 0.08
# Accounts in the book were opened no earlier than this (older ones migrated
# with a new opening date or were closed long ago).
_FIRST_OPENING = date(1985, 1, 1)


def _numeric(text: str) -> str:
    return "".join(str(int(c, 36)) for c in text)


def _invented_bank_code(bank: Bank) -> tuple[str, str]:
    rng = random.Random(bank.bic)  # str seeds hash with SHA-512: stable across runs
    while True:
        sample = IBAN.random(country_code=bank.country, random=rng, use_registry=False)
        if sample.bank is None:  # never a code that a real bank uses
            return sample.bank_code, sample.branch_code


class IbanMaker:
    """IBANs of one bank: a fixed bank (and branch) code and varying account numbers."""

    def __init__(self, bank: Bank) -> None:
        self.country = bank.country
        self.bank_code, self.branch_code = _invented_bank_code(bank)
        zero, nines = self._schwifty(0), self._schwifty(10**ACCOUNT_DIGITS - 1)
        self._length = len(zero.account_code)
        pairs = enumerate(zip(zero.bban, nines.bban, strict=True))
        first_difference = next(i for i, (a, b) in pairs if a != b)
        start = first_difference - (self._length - ACCOUNT_DIGITS)
        self._prefix = zero.bban[:start]
        self._suffix = zero.bban[start + self._length:]
        self._numeric_prefix = _numeric(self._prefix)
        self._numeric_suffix = _numeric(self._suffix + self.country) + "00"
        samples = (1, 97, 4_711_000_123)
        self._fast = all(self._template(n) == str(self._schwifty(n)) for n in samples)

    def _schwifty(self, number: int) -> IBAN:
        account_code = str(number).zfill(ACCOUNT_DIGITS)
        return IBAN.generate(self.country, bank_code=self.bank_code,
                             account_code=account_code, branch_code=self.branch_code)

    def _template(self, number: int) -> str:
        code = str(number).zfill(self._length)
        check = 98 - int(self._numeric_prefix + code + self._numeric_suffix) % 97
        return f"{self.country}{check:02d}{self._prefix}{code}{self._suffix}"

    def __call__(self, number: int) -> str:
        return self._template(number) if self._fast else str(self._schwifty(number))


@dataclass
class AccountIssuer:
    """What one bank needs to open accounts."""

    bank: Bank
    salt: int
    as_of: date
    iban: IbanMaker = field(init=False)

    def __post_init__(self) -> None:
        self.iban = IbanMaker(self.bank)
        self.currency = COUNTRIES[self.bank.country].currency

    def open(self, rng: random.Random, slot: int, kind: str, earliest: date,
             latest: date | None = None) -> dict[str, Any]:
        """An account opened between `earliest` and `latest` (default: the day before as_of)."""
        number = scramble(slot, ACCOUNT_DIGITS, self.salt)
        latest = latest or self.as_of - timedelta(days=1)
        opened = random_date(rng, max(earliest, _FIRST_OPENING), latest)
        record: dict[str, Any] = {"record": "account", "id": f"{number:010d}"}
        if kind == "safe_deposit_box":
            record["number"] = f"{rng.randint(1, 40):02d}-{number % 100_000:05d}"
        else:
            record["iban"] = self.iban(number)
        record |= {
            "bic": self.bank.bic, "currency": self._currency(rng, kind), "type": kind,
            "opened_on": opened.isoformat(), "closed_on": self._closing(rng, opened),
        }
        return record

    def _currency(self, rng: random.Random, kind: str) -> str:
        if kind in ("current", "savings", "deposit", "securities") and rng.random() < 0.06:
            return rng.choice(_FOREIGN_CURRENCIES)
        return self.currency

    def _closing(self, rng: random.Random, opened: date) -> str | None:
        earliest = opened + timedelta(days=30)
        if rng.random() >= CLOSED_SHARE or earliest > self.as_of:
            return None
        return random_date(rng, earliest, self.as_of).isoformat()


def account_slot(customer_slot: int, ordinal: int) -> int:
    return customer_slot * MAX_ACCOUNTS_PER_PARTY + ordinal


def pick_type(rng: random.Random, weights: tuple[tuple[str, int], ...]) -> str:
    kinds, counts = zip(*weights, strict=True)
    kind: str = rng.choices(kinds, counts)[0]
    return kind


def make_role(rng: random.Random, account: dict[str, Any], party: str, role: str,
              as_of: date, holder: bool = False) -> dict[str, Any]:
    """A role from the account's opening (holders) or a later date, ending when it closes."""
    opened = date.fromisoformat(account["opened_on"])
    closed = account["closed_on"]
    end = date.fromisoformat(closed) if closed else as_of
    start = opened if holder or rng.random() < 0.6 else random_date(rng, opened, end)
    until = closed
    if until is None and not holder and rng.random() < 0.06 and start < as_of:
        until = random_date(rng, start + timedelta(days=1), as_of).isoformat()
    return {"record": "role", "account": account["id"], "party": party, "role": role,
            "from": start.isoformat(), "to": until}
