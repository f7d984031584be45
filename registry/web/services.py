"""Small actions the pages need that no other service offers: a bank's sign-in with its
key, and party ids for the account search's holders. (Signing out is registry.auth.end_session.)

Each takes the request's session like every service; none commits. Cases are listed by
`registry.cases.CaseService`, users and institutions by `registry.directory.Directory`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry import audit
from registry.auth import hash_secret, institution_fingerprint
from registry.models import Institution
from registry.search_service import current_party_ids


class BankSignIn:
    """A bank signs in to its pages with its code and API key; every attempt is audited."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def sign_in(self, code: str, key: str, client: str | None) -> tuple[Institution, str] | None:
        institution = self.session.execute(select(Institution).where(
            Institution.code == code, Institution.api_key_hash == hash_secret(key))).scalar()
        audit.record(self.session, "auth:session:create", "ok" if institution else "refused",
                     actor=code[:100], role="institution", client_address=client,
                     detail=None if institution else "unknown institution code or key")
        return (institution, institution_fingerprint(institution)) if institution else None


def party_ids(session: Session, keys: list[str]) -> list[int]:
    """Registry ids of parties named "<institution id>:<ref>", in the order given; the record
    view (which audits the look) takes ids. Person and entity results carry `party_id`
    already; the account search's holders do not yet, and link through this."""
    wanted = [(int(i), ref) for i, _, ref in (k.partition(":") for k in keys)]
    found = current_party_ids(session, set(wanted))
    return [found[key] for key in wanted if key in found]
