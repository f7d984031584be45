"""Name, birth-date and identifier analysis, shared by indexing and querying.

The Elasticsearch server has no ICU, phonetic or n-gram analysers, so every
key a name is searched by is computed here and stored in keyword fields. The
same functions run on the bank's record at index time and on the
investigator's query, which is what makes the keys meet. Everything here is a
pure function of plain strings.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from importlib import import_module
from types import ModuleType
from typing import Iterable, Sequence

import jellyfish
from anyascii import anyascii
from nicknames import NickNamer
from stdnum.util import get_cc_module

from search.nicknames_data import NAME_VARIANTS

# Dropped from names: they describe the person, they are not the name, and
# banks record them inconsistently. A name made only of these keeps them.
# Not listed, because they are also names: "m" (Monsieur, or an initial),
# "don", "lord", "hon" (a Cantonese surname), "sheikh", "md" (Muhammad on
# Bangladeshi documents).
HONORIFICS = frozenset(
    "mr mrs ms miss mx dr prof sir dame rev revd esq phd "
    "herr frau fraulein mme mlle sr sra srta dott dottssa ing avv "
    "jr jnr snr junior senior ii iii iv".split()
)
# Kept as tokens, because they are part of the legal surname (Belgian and
# Dutch registers sort "Van" under V; "bin" carries the father's name), but
# given no phonetic, nickname or initial keys and a small weight when
# unmatched: banks drop or glue them ("Vanderberg") at will.
PARTICLES = frozenset(
    "de da di do dos das du del della der den des la le van von ter ten "
    "al el bin ibn bint ben abu".split()
)
# The Arabic article as Latin spellings write it, assimilated or not (Al-Rashid,
# El Rachid, Ar Raschid, Asch Schami): one particle in any of these forms.
ARABIC_ARTICLES = frozenset("al el ul ar as asch ash an at ad az ath adh".split())
# Titles of nobility, office and honours, and ordinals ("1st", "3rd"): kept as
# tokens, like particles, because several are also names (Earl Warren, Duke
# Ellington, John Lord) and stripping them would empty those names; but given
# no keys and a particle's small weight when unmatched, since banks and
# registers include them at will ("Thomas Clifford, 1st Baron Clifford").
TITLES = frozenset(
    "baron baroness baronet bt bart earl count countess viscount viscountess marquess "
    "marquis marchioness duke duchess lady lord knight dame kbe obe mbe cbe kcb gcb frs "
    "mp qc kc bishop archbishop cardinal reverend father sheikh hon of the".split()
)
# Ordinals as English, French, Dutch, Spanish or Portuguese write them ("1st", "13th", "3e",
# "1re", "1ste", "2do", "2o" for "2º") are not names. Any other word with a digit in it is
# a name mistyped or misread ("Ch9tty", "5oynbee", "J0hn"): while a digit made a word a
# title, 14 such queries of the quality benchmark found nothing.
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th|d|ste|e|er|re|ere|eme|de|nde|o|a|do|da|ro|ra|to|ta)?")
# Two-character Chinese surnames (simplified and traditional) that must not
# be split after the first syllable.
_CJK_COMPOUND_SURNAMES = frozenset(
    "欧阳 歐陽 司马 司馬 诸葛 諸葛 上官 东方 東方 皇甫 令狐 慕容 夏侯 尉迟 尉遲 "
    "公孙 公孫 长孙 長孫 宇文 司徒 端木 澹台".split()
)
# Korean surnames as their bearers and banks spell them, not in Revised Romanization
# (김 is "Kim", never "Gim"; 이 "Lee", not "I"): the thirty commonest, about 90 % of Koreans.
_KOREAN_SURNAMES = {
    "김": "kim", "이": "lee", "박": "park", "최": "choi", "정": "jung", "강": "kang", "조": "cho",
    "윤": "yoon", "장": "jang", "임": "lim", "한": "han", "오": "oh", "서": "seo", "신": "shin",
    "권": "kwon", "황": "hwang", "안": "ahn", "송": "song", "류": "ryu", "유": "yoo", "홍": "hong",
    "전": "jeon", "고": "ko", "문": "moon", "양": "yang", "손": "son", "배": "bae", "백": "baek",
    "허": "heo", "노": "noh",
}
# Han ideographs and Hangul syllables carry no spaces between surname and
# given name; see _romanise_cjk_run.
_CJK_RUN = re.compile(
    "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7a3\U00020000-\U0002fa1f]+"
)
# anyascii writes Greek letter by letter ("ου" -> "oy"); passports follow
# ELOT 743, where these pairs are single sounds.
_GREEK_DIGRAPHS = {"ου": "ou", "ού": "ou", "αυ": "av", "αύ": "av", "ευ": "ev",
                   "εύ": "ev", "γγ": "ng", "μπ": "b", "ντ": "d"}
_GREEK_DIGRAPH = re.compile(r"ου|ού|αυ|αύ|ευ|εύ|γγ|\bμπ|\bντ")
# anyascii turns the Serbo-Croatian đ into "d", but the Latin spelling people
# type is "dj" (Djokovic), which is also how anyascii renders Cyrillic ђ.
# anyascii drops alif and writes aleph and ayin as apostrophes, so "أحمد"
# would start with "h"; Latin spellings start with a vowel (Ahmed, Ali, Avraham).
# Ta marbuta and alif maqsura end names as a vowel (Khadija, Layla, Huda), which
# anyascii would write as "h" or drop.
_SPECIAL_LETTERS = str.maketrans(
    {"đ": "dj", "ا": "a", "أ": "a", "إ": "a", "آ": "a", "ع": "a", "א": "a", "ע": "a",
     "ة": "a", "ى": "a"}
)
# Arabic writes the article joined to the name (الرشيد); Latin spellings write
# it apart (Al-Rashid, El Rachid), so it becomes its own particle token.
# "Servant of" names are one name in Latin letters (Abdullah, Abdulrahman).
_ARABIC_ABD = re.compile(r"(?<![\u0600-\u06ff])\u0639\u0628\u062f ?\u0627\u0644")
_ARABIC_ARTICLE = re.compile(r"(?<![\u0600-\u06ff])\u0627\u0644(?=[\u0600-\u06ff]{2})")
# Inside a word waw and ya are almost always the long vowels u/o and i/e
# (يوسف Yusuf, حسين Hussein, نور Nour); anyascii writes the consonants w and y.
_ARABIC_MEDIAL_VOWEL = re.compile(r"(?<=[\u0621-\u064a])[\u0648\u064a]")
# Hebrew, like Arabic, leaves most vowels unwritten, and anyascii writes it letter by letter
# in one reading: every bet a "v", every vav a "v", every shin an "s" (בנימין נתניהו came out
# "vnymyn ntnyhv", nothing like Binyamin Netanyahu). Passports and banks follow the spoken
# name: a word's first letter takes its hard sound (b, k, p), shin is "sh", and inside a word
# vav and yod are mostly the vowels o/u and i (יוסף Yosef, מיכאל Michael), doubled they are
# the consonants, and a final he is a vowel (גולדה Golda). Points (niqqud) are dropped.
_HEBREW_FIRST = {"א": "a", "ב": "b", "ג": "g", "ד": "d", "ה": "h", "ו": "v", "ז": "z", "ח": "ch",
                 "ט": "t", "י": "y", "כ": "k", "ל": "l", "מ": "m", "נ": "n", "ס": "s", "ע": "a",
                 "פ": "p", "צ": "tz", "ק": "k", "ר": "r", "ש": "sh", "ת": "t"}
_HEBREW_INSIDE = {**_HEBREW_FIRST, "ב": "v", "כ": "ch", "ך": "ch", "פ": "f", "ף": "f", "ץ": "tz",
                  "ם": "m", "ן": "n", "ו": "o", "י": "i"}
# A geresh after gimel, zayin or tsadi writes a sound Hebrew lacks (ג'ורג' George).
_HEBREW_GERESH = {"ג": "j", "ז": "zh", "צ": "ch", "ץ": "ch"}
_HEBREW_WORD = re.compile("[\u05d0-\u05ea][\u05d0-\u05ea\u05f3']*")
_HEBREW_POINTS = re.compile("[\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# After anyascii every apostrophe-like mark is ' or `.
_APOSTROPHES = re.compile(r"['`]")


def fold(text: str) -> str:
    """Fold any script to lower-case ASCII words separated by single spaces.

    Apostrophes are deleted, not turned into spaces: banks write O'Brien as
    "OBRIEN" far more often than "O BRIEN", and the Arabic ayn apostrophe
    (Sa'id) is usually dropped too. Hyphens and other punctuation become
    spaces, so "Smith-Jones" still matches "Smith" alone. German umlauts fold
    to the bare vowel (ü -> u); "ue" spellings meet them through the phonetic
    key, which ignores vowels after the first letter.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    if not text.isascii():
        text = _transliterate(text)
    text = _APOSTROPHES.sub("", text.lower())
    return _NON_ALNUM.sub(" ", text).strip()


def _transliterate(text: str) -> str:
    text = _GREEK_DIGRAPH.sub(lambda m: _GREEK_DIGRAPHS[m.group()], text)
    text = _HEBREW_WORD.sub(lambda m: _hebrew_word(m.group()), _HEBREW_POINTS.sub("", text))
    text = _ARABIC_ABD.sub("abdal", text)
    text = _ARABIC_ARTICLE.sub("al ", text)
    text = _ARABIC_MEDIAL_VOWEL.sub(lambda m: "u" if m.group() == "\u0648" else "i", text)
    text = text.translate(_SPECIAL_LETTERS)
    # Symbols and emoji are not names; anyascii would spell them out (":smile:").
    text = "".join(
        " " if not c.isascii() and unicodedata.category(c)[0] == "S" else c for c in text
    )
    return anyascii(_CJK_RUN.sub(_romanise_cjk_run, text))


def _hebrew_word(word: str) -> str:
    """One Hebrew word in Latin letters, as _HEBREW_FIRST and _HEBREW_INSIDE say."""
    out = []
    i = 0
    while i < len(word):
        letter, after = word[i], word[i + 1:i + 2]
        if after in ("\u05f3", "'") and letter in _HEBREW_GERESH:
            out.append(_HEBREW_GERESH[letter])
            i += 1
        elif i == 0:
            out.append(_HEBREW_FIRST.get(letter, ""))
        elif letter in "וי" and after == letter:
            out.append("v" if letter == "ו" else "y")
            i += 1
        elif letter == "ו" and word[i + 1:] == "י":
            out.append("vi")  # a final vav-yod is the consonant and the vowel (לוי Levi)
            i += 1
        elif letter == "ו" and i == len(word) - 1:
            out.append("u")  # (נתניהו Netanyahu)
        elif letter == "י" and after and after in "אעוה":
            out.append("y")  # before another vowel letter, a consonant (גוריון Gurion)
        elif letter == "ה" and i == len(word) - 1:
            out.append("a")
        else:
            out.append(_HEBREW_INSIDE.get(letter, ""))
        i += 1
    return "".join(out)


def _romanise_cjk_run(match: re.Match[str]) -> str:
    # Pinyin and Revised Romanization write the surname apart and the given
    # name as one word ("Xi Jinping"), which is also how banks spell them.
    # Japanese names in kanji get Chinese readings: a known limitation.
    run = match.group()
    syllables = [anyascii(char) for char in run]
    split = 2 if run[:2] in _CJK_COMPOUND_SURNAMES else 1
    # A surname alone, or before a given name of two syllables (most Korean names). Not the
    # first of two syllables: "정은" alone is a given name written apart from its surname.
    if len(run) != 2 and run[0] in _KOREAN_SURNAMES:
        syllables[0] = _KOREAN_SURNAMES[run[0]]
    return f" {''.join(syllables[:split])} {''.join(syllables[split:])} "


def name_tokens(name: str) -> list[str]:
    """Folded tokens of a name, in their original order, without honorifics."""
    tokens = fold(name).split()
    return [t for t in tokens if t not in HONORIFICS] or tokens


@functools.lru_cache(maxsize=1 << 15)
def remembered_tokens(name: str) -> tuple[str, ...]:
    """`name_tokens`, remembered. Re-scoring folds the names of 50 candidates per search,
    the same popular names again and again, and needs nothing else of them (about 6 MB
    when full)."""
    return tuple(name_tokens(name))


# Rewrites applied before Metaphone so that transliteration variants meet:
# German/Polish spellings of Slavic and Arabic sounds (dsch, tsch, sch, cz),
# Cyrillic х as kh, Greek θ as th, German dt and tz, and w/v (Iwanow/Ivanov).
_PHONETIC_REWRITES = (("dsch", "j"), ("tsch", "ch"), ("sch", "sh"), ("cz", "ch"),
                      ("dj", "j"), ("kh", "h"), ("th", "t"), ("ph", "f"), ("dt", "t"),
                      ("tz", "z"), ("ts", "z"), ("w", "v"))
# h is silent or dropped by transliterations except at the start and in
# ch/sh: Mohammed, Muhammad and Arabic-script "mhmd" all lose it.
_MEDIAL_H = re.compile(r"(?<=[^cs])h")
# Yurgen/Jurgen/Juergen, Iurii/Yuri/Juri: an initial y, or an initial i
# before a vowel (ICAO transliteration), is the German/Slavic j sound.
_INITIAL_J = re.compile(r"^(?:y|i(?=[aeiou]))")
_REPEATS = re.compile(r"(.)\1+")


@functools.lru_cache(maxsize=1 << 16)
def phonetic_key(token: str) -> str:
    """A Metaphone key made tolerant of European transliteration variants.

    Metaphone (via jellyfish) drops vowels after the first letter, which
    already merges mohammed/muhammad/mohamed, aleksandr/alexander,
    mueller/muller and most Cyrillic and Arabic transliteration variants.
    Double Metaphone and Beider-Morse are not in jellyfish, NYSIIS keeps
    vowels (Mohamed != Muhammad) and Soundex keeps only four characters, so
    Metaphone plus the rewrites above, the Double Metaphone convention that
    every initial vowel codes as "A", and collapsed repeats (schmidt ->
    "XMT" = schmitt) gives the best merge for our names.
    """
    word = fold(token).replace(" ", "")
    for old, new in _PHONETIC_REWRITES:
        word = word.replace(old, new)
    word = _INITIAL_J.sub("j", _MEDIAL_H.sub("", word)).replace("y", "i")
    key = jellyfish.metaphone(word)
    if key[:1] in ("E", "I", "O", "U"):
        key = "A" + key[1:]
    return _REPEATS.sub(r"\1", key)


@functools.cache
def _canonical_names() -> dict[str, frozenset[str]]:
    """Map each known given name or short form to its canonical names."""
    table: dict[str, set[str]] = {}
    short_forms = NickNamer().nickname_lookup  # a fresh copy, ours to extend
    for canonical, extra in NAME_VARIANTS.items():
        short_forms.setdefault(canonical, set()).update(extra)
    for canonical, forms in short_forms.items():
        # A canonical name keys to itself, so "william" meets "bill".
        for form in (canonical, *forms):
            table.setdefault(fold(form), set()).add(fold(canonical))
    return {name: frozenset(canonicals) for name, canonicals in table.items()}


def nickname_keys(token: str) -> set[str]:
    """Canonical given names that `token` is, or is a short form of."""
    return set(nickname_keys_folded(fold(token)))


def nickname_keys_folded(token: str) -> frozenset[str]:
    """`nickname_keys` of a token that is already folded (the hot path of scoring)."""
    return _canonical_names().get(token, frozenset())


# A typo in a word's first letter escapes the fuzzy route, which keeps that letter fixed
# to stay cheap; a word of five letters or more is also indexed without it ("harles" for
# Charles), so "Dharles", "Acharles" and "Harles" still meet it on an exact key.
MIN_TAILED = 5


def first_letter_tail(token: str) -> str | None:
    """The word without its first letter, for words long enough that the rest still says
    something (four letters or more)."""
    return token[1:] if len(token) >= MIN_TAILED else None


# Runs of up to three neighbouring words, among the first six, are glued: enough for
# "van der Berg", "Abd al Rahman" or "Mac Donald", and at most 9 keys a name.
GLUED_WORDS, GLUED_FROM = 3, 6


def glued_runs(tokens: Sequence[str]) -> list[str]:
    """Neighbouring words written together, so that "Vanderberg" and "van der Berg", or
    "Abdulrahman" and "Abdul Rahman", meet on one exact key in either direction."""
    head = tokens[:GLUED_FROM]
    return ["".join(head[i:j]) for i in range(len(head))
            for j in range(i + 2, min(i + GLUED_WORDS, len(head)) + 1)]


@dataclass(frozen=True)
class NameAnalysis:
    """Keys of one name. All but `tokens` are sorted and free of duplicates,
    so "Smith John" and "John Smith" produce identical keys."""

    folded: str
    tokens: tuple[str, ...]
    phonetic: tuple[str, ...]
    nicknames: tuple[str, ...]
    initials: tuple[str, ...]
    glued: tuple[str, ...]
    tails: tuple[str, ...]


# Remembered: every search analyses the query against the sensitive-name list and the
# oversight flags analyse the same subjects again and again. NameAnalysis is immutable.
@functools.lru_cache(maxsize=4096)
def analyse_name(name: str) -> NameAnalysis:
    """Analyse a name once, for both the index document and the query.

    `folded` is the sorted tokens joined by spaces (an order-free exact key).
    `glued` are neighbouring tokens written together (see `glued_runs`), `tails` long
    words without their first letter (see `first_letter_tail`).
    """
    tokens = tuple(name_tokens(name))
    core = [t for t in tokens if not is_minor(t)] or list(tokens)
    return NameAnalysis(
        folded=" ".join(sorted(tokens)),
        tokens=tokens,
        phonetic=_sorted_set(phonetic_key(t) for t in core if len(t) > 1),
        nicknames=_sorted_set(k for t in core for k in nickname_keys_folded(t)),
        initials=_sorted_set(t[0] for t in core),
        glued=_sorted_set(glued_runs(tokens)),
        tails=_sorted_set(tail for t in core if (tail := first_letter_tail(t))),
    )


# Re-scoring asks this of every word of 50 candidates, some 600 times a search.
@functools.lru_cache(maxsize=1 << 16)
def is_minor(token: str) -> bool:
    """A particle, title or ordinal: part of how the name was written, weak as evidence."""
    return token in PARTICLES or is_title(token)


def is_title(token: str) -> bool:
    """A title or an ordinal: said of a person, not part of whom the name names (unlike a
    particle: "Ali bin Hassan" and "Ali Hassan" may be father and son)."""
    return token in TITLES or _ORDINAL.fullmatch(token) is not None


def _sorted_set(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({v for v in values if v}))


_DATE = re.compile(r"\s*(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?(?:$|[T\s])")


def birth_date_keys(value: str | None) -> list[str]:
    """Keys that let a full, partial or slightly wrong birth date match.

    ISO dates only ("1980", "1980-03", "1980-03-14", optionally followed by a
    time); day-first and month-first strings are ambiguous and are the
    loader's job to parse. A full date gives, besides its three prefixes:
    - "md:MM-DD", the birthday without the year, for a mistyped year;
    - "swap:YYYY-AA-BB" with AA <= BB, shared by a date and its day/month
      swap, emitted only when both readings are valid, different dates.
    Anything unparsable yields the keys of its valid prefix, or none.
    """
    match = _DATE.match(value or "")
    if match is None or int(match[1]) == 0:
        return []
    year, month, day = int(match[1]), int(match[2] or 0), int(match[3] or 0)
    keys = [f"{year:04d}"]
    if not 1 <= month <= 12:
        return keys
    keys.append(f"{year:04d}-{month:02d}")
    if not _is_valid_date(year, month, day):
        return keys
    keys += [f"{year:04d}-{month:02d}-{day:02d}", f"md:{month:02d}-{day:02d}"]
    if day <= 12 and day != month:
        low, high = sorted((month, day))
        keys.append(f"swap:{year:04d}-{low:02d}-{high:02d}")
    return keys


_PARTIAL_DATE = re.compile(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")


@functools.lru_cache(maxsize=1 << 14)
def birth_date_parts(value: str | None) -> tuple[int, ...] | None:
    """(year,), (year, month) or (year, month, day) of a birth date as it is evidence: what
    is known of it. None for no date."""
    match = _PARTIAL_DATE.fullmatch((value or "").strip()[:10])
    if match is None:
        return None
    parts = tuple(int(p) for p in match.groups() if p is not None)
    if parts[1:] == (1, 1):
        # 1 January stands in for "year known, day unknown" in civil and migration records
        # and in Wikidata exports (37% of the historical-figures dates against 0.3% expected):
        # it is a year, and agreeing on it says no more than agreeing on the year.
        return parts[:1]
    if len(parts) == 3:
        try:
            date(*parts)
        except ValueError:
            return parts[:2] if 1 <= parts[1] <= 12 else parts[:1]
    return parts


def _is_valid_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


# Every mark between the letters and digits: spaces, dashes, dots, and the slash of a Czech
# or Slovak birth number (700115/1234). The registry's link keys (migration 0004) strip the
# same from the Latin letters and digits that national numbers are written in, so search and
# the record view agree on who is one person.
_ID_SEPARATORS = re.compile(r"[\W_]+")
_MODULE_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
_COUNTRY_CODE = re.compile(r"[a-z]{2}\Z")
# Schemes that are the same everywhere, so need no country.
_INTERNATIONAL_SCHEMES = {
    "iban": "stdnum.iban", "bic": "stdnum.bic", "swift": "stdnum.bic",
    "lei": "stdnum.lei", "isin": "stdnum.isin", "eu_vat": "stdnum.eu.vat",
}


def normalise_identifier(scheme: str, country: str | None, value: str) -> str:
    """Compact an identifier so that the spellings of one number are equal.

    Upper case without spaces, dashes or dots; where python-stdnum has a
    module for the scheme (an international one such as "iban", or the
    country's module of that name: ("vat", "DE"), ("bsn", "NL")) its
    compact() also removes prefixes and separators it knows. Never raises:
    a registry must store what the bank sent even when it is not valid.
    """
    value = unicodedata.normalize("NFKC", value)
    simple = _ID_SEPARATORS.sub("", value).upper()
    module = _stdnum_module(scheme.strip().lower(), (country or "").strip().lower())
    if module is None:
        return simple
    # stdnum's compact() is not documented to raise, but bank input is
    # arbitrary, and a failure here must not reject the record.
    try:
        compacted = str(module.compact(value))
    except Exception:
        return simple
    return _ID_SEPARATORS.sub("", compacted).upper()


@functools.lru_cache(maxsize=512)
def _stdnum_module(scheme: str, country: str) -> ModuleType | None:
    if scheme in _INTERNATIONAL_SCHEMES:
        module: object = import_module(_INTERNATIONAL_SCHEMES[scheme])
    elif _MODULE_NAME.match(scheme) and _COUNTRY_CODE.match(country):
        module = get_cc_module(country, scheme)
    else:
        return None
    if isinstance(module, ModuleType) and callable(getattr(module, "compact", None)):
        return module
    return None
