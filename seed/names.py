"""Pools of given names, family names and streets per culture.

Faker is far too slow to call once per record for a million parties, so each
culture's vocabulary is drawn from Faker once per process (a second or two in
all) and records combine pool entries with a seeded random.Random. The pools
use a fixed Faker seed: they are shared vocabulary, not per-plan data, and the
pinned Faker version keeps them identical from run to run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from faker import Faker

from seed.scripts import ARABIC_FAMILY, ARABIC_FEMALE, ARABIC_MALE, ICAO, romanize

# Enough distinct entries that two unrelated customers rarely share a full name
# (given x family gives hundreds of thousands of combinations per culture),
# few enough that building all pools stays around a second.
_DRAWS = 1500
_POOL_SEED = 20_260_101

# Cultures that write family names in a gendered form (Smirnov/Smirnova,
# Kowalski/Kowalska, Papadopoulos/Papadopoulou, Bērziņš/Bērziņa).
_GENDERED_FAMILY = {"ru_RU", "uk_UA", "pl_PL", "el_GR", "lv_LV", "lt_LT"}
_PATRONYMIC = {"ru_RU", "uk_UA"}


@dataclass(frozen=True)
class NamePool:
    """The names and streets one culture draws from."""

    culture: str
    male: tuple[str, ...]
    female: tuple[str, ...]
    family_male: tuple[str, ...]
    family_female: tuple[str, ...]
    patronymic_male: tuple[str, ...] = ()
    patronymic_female: tuple[str, ...] = ()
    streets: tuple[str, ...] = ()

    def given(self, female: bool) -> tuple[str, ...]:
        return self.female if female else self.male

    def family(self, female: bool) -> tuple[str, ...]:
        return self.family_female if female else self.family_male

    def patronymics(self, female: bool) -> tuple[str, ...]:
        return self.patronymic_female if female else self.patronymic_male


def _draw(make: Callable[[], str], draws: int = _DRAWS) -> tuple[str, ...]:
    # dict.fromkeys keeps first-seen order, so the pool is the same every run.
    return tuple(dict.fromkeys(make() for _ in range(draws)))


def _faker(locale: str) -> Faker:
    fake = Faker(locale)
    fake.seed_instance(_POOL_SEED)
    return fake


@functools.cache
def pool(culture: str) -> NamePool:
    """The name pool of a culture (a Faker locale, "ar" or "lu")."""
    if culture == "ar":
        return _arabic_pool()
    if culture == "lu":
        return _luxembourg_pool()
    if culture == "lt_LT":
        return _lithuanian_pool()
    return _faker_pool(culture)


def _faker_pool(locale: str) -> NamePool:
    fake = _faker(locale)
    family_male = _draw(fake.last_name_male if locale in _GENDERED_FAMILY else fake.last_name)
    family_female = _draw(fake.last_name_female) if locale in _GENDERED_FAMILY else family_male
    patronymics: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    if locale in _PATRONYMIC:
        patronymics = (_draw(fake.middle_name_male, 600), _draw(fake.middle_name_female, 600))
    return NamePool(
        culture=locale,
        male=_draw(fake.first_name_male),
        female=_draw(fake.first_name_female),
        family_male=family_male,
        family_female=family_female,
        patronymic_male=patronymics[0],
        patronymic_female=patronymics[1],
        streets=_draw(fake.street_name, 800),
    )


def _arabic_pool() -> NamePool:
    family = tuple(ARABIC_FAMILY)
    return NamePool("ar", tuple(ARABIC_MALE), tuple(ARABIC_FEMALE), family, family)


def _luxembourg_pool() -> NamePool:
    # Luxembourgers mostly carry French given names and German-looking family
    # names (Schmit, Muller, Weber, Wagner).
    french, german = pool("fr_FR"), pool("de_DE")
    return NamePool(
        "lu", french.male, french.female, german.family_male, german.family_female,
        streets=french.streets,
    )


# Faker's lt_LT mixes the sexes in its given names and has no female family
# names, so Lithuanian names are listed here and the female forms derived.
_LT_MALE = ("Jonas", "Tomas", "Mantas", "Lukas", "Darius", "Andrius", "Paulius", "Mindaugas",
            "Vytautas", "Gediminas", "Marius", "Dovydas", "Rokas", "Giedrius", "Arūnas",
            "Saulius", "Kęstutis", "Algirdas", "Justinas", "Evaldas", "Linas", "Žygimantas")
_LT_FEMALE = ("Ona", "Rūta", "Eglė", "Giedrė", "Jurgita", "Laura", "Indrė", "Agnė", "Aistė",
              "Gabija", "Ieva", "Kristina", "Rasa", "Vilma", "Dalia", "Monika", "Greta",
              "Austėja", "Kotryna", "Simona", "Živilė")
_LT_FAMILY = ("Kazlauskas", "Jankauskas", "Petrauskas", "Stankevičius", "Vasiliauskas",
              "Žukauskas", "Butkus", "Paulauskas", "Urbonas", "Kavaliauskas", "Baranauskas",
              "Pocius", "Sakalauskas", "Navickas", "Rimkus", "Vaitkus", "Lukoševičius", "Kairys",
              "Žilinskas", "Adomaitis", "Mikalauskas", "Ramanauskas", "Juškevičius", "Šimkus",
              "Bagdonas", "Dambrauskas", "Balčiūnas", "Kriaučiūnas", "Morkūnas", "Černiauskas",
              "Gudaitis", "Valančius", "Račkauskas", "Mažeika", "Grigas", "Tamošiūnas")


def _lithuanian_female(family: str, married: bool) -> str:
    for male, wife, daughter in (("ius", "ienė", "iūtė"), ("as", "ienė", "aitė"),
                                 ("is", "ienė", "ytė"), ("ys", "ienė", "ytė"),
                                 ("us", "uvienė", "ūtė"), ("a", "ienė", "aitė")):
        if family.endswith(male):
            return family[: -len(male)] + (wife if married else daughter)
    return family


def _lithuanian_pool() -> NamePool:
    female = tuple(_lithuanian_female(f, i % 3 != 0) for i, f in enumerate(_LT_FAMILY))
    streets = tuple(f"{name[:-2]}o g." for name in _LT_MALE if name.endswith("as"))
    return NamePool("lt_LT", _LT_MALE, _LT_FEMALE, _LT_FAMILY, female, streets=streets)


def street_pool(culture: str, patterns: tuple[str, ...]) -> tuple[str, ...]:
    """Street names for addresses: Faker's, fixed ones, or patterns of family names."""
    if not patterns:
        return pool(culture).streets
    if not any("{name}" in p for p in patterns):
        return patterns
    return _patterned_streets(culture, patterns)


@functools.cache
def _patterned_streets(culture: str, patterns: tuple[str, ...]) -> tuple[str, ...]:
    names = [romanize(n, culture, ICAO) for n in pool(culture).family_male[:300]]
    return tuple(patterns[i % len(patterns)].format(name=name) for i, name in enumerate(names))
