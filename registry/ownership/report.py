"""Stakes as the JSON an investigator reads: parties by their registry id, every chain and
its share, control beside shares, each interest the chains run through (listed once: a
chain names its parties, so a dense structure does not repeat every link in every chain),
and what the search could not cover."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from registry.ownership.graph import Limits, Path, Stake
from registry.ownership.interests import Node
from registry.ownership.loader import InterestRow

Parties = Mapping[Node, Mapping[str, Any]]

PERSON_FIELDS = ("birth_date", "nationalities", "pep")
ENTITY_FIELDS = ("registration_number", "registration_country", "lei")


def party_json(row: Mapping[str, Any]) -> dict[str, Any]:
    extra = PERSON_FIELDS if row["kind"] == "person" else ENTITY_FIELDS
    return {"id": row["id"], "institution": row["institution"], "ref": row["ref"],
            "kind": row["kind"], "name": row["full_name"], **{k: row[k] for k in extra}}


def _party_id(parties: Parties, ref: Node) -> int | None:
    row = parties.get(ref)
    return int(row["id"]) if row is not None else None


def interest_json(row: InterestRow, parties: Parties) -> dict[str, Any]:
    edge = row.edge
    return {"owner": _party_id(parties, edge.owner), "owned": _party_id(parties, edge.owned),
            "share": edge.share.as_json() if edge.share is not None else None,
            "voting": edge.voting.as_json() if edge.voting is not None else None,
            "interests": list(edge.interests), "direct": edge.direct,
            "valid_from": _iso(row.valid_from), "valid_to": _iso(row.valid_to)}


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def path_json(path: Path, parties: Parties) -> dict[str, Any]:
    """`parties` runs from the holder to the subject; the interest joining two neighbours is
    the answer's `interests` entry with that owner and owned."""
    return {"parties": [_party_id(parties, node) for node in path.nodes],
            "share": path.share.as_json(), "counted": path.counted}


def control_json(stake: Stake, parties: Parties) -> list[dict[str, Any]]:
    """The holder's own interests other than shares, in the parties its chains start with."""
    return [{"in": _party_id(parties, edge.owned), "interests": list(edge.other_interests),
             "voting": edge.voting.as_json() if edge.voting is not None else None}
            for edge in stake.held if edge.other_interests or edge.voting is not None]


def stake_json(stake: Stake, other: Node, parties: Parties) -> dict[str, Any]:
    row = parties.get(other)
    return {"party": party_json(row) if row is not None else {"id": None, "ref": other},
            "effective_share": stake.share.as_json(),
            "paths": [path_json(path, parties) for path in stake.paths],
            "control": control_json(stake, parties), "controls": stake.controls,
            "grounds": list(stake.grounds)}


def notes(truncated: bool, cyclic: bool, limits: Limits) -> list[str]:
    found = []
    if truncated:
        found.append(f"The search stopped at its limits ({limits.max_depth} links, "
                     f"{limits.max_paths} chains): there may be more.")
    if cyclic:
        found.append("A cross-holding (cycle) was met. Each chain visits a party once, so "
                     "what the cycle passes round is not counted: effective shares may "
                     "understate an economic interest.")
    return found


def party_key(row: Mapping[str, Any]) -> str:
    """A party as audit events name it (the search index's document id)."""
    return f"{row['institution_id']}:{row['ref']}"
