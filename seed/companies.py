"""Legal entities: names, legal forms, register numbers and LEIs.

Most customers' companies are registered where the bank is; a minority sit in
the jurisdictions holding structures favour (Cyprus, Luxembourg, the BVI, the
Emirates), which is what beneficial-ownership analysis is about.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from stdnum import luhn
from stdnum.ch import uid
from stdnum.es import cif
from stdnum.pt import nif as pt_nif

from seed.identifiers import pattern
from seed.keys import random_date
from seed.names import pool
from seed.people import home_address
from seed.places import COUNTRIES, FOREIGN_REGISTRATIONS
from seed.scripts import ICAO, romanize

# (registration country) -> python-stdnum module validating registration_number.
VALIDATED_REGISTRATION = {
    "DE": "de.handelsregisternummer", "AT": "at.businessid", "FR": "fr.siren", "IT": "it.iva",
    "ES": "es.cif", "PT": "pt.nif", "RO": "ro.onrc", "LV": "lv.pvn", "CH": "ch.uid",
}

DOMESTIC_SHARE = 0.88
_FOREIGN, _FOREIGN_WEIGHTS = zip(*FOREIGN_REGISTRATIONS, strict=True)

LEGAL_FORMS: dict[str, tuple[tuple[str, int], ...]] = {
    "DE": (
        ("GmbH", 50), ("GmbH & Co. KG", 12), ("UG (haftungsbeschränkt)", 10), ("e.K.", 8),
        ("AG", 5), ("KG", 5), ("OHG", 3), ("eG", 1), ("e.V.", 2),
    ),
    "AT": (("GmbH", 60), ("KG", 10), ("OG", 8), ("AG", 5), ("e.U.", 10)),
    "FR": (
        ("SAS", 35), ("SARL", 30), ("SCI", 12), ("SASU", 10), ("SA", 5), ("EURL", 6), ("SNC", 2),
    ),
    "IT": (("S.r.l.", 55), ("S.r.l.s.", 12), ("S.p.A.", 8), ("S.n.c.", 12), ("S.a.s.", 13)),
    "ES": (("S.L.", 65), ("S.L.U.", 15), ("S.A.", 15), ("S.Coop.", 5)),
    "NL": (("B.V.", 70), ("N.V.", 3), ("V.O.F.", 12), ("Stichting", 10), ("C.V.", 5)),
    "PL": (("sp. z o.o.", 70), ("S.A.", 8), ("sp.k.", 12), ("sp.j.", 10)),
    "PT": (("Lda.", 60), ("Unipessoal Lda.", 28), ("S.A.", 12)),
    "GR": (("Α.Ε.", 30), ("Ι.Κ.Ε.", 35), ("Ε.Π.Ε.", 15), ("Ο.Ε.", 12), ("Ε.Ε.", 8)),
    "CY": (("Ltd", 90), ("Public Ltd", 10)),
    "LU": (("S.à r.l.", 55), ("S.A.", 30), ("SCSp", 10), ("SICAV", 5)),
    "RO": (("S.R.L.", 85), ("S.A.", 15)),
    "HR": (("d.o.o.", 75), ("j.d.o.o.", 15), ("d.d.", 10)),
    "LT": (("UAB", 80), ("AB", 8), ("MB", 12)),
    "LV": (("SIA", 90), ("AS", 10)),
    "GB": (("Ltd", 80), ("PLC", 5), ("LLP", 10), ("LP", 5)),
    "MT": (("Ltd", 85), ("p.l.c.", 15)),
    "CH": (("AG", 50), ("GmbH", 35), ("SA", 10), ("Stiftung", 5)),
    "LI": (("Anstalt", 40), ("Stiftung", 30), ("AG", 20), ("Trust reg.", 10)),
    "VG": (("Ltd", 80), ("Inc.", 20)),
    "PA": (("S.A.", 70), ("Inc.", 15), ("Fundación de Interés Privado", 15)),
    "AE": (("FZE", 35), ("FZ-LLC", 25), ("LLC", 25), ("DMCC", 15)),
    "SC": (("Ltd", 100),),
}

_SECTORS: dict[str, tuple[str, ...]] = {
    "de": (
        "Logistik", "Immobilien", "Bau", "Handel", "Consulting", "Verwaltungs", "Beteiligungs",
        "Autohaus", "Gastronomie", "Transport", "Energie", "Software", "Gebäudereinigung",
        "Pflegedienst", "Metallbau", "Elektrotechnik",
    ),
    "fr": (
        "Immobilier", "Transports", "Conseil", "Bâtiment", "Distribution", "Restauration",
        "Finance", "Services", "Import Export", "Investissements", "Travaux Publics",
        "Boulangerie",
    ),
    "it": (
        "Immobiliare", "Costruzioni", "Trasporti", "Consulenze", "Servizi", "Commerciale",
        "Impianti", "Ristorazione", "Edilizia", "Investimenti", "Logistica",
    ),
    "es": (
        "Inmobiliaria", "Construcciones", "Transportes", "Consultoría", "Servicios", "Inversiones",
        "Distribuciones", "Hostelería", "Logística",
    ),
    "nl": (
        "Vastgoed", "Bouw", "Transport", "Advies", "Holding", "Beheer", "Installatietechniek",
        "Handelsonderneming", "Logistiek",
    ),
    "pl": (
        "Budownictwo", "Transport", "Nieruchomości", "Handel", "Usługi", "Doradztwo", "Inwestycje",
        "Logistyka",
    ),
    "pt": (
        "Imobiliária", "Construções", "Transportes", "Consultoria", "Serviços", "Investimentos",
        "Comércio",
    ),
    "el": (
        "Κατασκευαστική", "Εμπορική", "Τεχνική", "Ναυτιλιακή", "Ξενοδοχειακή", "Συμμετοχών",
        "Μεταφορική",
    ),
    "ro": (
        "Construct", "Trans", "Imobiliare", "Consulting", "Comerț", "Servicii", "Invest",
    ),
    "hr": (
        "Gradnja", "Trgovina", "Prijevoz", "Savjetovanje", "Nekretnine", "Usluge", "Investicije",
    ),
    "lt": (
        "statyba", "prekyba", "transportas", "konsultacijos", "investicijos",
    ),
    "lv": (
        "būvniecība", "tirdzniecība", "transports", "konsultācijas", "investīcijas",
    ),
    "en": (
        "Holdings", "Trading", "Investments", "Ventures", "Capital", "Global", "Properties",
        "Shipping", "Logistics", "Consulting", "Services", "Resources",
    ),
}
_LANGUAGE = {"DE": "de", "AT": "de", "CH": "de", "LI": "de", "FR": "fr", "LU": "fr", "IT": "it",
             "ES": "es", "PA": "es", "NL": "nl", "PL": "pl", "PT": "pt", "GR": "el", "RO": "ro",
             "HR": "hr", "LT": "lt", "LV": "lv"}
_BRANDS = ("Nordstern", "Alpina", "Meridian", "Atlas", "Orion", "Aurora", "Vector", "Nova",
           "Helios", "Baltic", "Adria", "Iberia", "Lusitania", "Olympus", "Danubia", "Carpathia",
           "Zenit", "Polaris", "Terra", "Aquila", "Phoenix", "Silverline", "Bluewater",
           "Greenfield", "Kronos", "Vega", "Sirius", "Pegasus", "Castellum", "Mistral")
# Cultures whose names a company register would carry in Latin script.
_ROMANIZED = {"ar", "zh_CN", "ru_RU", "uk_UA"}
_OFFSHORE = {"VG", "PA", "SC", "AE", "LI"}
# Local operating units of the global LEI system, as they appear in real LEIs.
_LEI_PREFIXES = ("5299", "3912", "9695", "8156", "2138", "7245", "5493", "2549", "2594", "6354")
# Private companies could only be registered after the end of the planned economy.
_FIRST_YEAR = {"PL": 1989, "RO": 1990, "HR": 1991, "LT": 1990, "LV": 1991}
_LEI_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DE_COURTS = ("Berlin (Charlottenburg)", "München", "Hamburg", "Frankfurt am Main", "Köln",
              "Düsseldorf", "Stuttgart", "Hannover", "Leipzig", "Dresden", "Nürnberg", "Bremen")


def entity_record(rng: random.Random, ref: str, bank_country: str, as_of: date) -> dict[str, Any]:
    """A company as its bank has it on file."""
    country = bank_country
    if rng.random() >= DOMESTIC_SHARE:
        country = _foreign_registration(rng, bank_country)
    form = _weighted(rng, LEGAL_FORMS[country])
    stem = _name_stem(rng, country)
    incorporated = _incorporation_date(rng, as_of, _FIRST_YEAR.get(country, 1950))
    holding = country in _OFFSHORE or "Holding" in stem
    return {
        "record": "entity", "id": ref, "name": f"{stem} {form}",
        "other_names": _other_names(rng, stem, form), "legal_form": form,
        "registration_number": registration_number(rng, country, form, incorporated),
        "registration_country": country,
        "lei": make_lei(rng) if rng.random() < (0.6 if holding else 0.3) else None,
        "incorporated_on": incorporated.isoformat(), "address": home_address(rng, country),
    }


def _foreign_registration(rng: random.Random, bank_country: str) -> str:
    while True:
        country: str = rng.choices(_FOREIGN, _FOREIGN_WEIGHTS)[0]
        if country != bank_country:
            return country


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    values, weights = zip(*options, strict=True)
    choice: str = rng.choices(values, weights)[0]
    return choice


def _name_stem(rng: random.Random, country: str) -> str:
    language = "en" if country in _OFFSHORE else _LANGUAGE.get(country, "en")
    sector = rng.choice(_SECTORS[language])
    draw = rng.random()
    if country in _OFFSHORE or draw < 0.25:
        return f"{rng.choice(_BRANDS)} {sector}"
    culture = COUNTRIES[country].culture
    families = pool(culture).family_male
    family = rng.choice(families)
    if culture in _ROMANIZED:
        family = romanize(family, culture, ICAO)
    if draw < 0.5 and culture not in _ROMANIZED:
        return f"{family} & {rng.choice(families)}"
    return f"{family} {sector}"


def _other_names(rng: random.Random, stem: str, form: str) -> list[str]:
    draw = rng.random()
    if draw < 0.06:
        return [f"{rng.choice(_BRANDS)} {form}"]  # former name
    if draw < 0.12:
        return [stem]  # trading name without the legal form
    return []


def _incorporation_date(rng: random.Random, as_of: date, first_year: int) -> date:
    latest = as_of - timedelta(days=30)
    first_year = min(first_year, latest.year)
    year = int(rng.triangular(first_year, latest.year + 1, max(first_year, latest.year - 6)))
    return random_date(rng, date(min(year, latest.year), 1, 1), min(date(year, 12, 31), latest))


def make_lei(rng: random.Random) -> str:
    """An ISO 17442 LEI: LOU prefix, reserved 00, 12 characters, MOD 97-10 check digits."""
    body = rng.choice(_LEI_PREFIXES) + "00" + "".join(rng.choices(_LEI_ALPHABET, k=12))
    numeric = int("".join(str(int(c, 36)) for c in body + "00"))
    return f"{body}{98 - numeric % 97:02d}"


def registration_number(rng: random.Random, country: str, form: str, incorporated: date) -> str:
    maker = _REGISTERS.get(country)
    if maker is not None:
        return maker(rng, form, incorporated)
    return pattern(rng, _REGISTER_PATTERNS.get(country, "########"))


def _register_de(rng: random.Random, form: str, _: date) -> str:
    register = {"KG": "HRA", "OHG": "HRA", "e.K.": "HRA", "GmbH & Co. KG": "HRA",
                "eG": "GnR", "e.V.": "VR"}.get(form, "HRB")
    return f"{rng.choice(_DE_COURTS)} {register} {rng.randint(100, 250_000)}"


def _siren_fr(rng: random.Random, _form: str, _: date) -> str:
    body = str(rng.randint(3 * 10**7, 9 * 10**7))
    return body + luhn.calc_check_digit(body)


def _partita_iva_it(rng: random.Random, _form: str, _: date) -> str:
    body = f"{rng.randint(1, 9_999_999):07d}{rng.randint(1, 100):03d}"
    return body + luhn.calc_check_digit(body)


def _cif_es(rng: random.Random, form: str, _: date) -> str:
    body = ("A" if form == "S.A." else "F" if form == "S.Coop." else "B") + pattern(rng, "#######")
    return body + cif.calc_check_digits(body)[0]


def _nipc_pt(rng: random.Random, _form: str, _: date) -> str:
    body = "5" + pattern(rng, "#######")
    return body + pt_nif.calc_check_digit(body)


def _onrc_ro(rng: random.Random, _form: str, incorporated: date) -> str:
    year = max(1990, min(incorporated.year, 2024))
    return f"J{rng.randint(1, 40):02d}/{rng.randint(1, 99_999)}/{year}"


def _register_lv(rng: random.Random, _form: str, _: date) -> str:
    weights = (9, 1, 4, 8, 3, 10, 2, 5, 7, 6)
    while True:
        body = rng.choice("45") + "000" + pattern(rng, "######")
        total = sum(w * int(d) for w, d in zip(weights, body, strict=True))
        check = (3 - total) % 11
        if check < 10:
            return body + str(check)


def _uid_ch(rng: random.Random, _form: str, _: date) -> str:
    while True:
        body = pattern(rng, "########")
        check = uid.calc_check_digit(body)
        if check != "10":
            digits = body + check
            return f"CHE-{digits[:3]}.{digits[3:6]}.{digits[6:]}"


def _firmenbuch_at(rng: random.Random, _form: str, _: date) -> str:
    return f"FN {rng.randint(1000, 599_999)}{rng.choice('abcdefghikmnpstvwxyz')}"


_REGISTERS = {"DE": _register_de, "AT": _firmenbuch_at, "FR": _siren_fr, "IT": _partita_iva_it,
              "ES": _cif_es, "PT": _nipc_pt, "RO": _onrc_ro, "LV": _register_lv, "CH": _uid_ch}
_REGISTER_PATTERNS = {
    "NL": "########", "PL": "0000######", "GR": "############", "CY": "HE######",
    "LU": "B######", "HR": "0########", "LT": "30#######", "GB": "0#######", "MT": "C #####",
    "LI": "FL-0002.###.###-#", "VG": "#######", "PA": "#######", "AE": "DMCC-######",
    "SC": "######",
}
