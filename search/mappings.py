"""Index mappings as plain dicts. Names are analysed in Python (search.names) into keyword
fields, because the Elasticsearch distribution we run has no ICU, phonetic or n-gram
analysers, and because Postgres and Elasticsearch must agree on what a name folds to.
"""

from __future__ import annotations

from typing import Any

# Bump when the mapping or the documents change: `registry index check` then says so, and
# `registry index rebuild` fills a new index and moves the alias, with no downtime for
# searches. 2: glued runs of words among `name_tokens`, first-letter tails in `name_tails`,
# no more character trigrams. 3: a word with a digit in it is a word (keys of its own),
# unless it is an ordinal; each name's words kept in `name_words` for re-scoring.
# 4: identifiers compacted without any punctuation (a slash too), as the link keys are;
# the names of a party's earlier versions among its names (`display.former_names`).
# 5: Hebrew read as spoken (search.names._hebrew_word), not letter by letter; Korean
# surnames as their bearers spell them.
PARTIES_VERSION = 5

KEYWORD = {"type": "keyword"}

PARTIES_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "institution_id": {"type": "integer"},
        "institution": KEYWORD,
        "ref": KEYWORD,
        "kind": KEYWORD,
        # The folded full name, for the baseline fuzzy `match` and for phrase-ish scoring.
        "name_text": {"type": "text", "analyzer": "standard"},
        "name_tokens": KEYWORD,
        "name_phonetic": KEYWORD,
        "name_nicknames": KEYWORD,
        "name_initials": KEYWORD,
        "name_tails": KEYWORD,
        # Kept for re-scoring, not searchable.
        "name_words": {"type": "keyword", "index": False, "doc_values": False},
        "birth_date": KEYWORD,
        "birth_keys": KEYWORD,
        "nationalities": KEYWORD,
        "countries": KEYWORD,
        "identifiers": KEYWORD,
        "pep": {"type": "boolean"},
        "valid_from": {"type": "date"},
        "valid_to": {"type": "date"},
        # What a result shows, kept as reported; not searchable.
        "display": {"type": "object", "enabled": False},
    },
}

PARTIES_SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    # One node: replicas could never be assigned and would keep the index yellow.
    "number_of_replicas": 0,
    "refresh_interval": "1s",
    "max_result_window": 1000,
}


def parties_alias(prefix: str) -> str:
    return f"{prefix}-parties"


def parties_index_name(prefix: str, suffix: str) -> str:
    return f"{prefix}-parties-v{PARTIES_VERSION}-{suffix}"
