"""One human (or one company) across banks: records of the same party, as several
institutions report it, merged into one result. Pure functions on plain data.

The rule is deliberately strict, because a false merge shows an investigator accounts of
somebody who is not their subject:
- deterministic: the two records share a normalised identity-document number (same scheme
  and country) and the same birth date;
- probabilistic: the same name AND the same full birth date (not 1 January, the usual
  stand-in for an unknown day). "The same name" is strict (`same_name`): the same words
  after folding, in any order or written together, or up to two of them mistyped or
  transliterated otherwise. A similar name is not enough: Jan and Jana, Daniel and
  Daniela, Hussein and Hassan, Bill and William are different people often enough, twins
  among them;
- never on a name alone, and never across a conflict: different birth dates, different
  stable national numbers of the same scheme and country, or disjoint nationalities.
Clusters grow by complete linkage: a record joins a cluster only if it conflicts with no
record already in it, so A~B and B~C cannot drag in a C that contradicts A.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz.distance import OSA

from search.name_similarity import is_name_word
from search.names import (NameAnalysis, analyse_name, birth_date_parts, is_title, nickname_keys_folded,
                          normalise_identifier, phonetic_key)

# Identity documents whose number, with the same birth date, identifies one human. A
# passport counts: the same passport number of the same country and the same birth date
# is one person, whatever the spelling of the name.
IDENTITY_SCHEMES = frozenset({"national_id", "tax_id", "passport", "personal_code",
                              "social_security"})
# Numbers a person keeps for life: two different ones of the same scheme and country are two
# people. Passports are renewed under new numbers, so a different passport proves nothing.
STABLE_SCHEMES = IDENTITY_SCHEMES - {"passport"}
# A word another bank wrote differently: mistyped inside (at least this long, the first and
# last letters kept, one letter changed, added, dropped or swapped in between), or
# transliterated otherwise (the same sounds, first letter and ending: Aleksandr/Alexander,
# Sergey/Sergei, Mueller/Müller). Endings carry sex and family (Jan/Jana, Giulio/Giulia,
# Petrov/Petrova), shorter words are too often other names (Maria/Marta), and two different
# known given names are never one (Francis/Frances, Hussein/Hassan).
TYPO_MIN_LENGTH = 7
# Words of one name written otherwise at most ("Jürgen Müller", "Juergen Mueller").
MAX_WRITTEN_OTHERWISE = 2

IdentityKey = tuple[str, str, str]  # scheme, country, normalised value


@dataclass(frozen=True)
class PartyRecord:
    """One institution's record of a party, scored against the query."""

    id: str
    institution: str
    customer_id: str
    score: float
    party: Mapping[str, Any]
    explanation: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "institution": self.institution, "customer_id": self.customer_id,
                "score": self.score, "explanation": list(self.explanation), "party": dict(self.party)}


@dataclass
class Cluster:
    """Records judged to be one party; `reasons` say why each was joined."""

    records: list[PartyRecord]
    reasons: list[str] = field(default_factory=list)

    @property
    def best(self) -> PartyRecord:
        return self.records[0]

    @property
    def score(self) -> float:
        return self.best.score


@dataclass(frozen=True)
class _Facts:
    """What the rule compares, each computed once per record and only when asked: a
    search's 50 candidates are compared only within blocks of a shared birth date, so
    most records never need their names, nationalities or identifiers worked out."""

    record: PartyRecord
    birth_date: str | None

    @functools.cached_property
    def names(self) -> tuple[NameAnalysis, ...]:
        party = self.record.party
        names = [party.get("full_name") or "", *(party.get("other_names") or [])]
        return tuple(analyse_name(n) for n in names if n)

    @functools.cached_property
    def nationalities(self) -> frozenset[str]:
        return frozenset(str(c).upper() for c in self.record.party.get("nationalities") or [])

    @functools.cached_property
    def identity(self) -> frozenset[IdentityKey]:
        return identity_keys(self.record.party.get("identifiers") or [])


