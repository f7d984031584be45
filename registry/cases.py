"""Cases: no search or record view without a purpose. Every lookup names an open case its
caller is assigned to; anything else is refused, and the refusal is audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from registry import audit
from registry.auth import Caller, caller_fields
from registry.errors import Forbidden
from registry.models import Case, CaseAssignment


def open_case(session: Session, caller: Caller, case_id: int, tag: str, client: str | None,
              parameters: dict[str, Any] | None = None) -> Case:
    """The case the caller works under, or an audited refusal."""
    case = session.get(Case, case_id)
    assigned = case is not None and session.get(CaseAssignment, (case_id, caller.id)) is not None
    if case is None or case.status != "open" or not assigned:
        reason = ("no such case" if case is None else "the case is closed"
                  if case.status != "open" else "you are not assigned to this case")
        audit.record(session, tag, "refused", **caller_fields(caller), client_address=client,
                     case_id=case.id if case else None,
                     legal_basis=case.legal_basis if case else None,
                     detail=reason, parameters={"case_id": case_id, **(parameters or {})})
        raise Forbidden(f"Search refused: {reason}. Every search must name an open case "
                        "you are assigned to.")
    return case
