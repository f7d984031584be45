"""A party's ownership network as BODS 0.4 statements (Open Ownership's Beneficial Ownership
Data Standard), checked against the schema shipped in `loaders/json_schemas/bods`.

Each registry version (a row of `parties` or `ownership_interests`) becomes one statement, so
a statement id is stable: the same version exported twice has the same id, a new version a
new one. Record ids are the institution's
code and its own reference, so records from different institutions never collide. What the
registry does not hold (entity types, name types, interest details) is left out rather than
guessed, except where the schema requires a value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pycountry

from loaders.bods import statement_problem
from registry.ownership.interests import VOTING, Edge, Interval, Node
from registry.ownership.reporters import Declaration

BODS_VERSION = "0.4"
PUBLISHER = "Central bank-account and beneficial-ownership registry"
# The registry's identifier schemes as BODS person identifier types ({JURISDICTION}-{TYPE}).
PERSON_SCHEMES = {"passport": "PASSPORT", "tax_id": "TAXID", "national_id": "IDCARD"}
LEI_SCHEME = "XI-LEI"

Statement = dict[str, Any]


class ExportInvalid(RuntimeError):
    """A statement the registry made does not validate: a bug here, never the user's fault."""


def record_id(institution: str, ref: str) -> str:
    return f"{institution}/{ref}"


def statement_id(*parts: object) -> str:
    # 64 hex characters: within BODS's 32 to 64, and the same for the same version.
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def _country(code: str | None) -> dict[str, str] | None:
    if not code:
        return None
    found = pycountry.countries.get(alpha_2=code.upper())
    return {"name": found.name if found is not None else code.upper(), "code": code.upper()}


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "", [], {})}


def _person_identifier(identifier: Mapping[str, Any]) -> dict[str, str]:
    scheme, country = str(identifier.get("scheme") or "other"), identifier.get("country")
    kind = PERSON_SCHEMES.get(scheme)
    coded = f"{country}-{kind}" if country and kind else None
    return _compact({"id": str(identifier.get("value", "")), "scheme": coded, "schemeName": scheme})


def person_details(party: Mapping[str, Any]) -> dict[str, Any]:
    name = _compact({"type": "legal", "fullName": party["full_name"],
                     "givenName": party["given_names"], "familyName": party["family_name"]})
    others = [{"type": "alternative", "fullName": other} for other in party["other_names"] or []]
    residence = _country(party["residence_country"])
    address = _compact({"type": "residence", "address": party["address"], "country": residence})
    return _compact({
        "isComponent": False, "personType": "knownPerson", "names": [name, *others],
        "identifiers": [_person_identifier(i) for i in party["identifiers"] or [] if i.get("value")],
        "nationalities": [c for c in map(_country, party["nationalities"] or []) if c],
        "birthDate": party["birth_date"],
        "addresses": [address] if len(address) > 1 else [],
        "politicalExposure": {"status": "isPep"} if party["pep"] else None,
    })


def entity_details(party: Mapping[str, Any]) -> dict[str, Any]:
    registered = bool(party["registration_number"] or party["lei"])
    identifiers = [_compact({"id": party["lei"], "scheme": LEI_SCHEME})] if party["lei"] else []
    if party["registration_number"]:
        identifiers.append(_compact({"id": party["registration_number"],
                                     "schemeName": "company register number"}))
    jurisdiction = _country(party["registration_country"])
    founded = party["incorporated_on"]
    return _compact({
        "isComponent": False,
        "entityType": _compact({"type": "registeredEntity" if registered else "legalEntity",
                                "details": party["legal_form"]}),
        "name": party["full_name"], "alternateNames": list(party["other_names"] or []),
        "jurisdiction": jurisdiction, "identifiers": identifiers,
        "foundingDate": founded.isoformat() if founded else None,
        "addresses": [{"type": "registered", "address": party["address"]}] if party["address"] else [],
    })


