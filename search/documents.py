"""Turn a party, as Postgres holds it (plain data), into its search document."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from search.names import analyse_name, birth_date_keys, normalise_identifier


def document_id(institution_id: int, ref: str) -> str:
    return f"{institution_id}:{ref}"


def identifier_keys(identifiers: Iterable[Mapping[str, Any]]) -> list[str]:
    """Each identifier both with its scheme and bare: a query may not know the scheme."""
    keys: set[str] = set()
    for ident in identifiers:
        value = str(ident.get("value") or "")
        if not value:
            continue
        scheme = str(ident.get("scheme") or "other").lower()
        normal = normalise_identifier(scheme, ident.get("country"), value)
        # A query rarely knows the scheme: the plain compact form must match it too.
        keys.update({normal, f"{scheme}:{normal}", normalise_identifier("", None, value)})
    return sorted(keys)


def party_document(party: Mapping[str, Any], institution_code: str) -> dict[str, Any]:
    names = [party["full_name"], *(party.get("other_names") or []), *(party.get("former_names") or [])]
    analyses = [analyse_name(n) for n in names if n]
    identifiers = list(party.get("identifiers") or [])
    for scheme in ("lei", "registration_number"):
        if party.get(scheme):
            identifiers.append({"scheme": scheme, "country": party.get("registration_country"),
                                "value": party[scheme]})
    nationalities = list(party.get("nationalities") or [])
    countries = {*nationalities, party.get("residence_country"), party.get("registration_country")}
    return {
        "institution_id": party["institution_id"],
        "institution": institution_code,
        "ref": party["ref"],
        "kind": party["kind"],
        "name_text": " ".join(a.folded for a in analyses),
        # Glued runs are words too: "Vanderberg" is how another bank writes this name.
        "name_tokens": _union((*a.tokens, *a.glued) for a in analyses),
        "name_phonetic": _union(a.phonetic for a in analyses),
        "name_nicknames": _union(a.nicknames for a in analyses),
        "name_initials": _union(a.initials for a in analyses),
        "name_tails": _union(a.tails for a in analyses),
        # Each name's words as re-scoring compares them, worked out once here rather than in
        # every search that meets this record (0.4 ms of a search's CPU on the 1M book).
        "name_words": [" ".join(a.tokens) for a in analyses],
        "birth_date": party.get("birth_date"),
        "birth_keys": birth_date_keys(party.get("birth_date")),
        "nationalities": nationalities,
        "countries": sorted(c for c in countries if c),
        "identifiers": identifier_keys(identifiers),
        "pep": bool(party.get("pep")),
        "valid_from": _iso(party.get("valid_from")),
        "valid_to": _iso(party.get("valid_to")),
        "display": party_display(party, institution_code),
    }


def _union(groups: Iterable[Iterable[str]]) -> list[str]:
    return sorted({item for group in groups for item in group})


def _iso(value: date | str | None) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


def party_display(party: Mapping[str, Any], institution_code: str) -> dict[str, Any]:
    """The party as the institution reported it: what a result shows."""
    keys = ("full_name", "other_names", "former_names", "birth_date", "birth_place", "nationalities",
            "residence_country", "identifiers", "registration_number", "registration_country",
            "lei", "legal_form")
    shown = {k: _iso(party.get(k)) if k.endswith("_on") else party.get(k) for k in keys}
    shown["institution"] = institution_code
    return {k: v for k, v in shown.items() if v not in (None, [], "")}
