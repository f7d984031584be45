"""National personal numbers that embed the birth date, sex or a check digit.

Each function returns a number that python-stdnum accepts for its country (see
seed.identifiers.VALIDATED), computed from the person's own birth date and sex
so that the registry's consistency checks (birth date vs. code) pass too.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from stdnum import luhn, verhoeff
from stdnum.at import vnr
from stdnum.cn import ric
from stdnum.ee import ik
from stdnum.fr import nir
from stdnum.iso7064 import mod_11_10
from stdnum.it import codicefiscale
from stdnum.lv import pvn
from stdnum.pl import pesel
from stdnum.ro import cnp
from stdnum.tr import tckimlik
from stdnum.ua import rntrc

from seed.scripts import strip_diacritics


@dataclass(frozen=True)
class Subject:
    """What a personal number is computed from (names in Latin script)."""

    birth: date
    female: bool
    given: str
    family: str


def digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choices("0123456789", k=count))


def _serial(rng: random.Random, width: int) -> str:
    return str(rng.randint(1, 10**width - 1)).zfill(width)


def _yymmdd(day: date) -> str:
    return day.strftime("%y%m%d")


def pesel_pl(rng: random.Random, s: Subject) -> str:
    month = s.birth.month + {18: 80, 19: 0, 20: 20}[s.birth.year // 100]
    sex = rng.choice("02468" if s.female else "13579")
    body = f"{s.birth:%y}{month:02d}{s.birth:%d}{digits(rng, 3)}{sex}"
    return body + pesel.calc_check_digit(body)


_RO_COUNTIES = tuple(f"{n:02d}" for n in range(1, 47)) + ("51", "52")
_FR_DEPARTMENTS = tuple(f"{n:02d}" for n in range(1, 96) if n != 20) + ("2A", "2B")


def cnp_ro(rng: random.Random, s: Subject) -> str:
    first = (5 if s.birth.year >= 2000 else 1) + (1 if s.female else 0)
    county = rng.choice(_RO_COUNTIES)
    body = f"{first}{_yymmdd(s.birth)}{county}{_serial(rng, 3)}"
    return body + cnp.calc_check_digit(body)


def asmens_lt(rng: random.Random, s: Subject) -> str:
    first = (5 if s.birth.year >= 2000 else 3) + (1 if s.female else 0)
    body = f"{first}{_yymmdd(s.birth)}{_serial(rng, 3)}"
    return body + ik.calc_check_digit(body + "0")


def personas_kods_lv(rng: random.Random, s: Subject) -> str:
    body = f"{s.birth:%d%m%y}{s.birth.year // 100 - 18}{digits(rng, 3)}"
    code = body + pvn.calc_check_digit_pers(body)
    return f"{code[:6]}-{code[6:]}"


def nir_fr(rng: random.Random, s: Subject, foreign_born: bool) -> str:
    department = "99" if foreign_born else rng.choice(_FR_DEPARTMENTS)
    body = f"{2 if s.female else 1}{s.birth:%y%m}{department}{_serial(rng, 3)}{_serial(rng, 3)}"
    return body + nir.calc_check_digits(body)


def svnr_at(rng: random.Random, s: Subject) -> str:
    while True:
        serial = str(rng.randint(100, 999))
        check = vnr.calc_check_digit(f"{serial}0{s.birth:%d%m%y}")
        if len(check) == 1:
            return f"{serial}{check}{s.birth:%d%m%y}"


def rntrc_ua(rng: random.Random, s: Subject) -> str:
    days = (s.birth - date(1899, 12, 31)).days
    sex = rng.choice("02468" if s.female else "13579")
    body = f"{days:05d}{digits(rng, 3)}{sex}"
    return body + rntrc.calc_check_digit(body)


def tckimlik_tr(rng: random.Random, _: Subject) -> str:
    body = str(rng.randint(10**8, 10**9 - 1))
    return body + tckimlik.calc_check_digits(body)


def oib_hr(rng: random.Random, _: Subject) -> str:
    body = str(rng.randint(10**9, 10**10 - 1))
    return body + mod_11_10.calc_check_digit(body)


def matricule_lu(rng: random.Random, s: Subject) -> str:
    # Luxembourg's 13-digit matricule: birth date, serial, then a Luhn and a
    # Verhoeff digit over the first eleven digits.
    body = f"{s.birth:%Y%m%d}{digits(rng, 3)}"
    return body + luhn.calc_check_digit(body) + verhoeff.calc_check_digit(body)


# Registry regions that already existed in 1920, so stdnum accepts them for
# every birth year we generate (Beijing's and Shanghai's central districts).
_CN_REGIONS = ("110101", "110105", "110108", "310101", "310104", "120101")


def ric_cn(rng: random.Random, s: Subject) -> str:
    sex = rng.choice("02468" if s.female else "13579")
    body = f"{rng.choice(_CN_REGIONS)}{s.birth:%Y%m%d}{digits(rng, 2)}{sex}"
    return body + ric.calc_check_digit(body + "0")


def national_id_eg(rng: random.Random, s: Subject) -> str:
    century = 3 if s.birth.year >= 2000 else 2
    sex = rng.choice("02468" if s.female else "13579")
    governorate = rng.randint(1, 35)
    return f"{century}{_yymmdd(s.birth)}{governorate:02d}{digits(rng, 3)}{sex}{digits(rng, 1)}"


def national_id_sa(rng: random.Random, _: Subject) -> str:
    body = "1" + digits(rng, 8)
    return body + luhn.calc_check_digit(body)


def id_card_de(rng: random.Random, _: Subject) -> str:
    # Document number alphabet of German ID cards, plus the ICAO 9303 7-3-1
    # check digit printed after it in the machine-readable zone.
    body = rng.choice("LT") + "".join(rng.choices("CFGHJKLMNPRTVWXYZ0123456789", k=8))
    values = [int(c, 36) for c in body]
    return body + str(sum(v * (7, 3, 1)[i % 3] for i, v in enumerate(values)) % 10)


_MONTHS_IT = "ABCDEHLMPRST"
_MUNICIPALITIES_IT = ("H501", "F205", "F839", "L219", "G273", "D969", "A944", "D612", "A662",
                      "C351", "L736", "L781", "F158", "G224", "L424", "B157", "G337")


def codice_fiscale_it(rng: random.Random, s: Subject, foreign_born: bool) -> str:
    """Italy's codice fiscale, derived from the name, birth date, sex and place."""
    place = f"Z{rng.randint(100, 399)}" if foreign_born else rng.choice(_MUNICIPALITIES_IT)
    day = s.birth.day + (40 if s.female else 0)
    body = (f"{_cf_part(s.family, False)}{_cf_part(s.given, True)}"
            f"{s.birth:%y}{_MONTHS_IT[s.birth.month - 1]}{day:02d}{place}")
    return body + codicefiscale.calc_check_digit(body)


def _cf_part(name: str, given: bool) -> str:
    letters = [c for c in strip_diacritics(name).upper() if "A" <= c <= "Z"]
    consonants = [c for c in letters if c not in "AEIOU"]
    vowels = [c for c in letters if c in "AEIOU"]
    if given and len(consonants) >= 4:
        # A given name with four or more consonants skips the second one.
        consonants = [consonants[0]] + consonants[2:]
    return "".join(consonants + vowels + ["X", "X", "X"])[:3]