class _EntityFacts(_Facts):
    @functools.cached_property
    def nationalities(self) -> frozenset[str]:
        return frozenset()

    @functools.cached_property
    def identity(self) -> frozenset[IdentityKey]:
        party = self.record.party
        keys: set[IdentityKey] = set()
        if party.get("lei"):
            keys.add(("lei", "", normalise_identifier("lei", None, str(party["lei"]))))
        if party.get("registration_number") and party.get("registration_country"):
            country = str(party["registration_country"]).upper()
            keys.add(("registration_number", country,
                      normalise_identifier("", None, str(party["registration_number"]))))
        return frozenset(keys)


Link = Callable[[_Facts, _Facts], str | None]
# Blocking: only records sharing one of these keys can be linked, so a search's 50
# candidates cost a handful of comparisons rather than 1,225.
Block = Callable[[_Facts], Iterable[Hashable]]


def identity_keys(identifiers: Iterable[Mapping[str, Any]],
                  schemes: frozenset[str] = IDENTITY_SCHEMES) -> frozenset[IdentityKey]:
    keys = set()
    for ident in identifiers:
        scheme = str(ident.get("scheme") or "").strip().lower()
        value = str(ident.get("value") or "")
        if scheme in schemes and value:
            country = str(ident.get("country") or "").upper()
            keys.add((scheme, country, normalise_identifier(scheme, country, value)))
    return frozenset(keys)


def _facts(record: PartyRecord) -> _Facts:
    return _Facts(record, record.party.get("birth_date") or None)


def conflict(a: _Facts, b: _Facts) -> str | None:
    """Why two records cannot be one person, or None."""
    if a.birth_date and b.birth_date and not (
            a.birth_date.startswith(b.birth_date) or b.birth_date.startswith(a.birth_date)):
        return f"birth dates differ ({a.birth_date} / {b.birth_date})"
    if a.nationalities and b.nationalities and not a.nationalities & b.nationalities:
        return "nationalities differ"
    mine = {(s, c): v for s, c, v in a.identity if s in STABLE_SCHEMES}
    for scheme, country, value in b.identity:
        if (scheme, country) in mine and mine[(scheme, country)] != value:
            return f"{scheme} ({country or 'no country'}) differs"
    return None


def person_link(a: _Facts, b: _Facts) -> str | None:
    """Why two records are one person, or None: the merge rule of the module docstring."""
    if conflict(a, b) is not None or not a.birth_date or a.birth_date != b.birth_date:
        return None
    shared = sorted(a.identity & b.identity)
    if shared:
        scheme, country, _ = shared[0]
        return f"same {scheme} ({country or 'no country'}) and birth date {a.birth_date}"
    # A name merges only with a full day: not a year, a month, nor 1 January, which stands in
    # for an unknown day (scoring reads it as a year too), so namesakes born in one year stay
    # apart.
    if len(birth_date_parts(a.birth_date) or ()) != 3:
        return None
    for x in a.names:
        for y in b.names:
            if (how := same_name(x, y)) is not None:
                return f"{how} and the same birth date {a.birth_date}"
    return None


def same_name(a: NameAnalysis, b: NameAnalysis) -> str | None:
    """How two names are one, for a merge: word for word after folding and transliteration
    (leading titles aside), in any order or written together, or with up to two words
    written otherwise (see TYPO_MIN_LENGTH); None if they are not."""
    left, right = _words(a), _words(b)
    # A name of one word ("Anna", "J. Smith" minus its initial) names too many people, born
    # on the same day too, for a merge: as before, when a bare word agreed on half a name.
    if min(sum(map(is_name_word, left)), sum(map(is_name_word, right))) < 2:
        return None
    if sorted(left) == sorted(right) or "".join(left) == "".join(right):
        return "the same name"
    extra_left, extra_right = _unmatched(left, right), _unmatched(right, left)
    if len(extra_left) != len(extra_right) or len(extra_left) > MAX_WRITTEN_OTHERWISE:
        return None
    for pairing in itertools.permutations(extra_right):
        if all(_written_otherwise(x, y) for x, y in zip(extra_left, pairing, strict=True)):
            shown = ", ".join(f"{x} / {y}" for x, y in zip(extra_left, pairing, strict=True))
            return f"the same name, written otherwise ({shown})"
    return None


