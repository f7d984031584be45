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
from registry.ownership.interests import Edge, Node
from registry.ownership.loader import OwnershipLoader, Subgraph
from registry.ownership.reporters import Declaration, PartyRef
from registry.cases import open_case, party_names, require_approval_to_show

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
        start = (subject["institution_id"], subject["ref"])
        found = self.loader.subgraph(start, question.as_of, "up", self.limits)
        graph, node = OwnershipGraph(found.edges), found.parties.node(start)
        network = owners(graph, node, question.threshold, self.limits)
        shown = self._shown(found, found.nodes() | {node}, start)
        self._may_show(question, case, OWNERS_TAG, shown)
        listed = [self._owner(stake, graph, shown) for stake in network.stakes]
        self._audit(question, case, OWNERS_TAG, subject,
                    shown.keys(s.holder for s in network.stakes))
        return {**self._frame(question, network, found),
                "subject": shown.parties[node], "owners": listed,
                "interests": self._interests(found, shown)}

    def holdings(self, question: Question) -> dict[str, Any]:
        case, holder = self._open(question, HOLDINGS_TAG)
        start = (holder["institution_id"], holder["ref"])
        found = self.loader.subgraph(start, question.as_of, "down", self.limits)
        node = found.parties.node(start)
        network = holdings(OwnershipGraph(found.edges), node, question.threshold, self.limits)
        nodes = [node, *(stake.subject for stake in network.stakes)]
        shown = self._shown(found, found.nodes() | {node}, start)
        self._may_show(question, case, HOLDINGS_TAG, shown)
        accounts = self._accounts(found, nodes, question.as_of)
        entities = [{**report.stake_json(stake, stake.subject, shown),
                     "beneficial_owner": holder["kind"] == "person" and bool(stake.grounds),
                     "accounts": accounts[stake.subject]} for stake in network.stakes]
        audited = shown.keys(nodes[1:]) + [f"account:{a['institution_id']}:{a['account_id']}"
                                           for n in nodes for a in accounts[n]]
        self._audit(question, case, HOLDINGS_TAG, holder, audited)
        return {**self._frame(question, network, found),
                "holder": {**shown.parties[node], "accounts": _public(accounts[node])},
                "entities": [{**e, "accounts": _public(e["accounts"])} for e in entities],
                "account_count": sum(len(accounts[n]) for n in nodes),
                "institutions": sorted({a["institution"] for n in nodes for a in accounts[n]}),
                "interests": self._interests(found, shown)}

    def bods(self, question: Question) -> list[dict[str, Any]]:
        """BODS 0.4 statements for the party, everyone with a chain to it and everything it
        has a chain to, as the registry holds them on `as_of`: one statement per party (its
        record shown), one per declaration used."""
        case, party = self._open(question, EXPORT_TAG)
        start = (party["institution_id"], party["ref"])
        walks = [self.loader.subgraph(start, question.as_of, direction, self.limits)
                 for direction in ("up", "down")]
        shown: dict[Node, Any] = {}
        used: dict[int, Edge] = {}
        for walk in walks:
            edges = [d.edge(walk.parties) for d in walk.used()]
            # The parties the used declarations join: not those only an unused one names.
            nodes = {n for e in edges for n in (e.owner, e.owned)} | {walk.parties.node(start)}
            walked = self._shown(walk, nodes, start)
            self._may_show(question, case, EXPORT_TAG, walked)
            shown.update(walked.rows)
            used.update((e.id, e) for e in edges if e.id is not None)
        statements = network_statements(shown[walks[0].parties.node(start)], shown,
                                        list(used.values()), _declarations(walks), date.today())
        self._audit(question, case, EXPORT_TAG, party,
                    [report.party_key(row) for row in shown.values()])
        return statements

    def _shown(self, found: Subgraph, nodes: set[Node], start: PartyRef) -> report.Shown:
        rows = self.loader.records(found.parties.refs_of(nodes))
        return report.shown(found.parties, rows, nodes, start)

    def _may_show(self, question: Question, case: Case, tag: str, shown: report.Shown) -> None:
        """The names of every record the answer draws on: any of them may be marked sensitive."""
        names = [n for rows in shown.records.values() for row in rows for n in party_names(row)]
        require_approval_to_show(self.session, question.caller, case, names, tag, question.client,
                                 question.parameters())

    def _accounts(self, found: Subgraph, nodes: list[Node],
                  as_of: date) -> dict[Node, list[dict[str, Any]]]:
        """Every account each party stood behind on as_of, at every institution reporting it."""
        by_record = self.loader.accounts(found.parties.refs_of(nodes), as_of)
        result: dict[Node, list[dict[str, Any]]] = {}
        for node in nodes:
            result[node] = [{**account, "institution_id": ref[0]}
                            for ref in found.parties.members.get(node, ())
                            for account in by_record.get(ref, [])]
        return result

    def _interests(self, found: Subgraph, shown: report.Shown) -> list[dict[str, Any]]:
        return [report.interest_json(d, found.parties, shown, found.verdicts.get(d.id))
                for d in sorted(found.declarations.values(), key=lambda d: d.id)]

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
        # The same approval a search or record view of this name needs: the network and its
        # accounts reveal as much about a protected person as their record does. Asked by
        # id, so the refusal does not name them.
        require_approval_to_show(self.session, question.caller, case, party_names(party), tag,
                                 question.client, question.parameters())
        return case, party

    def _audit(self, question: Question, case: Case, tag: str, party: dict[str, Any],
               shown: list[str]) -> None:
        audit.record(self.session, tag, "ok", **caller_fields(question.caller),
                     client_address=question.client, case_id=case.id,
                     legal_basis=case.legal_basis,
                     parameters={**question.parameters(), "party": report.party_key(party)},
                     result_count=len(shown), result_ids=shown)

    def _owner(self, stake: Stake, graph: OwnershipGraph, shown: report.Shown) -> dict[str, Any]:
        row = shown.rows.get(stake.holder)
        person = row is not None and row["kind"] == "person"
        return {**report.stake_json(stake, stake.holder, shown),
                "ultimate": person and bool(stake.grounds),
                "top_of_chain": not graph.owners_of(stake.holder)}

    def _frame(self, question: Question, network: Network, found: Subgraph) -> dict[str, Any]:
        truncated = network.truncated or found.truncated
        return {"case_id": question.case_id, "as_of": question.as_of.isoformat(),
                "threshold": float(question.threshold), "complete": not truncated,
                "notes": report.notes(truncated, network.cyclic, self.limits,
                                      found.shared_keys_ignored)}


def _public(accounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in account.items() if k != "institution_id"} for account in accounts]


def _declarations(walks: list[Subgraph]) -> dict[int, Declaration]:
    return {d.id: d for walk in walks for d in walk.used()}
