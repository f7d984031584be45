"""Writing a name in another script, the way different banks actually do.

A Russian customer is "Yuliya Shevchenko" at one bank, "Julija Schewtschenko" at
a German one and "Ioulia Chevtchenko" at a French one; an Arabic name has no
single Latin form at all. The registry has to merge these, so the generator
must produce them: one table per transliteration habit, chosen by the bank's
country, rather than one neutral romanisation that would make matching trivial.
"""

from __future__ import annotations

import unicodedata

from anyascii import anyascii

# Transliteration habits; each bank country uses one (see style_for_country).
ICAO, GERMAN, FRENCH = "icao", "de", "fr"

_RU_ICAO = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh shch ie y - e iu ia".split(),
    strict=True,
))
_UK_ICAO = _RU_ICAO | {"г": "h", "ґ": "g", "є": "ie", "и": "y", "і": "i", "ї": "i", "й": "i"}
_RU_GERMAN = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "a b w g d e jo sch s i j k l m n o p r s t u f ch z tsch sch schtsch - y - e ju ja".split(),
    strict=True,
))
_UK_GERMAN = _RU_GERMAN | {"г": "h", "ґ": "g", "є": "je", "и": "y", "і": "i", "ї": "ji"}
_RU_FRENCH = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "a b v g d e io j z i ï k l m n o p r s t ou f kh ts tch ch chtch - y - e iou ia".split(),
    strict=True,
))
_UK_FRENCH = _RU_FRENCH | {"г": "h", "ґ": "g", "є": "ie", "и": "y", "і": "i", "ї": "ï"}

_CYRILLIC = {
    ("ru_RU", ICAO): _RU_ICAO, ("ru_RU", GERMAN): _RU_GERMAN, ("ru_RU", FRENCH): _RU_FRENCH,
    ("uk_UA", ICAO): _UK_ICAO, ("uk_UA", GERMAN): _UK_GERMAN, ("uk_UA", FRENCH): _UK_FRENCH,
}

# Letters NFKD does not decompose into base letter + mark.
_UNDECOMPOSED = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D",
                               "ı": "i", "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE"})
_GERMAN_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})

SCRIPTS = {"ru_RU": "cyrillic", "uk_UA": "cyrillic", "el_GR": "greek", "zh_CN": "han",
           "ar": "arabic"}


def script_of(culture: str) -> str:
    return SCRIPTS.get(culture, "latin")


def style_for_country(country: str) -> str:
    if country in ("DE", "AT", "CH", "LI"):
        return GERMAN
    if country in ("FR", "LU", "BE"):
        return FRENCH
    return ICAO


def romanize(text: str, culture: str, style: str) -> str:
    """Latin spelling of a name written in the culture's own script."""
    if script_of(culture) == "latin":
        return text
    table = _CYRILLIC.get((culture, style))
    if table is not None:
        return " ".join(_map_word(word, table) for word in text.split(" "))
    if culture == "ar":
        return arabic_to_latin(text, style)
    if culture == "zh_CN":
        # Pinyin syllables of one name are written as a single word.
        return " ".join(anyascii(word).capitalize() for word in text.split(" "))
    return anyascii(text)


def _map_word(word: str, table: dict[str, str]) -> str:
    out = []
    for char in word:
        latin = table.get(char.lower())
        if latin is None:
            out.append(char)
            continue
        latin = "" if latin == "-" else latin
        out.append(latin[:1].upper() + latin[1:] if char.isupper() else latin)
    return "".join(out)


def strip_diacritics(text: str, german: bool = False) -> str:
    """How a name looks after a system that only takes ASCII has stored it."""
    if german:
        text = text.translate(_GERMAN_UMLAUTS)
    text = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
    return "".join(c for c in text if not unicodedata.combining(c))


def arabic_to_latin(name: str, style: str) -> str:
    """Each Arabic name has several customary Latin spellings; the style picks one."""
    variants = ARABIC_LATIN.get(name)
    if not variants:
        return anyascii(name)
    return variants[{ICAO: 0, GERMAN: 1, FRENCH: 2}.get(style, 0) % len(variants)]


