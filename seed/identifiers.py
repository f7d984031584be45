"""Passports, national identity numbers and tax numbers of natural persons.

Numbers are valid wherever python-stdnum has a validator for the country and
scheme (VALIDATED lists them, and the tests check every one); elsewhere they
follow the country's published layout. A national identity number comes from the
country of nationality, a tax number from the country of residence, as a bank's
customer-due-diligence file would record them.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from stdnum.at import tin
from stdnum.cy import vat as cy_vat
from stdnum.es import dni, nie
from stdnum.gb import utr
from stdnum.gr import vat as gr_vat
from stdnum.iso7064 import mod_11_10
from stdnum.pt import cc
from stdnum.pt import nif as pt_nif
from stdnum.ru import inn

from seed import personal_codes as pc
from seed.personal_codes import Subject, digits

Identifier = dict[str, str]
Maker = Callable[[random.Random, Subject], str]

# (country, scheme) -> python-stdnum modules, any of which accepts the value.
VALIDATED: dict[tuple[str, str], tuple[str, ...]] = {
    ("DE", "tax_id"): ("de.idnr",),
    ("AT", "national_id"): ("at.vnr",), ("AT", "tax_id"): ("at.tin",),
    ("FR", "national_id"): ("fr.nir",), ("FR", "tax_id"): ("fr.nif",),
    ("IT", "tax_id"): ("it.codicefiscale",),
    ("ES", "national_id"): ("es.dni",), ("ES", "tax_id"): ("es.dni", "es.nie"),
    ("NL", "national_id"): ("nl.bsn",), ("NL", "tax_id"): ("nl.bsn",),
    ("PL", "national_id"): ("pl.pesel",), ("PL", "tax_id"): ("pl.nip",),
    ("PT", "national_id"): ("pt.cc",), ("PT", "tax_id"): ("pt.nif",),
    ("GR", "tax_id"): ("gr.vat",), ("CY", "tax_id"): ("cy.vat",),
    ("RO", "national_id"): ("ro.cnp",), ("RO", "tax_id"): ("ro.cnp",),
    ("HR", "national_id"): ("hr.oib",), ("HR", "tax_id"): ("hr.oib",),
    ("LT", "national_id"): ("lt.asmens",), ("LT", "tax_id"): ("lt.asmens",),
    ("LV", "national_id"): ("lv.pvn",), ("LV", "tax_id"): ("lv.pvn",),
    ("RU", "tax_id"): ("ru.inn",), ("UA", "tax_id"): ("ua.rntrc",),
    ("TR", "national_id"): ("tr.tckimlik",), ("TR", "tax_id"): ("tr.tckimlik",),
    ("CN", "national_id"): ("cn.ric",), ("GB", "tax_id"): ("gb.utr",),
}


def pattern(rng: random.Random, template: str) -> str:
    """'#' a digit, '@' a letter, '*' an ICAO document character; others literal."""
    out = []
    for char in template:
        if char == "#":
            out.append(str(rng.randint(0, 9)))
        elif char == "@":
            out.append(chr(rng.randint(65, 90)))
        elif char == "*":
            out.append(rng.choice("CFGHJKLMNPRTVWXYZ0123456789"))
        else:
            out.append(char)
    return "".join(out)


def _patterned(template: str) -> Maker:
    return lambda rng, _subject: pattern(rng, template)


def idnr_de(rng: random.Random, _: pc.Subject) -> str:
    # Of the first ten digits exactly one occurs twice (or three times).
    chosen = rng.sample("0123456789", 9)
    chosen.append(rng.choice(chosen))
    rng.shuffle(chosen)
    if chosen[0] == "0":
        nonzero = next(i for i, d in enumerate(chosen) if d != "0")
        chosen[0], chosen[nonzero] = chosen[nonzero], chosen[0]
    body = "".join(chosen)
    return body + mod_11_10.calc_check_digit(body)


def nif_fr(rng: random.Random, _: Subject) -> str:
    body = str(rng.randint(0, 3)) + digits(rng, 9)
    return body + f"{int(body) % 511:03d}"


def dni_es(rng: random.Random, _: Subject) -> str:
    body = digits(rng, 8)
    return body + dni.calc_check_digit(body)


def nie_es(rng: random.Random, _: Subject) -> str:
    body = rng.choice("XYZ") + digits(rng, 7)
    return body + nie.calc_check_digit(body)


def bsn_nl(rng: random.Random, _: Subject) -> str:
    while True:
        body = str(rng.randint(10**7, 7 * 10**7 - 1))
        check = sum((9 - i) * int(d) for i, d in enumerate(body)) % 11
        if check < 10:
            return body + str(check)


_NIP_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)


def nip_pl(rng: random.Random, _: Subject) -> str:
    while True:
        body = str(rng.randint(101, 999)) + digits(rng, 6)
        check = sum(w * int(d) for w, d in zip(_NIP_WEIGHTS, body, strict=True)) % 11
        if check < 10:
            return body + str(check)


def cc_pt(rng: random.Random, _: Subject) -> str:
    body = digits(rng, 9) + rng.choice(("ZZ", "ZX", "ZY", "ZW"))
    return body + cc.calc_check_digit(body)


def nif_pt(rng: random.Random, _: Subject) -> str:
    body = rng.choice("12") + digits(rng, 7)
    return body + pt_nif.calc_check_digit(body)


def afm_gr(rng: random.Random, _: Subject) -> str:
    body = "1" + digits(rng, 7)
    return body + gr_vat.calc_check_digit(body)


def tic_cy(rng: random.Random, _: Subject) -> str:
    body = rng.choice("09") + digits(rng, 7)
    return body + cy_vat.calc_check_digit(body)


# Tax offices that stdnum's Austrian table knows.
_AT_OFFICES = (3, 4, 6, 7, 8, 9, 10, 12, 15, 16, 18, 22, 23, 29, 33, 38, 41, 46, 51, 52,
               53, 54, 57, 59, 61, 65, 67, 68, 69, 71, 72, 81, 82, 83, 84, 90, 91, 93, 97, 98)


def tin_at(rng: random.Random, _: Subject) -> str:
    body = f"{rng.choice(_AT_OFFICES):02d}{digits(rng, 6)}"
    return body + tin.calc_check_digit(body)


def utr_gb(rng: random.Random, _: Subject) -> str:
    body = digits(rng, 9)
    return utr.calc_check_digit(body) + body


def nino_gb(rng: random.Random, _: Subject) -> str:
    first = rng.choice("ABCEGHJKLMNOPRSTWXYZ")
    second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    if first + second in ("BG", "GB", "NK", "KN", "TN", "NT", "ZZ"):
        second = "A"
    return f"{first}{second}{digits(rng, 6)}{rng.choice('ABCD')}"


def inn_ru(rng: random.Random, _: Subject) -> str:
    body = f"{rng.randint(1, 89):02d}{rng.randint(1, 99):02d}{digits(rng, 6)}"
    return body + inn.calc_personal_check_digits(body)


NATIONAL_ID: dict[str, Maker] = {
    "DE": pc.id_card_de, "AT": pc.svnr_at, "FR": lambda r, s: pc.nir_fr(r, s, False),
    "IT": _patterned("CA#####@@"), "ES": dni_es, "NL": bsn_nl, "PL": pc.pesel_pl,
    "PT": cc_pt, "GR": _patterned("@@######"), "CY": _patterned("#######"),
    "LU": pc.matricule_lu, "RO": pc.cnp_ro, "HR": pc.oib_hr, "LT": pc.asmens_lt,
    "LV": pc.personas_kods_lv, "RU": _patterned("#### ######"), "UA": _patterned("#########"),
    "TR": pc.tckimlik_tr, "CN": pc.ric_cn, "GB": nino_gb, "SY": _patterned("###########"),
    "IQ": _patterned("############"), "EG": pc.national_id_eg, "MA": _patterned("@@######"),
    "LB": _patterned("############"), "SA": pc.national_id_sa,
}

# Tax numbers as issued to a resident who is a national of the country.
TAX_ID: dict[str, Maker] = {
    "DE": idnr_de, "AT": tin_at, "FR": nif_fr, "ES": dni_es, "NL": bsn_nl, "PL": nip_pl,
    "PT": nif_pt, "GR": afm_gr, "CY": tic_cy, "LU": pc.matricule_lu, "RO": pc.cnp_ro,
    "HR": pc.oib_hr, "LT": pc.asmens_lt, "LV": pc.personas_kods_lv, "RU": inn_ru,
    "UA": pc.rntrc_ua, "TR": pc.tckimlik_tr, "GB": utr_gb,
    "IT": lambda r, s: pc.codice_fiscale_it(r, s, False),
}

# Foreign residents get a different kind of number in some countries.
FOREIGNER_TAX_ID: dict[str, Maker] = {
    "ES": nie_es, "IT": lambda r, s: pc.codice_fiscale_it(r, s, True),
}

PASSPORT: dict[str, str] = {
    "DE": "C********", "AT": "P#######", "FR": "##@@#####", "IT": "@@#######", "ES": "@@@######",
    "NL": "@@******#", "PL": "@@#######", "PT": "@######", "GR": "@@#######", "CY": "K########",
    "LU": "@@######", "RO": "#########", "HR": "#########", "LT": "########", "LV": "@@#######",
    "RU": "## #######", "UA": "@@######", "TR": "U########", "CN": "E########", "GB": "#########",
    "SY": "N#########", "IQ": "A########", "EG": "A########", "MA": "@@#######", "LB": "LR#######",
    "SA": "@########",
}


def national_id(rng: random.Random, subject: Subject, country: str) -> Identifier:
    maker = NATIONAL_ID.get(country, _patterned("##########"))
    return {"scheme": "national_id", "country": country, "value": maker(rng, subject)}


def tax_id(rng: random.Random, subject: Subject, residence: str,
           national: bool) -> Identifier | None:
    maker = None if national else FOREIGNER_TAX_ID.get(residence)
    maker = maker or TAX_ID.get(residence)
    if maker is None:
        return None
    return {"scheme": "tax_id", "country": residence, "value": maker(rng, subject)}


def passport(rng: random.Random, country: str) -> Identifier:
    value = pattern(rng, PASSPORT.get(country, "@@#######"))
    return {"scheme": "passport", "country": country, "value": value}


def identity_documents(
    rng: random.Random, subject: Subject, nationality: str, residence: str
) -> list[Identifier]:
    """Everything a bank may have on file; each bank then records a subset."""
    documents = [national_id(rng, subject, nationality)]
    national = nationality == residence
    if rng.random() < 0.7:
        tax = tax_id(rng, subject, residence, national)
        if tax is not None:
            if national and TAX_ID.get(residence) is NATIONAL_ID.get(nationality):
                # One personal number serves both purposes (PESEL-like systems).
                tax["value"] = documents[0]["value"]
            documents.append(tax)
    # Foreign customers identify with a passport far more often than nationals.
    if rng.random() < (0.25 if national else 0.8):
        documents.append(passport(rng, nationality))
    return documents