def _words(name: NameAnalysis) -> list[str]:
    """The name's words without the titles before it ("Lord", "Sir"), as long as two words
    remain: "Earl Warren" keeps its Earl, and "Anna Knight" her Knight."""
    words = list(name.tokens)
    while len(words) > 2 and is_title(words[0]):
        words.pop(0)
    return words


def _unmatched(words: list[str], others: list[str]) -> list[str]:
    rest = list(others)
    left = []
    for word in words:
        if word in rest:
            rest.remove(word)
        else:
            left.append(word)
    return left


def _written_otherwise(x: str, y: str) -> bool:
    known_x, known_y = nickname_keys_folded(x), nickname_keys_folded(y)
    if known_x and known_y and not known_x & known_y:
        return False
    if x[0] != y[0]:
        return False
    typo = (min(len(x), len(y)) >= TYPO_MIN_LENGTH and x[-1] == y[-1]
            and OSA.distance(x[1:-1], y[1:-1]) <= 1)
    key = phonetic_key(x)
    sounds = len(key) >= 2 and key == phonetic_key(y) and _ending(x) == _ending(y)
    return typo or sounds


def _ending(word: str) -> str:
    return "i" if word[-1] == "y" else word[-1]


def entity_facts(record: PartyRecord) -> _Facts:
    return _EntityFacts(record, None)


def entity_conflict(a: _Facts, b: _Facts) -> str | None:
    mine = {(s, c): v for s, c, v in a.identity}
    for scheme, country, value in b.identity:
        if (scheme, country) in mine and mine[(scheme, country)] != value:
            return f"{scheme} differs"
    return None


def entity_link(a: _Facts, b: _Facts) -> str | None:
    """Companies merge only on a shared LEI or registration number (with its country)."""
    if entity_conflict(a, b) is not None:
        return None
    shared = sorted(a.identity & b.identity)
    if not shared:
        return None
    scheme, country, _ = shared[0]
    return f"same {scheme.replace('_', ' ')}" + (f" ({country})" if country else "")


def merge_people(records: Sequence[PartyRecord]) -> list[Cluster]:
    # Every person link needs the same birth date.
    return _merge([_facts(r) for r in records], person_link, conflict,
                  lambda f: [f.birth_date] if f.birth_date else [])


def merge_entities(records: Sequence[PartyRecord]) -> list[Cluster]:
    return _merge([entity_facts(r) for r in records], entity_link, entity_conflict,
                  lambda f: f.identity)


def _merge(facts: list[_Facts], link: Link, veto: Link, block: Block) -> list[Cluster]:
    """Clusters, best first. Deterministic: the same records give the same clusters."""
    facts = sorted(facts, key=lambda f: (-f.record.score, f.record.id))
    owner = list(range(len(facts)))  # cluster index of each record
    members: dict[int, list[int]] = {i: [i] for i in range(len(facts))}
    reasons: dict[int, list[str]] = {i: [] for i in range(len(facts))}
    for i, j, why in _links(facts, link, block):
        a, b = owner[i], owner[j]
        if a == b or any(veto(facts[x], facts[y]) for x in members[a] for y in members[b]):
            continue
        keep, gone = min(a, b), max(a, b)
        for x in members.pop(gone):
            owner[x] = keep
            members[keep].append(x)
        reasons[keep] += [*reasons.pop(gone), _joined(facts[i], facts[j], why)]
    return [Cluster([facts[x].record for x in sorted(group)], reasons[k])
            for k, group in sorted(members.items())]


def _links(facts: list[_Facts], link: Link, block: Block) -> list[tuple[int, int, str]]:
    blocks: dict[Hashable, list[int]] = {}
    for i, f in enumerate(facts):
        for key in block(f):
            blocks.setdefault(key, []).append(i)
    pairs = {(i, j) for group in blocks.values() for n, i in enumerate(group) for j in group[n + 1:]}
    found = [(i, j, why) for i, j in sorted(pairs) if (why := link(facts[i], facts[j])) is not None]
    # Identifier links first: they are the strongest evidence, so they win any veto race.
    return sorted(found, key=lambda t: (not t[2].startswith("same "), t[0], t[1]))


def _joined(a: _Facts, b: _Facts, why: str) -> str:
    return (f"{a.record.institution} {a.record.customer_id} and {b.record.institution} "
            f"{b.record.customer_id}: {why}")
