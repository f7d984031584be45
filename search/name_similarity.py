"""How alike two analysed names are, in [0, 1]: the name evidence of second-stage scoring.

Pure functions of `search.names.NameAnalysis`; see search/scoring.py for how the name
evidence is combined with birth date, nationality and identifiers.
"""

from __future__ import annotations

import functools
import math

from rapidfuzz.distance import Indel, JaroWinkler

from search.names import (ARABIC_ARTICLES, GLUED_WORDS, NameAnalysis, is_minor, nickname_keys_folded,
                          phonetic_key)

# Two words are compared by the mean of Jaro-Winkler and the Indel (LCS)
# similarity. Jaro-Winkler alone pays a shared prefix too well: battcock /
# battle 0.83, chance / chalmers 0.81, benson / benbow 0.84, all above the
# threshold and measured as the top wrong answers of the quality benchmark;
# the mean gives 0.70, 0.69, 0.76, while one typo, a swap or a doubled letter
# keeps 0.87 or more (smiht 0.88, jackdon 0.90, muller / mueller 0.92).
MIN_TOKEN_SIMILARITY = 0.8
# Same phonetic key or same canonical given name: as good as one typo, but
# never as good as the same spelling.
PHONETIC_MATCH = 0.9
NICKNAME_MATCH = 0.9
# Metaphone keys are coarse (juan, john and jean are all "JN"), so a shared
# key only rescues spellings that already look alike: mohamed / muhammad is
# 0.73, iurii / yuri 0.73, juan / john 0.6.
MIN_PHONETIC_SIMILARITY = 0.7
# A key of three consonants or more is specific enough to need less likeness:
# Arabic and German spellings differ in every vowel and in how a sound is
# written (jabr / Dschaber 0.56, qasm / Kacem 0.63) yet keep the consonants.
MIN_LONG_PHONETIC_SIMILARITY = 0.5
# A word without vowels was written in a script that leaves them out (Arabic,
# Hebrew: hsn for Hassan); its consonants are all there is to compare.
_VOWELS = frozenset("aeiou")
# "J" against "John": consistent, but it could be any J.
INITIAL_MATCH = 0.85
# An unmatched first or last token costs as much as a matched pair gains.
# Middle names are often left out by banks, and particles are dropped or glued
# to the surname, so missing ones cost far less. An initial weighs what its
# place weighs: "R." in "R. Allan" is a first name that "Allan" does not give,
# so "Allan" finds "Allan" before "R. Allan" (measured: bare surnames ranked a
# record with an extra initial above the same bare surname).
MIDDLE_NAME_WEIGHT = 0.35
PARTICLE_WEIGHT = 0.2
# Names glued or split differently ("O Brien" / "OBrien", "Van der Berg" /
# "Vanderberg") are compared as one string; only a near-identical result counts,
# and only between strings that start alike: "rallan" is "Allan" with an initial
# in front, not "Allan" glued differently.
MIN_COMPACT_SIMILARITY = 0.9
# Two names of one word each ("Morgan" and "Morgan") agree on half a name at
# most: the other half is unknown on both sides, not agreeing. Scaled down
# below what a full name with one typo scores, so that the birth date, not the
# bare word, decides. (One word against two is already scored as half a name by
# the unmatched word.) A bare word against that word among titles ("Carl" /
# "1st Carl Bt.") agrees on one word too; "Earl Warren" against itself does not.
ONE_WORD_NAMES = 0.75
# A name of nothing but titles, particles, ordinals and initials ("1st
# Baronet", "Lady", "J. M.") names an office or anyone with those initials, not
# a person: agreeing on it proves at most half of what agreeing on one word of
# a name does ("J. M." once outranked "Lucy Mansfield" for "Mansfield").
TITLES_ONLY = 0.5
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
    return tokens_similarity(query.tokens, candidate.tokens)


