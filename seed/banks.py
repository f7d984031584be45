"""The reporting institutions of a synthetic national book.

Bank names and BICs are invented (a BIC that exists in schwifty's registry is
never used), so that screenshots and demo data can never be mistaken for a
real institution's customers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from schwifty import BIC

from seed.keys import Purpose, keyed_rng
from seed.names import pool
from seed.places import BANK_COUNTRIES, COUNTRIES
from seed.scripts import ICAO, romanize, strip_diacritics


@dataclass(frozen=True)
class Bank:
    """A reporting institution, identified by its BIC."""

    bic: str
    name: str
    country: str


_NAME_TEMPLATES: dict[str, tuple[str, ...]] = {
    "DE": ("Sparkasse {city}", "Volksbank {city} eG", "Bankhaus {family}",
           "{family} & {family2} Privatbank"),
    "AT": ("Raiffeisenbank {city}", "Bankhaus {family}", "Sparkasse {city}"),
    "FR": ("Banque {family}", "Banque Régionale de {city}", "Crédit {family}"),
    "IT": ("Banca {family}", "Cassa di Risparmio di {city}", "Banca Popolare di {city}"),
    "ES": ("Banco {family}", "Caja Rural de {city}"),
    "NL": ("{family} Bankiers", "Bank {city}"),
    "PL": ("Bank {family}", "Bank Spółdzielczy {city}"),
    "PT": ("Banco {family}", "Caixa de Crédito de {city}"),
    "GR": ("Cooperative Bank of {city}", "{family} Bank"),
    "CY": ("Bank of {city}", "{family} Bank"),
    "LU": ("Banque {family} Luxembourg", "{family} Private Bank"),
    "RO": ("Banca {family}", "Banca Comercială {city}"),
    "HR": ("Banka {city}", "{family} banka"),
    "LT": ("{family} bankas", "{city} kredito unija"),
    "LV": ("{family} banka", "{city} banka"),
}
_LOCATION_FIRST = "23456789ABCDEFGHIJKLMNPQRSTUVWXYZ"
_LOCATION_SECOND = "ABCDEFGHJKLMNPRSTUVWXYZ"
_GENERIC_WORDS = {"BANK", "BANCA", "BANCO", "BANQUE", "BANKA", "BANKAS", "BANKHAUS", "OF", "DE",
                  "DI", "DEL", "EG", "CREDIT", "CREDITO", "CAIXA", "CAJA", "CASSA", "RISPARMIO"}


def national_banks(count: int, seed: int) -> list[Bank]:
    """`count` banks with unique, valid and non-existent BICs, deterministic in `seed`."""
    rng = keyed_rng(seed, Purpose.BANK)
    countries = list(BANK_COUNTRIES)
    rng.shuffle(countries)
    banks: list[Bank] = []
    taken: set[str] = set()
    for index in range(count):
        country = countries[index % len(countries)]
        name = _bank_name(rng, country)
        bic = _unique_bic(rng, name, country, taken)
        taken.add(bic[:8])
        banks.append(Bank(bic=bic, name=name, country=country))
    return banks


def _bank_name(rng: random.Random, country: str) -> str:
    culture = COUNTRIES[country].culture
    families = pool(culture).family_male
    template = rng.choice(_NAME_TEMPLATES[country])
    return template.format(
        city=romanize(rng.choice(COUNTRIES[country].cities), culture, ICAO),
        family=romanize(rng.choice(families), culture, ICAO),
        family2=romanize(rng.choice(families), culture, ICAO),
    )


def _unique_bic(rng: random.Random, name: str, country: str, taken: set[str]) -> str:
    code = _institution_code(name)
    while True:
        # The location code's second character is never 0, 1 or 2: those mark
        # test, passive and reverse-billing BICs.
        location = rng.choice(_LOCATION_FIRST) + rng.choice(_LOCATION_SECOND)
        bic = f"{code}{country}{location}"
        if bic not in taken and not BIC(bic).exists:
            return bic + ("XXX" if rng.random() < 0.3 else "")
        code = code[:3] + chr(rng.randint(65, 90))


def _institution_code(name: str) -> str:
    words = [w for w in strip_diacritics(name).upper().replace("&", " ").split() if w.isalpha()]
    significant = [w for w in words if w not in _GENERIC_WORDS] or words
    letters = "".join(w[0] for w in words) + significant[0]
    code = "".join(c for c in letters if "A" <= c <= "Z")
    return (code + "XXXX")[:4]
