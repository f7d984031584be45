"""BODS 0.4 statements as canonical records (docs/formats.md, "BODS 0.4").

Pure functions over statements that have passed the BODS schema: entity statements become
`entity` records, person statements `person` records, relationship statements `ownership`
records keyed by interested party and subject. What the canonical format cannot hold
(annotations, sources, securities listings, dissolution dates) is left out.
"""

from __future__ import annotations

import functools
from typing import Any

import pycountry

Statement = dict[str, Any]
Record = dict[str, Any]

KINDS = {"person": "person", "entity": "entity", "relationship": "ownership"}
# Person identifier schemes are {JURISDICTION}-{TYPE} (BODS Identifier.scheme); the registry
# names the three types as the banks' extracts do.
PERSON_SCHEMES = {"PASSPORT": "passport", "TAXID": "tax_id", "IDCARD": "national_id"}
# Which name is the person's name when several are given: nameType codelist, best first.
NAME_ORDER = ("legal", None, "birth", "alternative", "transliteration", "translation", "former")
LEI_SCHEME = "XI-LEI"
# org-id.guide prefixes that are not countries: XI (international) and XM (multilateral).
NOT_A_COUNTRY = ("XI", "XM")


def record_kind(statement: Statement) -> str:
    return KINDS[statement["recordType"]]


def is_closed(statement: Statement) -> bool:
    return statement.get("recordStatus") == "closed"


def is_named(statement: Statement) -> bool:
    """Whether a person or entity has a name the registry can hold and search for. Anonymous
    and unknown persons and entities usually have none."""
    details = statement["recordDetails"]
    if statement["recordType"] == "person":
        return any(name.get("fullName", "").strip() for name in details.get("names", []))
    return bool(str(details.get("name", "")).strip())


def parties(statement: Statement) -> tuple[str, str] | None:
    """(owner, owned) of a relationship; None when either side is an unspecified-party object
    rather than a recordId."""
    details = statement["recordDetails"]
    owner, owned = details.get("interestedParty"), details.get("subject")
    if isinstance(owner, str) and isinstance(owned, str):
        return owner, owned
    return None


def to_records(statement: Statement, keep_closed: bool = False) -> list[Record]:
    """The records a statement becomes. A closed person or entity becomes a close record,
    unless `keep_closed` (an ended interest names it: the party is kept so the interest has
    one). A relationship, closed or not, becomes one or two ownership records
    (`ownership_records`)."""
    kind = record_kind(statement)
    details = statement["recordDetails"]
    if kind == "ownership":
        ended = statement["statementDate"][:10] if is_closed(statement) else None
        return ownership_records(details, ended)
    if is_closed(statement) and not keep_closed:
        return [{"record": kind, "op": "close", "id": statement["recordId"]}]
    if kind == "person":
        return [person_record(statement["recordId"], details)]
    return [entity_record(statement["recordId"], details)]


def _put(record: Record, key: str, value: Any) -> None:
    if value is not None and value != "":
        record[key] = value


@functools.lru_cache(maxsize=1024)
def country_code(code: str | None) -> str | None:
    """ISO 3166 alpha-2 for an alpha-2 or alpha-3 code; None for anything else."""
    if not code or code.upper() in NOT_A_COUNTRY:
        return None
    text = code.strip().upper()
    found = (pycountry.countries.get(alpha_2=text) if len(text) == 2
             else pycountry.countries.get(alpha_3=text) if len(text) == 3 else None)
    return str(found.alpha_2) if found is not None else None


def address_text(address: dict[str, Any] | None) -> str | None:
    if not address:
        return None
    country = address.get("country") or {}
    parts = [address.get("address"), address.get("postCode"), country.get("name")]
    return ", ".join(str(p).strip() for p in parts if p and str(p).strip()) or None


def _pick_address(addresses: list[dict[str, Any]], order: tuple[str, ...]) -> dict[str, Any] | None:
    for wanted in order:
        for address in addresses:
            if address.get("type") == wanted:
                return address
    return addresses[0] if addresses else None


def _name_rank(name: dict[str, Any]) -> int:
    kind = name.get("type")
    return NAME_ORDER.index(kind) if kind in NAME_ORDER else len(NAME_ORDER)


