"""Natural persons: who they are, and how one bank writes them down.

A `Human` is the person as they exist (names in their own script, birth date,
nationality, documents); `person_record` is one bank's customer record of that
human, with that bank's transliteration habits and occasional ASCII-only or
abbreviated spellings. The same human appearing at two banks therefore shares
national identity number and birth date but not always the spelling, which is
what the registry's "one human, many banks" merging has to cope with.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Any

from seed.identifiers import Identifier, identity_documents
from seed.keys import random_date
from seed.names import NamePool, pool, street_pool
from seed.personal_codes import Subject
from seed.places import BANK_COUNTRIES, COUNTRIES, MIGRANT_ORIGINS
from seed.scripts import ICAO, romanize, script_of, strip_diacritics, style_for_country

# Share of a bank's persons who are nationals of the bank's country; the rest
# are foreign nationals living there (the EU's foreign-born share is ~10-20%,
# banks in capitals see more).
NATIVE_SHARE = 0.78
PEP_SHARE = 0.01
_ORIGINS, _ORIGIN_WEIGHTS = zip(*MIGRANT_ORIGINS, strict=True)
# How often each culture gives a second given name (Hans Peter, María José).
_SECOND_GIVEN = {"de_DE": 0.25, "de_AT": 0.2, "fr_FR": 0.15, "es_ES": 0.2, "pt_PT": 0.4,
                 "en_GB": 0.3, "pl_PL": 0.1, "it_IT": 0.1, "nl_NL": 0.15, "ar": 0.15, "lu": 0.2}
# Cultures whose family name is usually two surnames (paternal, maternal).
_DOUBLE_FAMILY = {"es_ES": 0.9, "pt_PT": 0.7}
_ARABIC_COUNTRIES = {"SY", "IQ", "EG", "MA", "LB", "SA"}


@dataclass(frozen=True, slots=True)
class Human:
    """A natural person, independent of any bank's records."""

    culture: str
    female: bool
    given: tuple[str, ...]
    family: str
    patronymic: str
    maiden: str  # family name at birth when marriage changed it, else ""
    birth: date
    birth_precision: int  # 1 year, 2 month, 3 day: what the documents show
    birth_place: str
    nationalities: tuple[str, ...]
    residence: str
    address: str
    documents: tuple[Identifier, ...]
    pep: bool


def make_human(rng: random.Random, home: str, as_of: date) -> Human:
    """A person who banks in `home` (usually lives there too)."""
    origin = home if rng.random() < NATIVE_SHARE else _foreign_origin(rng, home)
    residence = _residence(rng, home, origin)
    nationalities = _nationalities(rng, home, origin)
    culture = COUNTRIES[origin].culture
    names = pool(culture)
    female = rng.random() < 0.5
    birth = _birth_date(rng, as_of)
    family = _family_name(rng, names, female)
    maiden = _maiden_name(rng, names, female, birth, as_of, family)
    given = _given_names(rng, names, female)
    latin_given, latin_family = romanize(given[0], culture, ICAO), romanize(family, culture, ICAO)
    subject = Subject(birth, female, latin_given, latin_family)
    return Human(
        culture=culture, female=female, given=given, family=family,
        patronymic=rng.choice(names.patronymics(female)) if names.patronymic_male else "",
        maiden=maiden, birth=birth, birth_precision=_birth_precision(rng, origin),
        birth_place=rng.choice(COUNTRIES[origin].cities),
        nationalities=nationalities, residence=residence,
        address=home_address(rng, residence),
        documents=tuple(identity_documents(rng, subject, nationalities[0], residence)),
        pep=rng.random() < PEP_SHARE,
    )


def home_address(rng: random.Random, country_code: str) -> str:
    country = COUNTRIES[country_code]
    return country.address(rng, street_pool(country.culture, country.streets))


def _foreign_origin(rng: random.Random, home: str) -> str:
    while True:
        origin: str = rng.choices(_ORIGINS, _ORIGIN_WEIGHTS)[0]
        if origin != home:
            return origin


def _residence(rng: random.Random, home: str, origin: str) -> str:
    # A few customers live abroad: cross-border workers, emigrants who kept
    # their account at home, foreigners who opened one while posted here.
    if rng.random() >= 0.04:
        return home
    if origin != home:
        return origin
    return rng.choice([c for c in BANK_COUNTRIES if c != home])


def _nationalities(rng: random.Random, home: str, origin: str) -> tuple[str, ...]:
    if origin == home:
        return (home,)
    draw = rng.random()
    if draw < 0.7:
        return (origin,)
    return (origin, home) if draw < 0.9 else (home,)


def _birth_date(rng: random.Random, as_of: date) -> date:
    year = int(rng.triangular(1920, 2009, 1972))
    latest = min(date(year, 12, 31), as_of)
    return random_date(rng, date(min(year, latest.year), 1, 1), latest)


def _birth_precision(rng: random.Random, origin: str) -> int:
    # Refugees' documents often carry only the birth year.
    draw = rng.random()
    if draw < (0.12 if origin in _ARABIC_COUNTRIES else 0.01):
        return 1
    return 2 if draw > 0.99 else 3


