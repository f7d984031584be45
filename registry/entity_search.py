"""Entity search under a case: candidates from Elasticsearch, re-scored in Python with
identifiers as decisive evidence, merged across institutions on LEI or registration number,
enriched with accounts from Postgres, and audited in the same transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from registry import audit
from registry.account_search import iso
from registry.auth import Caller, caller_fields
from registry.cases import open_case, withhold_unapproved
from registry.search_service import present, related_on, result_names, shown_ids
from search.entity_scoring import ENTITY_LIKELY, score_entity
from search.gateway import SearchGateway
from search.merging import PartyRecord, merge_entities
from search.queries import EntityQuery, entity_search

TAG = "search:entity:query"


class EntitySearchService:
    def __init__(self, session: Session, gateway: SearchGateway) -> None:
        self.session = session
        self.gateway = gateway
        self.withheld = 0  # results left out of the last answer (see cases.withhold_unapproved)

    def search(self, caller: Caller, case_id: int, query: EntityQuery, limit: int,
               client: str | None) -> list[dict[str, Any]]:
        parameters = _parameters(query)
        case = open_case(self.session, caller, case_id, TAG, client, parameters,
                         searched_names=[query.name] if query.name else ())
        hits = related_on(self.session, self.gateway.search(entity_search(query))["hits"]["hits"],
                          query.as_of)
        clusters = merge_entities([_record(query, hit) for hit in hits])[:limit]
        withheld = withhold_unapproved(self.session, case, present(
            self.session, clusters, ENTITY_LIKELY, query.as_of), result_names)
        self.withheld = withheld.count
        audit.record(self.session, TAG, "ok", **caller_fields(caller), client_address=client,
                     case_id=case.id, legal_basis=case.legal_basis, **withheld.audit(parameters),
                     result_count=len(withheld.shown), result_ids=shown_ids(withheld.shown))
        return withheld.shown


def _record(query: EntityQuery, hit: dict[str, Any]) -> PartyRecord:
    source = hit["_source"]
    scored = score_entity(query, source["display"])
    return PartyRecord(hit["_id"], source["institution"], source["ref"], scored.score,
                       source["display"], tuple(scored.explanation))


def _parameters(query: EntityQuery) -> dict[str, Any]:
    values = {"name": query.name, "registration_number": query.registration_number,
              "lei": query.lei, "country": query.country, "as_of": iso(query.as_of)}
    return {k: v for k, v in values.items() if v is not None}
