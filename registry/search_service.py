"""Person search for an investigator working under a case: candidates from Elasticsearch,
re-scored in Python, enriched from Postgres, and audited in the same transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from registry import audit
from registry.cases import open_case
from registry.auth import Caller, caller_fields
from registry.models import Account, AccountRole, Institution
from search.gateway import SearchGateway
from search.names import NameAnalysis, analyse_name
from search.queries import PersonQuery, person_search
from search.scoring import score_person


class PersonSearchService:
    def __init__(self, session: Session, gateway: SearchGateway) -> None:
        self.session = session
        self.gateway = gateway

    def search(self, caller: Caller, case_id: int, query: PersonQuery, limit: int,
               client: str | None) -> list[dict[str, Any]]:
        case = open_case(self.session, caller, case_id, "search:person:query", client, _parameters(query))
        hits = self.gateway.search(person_search(query))["hits"]["hits"]
        wanted = analyse_name(query.name)
        results = sorted((self._rescore(query, wanted, hit) for hit in hits),
                         key=lambda r: -r["score"])[:limit]
        accounts = self._accounts({(r["institution_id"], r["customer_id"]) for r in results})
        for result in results:
            result["accounts"] = accounts.get((result["institution_id"], result["customer_id"]), [])
        audit.record(self.session, "search:person:query", "ok", **caller_fields(caller),
                     client_address=client, case_id=case.id,
                     legal_basis=case.legal_basis, parameters=_parameters(query),
                     result_count=len(results), result_ids=[r["id"] for r in results])
        return results

    def _rescore(self, query: PersonQuery, wanted: NameAnalysis, hit: dict[str, Any]) -> dict[str, Any]:
        source = hit["_source"]
        scored = score_person(query, wanted, source)
        return {"id": hit["_id"], "score": scored.score, "explanation": scored.explanation,
                "institution": source["institution"], "institution_id": source["institution_id"],
                "customer_id": source["ref"], "party": source["display"]}

    def _accounts(self, parties: set[tuple[int, str]]) -> dict[tuple[int, str], list[dict[str, Any]]]:
        """Accounts and roles of every shown party, in one query rather than one per result."""
        if not parties:
            return {}
        rows = self.session.execute(
            select(Account, AccountRole.role, AccountRole.valid_from, AccountRole.valid_to,
                   Institution.code, AccountRole.institution_id, AccountRole.party_ref)
            .join(AccountRole, (AccountRole.institution_id == Account.institution_id)
                  & (AccountRole.account_ref == Account.ref))
            .join(Institution, Institution.id == Account.institution_id)
            .where(tuple_(AccountRole.institution_id, AccountRole.party_ref).in_(list(parties)),
                   AccountRole.superseded_at.is_(None), Account.superseded_at.is_(None))
        ).all()
        found: dict[tuple[int, str], list[dict[str, Any]]] = {}
        for a, role, start, end, code, institution_id, party_ref in rows:
            found.setdefault((institution_id, party_ref), []).append({
                "institution": code, "account_id": a.ref, "iban": a.iban, "number": a.number,
                "type": a.type, "currency": a.currency, "role": role,
                "opened_on": _iso(a.opened_on), "closed_on": _iso(a.closed_on),
                "role_from": _iso(start), "role_to": _iso(end)})
        return found


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _parameters(query: PersonQuery) -> dict[str, Any]:
    values = {"name": query.name, "birth_date": query.birth_date, "nationality": query.nationality,
              "identifier": query.identifier, "as_of": _iso(query.as_of)}
    return {k: v for k, v in values.items() if v is not None}
