"""Person search for an investigator working under a case: candidates from Elasticsearch,
re-scored in Python, merged across institutions (one human, one result), enriched with
accounts from Postgres, and audited in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry import audit
from registry.account_search import PartyKey, accounts_of_parties, iso, not_yet_related
from registry.auth import Caller, caller_fields
from registry.cases import Withheld, open_case, party_names, withhold_unapproved
from registry.models import Case, Party, key_arrays, keys_in
from search.gateway import SearchGateway
from search.merging import Cluster, PartyRecord, merge_people
from search.names import NameAnalysis, analyse_name
from search.queries import PersonQuery, person_search
from search.scoring import LIKELY, score_person

TAG = "search:person:query"
# The most queries one batch may hold: a mutual-legal-assistance request names a few dozen.
MAX_BATCH = 100


@dataclass
class BatchOutcome:
    """Answers of the queries that ran, in order, and the indices of those that did not."""

    answers: list[dict[str, Any]] = field(default_factory=list)
    not_run: list[int] = field(default_factory=list)


class PersonSearchService:
    def __init__(self, session: Session, gateway: SearchGateway) -> None:
        self.session = session
        self.gateway = gateway
        # Results left out of the last answer for showing a name marked sensitive.
        self.withheld = 0

    def search(self, caller: Caller, case_id: int, query: PersonQuery, limit: int,
               client: str | None, batch_index: int | None = None) -> list[dict[str, Any]]:
        parameters = _parameters(query, batch_index)
        case = open_case(self.session, caller, case_id, TAG, client, parameters,
                         searched_names=[query.name])
        return self._answer(caller, case, query, limit, client, parameters)

    def _answer(self, caller: Caller, case: Case, query: PersonQuery, limit: int, client: str | None,
                parameters: dict[str, Any]) -> list[dict[str, Any]]:
        """One query under a case already opened for it: candidates, merged results, audit."""
        withheld = withhold_unapproved(self.session, case, self._results(query, limit), result_names)
        self.withheld = withheld.count
        self._audit(caller, case, client, parameters, withheld)
        return withheld.shown

    def _results(self, query: PersonQuery, limit: int) -> list[dict[str, Any]]:
        hits = related_on(self.session, self.gateway.search(person_search(query))["hits"]["hits"],
                          query.as_of)
        wanted = analyse_name(query.name)
        clusters = merge_people([_record(query, wanted, hit) for hit in hits])[:limit]
        return present(self.session, clusters, LIKELY, query.as_of)

    def _audit(self, caller: Caller, case: Case, client: str | None, parameters: dict[str, Any],
               withheld: Withheld[dict[str, Any]]) -> None:
        audit.record(self.session, TAG, "ok", **caller_fields(caller), client_address=client,
                     case_id=case.id, legal_basis=case.legal_basis, **withheld.audit(parameters),
                     result_count=len(withheld.shown), result_ids=shown_ids(withheld.shown))

    def search_batch(self, caller: Caller, case_id: int, queries: Sequence[PersonQuery], limit: int,
                     client: str | None, allowance: Callable[[], bool]) -> BatchOutcome:
        """Each query runs only if `allowance()` grants it one unit of the rate limit, and is
        audited as its own event; once the limit runs out the rest are not run, and that
        refusal is one `rate_limited` event naming how many were left."""
        # Every name is checked against the sensitive list before any runs, so a refusal
        # leaves no half-answered batch behind.
        # That one check serves every query: the case and its approvals hold for the request.
        case = open_case(self.session, caller, case_id, TAG, client, {"batch_size": len(queries)},
                         searched_names=[q.name for q in queries])
        outcome = BatchOutcome()
        for index, query in enumerate(queries):
            if not allowance():
                outcome.not_run = list(range(index, len(queries)))
                self._refuse_rest(caller, case, len(queries), outcome.not_run, client)
                break
            results = self._answer(caller, case, query, limit, client, _parameters(query, index))
            outcome.answers.append({"index": index, "name": query.name, "results": results,
                                    "withheld": self.withheld})
        return outcome

    def _refuse_rest(self, caller: Caller, case: Case, size: int, not_run: list[int],
                     client: str | None) -> None:
        audit.record(self.session, TAG, "rate_limited", **caller_fields(caller),
                     client_address=client, case_id=case.id, legal_basis=case.legal_basis,
                     parameters={"case_id": case.id, "batch_size": size, "not_run": len(not_run),
                                 "first_not_run": not_run[0]},
                     detail=f"rate limit reached: {len(not_run)} of {size} batch queries not run")


def _record(query: PersonQuery, wanted: NameAnalysis, hit: dict[str, Any]) -> PartyRecord:
    source = hit["_source"]
    scored = score_person(query, wanted, source)
    return PartyRecord(hit["_id"], source["institution"], source["ref"], scored.score,
                       source["display"], tuple(scored.explanation))


def related_on(session: Session, hits: list[dict[str, Any]], day: date | None) -> list[dict[str, Any]]:
    """Without a day, every hit; with one, the hits of parties that were customers then:
    not those whose every account role and interest began later (`not_yet_related`)."""
    if day is None:
        return hits
    later = not_yet_related(session, {_key_of(hit["_id"]) for hit in hits}, day)
    return [hit for hit in hits if _key_of(hit["_id"]) not in later]


def _key_of(document_id: str) -> PartyKey:
    """(institution id, ref) of a search document's id, "<institution id>:<ref>"."""
    institution_id, _, ref = document_id.partition(":")
    return int(institution_id), ref


