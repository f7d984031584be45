"""Accounts from Postgres: an account by IBAN or number with its holders, and the accounts of
the parties a person or entity search shows. Exact lookups, so Elasticsearch is not asked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, bindparam, literal_column, select, text
from sqlalchemy.orm import Session

from registry import audit
from registry.auth import Caller, caller_fields
from registry.cases import open_case, party_names, withhold_unapproved
from registry.models import Account, AccountRole, Institution, Party, as_of_clause, key_arrays, keys_in
from search.documents import document_id, party_display

TAG = "search:account:query"
# How banks write account numbers: the separators carry no meaning.
NUMBER_SEPARATORS = r"[\s./-]"
# Written out, not bound as parameters: it must be the very expression migration 0005 indexes.
NORMALISED_NUMBER = literal_column(r"upper(regexp_replace(accounts.number, '[\s./-]', '', 'g'))")
# One IBAN is one account per bank, but a number is not unique across banks; enough for any
# real collision, small enough that a careless query cannot dump the table.
MAX_ACCOUNTS = 50

PartyKey = tuple[int, str]


def normalise_number(number: str) -> str:
    return re.sub(NUMBER_SEPARATORS, "", number).upper()


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


class AccountSearchService:
    def __init__(self, session: Session, gateway: Any = None) -> None:
        # The gateway is accepted for a uniform constructor; accounts are answered from Postgres.
        self.session = session
        self.gateway = gateway
        self.withheld = 0  # results left out of the last answer (see cases.withhold_unapproved)

    def search(self, caller: Caller, case_id: int, iban: str | None, number: str | None,
               as_of: date | None, client: str | None) -> list[dict[str, Any]]:
        parameters = {k: v for k, v in (("iban", iban), ("number", number),
                                         ("as_of", iso(as_of))) if v is not None}
        case = open_case(self.session, caller, case_id, TAG, client, parameters)
        accounts = self._accounts(iban, number)
        holders = self._holders([(a.institution_id, a.ref) for a, _ in accounts], as_of)
        found = [_account(a, code, holders.get((a.institution_id, a.ref), []),
                          "IBAN matches exactly" if iban else "account number matches exactly")
                 for a, code in accounts]
        # An account is withheld whole: shown without its holder, it would still point at them.
        withheld = withhold_unapproved(self.session, case, found, holder_names)
        self.withheld = withheld.count
        shown = [i for r in withheld.shown for i in [r["id"], *(h["id"] for h in r["holders"])]]
        audit.record(self.session, TAG, "ok", **caller_fields(caller), client_address=client,
                     case_id=case.id, legal_basis=case.legal_basis, **withheld.audit(parameters),
                     result_count=len(withheld.shown), result_ids=list(dict.fromkeys(shown)))
        return withheld.shown

    def _accounts(self, iban: str | None, number: str | None) -> list[tuple[Account, str]]:
        match: ColumnElement[bool]
        if iban is not None:
            match = Account.iban == iban
        else:
            match = NORMALISED_NUMBER == normalise_number(number or "")
        rows = self.session.execute(
            select(Account, Institution.code).join(Institution, Institution.id == Account.institution_id)
            .where(match, Account.superseded_at.is_(None))
            .order_by(Institution.code, Account.ref).limit(MAX_ACCOUNTS)).all()
        return [(a, code) for a, code in rows]

    def _holders(self, keys: list[PartyKey], as_of: date | None) -> dict[PartyKey, list[dict[str, Any]]]:
        if not keys:
            return {}
        query = select(AccountRole).where(
            keys_in(AccountRole.institution_id, AccountRole.account_ref),
            AccountRole.superseded_at.is_(None)).order_by(AccountRole.valid_from, AccountRole.ref)
        if as_of is not None:
            query = query.where(as_of_clause(AccountRole.valid_from, AccountRole.valid_to, as_of))
        roles = list(self.session.execute(query, key_arrays(keys)).scalars())
        parties = parties_by_key(self.session, {(r.institution_id, r.party_ref) for r in roles})
        found: dict[PartyKey, list[dict[str, Any]]] = {}
        for r in roles:
            found.setdefault((r.institution_id, r.account_ref), []).append({
                "id": document_id(r.institution_id, r.party_ref), "customer_id": r.party_ref,
                "role": r.role, "role_from": iso(r.valid_from), "role_to": iso(r.valid_to),
                "party": parties.get((r.institution_id, r.party_ref))})
        return found


def holder_names(result: dict[str, Any]) -> list[str]:
    return [n for h in result["holders"] for n in party_names(h["party"])]


def _account(a: Account, code: str, holders: list[dict[str, Any]], why: str) -> dict[str, Any]:
    # "account:" keeps account ids apart from party ids in the audit log's result_ids, which
    # the oversight flags read as parties.
    return {"id": f"account:{document_id(a.institution_id, a.ref)}", "institution": code,
            "account_id": a.ref, "iban": a.iban, "number": a.number, "bic": a.bic,
            "type": a.type, "currency": a.currency, "opened_on": iso(a.opened_on),
            "closed_on": iso(a.closed_on), "score": 1.0, "explanation": [why], "holders": holders}


_PARTIES_BY_KEY = (
    select(Party, Institution.code).join(Institution, Institution.id == Party.institution_id)
    .where(keys_in(Party.institution_id, Party.ref), Party.superseded_at.is_(None)))


def parties_by_key(session: Session, keys: Iterable[PartyKey]) -> dict[PartyKey, dict[str, Any]]:
    """The current record of each party, shown as the institution reported it."""
    wanted = list(keys)
    if not wanted:
        return {}
    rows = session.execute(_PARTIES_BY_KEY, key_arrays(wanted)).all()
    columns = [c.name for c in Party.__table__.columns]
    return {(p.institution_id, p.ref): {"kind": p.kind, **party_display(
        {c: getattr(p, c) for c in columns}, code)} for p, code in rows}


# Built once: a search runs it every time, and building a statement costs more than running it.
# Columns, not Account entities: tracking ORM objects for a hundred accounts costs more still.
_ACCOUNTS_OF_PARTIES = (
    select(Account.ref, Account.iban, Account.number, Account.type, Account.currency,
           Account.opened_on, Account.closed_on, AccountRole.role, AccountRole.valid_from,
           AccountRole.valid_to, Institution.code, AccountRole.institution_id, AccountRole.party_ref)
    .join(AccountRole, (AccountRole.institution_id == Account.institution_id)
          & (AccountRole.account_ref == Account.ref))
    .join(Institution, Institution.id == Account.institution_id)
    .where(keys_in(AccountRole.institution_id, AccountRole.party_ref),
           AccountRole.superseded_at.is_(None), Account.superseded_at.is_(None))
    .order_by(Account.opened_on, Account.ref))


_DAY = bindparam("day", type_=Date)
# On `as_of`: the role held then, on an account open then.
_ACCOUNTS_OF_PARTIES_ON = _ACCOUNTS_OF_PARTIES.where(
    as_of_clause(AccountRole.valid_from, AccountRole.valid_to, _DAY),
    as_of_clause(Account.opened_on, Account.closed_on, _DAY))


# Parties whose every account role and ownership interest, as reported, began after the day:
# not yet customers then. A party with no link, or a link of unknown start, is kept: nothing
# says it was not one.
_NOT_YET_RELATED = text("""
SELECT k.institution_id, k.ref FROM unnest(CAST(:key_institutions AS int[]), CAST(:key_refs AS text[])) AS k(institution_id, ref)
WHERE EXISTS (SELECT 1 FROM account_roles r WHERE r.institution_id = k.institution_id
                AND r.party_ref = k.ref AND r.superseded_at IS NULL)
   OR EXISTS (SELECT 1 FROM ownership_interests o WHERE o.institution_id = k.institution_id
                AND k.ref IN (o.owner_ref, o.owned_ref) AND o.superseded_at IS NULL)
