"""Second-stage scoring: a candidate from Elasticsearch against the query, in plain Python.

Pure functions on plain data (the search document's `_source`), so the quality benchmark
and the API score candidates the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from search.names import NameAnalysis, analyse_name, name_similarity
from search.queries import PersonQuery

# A conflicting birth date weakens a name match a lot but does not rule it out: banks
# mistype dates, and day and month get swapped.
BIRTH_DATE_CONFLICT = 0.7


@dataclass(frozen=True)
class Scored:
    score: float
    explanation: list[str] = field(default_factory=list)


def score_person(query: PersonQuery, wanted: NameAnalysis, source: Mapping[str, Any]) -> Scored:
    shown = source.get("display") or {}
    names = [shown.get("full_name", ""), *shown.get("other_names", [])]
    similarity = max((name_similarity(wanted, analyse_name(n)) for n in names if n), default=0.0)
    score, evidence = similarity, [f"name similarity {similarity:.2f}"]
    birth_date = source.get("birth_date")
    if query.birth_date and birth_date:
        agrees = birth_date.startswith(query.birth_date) or query.birth_date.startswith(birth_date)
        score = score * (1.0 if agrees else BIRTH_DATE_CONFLICT)
        evidence.append("birth date agrees" if agrees else "birth date conflicts")
    return Scored(round(min(score, 1.0), 4), evidence)
