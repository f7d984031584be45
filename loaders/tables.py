"""How each record type maps onto its staging table and its versioned registry table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from search.names import normalise_identifier


@dataclass(frozen=True)
class Target:
    record: str
    table: str
    columns: tuple[str, ...]  # data columns, besides ref and record_hash
    types: tuple[str, ...]
    end_column: str  # what closing a record sets to the extract's as_of
    start_column: str | None  # kept from the previous version when a record changes
    to_row: Callable[[dict[str, Any]], tuple[Any, ...]]
    key: Callable[[dict[str, Any]], str]


def _share(value: dict[str, Any] | None) -> tuple[float | None, float | None]:
    if not value:
        return None, None
    if "exact" in value:
        return value["exact"], value["exact"]
    return value.get("min"), value.get("max")


def _exclusive(value: dict[str, Any] | None) -> tuple[bool, bool]:
    value = value or {}
    return bool(value.get("min_exclusive")), bool(value.get("max_exclusive"))


def ownership_key(r: dict[str, Any]) -> str:
    """A declared indirect interest (the owner's whole interest through intermediaries) is a
    fact of its own beside a direct one between the same parties, so it has a key of its own."""
    base = f"{r['owner']}|{r['owned']}"
    return f"{base}|indirect" if r.get("direct") is False else base


def _identifiers(values: list[dict[str, Any]]) -> Jsonb:
    return Jsonb([{**v, "value": normalise_identifier(v["scheme"], v.get("country"), v["value"])}
                  for v in values])


def _person(r: dict[str, Any]) -> tuple[Any, ...]:
    return ("person", r["full_name"], r.get("given_names"), r.get("family_name"), r["other_names"],
            r.get("birth_date"), r.get("birth_place"), r["nationalities"], r.get("residence_country"),
            r.get("address"), _identifiers(r["identifiers"]), r["pep"], None, None, None, None, None)


def _entity(r: dict[str, Any]) -> tuple[Any, ...]:
    return ("entity", r["name"], None, None, r["other_names"], None, None, [], None,
            r.get("address"), Jsonb([]), False, r.get("legal_form"), r.get("registration_number"),
            r.get("registration_country"), r.get("lei"), r.get("incorporated_on"))


PARTY_COLUMNS = ("kind", "full_name", "given_names", "family_name", "other_names", "birth_date",
                 "birth_place", "nationalities", "residence_country", "address", "identifiers",
                 "pep", "legal_form", "registration_number", "registration_country", "lei",
                 "incorporated_on")
PARTY_TYPES = ("text", "text", "text", "text", "text[]", "text", "text", "text[]", "text", "text",
               "jsonb", "boolean", "text", "text", "text", "text", "date")

PERSON = Target("person", "parties", PARTY_COLUMNS, PARTY_TYPES, "valid_to", "valid_from",
                _person, lambda r: r["id"])
ENTITY = Target("entity", "parties", PARTY_COLUMNS, PARTY_TYPES, "valid_to", "valid_from",
                _entity, lambda r: r["id"])
ACCOUNT = Target(
    "account", "accounts",
    ("iban", "number", "bic", "currency", "type", "opened_on", "closed_on"),
    ("text", "text", "text", "text", "text", "date", "date"), "closed_on", None,
    lambda r: (r.get("iban"), r.get("number"), r.get("bic"), r.get("currency"), r["type"],
               r.get("opened_on"), r.get("closed_on")),
    lambda r: r["id"],
)
ROLE = Target(
    "role", "account_roles", ("account_ref", "party_ref", "role", "valid_from", "valid_to"),
    ("text", "text", "text", "date", "date"), "valid_to", None,
    lambda r: (r["account"], r["party"], r["role"], r.get("from_"), r.get("to")),
    lambda r: f"{r['account']}|{r['party']}|{r['role']}",
)
OWNERSHIP = Target(
    "ownership", "ownership_interests",
    ("owner_ref", "owned_ref", "share_min", "share_max", "voting_min", "voting_max", "interests",
     "direct", "valid_from", "valid_to", "share_min_exclusive", "share_max_exclusive",
     "voting_min_exclusive", "voting_max_exclusive"),
    ("text", "text", "numeric", "numeric", "numeric", "numeric", "text[]", "boolean", "date", "date",
     "boolean", "boolean", "boolean", "boolean"),
    "valid_to", None,
    lambda r: (r["owner"], r["owned"], *_share(r.get("share")), *_share(r.get("voting")),
               r["interests"], r.get("direct"), r.get("from_"), r.get("to"),
               *_exclusive(r.get("share")), *_exclusive(r.get("voting"))),
    ownership_key,
)

TARGETS: dict[str, Target] = {t.record: t for t in (PERSON, ENTITY, ACCOUNT, ROLE, OWNERSHIP)}
# One staging table per registry table; persons and entities share `parties`.
TABLES: dict[str, Target] = {"parties": PERSON, "accounts": ACCOUNT, "account_roles": ROLE,
                             "ownership_interests": OWNERSHIP}


def close_key(record: str, r: dict[str, Any]) -> str | None:
    """The key a close record names, or None when it names too little."""
    try:
        if record == "role":
            return f"{r['account']}|{r['party']}|{r['role']}"
        if record == "ownership":
            return ownership_key(r)
        return str(r["id"])
    except KeyError:
        return None