def _given_names(rng: random.Random, names: NamePool, female: bool) -> tuple[str, ...]:
    choices = names.given(female)
    first = rng.choice(choices)
    if names.culture == "zh_CN" and len(first) == 1 and rng.random() < 0.6:
        # Most Chinese given names have two characters; Faker's list mixes both.
        return (first + rng.choice(choices)[0],)
    if rng.random() < _SECOND_GIVEN.get(names.culture, 0.05):
        second = rng.choice(choices)
        if second != first:
            return (first, second)
    return (first,)


def _family_name(rng: random.Random, names: NamePool, female: bool) -> str:
    choices = names.family(female)
    family = rng.choice(choices)
    if rng.random() < _DOUBLE_FAMILY.get(names.culture, 0.0):
        family = f"{family} {rng.choice(choices)}"
    return family


def _maiden_name(rng: random.Random, names: NamePool, female: bool, birth: date,
                 as_of: date, family: str) -> str:
    if not female or as_of.year - birth.year < 25 or names.culture in _DOUBLE_FAMILY:
        return ""
    if rng.random() >= 0.3:
        return ""
    maiden = rng.choice(names.family(True))
    return "" if maiden == family else maiden


def birth_date_text(human: Human) -> str:
    text = human.birth.isoformat()
    return text[: {1: 4, 2: 7, 3: 10}[human.birth_precision]]


def person_record(human: Human, ref: str, bank_country: str, rng: random.Random,
                  shared: bool) -> dict[str, Any]:
    """One bank's customer record of `human` under the bank's reference `ref`."""
    given, family, full, others = _spelling(human, bank_country, rng, shared)
    return {
        "record": "person", "id": ref, "given_names": given, "family_name": family,
        "full_name": full, "other_names": others, "birth_date": birth_date_text(human),
        "birth_place": human.birth_place, "nationalities": list(human.nationalities),
        "residence_country": human.residence, "address": human.address,
        "identifiers": _recorded_documents(human, rng, shared), "pep": human.pep,
    }


def _recorded_documents(human: Human, rng: random.Random, shared: bool) -> list[Identifier]:
    # Not every bank keeps every document; the national number is kept for
    # customers of several banks so that they can be recognised as one human.
    kept = []
    for document in human.documents:
        keep = 1.0 if shared and document["scheme"] == "national_id" else 0.85
        if rng.random() < keep:
            kept.append(dict(document))
    return kept


def _spelling(human: Human, bank_country: str, rng: random.Random, shared: bool
              ) -> tuple[str, str, str, list[str]]:
    style = style_for_country(bank_country)
    native = _writes_native(human, bank_country, rng)
    given, family, patronymic = _names_in(human, native, style)
    others = []
    if script_of(human.culture) != "latin" and rng.random() < 0.6:
        alt_given, alt_family, alt_patronymic = _names_in(human, not native, style)
        others.append(_full_name(human, alt_given, alt_family, alt_patronymic, rng))
    if human.maiden and rng.random() < 0.5:
        maiden = human.maiden if native else romanize(human.maiden, human.culture, style)
        others.append(f"{given} {maiden}")
    # Customers of several banks are where spelling drift shows; keep it visible there.
    if rng.random() < (0.25 if shared else 0.05) and script_of(human.culture) == "latin":
        given, family = _clerical_variant(given, family, bank_country, rng)
    return given, family, _full_name(human, given, family, patronymic, rng), others


def _writes_native(human: Human, bank_country: str, rng: random.Random) -> bool:
    script = script_of(human.culture)
    if script == "latin":
        return True
    if script == "greek":
        return rng.random() < (0.9 if bank_country in ("GR", "CY") else 0.1)
    return rng.random() < {"cyrillic": 0.45, "han": 0.2}.get(script, 0.03)


def _names_in(human: Human, native: bool, style: str) -> tuple[str, str, str]:
    if native:
        return " ".join(human.given), human.family, human.patronymic
    return (
        " ".join(romanize(g, human.culture, style) for g in human.given),
        romanize(human.family, human.culture, style),
        romanize(human.patronymic, human.culture, style) if human.patronymic else "",
    )


def _full_name(human: Human, given: str, family: str, patronymic: str,
               rng: random.Random) -> str:
    if human.culture == "zh_CN":
        if given.isascii():
            return f"{family} {given}" if rng.random() < 0.4 else f"{given} {family}"
        return family + given
    if patronymic and rng.random() < 0.7:
        return f"{given} {patronymic} {family}"
    return f"{given} {family}"


def _clerical_variant(given: str, family: str, bank_country: str,
                      rng: random.Random) -> tuple[str, str]:
    """Spellings that core banking systems produce: ASCII only, one given name."""
    draw = rng.random()
    if draw < 0.5:
        german = bank_country in ("DE", "AT", "CH", "LI")
        return strip_diacritics(given, german), strip_diacritics(family, german)
    if draw < 0.8 and " " in given:
        return given.split(" ")[0], family
    return given, family.upper()