# Namesakes repeat among a search's candidates ("John Smith" many times over).
@functools.lru_cache(maxsize=1 << 14)
def tokens_similarity(query: tuple[str, ...], candidate: tuple[str, ...]) -> float:
    """`name_similarity` of two names' `tokens`, for callers that have only those."""
    left = query[:MAX_SCORED_TOKENS]
    right = candidate[:MAX_SCORED_TOKENS]
    if not left or not right:
        return 0.0
    if len(left) != len(right):
        left, right = _glued_as(left, right), _glued_as(right, left)
    if right < left:
        left, right = right, left
    score = _aligned_score(left, right)
    glued_left, glued_right = "".join(left), "".join(right)
    if glued_left[0] == glued_right[0]:
        compact = Indel.normalized_similarity(glued_left, glued_right)
        if compact >= MIN_COMPACT_SIMILARITY:
            score = max(score, compact)
    if min(len(left), len(right)) == 1 and max(_parts(left), _parts(right)) <= 1:
        score *= ONE_WORD_NAMES
    if not any(map(is_name_word, left)) or not any(map(is_name_word, right)):
        score *= TITLES_ONLY
    return min(1.0, max(0.0, score))


def _glued_as(tokens: tuple[str, ...], other: tuple[str, ...]) -> tuple[str, ...]:
    """`tokens` with neighbouring words glued where `other` writes them as one word:
    "Jan van der Berg" against "Jan Vanderberg" is compared as "jan vanderberg"."""
    joined = "".join(tokens)
    # Almost always nothing is glued: a word of `other` that is no word of `tokens` but
    # occurs in them written together is the only kind worth the walk below.
    words = {word for word in other if word not in tokens and word in joined}
    if not words:
        return tokens
    glued: list[str] = []
    start = 0
    while start < len(tokens):
        # The longest run first: "van der berg" before "van der".
        end = next((end for end in range(min(len(tokens), start + GLUED_WORDS), start + 1, -1)
                    if "".join(tokens[start:end]) in words), start + 1)
        glued.append("".join(tokens[start:end]))
        start = end
    return tuple(glued)


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


# Re-scoring compares the same common tokens (john/jon, smith/smyth) search after search.
@functools.lru_cache(maxsize=1 << 16)
def _token_similarity(a: str, b: str) -> float:
    if a == b or (a in ARABIC_ARTICLES and b in ARABIC_ARTICLES):
        return 1.0
    if len(a) == 1 or len(b) == 1:
        return INITIAL_MATCH if a[0] == b[0] else 0.0
    score = (JaroWinkler.normalized_similarity(a, b) + Indel.normalized_similarity(a, b)) / 2
    if score < NICKNAME_MATCH and nickname_keys_folded(a) & nickname_keys_folded(b):
        score = NICKNAME_MATCH
    elif score < PHONETIC_MATCH and _same_sounds(a, b, score):
        score = PHONETIC_MATCH
    return score if score >= MIN_TOKEN_SIMILARITY else 0.0


def _same_sounds(a: str, b: str, likeness: float) -> bool:
    key = phonetic_key(a)
    if len(key) < 2 or key != phonetic_key(b):
        return False
    if _VOWELS.isdisjoint(a) or _VOWELS.isdisjoint(b):
        return True
    floor = MIN_LONG_PHONETIC_SIMILARITY if len(key) >= 3 else MIN_PHONETIC_SIMILARITY
    return likeness >= floor


def _unmatched_weight(tokens: tuple[str, ...], index: int) -> float:
    token = tokens[index]
    if is_minor(token):
        return PARTICLE_WEIGHT
    # First and last are counted among the words that are names, not titles:
    # "Clifford" is the surname in "Thomas Clifford, 1st Baron".
    words = [i for i, t in enumerate(tokens) if not is_minor(t)]
    if words[0] < index < words[-1]:
        return MIDDLE_NAME_WEIGHT
    return 1.0


def _parts(tokens: tuple[str, ...]) -> int:
    return sum(1 for token in tokens if not is_minor(token))


def is_name_word(token: str) -> bool:
    """A word that names someone: not a title, particle, ordinal or initial."""
    return len(token) > 1 and not is_minor(token)