def _share(interval: Interval) -> dict[str, float]:
    low, high = float(interval.low), float(interval.high)
    if low == high:
        return {"exact": low}
    return {"exclusiveMinimum" if interval.low_open else "minimum": low,
            "exclusiveMaximum" if interval.high_open else "maximum": high}


def interests(row: Declaration) -> list[dict[str, Any]]:
    how = {True: "direct", False: "indirect", None: "unknown"}[row.direct]
    common = _compact({"directOrIndirect": how,
                       "startDate": row.valid_from.isoformat() if row.valid_from else None,
                       "endDate": row.valid_to.isoformat() if row.valid_to else None})
    kinds = list(row.interests)
    if row.share is not None and "shareholding" not in kinds:
        kinds.insert(0, "shareholding")
    if row.voting is not None and VOTING not in kinds:
        kinds.append(VOTING)
    # Nothing reported about the interest but its existence: BODS says so in its own words.
    found = []
    for kind in kinds or ["unknownInterest"]:
        figure = row.share if kind == "shareholding" else row.voting if kind == VOTING else None
        found.append({"type": kind, **common, **({"share": _share(figure)} if figure else {})})
    return found


def _statement(subject: str, record: str, kind: str, details: dict[str, Any], day: date,
               version: object, published: date) -> Statement:
    return {"statementId": statement_id(kind, record, version), "declarationSubject": subject,
            "statementDate": day.isoformat(),
            "publicationDetails": {"publicationDate": published.isoformat(),
                                   "bodsVersion": BODS_VERSION, "publisher": {"name": PUBLISHER}},
            "recordId": record, "recordStatus": "new", "recordType": kind,
            "recordDetails": details}


def party_statement(subject: str, party: Mapping[str, Any], published: date) -> Statement:
    details = person_details(party) if party["kind"] == "person" else entity_details(party)
    return _statement(subject, record_id(party["institution"], party["ref"]), party["kind"],
                      details, party["recorded_at"].date(), party["id"], published)


def _party_record(party: Mapping[str, Any]) -> str:
    return record_id(party["institution"], party["ref"])


def relationship_statement(subject: str, row: Declaration, owner: Mapping[str, Any],
                           owned: Mapping[str, Any], published: date) -> Statement:
    """A declaration as its reporter made it (record id: reporter and its own references),
    between the parties as the export shows them (a party reported by several institutions is
    one record, so the chains join up)."""
    details = {"isComponent": False, "subject": _party_record(owned),
               "interestedParty": _party_record(owner), "interests": interests(row)}
    indirect = "|indirect" if row.direct is False else ""
    record = record_id(row.institution, f"{row.owner_ref}|{row.owned_ref}{indirect}")
    return _statement(subject, record, "relationship", details, row.recorded_at.date(), row.id,
                      published)


def network_statements(party: Mapping[str, Any], parties: Mapping[Node, Mapping[str, Any]],
                       edges: Sequence[Edge], declarations: Mapping[int, Declaration],
                       published: date) -> list[Statement]:
    """Persons and entities first, then relationships: BODS readers resolve references to
    records already seen. `parties` are the records shown per node; `edges` the declarations
    used, between nodes."""
    subject = _party_record(party)
    ordered = sorted(parties.values(), key=lambda p: (p["kind"] != "entity", p["institution"], p["ref"]))
    statements = [party_statement(subject, p, published) for p in ordered]
    statements += [relationship_statement(subject, declarations[edge.id], parties[edge.owner],
                                          parties[edge.owned], published)
                   for edge in sorted(edges, key=lambda e: (e.owned, e.owner, e.id or 0))
                   if edge.id is not None and edge.owner in parties and edge.owned in parties
                   and edge.owner != edge.owned]
    for statement in statements:
        problem = statement_problem(statement)
        if problem is not None:
            raise ExportInvalid(f"{statement['recordId']}: {problem}")
    return statements