def _key(record: PartyRecord) -> PartyKey:
    return _key_of(record.id)


def present(session: Session, clusters: list[Cluster], likely: float,
            as_of: date | None = None) -> list[dict[str, Any]]:
    """Clusters as results: the best record's evidence, why records were merged, every
    institution's record (with the registry id of its current version, which a record view
    takes), and every account any of them holds or stands behind (on `as_of`, if given)."""
    keys = {_key(r) for c in clusters for r in c.records}
    accounts = accounts_of_parties(session, keys, as_of)
    ids = current_party_ids(session, keys)
    return [{"id": c.best.id, "score": c.score, "likely": c.score >= likely,
             "explanation": [*c.best.explanation, *(f"merged: {why}" for why in c.reasons)],
             "records": [{**r.as_dict(), "institution_id": _key(r)[0],
                          "party_id": ids.get(_key(r))} for r in c.records],
             "accounts": [a for r in c.records for a in accounts.get(_key(r), [])]}
            for c in clusters]


_CURRENT_PARTY_IDS = select(Party.id, Party.institution_id, Party.ref).where(
    keys_in(Party.institution_id, Party.ref), Party.superseded_at.is_(None))


def current_party_ids(session: Session, keys: set[PartyKey]) -> dict[PartyKey, int]:
    """`parties.id` of the current version of each (institution, customer) in one query.
    None for a record superseded since it was indexed (the outbox has not caught up)."""
    if not keys:
        return {}
    # On the session's connection: plain rows need none of the ORM session's bookkeeping.
    rows = session.connection().execute(_CURRENT_PARTY_IDS, key_arrays(keys))
    return {(institution_id, ref): party_id for party_id, institution_id, ref in rows}


def result_names(result: dict[str, Any]) -> list[str]:
    """Every name a result shows, each record's as its institution reported them."""
    return [name for record in result["records"] for name in party_names(record["party"])]


def shown_ids(results: list[dict[str, Any]]) -> list[str]:
    """Every record shown: the oversight flags read these (a PEP among them, say)."""
    return [record["id"] for result in results for record in result["records"]]


def _parameters(query: PersonQuery, batch_index: int | None) -> dict[str, Any]:
    values = {"name": query.name, "birth_date": query.birth_date, "nationality": query.nationality,
              "identifier": query.identifier, "as_of": iso(query.as_of), "batch_index": batch_index,
              "birth_years": list(query.birth_years) if query.birth_years else None}
    return {k: v for k, v in values.items() if v is not None}
