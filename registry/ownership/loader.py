"""The part of the ownership graph one question needs, read from Postgres, across reporters.

A party's records at every institution are one node (`reporters.Parties`): whenever the walk
meets a record, the records sharing a link key with it (`party_link_keys`, migration 0004)
are read too, and their interests followed. Only current versions (`superseded_at IS NULL`)
count, and of those only the interests valid on `as_of` as reported (valid_from <= as_of <
valid_to, open ends unbounded). Which reporter's declarations are used for each entity is
decided by `reporters.choose`; the walk goes on only through the used ones.

The graph is read level by level (a few queries per level, answered from the partial indexes
`ix_ownership_owned` / `ix_ownership_owner` / `ix_parties_link_keys`) rather than with one
recursive CTE: a level loop stops cleanly at a depth or size limit and knows whether it
stopped early, which an answer about beneficial ownership has to say.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.ownership.graph import Limits
from registry.ownership.interests import Edge, Interval, Node
from registry.ownership.reporters import Declaration, Parties, PartyRef, choose, groups

Direction = Literal["up", "down"]
# Parties read for one answer at most; with the depth limit this bounds the round trips and
# the rows, whatever the book looks like.
MAX_NODES = 5000
# A key carried by more records than this is not identifying anyone (a placeholder
# registration number, a test identifier copied across customers): it links nothing.
MAX_SHARING = 20
# Link keys are closed transitively; two rounds reach every record in practice (a record's
# keys are usually all shared by its party's other records).
LINK_ROUNDS = 3

REFS = """JOIN unnest(CAST(:institutions AS integer[]), CAST(:refs AS text[])) AS f(institution_id, ref)
  ON {alias}.institution_id = f.institution_id AND {alias}.{column} = f.ref"""
EDGES = """
SELECT o.id, o.institution_id, i.code AS institution, i.kind AS institution_kind, o.owner_ref,
       o.owned_ref, o.share_min, o.share_max, o.share_min_exclusive, o.share_max_exclusive,
       o.voting_min, o.voting_max, o.voting_min_exclusive, o.voting_max_exclusive, o.interests,
       o.direct, o.valid_from, o.valid_to, o.recorded_at
FROM ownership_interests o {refs} JOIN institutions i ON i.id = o.institution_id
WHERE o.superseded_at IS NULL
  AND (o.valid_from IS NULL OR o.valid_from <= :as_of) AND (o.valid_to IS NULL OR o.valid_to > :as_of)
"""
KEYS = "party_link_keys({p}.kind, {p}.lei, {p}.registration_number, {p}.registration_country, " \
       "{p}.identifiers, {p}.birth_date)"
# The records sharing a key with the asked ones (the asked ones included), and the key.
LINKS = f"""
WITH wanted AS (SELECT DISTINCT unnest({KEYS.format(p='p')}) AS key FROM parties p
                {REFS.format(alias='p', column='ref')} WHERE p.superseded_at IS NULL)
SELECT o.institution_id, o.ref, k.key FROM parties o
CROSS JOIN LATERAL unnest({KEYS.format(p='o')}) AS k(key)
WHERE o.superseded_at IS NULL AND {KEYS.format(p='o')} && ARRAY(SELECT key FROM wanted)
  AND k.key IN (SELECT key FROM wanted)
