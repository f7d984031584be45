"""Name, birth-date and identifier analysis, shared by indexing and querying.

The Elasticsearch server has no ICU, phonetic or n-gram analysers, so every
key a name is searched by is computed here and stored in keyword fields. The
same functions run on the bank's record at index time and on the
investigator's query, which is what makes the keys meet. Everything here is a
pure function of plain strings.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from importlib import import_module
from types import ModuleType
from typing import Iterable

import jellyfish
from anyascii import anyascii
from nicknames import NickNamer
from rapidfuzz.distance import Indel, JaroWinkler
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
# Two-character Chinese surnames (simplified and traditional) that must not
# be split after the first syllable.
_CJK_COMPOUND_SURNAMES = frozenset(
    "欧阳 歐陽 司马 司馬 诸葛 諸葛 上官 东方 東方 皇甫 令狐 慕容 夏侯 尉迟 尉遲 "
    "公孙 公孫 长孙 長孫 宇文 司徒 端木 澹台".split()
)
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
_SPECIAL_LETTERS = str.maketrans(
    {"đ": "dj", "ا": "a", "أ": "a", "إ": "a", "آ": "a", "ع": "a", "א": "a", "ע": "a"}
)
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
    text = text.translate(_SPECIAL_LETTERS)
    # Symbols and emoji are not names; anyascii would spell them out (":smile:").
    text = "".join(
        " " if not c.isascii() and unicodedata.category(c)[0] == "S" else c for c in text
    )
    return anyascii(_CJK_RUN.sub(_romanise_cjk_run, text))


def _romanise_cjk_run(match: re.Match[str]) -> str:
    # Pinyin and Revised Romanization write the surname apart and the given
    # name as one word ("Xi Jinping"), which is also how banks spell them.
    # Japanese names in kanji get Chinese readings: a known limitation.
    run = match.group()
    syllables = [anyascii(char) for char in run]
    split = 2 if run[:2] in _CJK_COMPOUND_SURNAMES else 1
    return f" {''.join(syllables[:split])} {''.join(syllables[split:])} "


def name_tokens(name: str) -> list[str]:
    """Folded tokens of a name, in their original order, without honorifics."""
    tokens = fold(name).split()
    return [t for t in tokens if t not in HONORIFICS] or tokens


# Rewrites applied before Metaphone so that transliteration variants meet:
# German/Polish spellings of Slavic sounds (tsch, sch, cz), Cyrillic х as kh,
# Greek θ as th, German dt and tz, and w/v (Iwanow/Ivanov, Wladimir).
_PHONETIC_REWRITES = (("tsch", "ch"), ("sch", "sh"), ("cz", "ch"), ("dj", "j"),
                      ("kh", "h"), ("th", "t"), ("ph", "f"), ("dt", "t"),
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
    return set(_nickname_keys(fold(token)))


def _nickname_keys(token: str) -> frozenset[str]:
    return _canonical_names().get(token, frozenset())


def trigrams(text: str) -> list[str]:
    """Character trigrams of the folded name with spaces removed, in order."""
    return _grams(fold(text).replace(" ", ""))


def _grams(word: str) -> list[str]:
    if len(word) < 3:
        return [word] if word else []
    return [word[i : i + 3] for i in range(len(word) - 2)]


@dataclass(frozen=True)
class NameAnalysis:
    """Keys of one name. All but `tokens` are sorted and free of duplicates,
    so "Smith John" and "John Smith" produce identical keys."""

    folded: str
    tokens: tuple[str, ...]
    phonetic: tuple[str, ...]
    nicknames: tuple[str, ...]
    initials: tuple[str, ...]
    trigrams: tuple[str, ...]


def analyse_name(name: str) -> NameAnalysis:
    """Analyse a name once, for both the index document and the query.

    `folded` is the sorted tokens joined by spaces (an order-free exact key).
    `trigrams` are taken within each token rather than across the joined
    name, so they do not depend on token order; "vanderberg" still shares
    van/der/ber/erg with "van der berg".
    """
    tokens = tuple(name_tokens(name))
    core = [t for t in tokens if t not in PARTICLES] or list(tokens)
    return NameAnalysis(
        folded=" ".join(sorted(tokens)),
        tokens=tokens,
        phonetic=_sorted_set(phonetic_key(t) for t in core if len(t) > 1),
        nicknames=_sorted_set(k for t in core for k in _nickname_keys(t)),
        initials=_sorted_set(t[0] for t in core),
        trigrams=_sorted_set(g for t in tokens for g in _grams(t)),
    )


def _sorted_set(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({v for v in values if v}))


# Re-scoring thresholds. Jaro-Winkler between unrelated given names or
# surnames rarely reaches 0.8 once the shared-prefix bonus is earned, while
# one typo in a name of five letters or more stays above 0.85.
MIN_TOKEN_SIMILARITY = 0.8
# Same phonetic key or same canonical given name: as good as one typo, but
# never as good as the same spelling.
PHONETIC_MATCH = 0.9
NICKNAME_MATCH = 0.9
# Metaphone keys are coarse (juan, john and jean are all "JN"), so a shared
# key only rescues spellings that already look alike: mhmd/muhammad is 0.74,
# iurii/yuri 0.78, juan/john 0.67.
MIN_PHONETIC_SIMILARITY = 0.7
# "J" against "John": consistent, but it could be any J.
INITIAL_MATCH = 0.85
# An unmatched first or last token costs as much as a matched pair gains.
# Middle names and initials are often left out by banks, and particles are
# dropped or glued to the surname, so missing ones cost far less.
MIDDLE_NAME_WEIGHT = 0.35
PARTICLE_WEIGHT = 0.2
# Names glued or split differently ("O Brien" / "OBrien", "Van der Berg" /
# "Vanderberg") are compared as one string; only a near-identical result counts.
MIN_COMPACT_SIMILARITY = 0.9
# A person's name has a handful of tokens; the cap keeps scoring of pasted
# text linear in practice.
MAX_SCORED_TOKENS = 10


def name_similarity(query: NameAnalysis, candidate: NameAnalysis) -> float:
    """Score in [0, 1] how likely two names are spellings of one name.

    Token order is ignored: tokens are paired greedily, best pair first, one
    to one. The score is a Dice-like ratio: each pair counts its similarity
    twice (once per side) over the total weight of both names' tokens, where
    an unmatched token weighs 1, or less for middle names and particles.
    Symmetric: the pair is put in a fixed order before scoring.
    """
    left = query.tokens[:MAX_SCORED_TOKENS]
    right = candidate.tokens[:MAX_SCORED_TOKENS]
    if not left or not right:
        return 0.0
    if right < left:
        left, right = right, left
    score = _aligned_score(left, right)
    compact = Indel.normalized_similarity("".join(left), "".join(right))
    if compact >= MIN_COMPACT_SIMILARITY:
        score = max(score, compact)
    return min(1.0, max(0.0, score))


def _aligned_score(left: tuple[str, ...], right: tuple[str, ...]) -> float:
    pairs = sorted(
        ((score, i, j) for i, a in enumerate(left) for j, b in enumerate(right)
         if (score := _token_similarity(a, b)) > 0.0),
        reverse=True,
    )
    used_left: set[int] = set()
    used_right: set[int] = set()
    gained: list[float] = []
    for score, i, j in pairs:
        if i not in used_left and j not in used_right:
            used_left.add(i)
            used_right.add(j)
            gained.append(2.0 * score)
    weights = [2.0] * len(gained)
    weights += [_unmatched_weight(left, i) for i in range(len(left)) if i not in used_left]
    weights += [_unmatched_weight(right, j) for j in range(len(right)) if j not in used_right]
    # fsum rounds exactly, so a name scored against itself gives exactly 1.0.
    return math.fsum(gained) / math.fsum(weights)


def _token_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if len(a) == 1 or len(b) == 1:
        return INITIAL_MATCH if a[0] == b[0] else 0.0
    score = JaroWinkler.normalized_similarity(a, b)
    if score < NICKNAME_MATCH and _nickname_keys(a) & _nickname_keys(b):
        score = NICKNAME_MATCH
    elif MIN_PHONETIC_SIMILARITY <= score < PHONETIC_MATCH:
        key = phonetic_key(a)
        if len(key) > 1 and key == phonetic_key(b):
            score = PHONETIC_MATCH
    return score if score >= MIN_TOKEN_SIMILARITY else 0.0


def _unmatched_weight(tokens: tuple[str, ...], index: int) -> float:
    token = tokens[index]
    if token in PARTICLES:
        return PARTICLE_WEIGHT
    if len(token) == 1 or 0 < index < len(tokens) - 1:
        return MIDDLE_NAME_WEIGHT
    return 1.0


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


def _is_valid_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


_ID_SEPARATORS = re.compile(r"[\s\-.\u2010-\u2015]+")
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
