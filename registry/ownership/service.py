"""Beneficial ownership for an investigator working under a case: the owners of an entity,
the holdings of a party (and every account behind them), a BODS export of a network. Each
look is case-bound and audited in the request's transaction, like a person search.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from sqlalchemy.orm import Session

from registry import audit
from registry.auth import Caller, caller_fields
from registry.errors import NotFound
from registry.models import Case
from registry.ownership import report
from registry.ownership.bods_export import network_statements
from registry.ownership.graph import Limits, Network, OwnershipGraph, Stake, holdings, owners
from registry.ownership.loader import OwnershipLoader
from registry.cases import open_case

OWNERS_TAG = "ownership:entity:owners"
HOLDINGS_TAG = "ownership:person:holdings"
EXPORT_TAG = "ownership:party:export"


@dataclass(frozen=True)
class Question:
    """What was asked, as the audit log records it."""

    caller: Caller
    case_id: int
    party_id: int
    as_of: date
    threshold: Fraction
    client: str | None

    def parameters(self) -> dict[str, Any]:
        return {"party_id": self.party_id, "as_of": self.as_of.isoformat(),
                "threshold": float(self.threshold)}


class OwnershipService:
    def __init__(self, session: Session, limits: Limits = Limits()) -> None:
        self.session = session
        self.limits = limits
        self.loader = OwnershipLoader(session)

    def owners(self, question: Question) -> dict[str, Any]:
        case, subject = self._open(question, OWNERS_TAG, kind="entity")
        found = self.loader.subgraph(subject["institution_id"], subject["ref"], question.as_of,
                                     "up", self.limits)
        graph = OwnershipGraph(found.edges)
        network = owners(graph, subject["ref"], question.threshold, self.limits)
        parties = self.loader.parties(subject["institution_id"], found.refs() | {subject["ref"]})
        listed = [self._owner(stake, graph, parties) for stake in network.stakes]
        shown = [report.party_key(parties[s.holder]) for s in network.stakes if s.holder in parties]
        self._audit(question, case, OWNERS_TAG, subject, shown)
        return {**self._frame(question, network, not found.truncated),
                "subject": report.party_json(subject), "owners": listed,
                "interests": [report.interest_json(row, parties) for row in found.rows]}

    def holdings(self, question: Question) -> dict[str, Any]:
        case, holder = self._open(question, HOLDINGS_TAG)
        institution = holder["institution_id"]
        found = self.loader.subgraph(institution, holder["ref"], question.as_of, "down", self.limits)
        network = holdings(OwnershipGraph(found.edges), holder["ref"], question.threshold,
                           self.limits)
        refs = found.refs() | {holder["ref"]}
        parties = self.loader.parties(institution, refs)
        accounts = self.loader.accounts(institution, refs, question.as_of)
        entities = [{**report.stake_json(stake, stake.subject, parties),
                     "beneficial_owner": holder["kind"] == "person" and bool(stake.grounds),
                     "accounts": accounts.get(stake.subject, [])} for stake in network.stakes]
        shown = [report.party_key(parties[s.subject]) for s in network.stakes if s.subject in parties]
        shown += [f"account:{institution}:{a['account_id']}" for ref in refs
                  for a in accounts.get(ref, [])]
        self._audit(question, case, HOLDINGS_TAG, holder, shown)
        return {**self._frame(question, network, not found.truncated),
                "holder": {**report.party_json(holder), "accounts": accounts.get(holder["ref"], [])},
                "entities": entities,
                "account_count": sum(len(a) for a in accounts.values()),
                "interests": [report.interest_json(row, parties) for row in found.rows]}

    def bods(self, question: Question) -> list[dict[str, Any]]:
        """BODS 0.4 statements for the party, everyone with a chain to it and everything it
        has a chain to, as the registry holds them on `as_of`."""
        case, party = self._open(question, EXPORT_TAG)
        institution = party["institution_id"]
        rows = {row.id: row for direction in ("up", "down") for row in self.loader.subgraph(
            institution, party["ref"], question.as_of, direction, self.limits).rows}
        refs = {ref for row in rows.values() for ref in (row.edge.owner, row.edge.owned)}
        parties = self.loader.parties(institution, refs | {party["ref"]})
        statements = network_statements(party, parties, list(rows.values()), date.today())
        self._audit(question, case, EXPORT_TAG, party, [report.party_key(p) for p in parties.values()])
        return statements

    def _open(self, question: Question, tag: str, kind: str | None = None) -> tuple[Case, dict[str, Any]]:
        """The case (or an audited refusal), then the party (or an audited not-found)."""
        case = open_case(self.session, question.caller, question.case_id, tag, question.client,
                               question.parameters())
        party = self.loader.party(question.party_id)
        if party is None or (kind is not None and party["kind"] != kind):
            detail = (f"There is no party with id {question.party_id}." if party is None else
                      f"Party {question.party_id} is a {party['kind']}, not an {kind}.")
            audit.record(self.session, tag, "not_found", **caller_fields(question.caller),
                         client_address=question.client, case_id=case.id,
                         legal_basis=case.legal_basis, parameters=question.parameters(),
                         result_count=0, detail=detail)
            raise NotFound(detail)
        return case, party

    def _audit(self, question: Question, case: Case, tag: str, party: dict[str, Any],
               shown: list[str]) -> None:
        audit.record(self.session, tag, "ok", **caller_fields(question.caller),
                     client_address=question.client, case_id=case.id,
                     legal_basis=case.legal_basis,
                     parameters={**question.parameters(), "party": report.party_key(party)},
                     result_count=len(shown), result_ids=shown)

    def _owner(self, stake: Stake, graph: OwnershipGraph, parties: report.Parties) -> dict[str, Any]:
        row = parties.get(stake.holder)
        person = row is not None and row["kind"] == "person"
        return {**report.stake_json(stake, stake.holder, parties),
                "ultimate": person and bool(stake.grounds),
                "top_of_chain": not graph.owners_of(stake.holder)}

    def _frame(self, question: Question, network: Network, loaded_all: bool) -> dict[str, Any]:
        truncated = network.truncated or not loaded_all
        return {"case_id": question.case_id, "as_of": question.as_of.isoformat(),
                "threshold": float(question.threshold), "complete": not truncated,
                "notes": report.notes(truncated, network.cyclic, self.limits)}