LIMIT :cap
"""
PARTY_COLUMNS = """p.id, p.institution_id, i.code AS institution, i.kind AS institution_kind,
       p.ref, p.kind, p.full_name, p.given_names, p.family_name, p.other_names, p.birth_date,
       p.nationalities, p.residence_country, p.address, p.identifiers, p.pep, p.legal_form,
       p.registration_number, p.registration_country, p.lei, p.incorporated_on, p.recorded_at"""
# Any version's id names the party; the answer is about its current version.
PARTY_BY_ID = f"""
SELECT {PARTY_COLUMNS} FROM parties v
JOIN parties p ON p.institution_id = v.institution_id AND p.ref = v.ref AND p.superseded_at IS NULL
JOIN institutions i ON i.id = p.institution_id
WHERE v.id = :id
"""
PARTIES = f"""
SELECT {PARTY_COLUMNS} FROM parties p {REFS.format(alias='p', column='ref')}
JOIN institutions i ON i.id = p.institution_id
WHERE p.superseded_at IS NULL
"""
# The accounts a party stood in a role on, on as_of: the role and the account both open then.
ACCOUNTS = f"""
SELECT r.institution_id, i.code AS institution, r.party_ref, r.role, r.valid_from, r.valid_to,
       a.ref, a.iban, a.number, a.bic, a.currency, a.type, a.opened_on, a.closed_on
FROM account_roles r {REFS.format(alias='r', column='party_ref')}
JOIN accounts a ON a.institution_id = r.institution_id AND a.ref = r.account_ref
     AND a.superseded_at IS NULL
JOIN institutions i ON i.id = r.institution_id
WHERE r.superseded_at IS NULL
  AND (r.valid_from IS NULL OR r.valid_from <= :as_of) AND (r.valid_to IS NULL OR r.valid_to > :as_of)
  AND (a.opened_on IS NULL OR a.opened_on <= :as_of) AND (a.closed_on IS NULL OR a.closed_on > :as_of)
ORDER BY i.code, r.party_ref, a.ref, r.role
"""


def _pairs(refs: Iterable[PartyRef]) -> dict[str, list[Any]]:
    ordered = sorted(set(refs))
    return {"institutions": [r[0] for r in ordered], "refs": [r[1] for r in ordered]}


def _interval(low: Decimal | None, high: Decimal | None, low_open: bool,
              high_open: bool) -> Interval | None:
    if low is None and high is None:
        return None
    # A bound left out of a reported range is as open as a share can be.
    return Interval.of(low if low is not None else 0, high if high is not None else 100,
                       bool(low_open) and low is not None, bool(high_open) and high is not None)


def _declaration(row: Any) -> Declaration:
    return Declaration(
        row.id, row.institution_id, row.institution, row.institution_kind, row.owner_ref,
        row.owned_ref,
        _interval(row.share_min, row.share_max, row.share_min_exclusive, row.share_max_exclusive),
        _interval(row.voting_min, row.voting_max, row.voting_min_exclusive, row.voting_max_exclusive),
        tuple(row.interests or ()), row.direct, row.valid_from, row.valid_to, row.recorded_at)


@dataclass
class Subgraph:
    """What a walk read: every declaration met, each one's verdict (None: used), the parties."""

    parties: Parties
    declarations: dict[int, Declaration] = field(default_factory=dict)
    verdicts: dict[int, str | None] = field(default_factory=dict)
    truncated: bool = False
    # Which reporters' records the walk met: the answer says so.
    shared_keys_ignored: bool = False

    @property
    def edges(self) -> list[Edge]:
        return [d.edge(self.parties) for d in self.used()]

    def used(self) -> list[Declaration]:
        return [d for d in self.declarations.values() if self.verdicts.get(d.id) is None]

    def nodes(self) -> set[Node]:
        found = set()
        for declaration in self.declarations.values():
            found |= {self.parties.node(declaration.owner), self.parties.node(declaration.owned)}
        return found


