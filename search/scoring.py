"""Second-stage scoring: a candidate from Elasticsearch against the query, in plain Python.

Pure functions on plain data (the search document's `_source`), so the quality benchmark
and the API score candidates the same way.

The score is a weighted mean of two pieces of evidence, name and birth date, each in 0-1,
then adjusted by nationality and identifiers:

    score = (name + BIRTH_DATE_WEIGHT * birth_date) / (1 + BIRTH_DATE_WEIGHT)

An unknown birth date (on either side) counts as the neutral BIRTH_UNKNOWN, never as
agreement, so a name alone can reach at most (1 + 0.8 * 0.5) / 1.8 = 0.78, below LIKELY:
a "likely match" always needs a name and an independent fact that agree. Figures behind
the weights are in bench/README.md (quality section).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from search.name_similarity import tokens_similarity
from search.merging import IDENTITY_SCHEMES
from search.names import NameAnalysis, birth_date_parts, normalise_identifier, remembered_tokens
from search.queries import PersonQuery

# A score at or above LIKELY is shown as a "likely match". With the weights below it
# needs, with an equal birth date, a name similarity of at least 0.73 (a dropped surname
# is 0.67, a typo or nickname 0.9 or more); with a birth date one typo off, 0.89; with a
# matching birth month, 0.93; with only the year, or no birth date, it is never reached.
# Set with bench/search_quality.py: 0 false likely results in 2,050 absent-person queries
# (target at most 2 per 1,000), while 46% of right answers are flagged likely.
LIKELY = 0.85

# How much the birth date weighs against the name (weight 1). Less than the name, because
# a birth date is shared by ~1 in 20,000 people and banks get it wrong more often than the
# name; enough that an equal date lifts a name missing its surname (0.67, scoring 0.81)
# above an exact full name with no known date (0.78).
BIRTH_DATE_WEIGHT = 0.8
# Evidence values of the birth date, 0-1.
BIRTH_AGREES = 1.0
# One day off, day and month swapped, one digit mistyped or two adjacent ones swapped, a
# year off by one: the same person with a typo is far likelier than a stranger born that
# close, so it is evidence for, not against (a random date is this close ~1 time in 1,000).
BIRTH_CLOSE = 0.8
# A partial date (a year, or a year and month) that the other side's date starts with.
# A year alone is shared by ~1 person in 80, so it cannot make a name LIKELY by itself:
# (1 + 0.8 * 0.6) / 1.8 = 0.82.
BIRTH_CONSISTENT_MONTH = 0.75
BIRTH_CONSISTENT_YEAR = 0.6
# A year inside a range the investigator gave ("born in the 1970s"): more than unknown,
# less than the year itself, and it never makes a name LIKELY by itself.
BIRTH_IN_RANGE = 0.55
BIRTH_UNKNOWN = 0.5
# Not 0: a full name with a wrong birth date should still rank above half a name with no
# date ("Florence Brown" born 1992 above a bare "Brown", for a query born 2002); at
# (1 + 0.8 * 0.25) / 1.8 = 0.67 it stays far below LIKELY.
BIRTH_CONFLICTS = 0.25
# Nationality is weak evidence: many customers share one, and dual nationals and banks
# that record residence instead make a mismatch common for the same person.
NATIONALITY_CONFLICT = 0.9
# A matching identity-document number (IDENTITY_SCHEMES: national id, tax id, passport ...)
# is decisive: it puts the candidate at or above LIKELY whatever the name, and the name still
# orders several such candidates. Not a customer or other number, which proves no identity,
# and not against a conflicting birth date: the same number of another country, or a bank's
# error, is likelier than one person with two birth dates.
IDENTIFIER_FLOOR = 0.9
# A record without the identifier asked for: no conflict (the query names no scheme, and a
# passport number asked for says nothing against a national id on record), only enough less
# that the namesake whose document matches ranks first; and the same for a record with no
# document at all, so that having one never counts against a record.
IDENTIFIER_UNMATCHED = 0.95


@dataclass(frozen=True)
class Scored:
    score: float
    explanation: list[str] = field(default_factory=list)


def score_person(query: PersonQuery, wanted: NameAnalysis, source: Mapping[str, Any]) -> Scored:
    similarity = max((tokens_similarity(wanted.tokens, words) for words in _name_words(source)),
                     default=0.0)
    evidence = [f"name similarity {similarity:.2f}"]
    if query.birth_years and not query.birth_date:
        birth, said = birth_year_evidence(query.birth_years, source.get("birth_date"))
    else:
        birth, said = birth_date_evidence(query.birth_date, source.get("birth_date"))
    evidence.append(said)
    score = (similarity + BIRTH_DATE_WEIGHT * birth) / (1.0 + BIRTH_DATE_WEIGHT)
    if query.nationality and source.get("nationalities"):
        if query.nationality.upper() in source["nationalities"]:
            evidence.append("nationality agrees")
        else:
            score *= NATIONALITY_CONFLICT
            evidence.append("nationality differs")
    scheme = _matched_scheme(query.identifier, source) if query.identifier else None
    if scheme is not None:
        decisive, said = _identifier_evidence(scheme, birth)
        evidence.append(said)
        if decisive:
            score = IDENTIFIER_FLOOR + (1.0 - IDENTIFIER_FLOOR) * score
    elif query.identifier:
        score *= IDENTIFIER_UNMATCHED
        evidence.append("identifier not among the record's")
    return Scored(round(min(max(score, 0.0), 1.0), 4), evidence)


def _identifier_evidence(scheme: str, birth: float) -> tuple[bool, str]:
    if scheme not in IDENTITY_SCHEMES:
        return False, f"identifier matches ({scheme}: not an identity document, not decisive)"
    if birth == BIRTH_CONFLICTS:
        return False, f"identifier matches ({scheme}), but the birth date conflicts: not decisive"
    return True, f"identifier matches ({scheme})"


def _name_words(source: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """Each of the record's names as words: as indexed, or, in a document indexed before
    `name_words` existed, worked out from the names shown."""
    if "name_words" in source:
        return [tuple(words.split(" ")) for words in source["name_words"] if words]
    shown = source.get("display") or {}
    names = [shown.get("full_name", ""), *shown.get("other_names", [])]
    return [remembered_tokens(n) for n in names if n]


def _matched_scheme(wanted: str, source: Mapping[str, Any]) -> str | None:
    """The scheme of the record's identifier that the query's equals, compacted bare (the
    query rarely knows the scheme); None if none does."""
    if normalise_identifier("", None, wanted) not in set(source.get("identifiers") or ()):
        return None  # the indexed keys answer the usual case, no match, cheaply
    value = normalise_identifier("", None, wanted)
    for ident in (source.get("display") or {}).get("identifiers") or ():
        if normalise_identifier("", None, str(ident.get("value") or "")) == value:
            return str(ident.get("scheme") or "other").strip().lower()
    return "other"



def birth_date_evidence(wanted: str | None, recorded: str | None) -> tuple[float, str]:
    """How much the two birth dates (ISO, full or partial) say for one person, with why."""
    left, right = birth_date_parts(wanted), birth_date_parts(recorded)
    if left is None or right is None:
        return BIRTH_UNKNOWN, "birth date unknown"
    if left == right and len(left) == 3:
        return BIRTH_AGREES, "birth date agrees"
    shorter = min(len(left), len(right))
    if left[:shorter] == right[:shorter]:
        value = BIRTH_CONSISTENT_MONTH if shorter == 2 else BIRTH_CONSISTENT_YEAR
        return value, "birth date consistent" + (" (year)" if shorter == 1 else " (month)")
    close = _close_dates(left, right) if shorter == 3 else None
    if close:
        return BIRTH_CLOSE, f"birth date close ({close})"
    return BIRTH_CONFLICTS, "birth date conflicts"




def birth_year_evidence(years: tuple[int, int], recorded: str | None) -> tuple[float, str]:
    """How much a recorded birth date says against a range of birth years, with why."""
    parts = birth_date_parts(recorded)
    if parts is None:
        return BIRTH_UNKNOWN, "birth date unknown"
    first, last = years
    if first <= parts[0] <= last:
        value = BIRTH_CONSISTENT_YEAR if first == last else BIRTH_IN_RANGE
        return value, f"birth year within {first}-{last}"
    return BIRTH_CONFLICTS, f"birth year outside {first}-{last}"


def _close_dates(left: tuple[int, ...], right: tuple[int, ...]) -> str | None:
    """Why two different full dates are probably one date mistyped, or None."""
    first, second = date(*left), date(*right)
    if abs((first - second).days) == 1:
        return "one day apart"
    if left[0] == right[0] and (left[1], left[2]) == (right[2], right[1]):
        return "day and month swapped"
    if abs(left[0] - right[0]) == 1 and left[1:] == right[1:]:
        return "year one apart"
    a, b = "%04d%02d%02d" % left, "%04d%02d%02d" % right
    differ = [i for i in range(8) if a[i] != b[i]]
    if len(differ) == 1:
        return "one digit differs"
    if len(differ) == 2 and differ[1] == differ[0] + 1 and a[differ[0]] == b[differ[1]] \
            and a[differ[1]] == b[differ[0]]:
        return "two digits swapped"
    return None