def _names(details: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The person's main name, and their other full names."""
    names = sorted((n for n in details.get("names", []) if n.get("fullName", "").strip()),
                   key=_name_rank)
    main = names[0]
    others = [n["fullName"] for n in names[1:] if n["fullName"] != main["fullName"]]
    return main, list(dict.fromkeys(others))


def _country_of(place: dict[str, Any] | None, key: str) -> Any:
    return ((place or {}).get("country") or {}).get(key)


def person_record(record_id: str, details: dict[str, Any]) -> Record:
    main, others = _names(details)
    addresses = details.get("addresses", [])
    record: Record = {"record": "person", "id": record_id, "full_name": main["fullName"],
                      "other_names": others}
    _put(record, "given_names", main.get("givenName"))
    _put(record, "family_name", main.get("familyName"))
    _put(record, "birth_date", details.get("birthDate"))
    place = details.get("placeOfBirth") or {}
    _put(record, "birth_place", place.get("address") or _country_of(place, "name"))
    record["nationalities"] = list(dict.fromkeys(
        c["code"].upper() for c in details.get("nationalities", []) if c.get("code")))
    residence = next((a for a in addresses if a.get("type") == "residence"), None)
    _put(record, "residence_country", _country_of(residence, "code"))
    home = _pick_address(addresses, ("residence", "service", "alternative"))
    _put(record, "address", address_text(home))
    record["identifiers"] = [i for i in map(person_identifier, details.get("identifiers", [])) if i]
    record["pep"] = (details.get("politicalExposure") or {}).get("status") == "isPep"
    return record


def person_identifier(identifier: dict[str, Any]) -> dict[str, str] | None:
    if not identifier.get("id"):
        return None
    scheme = str(identifier.get("scheme") or "")
    jurisdiction, _, kind = scheme.partition("-")
    result = {"scheme": PERSON_SCHEMES.get(kind.upper(), scheme.lower() or "other"),
              "value": str(identifier["id"])}
    _put(result, "country", country_code(jurisdiction))
    return result


def _registration(details: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(LEI, registration number, registration country) from an entity's identifiers."""
    identifiers = [i for i in details.get("identifiers", []) if i.get("id")]
    lei = next((i["id"] for i in identifiers if i.get("scheme") == LEI_SCHEME), None)
    register = next((i for i in identifiers
                     if not str(i.get("scheme", "")).startswith(NOT_A_COUNTRY)), None)
    jurisdiction = str((details.get("jurisdiction") or {}).get("code") or "")
    country = country_code(str((register or {}).get("scheme", "")).partition("-")[0])
    return lei, register and register["id"], country or country_code(jurisdiction[:2])


def entity_record(record_id: str, details: dict[str, Any]) -> Record:
    record: Record = {"record": "entity", "id": record_id, "name": details["name"],
                      "other_names": list(details.get("alternateNames", []))}
    entity_type = details.get("entityType") or {}
    subtype = entity_type.get("subtype")
    _put(record, "legal_form", entity_type.get("details") or (subtype if subtype != "other" else None))
    lei, number, country = _registration(details)
    _put(record, "lei", lei)
    _put(record, "registration_number", number)
    _put(record, "registration_country", country)
    _put(record, "incorporated_on", details.get("foundingDate"))
    seat = _pick_address(details.get("addresses", []), ("registered", "business", "alternative"))
    _put(record, "address", address_text(seat))
    return record


def _shares(interests: list[dict[str, Any]], kind: str) -> list[dict[str, Any] | None]:
    return [i.get("share") for i in interests if i.get("type") == kind]


def is_indirect(interest: dict[str, Any]) -> bool:
    return interest.get("directOrIndirect") == "indirect"


def ownership_parts(statement: Statement) -> int:
    """How many ownership records a relationship becomes: two when it declares indirect
    interests beside others (`ownership_records`)."""
    interests = statement["recordDetails"].get("interests", [])
    return 2 if any(map(is_indirect, interests)) and not all(map(is_indirect, interests)) else 1


def ownership_records(details: dict[str, Any], ended: str | None = None) -> list[Record]:
    """One record for the direct (or unknown) interests and one for the indirect ones.

    An indirect interest is the declarant's whole interest through intermediaries, which the
    graph counts instead of the chains it summarises; a direct one is multiplied along chains
    like any other link. Merged into one link of one kind, either the direct half would be
    taken for a summary or the indirect half multiplied again, so they stay apart (BODS
    `mixed-direct-and-indirect-ownership`: 50 % directly and 50 % through B is 100 %).
    `ended`: the day a closed relationship was reported closed, the end of any interest that
    gives no `endDate` of its own.
    """
    interests: list[dict[str, Any]] = details.get("interests", [])
    if ended is not None:
        interests = [{**i, "endDate": i.get("endDate") or ended} for i in interests]
    indirect = [i for i in interests if is_indirect(i)]
    others = [i for i in interests if not is_indirect(i)]
    groups = [group for group in (others, indirect) if group] or [[]]
    return [ownership_record(details, group, ended) for group in groups]


def ownership_record(details: dict[str, Any], interests: list[dict[str, Any]],
                     ended: str | None = None) -> Record:
    # An ended interest no longer counts towards the share, unless every interest has ended.
    current = [i for i in interests if not i.get("endDate")] or interests
    types = list(dict.fromkeys(i["type"] for i in interests if i.get("type")))
    record: Record = {"record": "ownership", "owner": details["interestedParty"],
                      "owned": details["subject"], "interests": types}
    _put(record, "share", total_share(_shares(current, "shareholding")))
    _put(record, "voting", total_share(_shares(current, "votingRights")))
    _put(record, "direct", directness(current))
    starts = [i["startDate"] for i in interests if i.get("startDate")]
    _put(record, "from", min(starts) if starts else None)
    ends = [i["endDate"] for i in interests if i.get("endDate")]
    if interests and len(ends) == len(interests):
        record["to"] = max(ends)
    elif not interests and ended is not None:
        record["to"] = ended
    # A relationship reported closed before the start it gives: it never held on any day.
    if "to" in record and "from" in record and record["to"] < record["from"]:
        record["to"] = record["from"]
    return record


def directness(interests: list[dict[str, Any]]) -> bool | None:
    """True when every interest whose directness is known is direct, False when every one is
    indirect, None (unknown) when they are mixed or none is known."""
    known: set[str] = {str(i["directOrIndirect"]) for i in interests
                       if i.get("directOrIndirect") not in (None, "unknown")}
    return {frozenset({"direct"}): True, frozenset({"indirect"}): False}.get(frozenset(known))


Bound = tuple[float | None, bool]


def _bounds(share: dict[str, Any]) -> tuple[Bound, Bound]:
    """(low, whether exclusive), (high, whether exclusive); None where the report gives none."""
    if "exact" in share:
        return (share["exact"], False), (share["exact"], False)
    low: Bound = ((share["minimum"], False) if "minimum" in share
                  else (share.get("exclusiveMinimum"), "exclusiveMinimum" in share))
    high: Bound = ((share["maximum"], False) if "maximum" in share
                   else (share.get("exclusiveMaximum"), "exclusiveMaximum" in share))
    return low, high


def total_share(shares: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    """One share for several interests of a kind (e.g. two classes of shares): their sum,
    capped at 100. Unknown bounds count as 0 below and 100 above. An exclusive bound ("more
    than 25 %") stays exclusive, and makes the sum's bound exclusive too."""
    bounds = [b for b in (_bounds(s) for s in shares if s) if (b[0][0], b[1][0]) != (None, None)]
    if not bounds:
        return None
    (low, low_open), (high, high_open) = bounds[0]
    if len(bounds) > 1:
        low = sum(b[0][0] or 0 for b in bounds)
        high = sum(100 if b[1][0] is None else b[1][0] for b in bounds)
        low_open = any(b[0][1] for b in bounds)
        high_open = any(b[1][1] for b in bounds)
    if high is not None and high > 100:
        high, high_open = 100, False
    low = None if low is None else min(low, 100)
    if low is not None and low == high:
        return {"exact": low}
    found: dict[str, Any] = {}
    for key, value, is_open in (("min", low, low_open), ("max", high, high_open)):
        if value is not None:
            found[key] = value
            if is_open:
                found[f"{key}_exclusive"] = True
    return found
