"""The name part of a person or entity query: every route by which a spelling can reach a
record, built from the same analysis the documents were indexed with.

One clause per query word, a `dis_max` over the routes by which that word can meet a
record's word (same spelling, a typo away, same sound, same given name, an initial), so
each word counts once, by its best route, and a record scores by how many of the query's
words it has and how rare they are (term queries on keyword fields are scored by IDF:
"Schuster" proves more than "John"). A single `terms` clause would give every record
with any one word the same constant score, and the top 50 would be arbitrary among them.
"""

from __future__ import annotations

from typing import Any

from search.names import (GLUED_FROM, MIN_TAILED, NameAnalysis, analyse_name, first_letter_tail, glued_runs,
                          is_minor, nickname_keys, phonetic_key)

# Words of a name that each get a clause; pasted text beyond this adds nothing.
MAX_QUERY_WORDS = 8
# Boosts are relative weights of the routes for one word: the same spelling proves most;
# a typo, the same sound and the same canonical given name about as much as each other
# (each also admits strangers: Metaphone keys are coarse, AUTO fuzziness allows two edits
# from six letters, a nickname table merges many spellings); an initial least.
# Particles and titles ("van", "al", "1st", "baron") are matched only as spelled, and
# weakly: they say little about who someone is.
EXACT, FUZZY, PHONETIC, NICKNAME, INITIAL, MINOR = 3.0, 2.0, 2.0, 2.0, 0.5, 0.5
# What the costly route may cost. On the 1M-party book fuzzy terms were about half of
# Elasticsearch's time per query: a fixed first letter (a typo there is rare, and the
# phonetic route catches many) and ten expansions per word halve it. A fixed first two
# letters cut another 12 % of that time but dropped recall@1 below 0.92; bench/README.md
# has the figures.
FUZZY_PREFIX = 1
FUZZY_EXPANSIONS = 10


def name_clauses(name: str) -> list[dict[str, Any]]:
    """Every route by which a spelling can reach a record; boosts say how much each proves."""
    analysis = analyse_name(name)
    words = list(dict.fromkeys(analysis.tokens))[:MAX_QUERY_WORDS]
    clauses: list[dict[str, Any]] = [_word_clause(word) for word in words]
    runs = _glued_either_way(analysis)
    if runs:
        # The query's words written together meet a record that glued them ("van der
        # Berg" finds "Vanderberg"); the other way round, documents hold their own glued
        # runs as words. Exact keys: they replaced character trigrams, which missed a
        # short glued query ("Vanderberg" shares 4 of its 8 trigrams with "van der Berg",
        # under the 60 % asked) and moved recall in the quality benchmark by 4 queries
        # in 8,910.
        # One term each, weighted by rarity like any word: a constant `terms` score would
        # lose "Vanderberg" among a hundred records that merely have "Berg".
        clauses.append({"dis_max": {"queries": [
            {"term": {"name_tokens": {"value": run, "boost": EXACT}}} for run in runs]}})
    return clauses


def _first_letter_typos(word: str) -> list[dict[str, Any]]:
    # One edit at the first letter, which the fuzzy route leaves out: another letter
    # ("Dharles"), one too many ("Acharles"), one missing ("Harles").
    routes = []
    tail = first_letter_tail(word)
    if tail is not None:
        routes += [{"term": {"name_tails": {"value": tail, "boost": FUZZY}}},
                   {"term": {"name_tokens": {"value": tail, "boost": FUZZY}}}]
    if len(word) >= MIN_TAILED - 1:
        routes.append({"term": {"name_tails": {"value": word, "boost": FUZZY}}})
    return routes


def _glued_either_way(analysis: NameAnalysis) -> list[str]:
    # Documents glue their words in the order written; the query glues its words both
    # ways, so that "Nagy István" still meets "István Nagy" on this route and a query's
    # word order does not favour namesakes who happen to be written the same way.
    head = analysis.tokens[:GLUED_FROM]
    return sorted({*analysis.glued, *glued_runs(head[::-1])})


def _word_clause(word: str) -> dict[str, Any]:
    if is_minor(word):
        return {"term": {"name_tokens": {"value": word, "boost": MINOR}}}
    if len(word) == 1:
        # An initial meets any word starting with it, and a record's own initials.
        return {"term": {"name_initials": {"value": word, "boost": INITIAL}}}
    routes: list[dict[str, Any]] = [
        {"term": {"name_tokens": {"value": word, "boost": EXACT}}},
        {"fuzzy": {"name_tokens": {"value": word, "fuzziness": "AUTO", "prefix_length": FUZZY_PREFIX,
                                   "max_expansions": FUZZY_EXPANSIONS, "boost": FUZZY}}},
        # A record that wrote this word as an initial ("W. G. Collingwood").
        {"term": {"name_tokens": {"value": word[0], "boost": INITIAL}}},
        *_first_letter_typos(word),
    ]
    key = phonetic_key(word)
    if len(key) > 1:
        routes.append({"term": {"name_phonetic": {"value": key, "boost": PHONETIC}}})
    # One term per canonical name rather than one `terms`: a `terms` query scores a
    # constant, so "Fred" would reach "Frederick Cooper" with less weight than any
    # record's common word; a term is weighted by how rare that canonical name is.
    routes.extend({"term": {"name_nicknames": {"value": key, "boost": NICKNAME}}}
                  for key in sorted(nickname_keys(word)))
    return {"dis_max": {"queries": routes}}
