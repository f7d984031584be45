"""The name part of a person or entity query: every route by which a spelling can reach a
record, built from the same analysis the documents were indexed with.
"""

from __future__ import annotations

from typing import Any

from search.names import analyse_name

# Enough trigrams for a long name; more only slow the query.
MAX_TRIGRAMS = 40


def name_clauses(name: str) -> list[dict[str, Any]]:
    """Every route by which a spelling can reach a record; boosts say how much each proves."""
    analysis = analyse_name(name)
    clauses: list[dict[str, Any]] = []
    if analysis.tokens:
        clauses.append({"terms": {"name_tokens": list(analysis.tokens), "boost": 3.0}})
        # Typos in a token: the standard analyser splits the folded name the same way.
        clauses.append({"match": {"name_text": {"query": analysis.folded, "fuzziness": "AUTO",
                                                "prefix_length": 1, "boost": 2.0}}})
    if analysis.phonetic:
        clauses.append({"terms": {"name_phonetic": list(analysis.phonetic), "boost": 2.0}})
    if analysis.nicknames:
        clauses.append({"terms": {"name_nicknames": list(analysis.nicknames), "boost": 1.5}})
    if analysis.trigrams:
        # Trigrams catch what survives neither tokens nor phonetics (joined or split parts).
        # A bool of terms, not terms_set: this distribution has no scripting (painless).
        grams = list(analysis.trigrams)[:MAX_TRIGRAMS]
        clauses.append({"bool": {"should": [{"term": {"name_trigrams": g}} for g in grams],
                                 "minimum_should_match": "40%", "boost": 0.5}})
    return clauses