# Arabic names with their usual Latin spellings: English-style first (what a
# passport most often prints), then German-style, then French/Maghreb-style.
ARABIC_MALE = {
    "محمد": ("Mohammed", "Muhammad", "Mohamed", "Mohamad"), "أحمد": ("Ahmed", "Ahmad"),
    "علي": ("Ali",), "حسن": ("Hassan", "Hasan"), "حسين": ("Hussein", "Husain", "Houssein"),
    "خالد": ("Khaled", "Chalid", "Khalid"), "عمر": ("Omar", "Umar"),
    "يوسف": ("Youssef", "Jussuf", "Youssouf"), "إبراهيم": ("Ibrahim", "Ebrahim"),
    "مصطفى": ("Mustafa", "Mustapha", "Moustafa"), "عبد الله": ("Abdullah", "Abdallah"),
    "محمود": ("Mahmoud", "Mahmud"), "سامي": ("Sami", "Samy"), "كريم": ("Karim", "Kareem"),
    "طارق": ("Tariq", "Tarek", "Tarik"), "فيصل": ("Faisal", "Faysal"),
    "ياسر": ("Yasser", "Jasser", "Yasir"), "نبيل": ("Nabil", "Nabeel"), "رامي": ("Rami", "Ramy"),
    "زياد": ("Ziad", "Ziyad"), "عادل": ("Adel", "Adil"), "ماجد": ("Majed", "Madschid", "Majid"),
    "سعيد": ("Saeed", "Said", "Saïd"), "جمال": ("Jamal", "Dschamal", "Djamel"),
}
ARABIC_FEMALE = {
    "فاطمة": ("Fatima", "Fatma", "Fatimah"), "عائشة": ("Aisha", "Aischa", "Aïcha"),
    "مريم": ("Maryam", "Mariam", "Meriem"), "زينب": ("Zainab", "Seinab", "Zeinab"),
    "نور": ("Nour", "Nur", "Noor"), "ليلى": ("Layla", "Leila", "Leïla"), "سارة": ("Sara", "Sarah"),
    "هدى": ("Huda", "Hoda"), "رانيا": ("Rania", "Ranja"), "سلمى": ("Salma",),
    "ياسمين": ("Yasmin", "Jasmin", "Yasmine"), "أمل": ("Amal",), "دينا": ("Dina",),
    "هبة": ("Hiba", "Heba"), "رنا": ("Rana",), "لينا": ("Lina",),
    "خديجة": ("Khadija", "Chadidscha", "Khadidja"),
}
ARABIC_FAMILY = {
    "الحسن": ("Al-Hassan", "Al Hasan", "El Hassan"),
    "الخطيب": ("Al-Khatib", "Al Chatib", "El Khatib"), "حداد": ("Haddad",),
    "منصور": ("Mansour", "Mansur"), "النجار": ("Al-Najjar", "An Naddschar", "El Naggar"),
    "الشامي": ("Al-Shami", "Asch Schami", "El Chami"),
    "عبد الرحمن": ("Abdulrahman", "Abdel Rahman", "Abderrahmane"),
    "سليمان": ("Suleiman", "Sulaiman", "Slimane"), "العلي": ("Al-Ali", "Al Ali", "El Ali"),
    "خليل": ("Khalil", "Chalil"), "حمدان": ("Hamdan",), "الزين": ("Al-Zein", "Al Sain", "El Zein"),
    "عثمان": ("Othman", "Osman", "Outhmane"), "بن علي": ("Bin Ali", "Ben Ali"),
    "القاسم": ("Al-Qasim", "Al Kasim", "El Kacem"), "صالح": ("Saleh", "Salih"),
    "جابر": ("Jaber", "Dschaber", "Jabir"), "العمري": ("Al-Omari", "Al Umari", "El Omari"),
    "الرشيد": ("Al-Rashid", "Ar Raschid", "El Rachid"),
    "درويش": ("Darwish", "Derwisch", "Darwiche"), "فرحات": ("Farhat",),
    "مراد": ("Murad", "Murat", "Mourad"), "الأحمد": ("Al-Ahmad", "Al Achmad", "El Ahmad"),
    "قاسم": ("Qasim", "Kassem", "Kacem"), "حمود": ("Hamoud", "Hammud"),
    "الحلبي": ("Al-Halabi", "Al Halabi", "El Halabi"),
}
ARABIC_LATIN: dict[str, tuple[str, ...]] = ARABIC_MALE | ARABIC_FEMALE | ARABIC_FAMILY