class OwnershipLoader:
    def __init__(self, session: Session) -> None:
        self.session = session

    def party(self, party_id: int) -> dict[str, Any] | None:
        row = self.session.execute(text(PARTY_BY_ID), {"id": party_id}).mappings().first()
        return dict(row) if row is not None else None

    def records(self, refs: Iterable[PartyRef]) -> dict[PartyRef, dict[str, Any]]:
        rows = self.session.execute(text(PARTIES), _pairs(refs)).mappings()
        return {(row["institution_id"], row["ref"]): dict(row) for row in rows}

    def link(self, refs: set[PartyRef], parties: Parties) -> bool:
        """Group the records not yet met with every record sharing a link key with them;
        whether a key was ignored for being shared too widely."""
        asked, shared, ignored = set(refs), defaultdict(set), False
        for _ in range(LINK_ROUNDS):
            rows = self.session.execute(text(LINKS), {**_pairs(asked), "cap": MAX_NODES}).all()
            for row in rows:
                shared[row.key].add((row.institution_id, row.ref))
            asked = {ref for found in shared.values() for ref in found} - refs - asked
            if not asked:
                break
            refs = refs | asked
        for key in [k for k, found in shared.items() if len(found) > MAX_SHARING]:
            ignored = True
            del shared[key]
        for group in groups(refs, shared):
            parties.add_group(group)
            for ref in group:
                parties.linked_on[ref] |= {k for k, found in shared.items()
                                           if ref in found and len(found) > 1}
        return ignored

    def subgraph(self, start: PartyRef, as_of: date, direction: Direction,
                 limits: Limits) -> Subgraph:
        """The declarations reachable from `start`'s party: its owners' (up) or its holdings'
        (down), through the declarations used."""
        found = Subgraph(Parties())
        found.shared_keys_ignored = self.link({start}, found.parties)
        frontier = {found.parties.node(start)}
        seen = set(frontier)
        for _ in range(limits.max_depth):
            if not frontier or len(seen) > MAX_NODES:
                break
            ends = self._level(found, frontier, as_of, direction)
            frontier = ends - seen
            seen |= frontier
        found.truncated = bool(frontier) and bool(
            self._edges(found.parties.refs_of(frontier), as_of,
                        "owned_ref" if direction == "up" else "owner_ref"))
        return found

    def _level(self, found: Subgraph, frontier: set[Node], as_of: date,
               direction: Direction) -> set[Node]:
        """One level: the declarations at the frontier, the parties they reach, and (walking
        down) every declaration about the entities reached, so that whose word counts for
        them is decided on all of it. Returns the parties reached through used declarations."""
        near = "owned_ref" if direction == "up" else "owner_ref"
        rows = self._edges(found.parties.refs_of(frontier), as_of, near)
        far = {d.owner if direction == "up" else d.owned for d in rows}
        found.shared_keys_ignored |= self.link({r for r in far if not found.parties.known(r)},
                                               found.parties)
        if direction == "down":
            owned = {found.parties.node(d.owned) for d in rows}
            about = self._edges(found.parties.refs_of(owned), as_of, "owned_ref")
            self.link({d.owner for d in about if not found.parties.known(d.owner)}, found.parties)
            found.verdicts.update(choose(about, found.parties))
        else:
            found.verdicts.update(choose(rows, found.parties))
        found.declarations.update((d.id, d) for d in rows)
        return {found.parties.node(d.owner if direction == "up" else d.owned)
                for d in rows if found.verdicts.get(d.id) is None}

    def _edges(self, refs: set[PartyRef], as_of: date, column: str) -> list[Declaration]:
        if not refs:
            return []
        sql = EDGES.format(refs=REFS.format(alias="o", column=column))
        return [_declaration(r) for r in self.session.execute(text(sql), {**_pairs(refs), "as_of": as_of})]

    def accounts(self, refs: set[PartyRef], as_of: date) -> dict[PartyRef, list[dict[str, Any]]]:
        rows = self.session.execute(text(ACCOUNTS), {**_pairs(refs), "as_of": as_of})
        found: dict[PartyRef, list[dict[str, Any]]] = defaultdict(list)
        for row in rows.mappings():
            found[(row["institution_id"], row["party_ref"])].append({
                "institution": row["institution"], "account_id": row["ref"], "iban": row["iban"],
                "number": row["number"], "bic": row["bic"], "currency": row["currency"],
                "type": row["type"], "role": row["role"], "opened_on": _iso(row["opened_on"]),
                "closed_on": _iso(row["closed_on"]), "role_from": _iso(row["valid_from"]),
                "role_to": _iso(row["valid_to"])})
        return found


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None
