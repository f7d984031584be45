"""Seed-style people and labelled spelling variants for the search-quality benchmark.

People are drawn from the seed generator's per-culture name pools (Faker locales, and the
seed's Arabic names with their customary Latin spellings), so names are real names in
their own scripts. Each person present in the registry is loaded once, as one bank wrote
them; the query is one labelled variant of that record, as an investigator might type it.
Variants are produced here by code independent of `search.names` (the seed's own
transliteration tables, not the matcher's folding), so a variant is not matched merely
because it was made by the function that matches it. Absent people come from the same
pools and are never loaded.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from bench.quality_data import ABSENT, Customer, Probe, Split
from seed.names import pool
from seed.scripts import FRENCH, GERMAN, ICAO, arabic_to_latin, romanize, script_of, strip_diacritics

DATASET = "seed_variants"
NATIONALITY = {"en_GB": "GB", "de_DE": "DE", "fr_FR": "FR", "es_ES": "ES", "it_IT": "IT",
               "pl_PL": "PL", "nl_NL": "NL", "pt_PT": "PT", "tr_TR": "TR", "cs_CZ": "CZ",
               "hu_HU": "HU", "ru_RU": "RU", "uk_UA": "UA", "el_GR": "GR", "ar": "SY",
               "zh_CN": "CN"}
NON_LATIN = ("ru_RU", "uk_UA", "el_GR", "ar", "zh_CN")
WITH_DIACRITICS = ("de_DE", "fr_FR", "es_ES", "pl_PL", "pt_PT", "tr_TR", "cs_CZ", "hu_HU")
# Share of queries that carry a birth date / a nationality: investigators usually have
# the first from the request they work on, less often the second.
WITH_BIRTH_DATE = 0.8
WITH_NATIONALITY = 0.3
# Well-known short forms, written down for the benchmark from general knowledge and not
# copied from search/nicknames_data.py, so this variant measures that table's coverage.
SHORT_FORMS: dict[str, tuple[tuple[str, str], ...]] = {
    "en_GB": (("William", "Bill"), ("Robert", "Bob"), ("Richard", "Dick"), ("Elizabeth", "Liz"),
              ("Margaret", "Peggy"), ("James", "Jim"), ("Thomas", "Tom"), ("Edward", "Ted"),
              ("Katherine", "Kate"), ("Michael", "Mike"), ("Anthony", "Tony"),
              ("Christopher", "Chris"), ("Patricia", "Patty"), ("Susan", "Sue"),
              ("Charles", "Charlie"), ("Henry", "Harry"), ("John", "Jack"), ("Rebecca", "Becky")),
    "de_DE": (("Johannes", "Hans"), ("Josef", "Sepp"), ("Friedrich", "Fritz"),
              ("Elisabeth", "Lisa"), ("Katharina", "Kathi"), ("Franziska", "Franzi"),
              ("Susanne", "Susi"), ("Andreas", "Andi"), ("Alexander", "Alex")),
    "es_ES": (("Francisco", "Paco"), ("José", "Pepe"), ("Guadalupe", "Lupe"),
              ("Enrique", "Quique"), ("Ignacio", "Nacho"), ("Manuel", "Manolo"),
              ("Dolores", "Lola"), ("Concepción", "Concha"), ("Rosario", "Charo")),
    "it_IT": (("Giuseppe", "Beppe"), ("Giovanni", "Gianni"), ("Francesco", "Franco"),
              ("Alessandro", "Sandro"), ("Domenico", "Mimmo"), ("Antonio", "Tonino")),
    "fr_FR": (("Frédéric", "Fred"), ("Nicolas", "Nico"), ("Isabelle", "Isa"),
              ("Catherine", "Cathy")),
    "ru_RU": (("Aleksandr", "Sasha"), ("Dmitrii", "Dima"), ("Ekaterina", "Katia"),
              ("Mikhail", "Misha"), ("Nikolai", "Kolia"), ("Tatiana", "Tania"),
              ("Vladimir", "Volodia"), ("Elena", "Lena"), ("Evgenii", "Zhenia"),
              ("Ivan", "Vania"), ("Anastasiia", "Nastia"), ("Pavel", "Pasha")),
    "pl_PL": (("Małgorzata", "Gosia"), ("Katarzyna", "Kasia"), ("Aleksandra", "Ola"),
              ("Wojciech", "Wojtek"), ("Stanisław", "Staszek"), ("Tomasz", "Tomek"),
              ("Agnieszka", "Aga")),
}


@dataclass(frozen=True)
class Person:
    """A person in their own script; `given` may hold a second given name."""

    culture: str
    given: tuple[str, ...]
    family: str
    patronymic: str
    birth: date

    @property
    def nationality(self) -> str:
        return NATIONALITY[self.culture]


def make_person(rng: random.Random, culture: str) -> Person:
    names = pool(culture)
    female = rng.random() < 0.5
    given = [rng.choice(names.given(female))]
    if rng.random() < 0.25:
        given.append(rng.choice(names.given(female)))
    patronymics = names.patronymics(female)
    patronymic = rng.choice(patronymics) if patronymics and rng.random() < 0.5 else ""
    birth = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 65))
    return Person(culture, tuple(dict.fromkeys(given)), rng.choice(names.family(female)),
                  patronymic, birth)


def latin(part: str, culture: str, style: str = ICAO) -> str:
    if culture == "ar":
        return " ".join(arabic_to_latin(word, style) for word in _arabic_words(part))
    return romanize(part, culture, style)


def _arabic_words(part: str) -> list[str]:
    # "عبد الله" and "بن علي" are one name each in the seed's tables.
    return [part] if part.startswith(("عبد ", "بن ")) else part.split()


def written(person: Person, style: str = ICAO, native: bool = False) -> str:
    """The full name in the usual order, in Latin letters of a style or in its own script."""
    if native and person.culture == "zh_CN":
        return person.family + "".join(person.given)
    spell: Callable[[str], str] = (lambda p: p) if native else (lambda p: latin(p, person.culture, style))
    parts = [*person.given, *([person.patronymic] if person.patronymic else []), person.family]
    return " ".join(spell(p) for p in parts)


# Each variant: (person, rng) -> (loaded name, query name, query birth date), or None when
# the person cannot show that variant (then another person is drawn).
Made = tuple[str, str, date] | None


def _typo(person: Person, rng: random.Random) -> Made:
    name = written(person)
    spots = [i for i, c in enumerate(name) if c.isalpha() and i > 0 and name[i - 1].isalpha()]
    if not spots:
        return None
    i = rng.choice(spots)
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    edits = (name[:i] + letter + name[i + 1:], name[:i] + name[i + 1:], name[:i] + letter + name[i:])
    query = rng.choice(edits)
    return (name, query, person.birth) if query.lower() != name.lower() else None


def _transposition(person: Person, rng: random.Random) -> Made:
    name = written(person)
    spots = [i for i in range(len(name) - 1)
             if name[i].isalpha() and name[i + 1].isalpha() and name[i].lower() != name[i + 1].lower()]
    if not spots:
        return None
    i = rng.choice(spots)
    return name, name[:i] + name[i + 1] + name[i] + name[i + 2:], person.birth


def _transliteration(person: Person, rng: random.Random) -> Made:
    if person.culture not in NON_LATIN:
        return None
    forms = {written(person, native=True)}
    forms.update(written(person, style) for style in (ICAO, GERMAN, FRENCH))
    if person.culture == "zh_CN":
        forms.add(f"{latin(person.family, 'zh_CN')} {''.join(latin(g, 'zh_CN') for g in person.given)}")
    if len(forms) < 2:
        return None
    loaded, query = rng.sample(sorted(forms), 2)
    return loaded, query, person.birth


def _reordered(person: Person, rng: random.Random) -> Made:
    name, family = written(person), latin(person.family, person.culture)
    if not name.endswith(f" {family}"):
        return None
    given = name[: -len(family)].strip()
    query = rng.choice((f"{family} {given}", f"{family.upper()}, {given}"))
    return name, query, person.birth


def _diacritics(person: Person, rng: random.Random) -> Made:
    name = written(person)
    if person.culture not in WITH_DIACRITICS or name.isascii():
        return None
    plain = strip_diacritics(name, german=person.culture == "de_DE" and rng.random() < 0.5)
    return (name, plain, person.birth) if rng.random() < 0.6 else (plain, name, person.birth)


def _nickname(person: Person, rng: random.Random) -> Made:
    pairs = SHORT_FORMS.get(person.culture)
    if not pairs:
        return None
    formal, short = rng.choice(pairs)
    # The family name only: a second given name drawn for someone else's sex would jar.
    family = latin(person.family, person.culture)
    full, nick = f"{formal} {family}", f"{short} {family}"
    return (full, nick, person.birth) if rng.random() < 0.7 else (nick, full, person.birth)


def _initials(person: Person, rng: random.Random) -> Made:
    given = [latin(g, person.culture) for g in person.given]
    family = latin(person.family, person.culture)
    dots = rng.random() < 0.6
    initials = " ".join(g[0] + ("." if dots else "") for g in given[: rng.randint(1, len(given))])
    return written(person), f"{initials} {family}", person.birth


def _missing_middle(person: Person, rng: random.Random) -> Made:
    middle = person.given[1:] or ((person.patronymic,) if person.patronymic else ())
    if not middle:
        return None
    shorter = written(replace(person, given=person.given[:1], patronymic=""))
    full = written(person)
    return (full, shorter, person.birth) if rng.random() < 0.7 else (shorter, full, person.birth)


def _birth_day_off(person: Person, rng: random.Random) -> Made:
    name = written(person)
    return name, name, person.birth + timedelta(days=rng.choice((-1, 1)))


def _day_month_swapped(person: Person, rng: random.Random) -> Made:
    birth = person.birth
    if birth.day > 12 or birth.day == birth.month:
        return None
    name = written(person)
    return name, name, birth.replace(month=birth.day, day=birth.month)


VARIANTS: dict[str, Callable[[Person, random.Random], Made]] = {
    "typo": _typo, "transposition": _transposition, "transliteration": _transliteration,
    "reordered": _reordered, "diacritics": _diacritics, "nickname": _nickname,
    "initials": _initials, "missing_middle_name": _missing_middle,
    "birth_date_day_off": _birth_day_off, "day_month_swapped": _day_month_swapped,
}
_DATE_VARIANTS = {"birth_date_day_off", "day_month_swapped"}


def seed_variants(rng: random.Random, per_variant: int, crowd: int, absent: int) -> Split:
    """`per_variant` people per variant loaded and queried, `crowd` more loaded and never
    queried (namesakes to get past), `absent` queried and never loaded."""
    cultures = sorted(NATIONALITY)
    split = Split([], [])
    serial = 0
    for variant, make in VARIANTS.items():
        made = 0
        while made < per_variant:
            person = make_person(rng, rng.choice(cultures))
            result = make(person, rng)
            if result is None:
                continue
            loaded, query, birth = result
            serial, made = serial + 1, made + 1
            cluster = f"seed:{serial}"
            split.customers.append(Customer(f"seed-{serial}", cluster, loaded,
                                            person.birth.isoformat(), person.nationality))
            split.probes.append(_probe(rng, variant, cluster, query, birth, person,
                                       always_date=variant in _DATE_VARIANTS))
    for _ in range(crowd):
        person = make_person(rng, rng.choice(cultures))
        serial += 1
        split.customers.append(Customer(f"seed-{serial}", f"seed:{serial}", written(person),
                                        person.birth.isoformat(), person.nationality))
    loaded_people = {(c.name.lower(), c.birth_date) for c in split.customers}
    while absent > 0:
        person = make_person(rng, rng.choice(cultures))
        name = written(person)
        # A namesake born the same day would be the same person as far as anyone can tell.
        if (name.lower(), person.birth.isoformat()) in loaded_people:
            continue
        absent -= 1
        split.probes.append(_probe(rng, ABSENT, None, name, person.birth, person, False))
    return split


def _probe(rng: random.Random, variant: str, cluster: str | None, name: str, birth: date,
           person: Person, always_date: bool) -> Probe:
    with_date = always_date or rng.random() < WITH_BIRTH_DATE
    nationality = person.nationality if rng.random() < WITH_NATIONALITY else None
    return Probe(DATASET, variant, cluster, name, birth.isoformat() if with_date else None,
                 nationality)
