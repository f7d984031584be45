"""Export of a person search as CSV: the search runs again under the case (and is audited
as a search, because it is one), then the export itself is an event of its own, so an
auditor sees which results left the registry as a file."""

from __future__ import annotations

from sqlalchemy.orm import Session

from registry import audit
from registry.auth import Caller, caller_fields
from registry.models import Case
from registry.cases import withheld_detail
from registry.search_service import PersonSearchService
from registry.web.results import as_csv, shown
from search.gateway import SearchGateway
from search.queries import PersonQuery

# Not under "search:": oversight counts those as searches, and the search itself is already
# its own event.
EXPORT_TAG = "export:person:csv"


class SearchExport:
    def __init__(self, session: Session, gateway: SearchGateway) -> None:
        self.session = session
        self.search = PersonSearchService(session, gateway)

    def persons(self, caller: Caller, case_id: int, query: PersonQuery, limit: int,
                client: str | None) -> str:
        results = self.search.search(caller, case_id, query, limit, client)
        rows = shown(results)
        case = self.session.get(Case, case_id)
        ids = [r["key"] for row in rows for r in row["records"]]
        audit.record(self.session, EXPORT_TAG, "ok", **caller_fields(caller), client_address=client,
                     case_id=case_id, legal_basis=case.legal_basis if case else None,
                     parameters={"name": query.name, "format": "csv"},
                     result_count=len(rows), result_ids=ids, detail=withheld_detail(self.search.withheld))
        return as_csv(rows, withheld=self.search.withheld)
