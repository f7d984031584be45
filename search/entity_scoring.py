"""Second-stage scoring of a legal entity against an entity query, in plain Python.

Identifiers decide: a matching LEI or registration number is the entity whatever the bank
called it, and a different one is strong evidence against. Names are compared without
their legal form, because banks write "Müller GmbH", "MULLER G.M.B.H." and "Müller".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from search.name_similarity import name_similarity
from search.names import analyse_name, fold, normalise_identifier
from search.queries import EntityQuery

# Above this an entity result is reported as a likely match: a near-identical name (one typo
# in a long name, legal form ignored) or any matching identifier.
ENTITY_LIKELY = 0.85
# A different LEI or registration number: the name may be a namesake in another register.
IDENTIFIER_CONFLICT = 0.4
# Registered elsewhere than asked: groups reuse names across countries.
COUNTRY_CONFLICT = 0.8
LEGAL_FORMS = frozenset(
    "gmbh mbh ag kg kgaa ohg ug ev se sa sas sarl srl spa bv nv ltd limited llc llp lp plc "
    "inc incorporated corp corporation co company oy oyj ab as asa aps kft zrt nyrt sro "
    "doo dd ooo oao pao zao sp zoo spzoo eood ood ehf gbr".split())

# Letters with dots ("G.m.b.H.", "S.A.", "B.V.") are one abbreviation, not several initials.
_ABBREVIATION = re.compile(r"\b(?:\w\.){2,}\w?\.?")


@dataclass(frozen=True)
class EntityScore:
    score: float
    explanation: list[str] = field(default_factory=list)


def core_name(name: str) -> str:
    """The name without its legal form (kept when nothing else is left)."""
    tokens = fold(_ABBREVIATION.sub(lambda m: m.group().replace(".", ""), name)).split()
    core = [t for t in tokens if t not in LEGAL_FORMS]
    return " ".join(core or tokens)


def score_entity(query: EntityQuery, party: Mapping[str, Any]) -> EntityScore:
    evidence: list[str] = []
    matched, conflicts = _identifiers(query, party, evidence)
    score = 1.0 if matched and not conflicts else _name_score(query, party, evidence)
    score *= IDENTIFIER_CONFLICT ** conflicts
    country = party.get("registration_country")
    if query.country and country:
        agrees = query.country.upper() == str(country).upper()
        score *= 1.0 if agrees else COUNTRY_CONFLICT
        evidence.append("country agrees" if agrees else f"country conflicts ({country})")
    return EntityScore(round(min(max(score, 0.0), 1.0), 4), evidence)


def _name_score(query: EntityQuery, party: Mapping[str, Any], evidence: list[str]) -> float:
    if not query.name:
        return 0.0
    wanted = analyse_name(core_name(query.name))
    names = [party.get("full_name") or "", *(party.get("other_names") or [])]
    similarity = max((name_similarity(wanted, analyse_name(core_name(n))) for n in names if n),
                     default=0.0)
    evidence.append(f"name similarity {similarity:.2f}")
    return similarity


def _identifiers(query: EntityQuery, party: Mapping[str, Any], evidence: list[str]) -> tuple[bool, int]:
    """(whether an identifier matched, how many conflicted), noting each in `evidence`."""
    matched, conflicts = False, 0
    checks = (("LEI", query.lei, party.get("lei"), "lei"),
              ("registration number", query.registration_number,
               party.get("registration_number"), ""))
    for label, asked, held, scheme in checks:
        if not asked or not held:
            continue
        if normalise_identifier(scheme, None, asked) == normalise_identifier(scheme, None, str(held)):
            matched = True
            evidence.append(f"{label} matches")
        else:
            conflicts += 1
            evidence.append(f"{label} conflicts")
    return matched, conflicts
