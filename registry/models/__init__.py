"""SQLAlchemy 2 typed mappings: the registry's system of record."""

from registry.models.access import (
    LEGAL_BASES,
    OFFENCES,
    ROLES,
    Agency,
    ApiToken,
    Case,
    CaseAssignment,
    CooperationRequest,
    User,
)
from registry.models.audit import AuditEvent
from registry.models.base import Base, as_of_clause, key_arrays, keys_in
from registry.models.reporting import (
    Account,
    AccountRole,
    Extract,
    Institution,
    OwnershipInterest,
    Party,
    SearchOutbox,
)

__all__ = [
    "LEGAL_BASES", "OFFENCES", "ROLES", "Account", "AccountRole", "Agency", "ApiToken",
    "AuditEvent", "Base", "Case", "CaseAssignment", "CooperationRequest", "Extract",
    "Institution", "OwnershipInterest", "Party", "SearchOutbox", "User", "as_of_clause",
    "key_arrays", "keys_in",
]