EXCEPT
SELECT k.institution_id, k.ref FROM unnest(CAST(:key_institutions AS int[]), CAST(:key_refs AS text[])) AS k(institution_id, ref)
WHERE EXISTS (SELECT 1 FROM account_roles r WHERE r.institution_id = k.institution_id
                AND r.party_ref = k.ref AND r.superseded_at IS NULL
                AND (r.valid_from IS NULL OR r.valid_from <= :day))
   OR EXISTS (SELECT 1 FROM ownership_interests o WHERE o.institution_id = k.institution_id
                AND k.ref IN (o.owner_ref, o.owned_ref) AND o.superseded_at IS NULL
                AND (o.valid_from IS NULL OR o.valid_from <= :day))
""")


def not_yet_related(session: Session, parties: set[PartyKey], day: date) -> set[PartyKey]:
    """Of `parties`, those that on `day` held no account and no interest yet: every role and
    interest their institution reported began later. A search as of that day leaves them out."""
    if not parties:
        return set()
    rows = session.connection().execute(_NOT_YET_RELATED, {**key_arrays(parties), "day": day})
    return {(int(i), str(ref)) for i, ref in rows}


def accounts_of_parties(session: Session, parties: set[PartyKey],
                        as_of: date | None = None) -> dict[PartyKey, list[dict[str, Any]]]:
    """Accounts and roles of every shown party, in one query rather than one per result:
    every one ever reported, with its dates, or those held on `as_of`."""
    if not parties:
        return {}
    statement, values = _ACCOUNTS_OF_PARTIES, key_arrays(parties)
    if as_of is not None:
        statement, values = _ACCOUNTS_OF_PARTIES_ON, {**values, "day": as_of}
    # On the session's connection: plain rows need none of the ORM session's bookkeeping.
    rows = session.connection().execute(statement, values).all()
    found: dict[PartyKey, list[dict[str, Any]]] = {}
    for a in rows:
        found.setdefault((a.institution_id, a.party_ref), []).append({
            "institution": a.code, "customer_id": a.party_ref, "account_id": a.ref, "iban": a.iban,
            "number": a.number, "type": a.type, "currency": a.currency, "role": a.role,
            "opened_on": iso(a.opened_on), "closed_on": iso(a.closed_on),
            "role_from": iso(a.valid_from), "role_to": iso(a.valid_to)})
    return found
