"""Stakes as the JSON an investigator reads: parties by their registry id, every chain and
its share, control beside shares, each declaration the walk met (listed once: a chain names
its parties and its interests, so a dense structure does not repeat every link in every
chain) with the reporter that declared it and whether it was used, and what the search could
not cover.

A party reported by several institutions is shown as one of its records (the one asked
about, else the company register's, else the oldest) with `records` listing all of them and
the keys that link them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from registry.ownership.graph import Limits, Path, Stake
from registry.ownership.interests import Interval, Node
from registry.ownership.reporters import REGISTER, Declaration, Parties, PartyRef, key_kind

PERSON_FIELDS = ("birth_date", "nationalities", "pep")
ENTITY_FIELDS = ("registration_number", "registration_country", "lei")


def party_json(row: Mapping[str, Any]) -> dict[str, Any]:
    extra = PERSON_FIELDS if row["kind"] == "person" else ENTITY_FIELDS
    return {"id": row["id"], "institution": row["institution"], "ref": row["ref"],
            "kind": row["kind"], "name": row["full_name"], **{k: row[k] for k in extra}}


def party_key(row: Mapping[str, Any]) -> str:
    """A party record as audit events name it (the search index's document id)."""
    return f"{row['institution_id']}:{row['ref']}"


@dataclass
class Shown:
    """The parties an answer names: per node, the record shown and every record of it."""

    rows: dict[Node, Mapping[str, Any]]
    parties: dict[Node, dict[str, Any]]
    records: dict[Node, list[Mapping[str, Any]]]
    record_ids: dict[PartyRef, int]

    def id(self, node: Node) -> int | None:
        party = self.parties.get(node)
        return int(party["id"]) if party is not None else None

    def keys(self, nodes: Iterable[Node]) -> list[str]:
        """Audit keys of every record of these parties."""
        return [party_key(row) for node in nodes for row in self.records.get(node, ())]


def _display(rows: list[Mapping[str, Any]], prefer: PartyRef | None) -> Mapping[str, Any]:
    for row in rows:
        if (row["institution_id"], row["ref"]) == prefer:
            return row
    return min(rows, key=lambda r: (r["institution_kind"] != REGISTER, r["id"]))


def shown(parties: Parties, rows: Mapping[PartyRef, Mapping[str, Any]], nodes: Iterable[Node],
          prefer: PartyRef | None = None) -> Shown:
    result = Shown({}, {}, {}, {ref: int(row["id"]) for ref, row in rows.items()})
    for node in nodes:
        found = [rows[ref] for ref in parties.members.get(node, ()) if ref in rows]
        if not found:
            continue
        display = _display(found, prefer)
        result.rows[node], result.records[node] = display, found
        result.parties[node] = {**party_json(display), "records": [
            {"id": row["id"], "institution": row["institution"], "ref": row["ref"],
             "linked_on": sorted({key_kind(k) for k in
                                  parties.linked_on.get((row["institution_id"], row["ref"]), ())})}
            for row in sorted(found, key=lambda r: r["id"])]}
    return result


def _share(value: Interval | None) -> dict[str, Any] | None:
    return value.as_json() if value is not None else None


def interest_json(declaration: Declaration, parties: Parties, shown: Shown,
                  verdict: str | None) -> dict[str, Any]:
    """One declaration: between which parties (as shown), by which reporter under which of
    its records, and whether it was used."""
    found = {"id": declaration.id, "reporter": declaration.institution,
             "owner": shown.id(parties.node(declaration.owner)),
             "owned": shown.id(parties.node(declaration.owned)),
             "owner_record": shown.record_ids.get(declaration.owner),
             "owned_record": shown.record_ids.get(declaration.owned),
             "share": _share(declaration.share), "voting": _share(declaration.voting),
             "interests": list(declaration.interests), "direct": declaration.direct,
             "valid_from": _iso(declaration.valid_from), "valid_to": _iso(declaration.valid_to),
             "used": verdict is None}
    if verdict is not None:
        found["not_used_because"] = verdict
    return found


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def path_json(path: Path, shown: Shown) -> dict[str, Any]:
    """`parties` runs from the holder to the subject; `interests` are the ids of the answer's
    `interests` entries joining each two neighbours (two may join the same parties: a direct
    and a declared indirect interest)."""
    return {"parties": [shown.id(node) for node in path.nodes],
            "interests": [link.id for link in path.links],
            "share": path.share.as_json(), "counted": path.counted}


def control_json(stake: Stake, shown: Shown) -> list[dict[str, Any]]:
    """The holder's own interests other than shares, in the parties its chains start with."""
    return [{"in": shown.id(edge.owned), "interests": list(edge.other_interests),
             "voting": _share(edge.voting)}
            for edge in stake.held if edge.other_interests or edge.voting is not None]


def stake_json(stake: Stake, other: Node, shown: Shown) -> dict[str, Any]:
    party = shown.parties.get(other, {"id": None, "ref": other})
    return {"party": party, "effective_share": stake.share.as_json(),
            "paths": [path_json(path, shown) for path in stake.paths],
            "control": control_json(stake, shown), "controls": stake.controls,
            "grounds": list(stake.grounds)}


def notes(truncated: bool, cyclic: bool, limits: Limits, ignored_keys: bool = False) -> list[str]:
    found = []
    if truncated:
        found.append(f"The search stopped at its limits ({limits.max_depth} links, "
                     f"{limits.max_paths} chains): there may be more.")
    if cyclic:
        found.append("A cross-holding (cycle) was met. Each chain visits a party once, so "
                     "what the cycle passes round is not counted: effective shares may "
                     "understate an economic interest.")
    if ignored_keys:
        found.append("An identifier shared by too many records to name one party was not used "
                     "to link records across reporters.")
    return found
