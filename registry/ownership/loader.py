"""The part of the ownership graph one question needs, read from Postgres.

Parties and their interests are keyed per institution by `ref`, so a graph never crosses
institutions. Only current versions (`superseded_at IS NULL`) count, and of those only the
interests valid on `as_of` as reported (valid_from <= as_of < valid_to, open ends unbounded).

The graph is read level by level (one query per level, each answered from the partial indexes
`ix_ownership_owned` / `ix_ownership_owner`) rather than with one recursive CTE: a level loop
stops cleanly at a depth or size limit and knows whether it stopped early, which an answer
about beneficial ownership has to say.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.ownership.graph import Limits
from registry.ownership.interests import Edge, Interval

Direction = Literal["up", "down"]
# Parties read for one answer at most; with the depth limit this bounds the round trips and
# the rows, whatever the book looks like.
MAX_NODES = 5000

EDGES = """
SELECT id, owner_ref, owned_ref, share_min, share_max, voting_min, voting_max, interests,
       direct, valid_from, valid_to, recorded_at
FROM ownership_interests
WHERE institution_id = :institution AND superseded_at IS NULL AND {column} = ANY(:refs)
  AND (valid_from IS NULL OR valid_from <= :as_of) AND (valid_to IS NULL OR valid_to > :as_of)
"""
ANY_EDGE = """
SELECT EXISTS (SELECT 1 FROM ownership_interests
WHERE institution_id = :institution AND superseded_at IS NULL AND {column} = ANY(:refs)
  AND (valid_from IS NULL OR valid_from <= :as_of) AND (valid_to IS NULL OR valid_to > :as_of))
"""
PARTY_COLUMNS = """p.id, p.institution_id, i.code AS institution, p.ref, p.kind, p.full_name,
       p.given_names, p.family_name, p.other_names, p.birth_date, p.nationalities,
       p.residence_country, p.address, p.identifiers, p.pep, p.legal_form,
       p.registration_number, p.registration_country, p.lei, p.incorporated_on, p.recorded_at"""
# Any version's id names the party; the answer is about its current version.
PARTY_BY_ID = f"""
SELECT {PARTY_COLUMNS} FROM parties v
JOIN parties p ON p.institution_id = v.institution_id AND p.ref = v.ref AND p.superseded_at IS NULL
JOIN institutions i ON i.id = p.institution_id
WHERE v.id = :id
"""
PARTIES = f"""
SELECT {PARTY_COLUMNS} FROM parties p JOIN institutions i ON i.id = p.institution_id
WHERE p.institution_id = :institution AND p.superseded_at IS NULL AND p.ref = ANY(:refs)
"""
# The accounts a party stood in a role on, on as_of: the role and the account both open then.
ACCOUNTS = """
SELECT r.party_ref, r.role, r.valid_from, r.valid_to, a.ref, a.iban, a.number, a.bic,
       a.currency, a.type, a.opened_on, a.closed_on
FROM account_roles r
JOIN accounts a ON a.institution_id = r.institution_id AND a.ref = r.account_ref
     AND a.superseded_at IS NULL
WHERE r.institution_id = :institution AND r.superseded_at IS NULL AND r.party_ref = ANY(:refs)
  AND (r.valid_from IS NULL OR r.valid_from <= :as_of) AND (r.valid_to IS NULL OR r.valid_to > :as_of)
  AND (a.opened_on IS NULL OR a.opened_on <= :as_of) AND (a.closed_on IS NULL OR a.closed_on > :as_of)
ORDER BY r.party_ref, a.ref, r.role
"""


@dataclass(frozen=True)
class InterestRow:
    """An edge with what a BODS statement about it needs besides."""

    edge: Edge
    id: int
    valid_from: date | None
    valid_to: date | None
    recorded_at: datetime


@dataclass(frozen=True)
class Subgraph:
    rows: tuple[InterestRow, ...]
    truncated: bool

    @property
    def edges(self) -> list[Edge]:
        return [row.edge for row in self.rows]

    def refs(self) -> set[str]:
        return {ref for row in self.rows for ref in (row.edge.owner, row.edge.owned)}


def _interval(low: Decimal | None, high: Decimal | None) -> Interval | None:
    if low is None and high is None:
        return None
    # A bound left out of a reported range is as open as a share can be.
    return Interval.of(low if low is not None else 0, high if high is not None else 100)


def _interest(row: Any) -> InterestRow:
    edge = Edge(row.owner_ref, row.owned_ref, _interval(row.share_min, row.share_max),
                _interval(row.voting_min, row.voting_max), tuple(row.interests or ()), row.direct)
    return InterestRow(edge, row.id, row.valid_from, row.valid_to, row.recorded_at)


class OwnershipLoader:
    def __init__(self, session: Session) -> None:
        self.session = session

    def party(self, party_id: int) -> dict[str, Any] | None:
        row = self.session.execute(text(PARTY_BY_ID), {"id": party_id}).mappings().first()
        return dict(row) if row is not None else None

    def parties(self, institution_id: int, refs: set[str]) -> dict[str, dict[str, Any]]:
        rows = self.session.execute(text(PARTIES), {"institution": institution_id,
                                                    "refs": sorted(refs)}).mappings()
        return {row["ref"]: dict(row) for row in rows}

    def subgraph(self, institution_id: int, ref: str, as_of: date, direction: Direction,
                 limits: Limits) -> Subgraph:
        """The interests reachable from `ref`: its owners' (up) or its holdings' (down)."""
        near = "owned_ref" if direction == "up" else "owner_ref"
        params = {"institution": institution_id, "as_of": as_of}
        seen, frontier, rows = {ref}, [ref], []
        for _ in range(limits.max_depth):
            if not frontier or len(seen) > MAX_NODES:
                break
            found = [_interest(r) for r in self.session.execute(
                text(EDGES.format(column=near)), {**params, "refs": frontier})]
            rows.extend(found)
            ends = {r.edge.owner if direction == "up" else r.edge.owned for r in found}
            frontier = sorted(ends - seen)
            seen.update(frontier)
        truncated = bool(frontier) and bool(self.session.execute(
            text(ANY_EDGE.format(column=near)), {**params, "refs": frontier}).scalar())
        return Subgraph(tuple(rows), truncated)

    def accounts(self, institution_id: int, refs: set[str],
                 as_of: date) -> dict[str, list[dict[str, Any]]]:
        rows = self.session.execute(text(ACCOUNTS), {"institution": institution_id,
                                                     "refs": sorted(refs), "as_of": as_of})
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows.mappings():
            found[row["party_ref"]].append({
                "account_id": row["ref"], "iban": row["iban"], "number": row["number"],
                "bic": row["bic"], "currency": row["currency"], "type": row["type"],
                "role": row["role"], "opened_on": _iso(row["opened_on"]),
                "closed_on": _iso(row["closed_on"]), "role_from": _iso(row["valid_from"]),
                "role_to": _iso(row["valid_to"])})
        return found


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None
