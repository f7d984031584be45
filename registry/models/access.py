"""Who may look: agencies, users, API tokens, cases and their assigned investigators."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from registry.models.base import Base

ROLES = ("investigator", "supervisor", "auditor", "administrator")

# The legal bases a search may rest on (a controlled list, as the UNCAC expert meeting and
# Article 32a of the EU AML Directive tie access to a defined purpose).
LEGAL_BASES = (
    "domestic_criminal_investigation",
    "asset_recovery",
    "fiu_analysis",
    "incoming_mla_request",
    "tax_investigation",
    "sanctions_enforcement",
)

# UNCAC chapter III offences (articles 15-25) plus money laundering under national law.
OFFENCES = (
    "bribery_national_officials",      # art. 15
    "bribery_foreign_officials",       # art. 16
    "embezzlement_public_official",    # art. 17
    "trading_in_influence",            # art. 18
    "abuse_of_functions",              # art. 19
    "illicit_enrichment",              # art. 20
    "bribery_private_sector",          # art. 21
    "embezzlement_private_sector",     # art. 22
    "laundering_proceeds",             # art. 23
    "concealment",                     # art. 24
    "obstruction_of_justice",          # art. 25
    "money_laundering",
)

# How a cooperation request rests in law (UNCAC art. 46 may serve as the treaty itself).
COOPERATION_BASES = ("uncac_art46", "bilateral_treaty", "multilateral_treaty", "eu_instrument",
                     "reciprocity", "other")
ASSISTANCE_TYPES = ("account_information", "evidence_gathering", "freezing", "confiscation",
                    "asset_return", "service_of_documents", "other")
# Why a search for this person is sensitive enough to flag for an auditor.
SENSITIVE_REASONS = ("pep", "agency_staff", "protected_witness", "other")


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    country: Mapped[str | None] = mapped_column(String(2))


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('investigator', 'supervisor', 'auditor', "
                                      "'administrator')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    password_hash: Mapped[str | None] = mapped_column(Text)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    rate_limit: Mapped[str | None] = mapped_column(String(100))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    # The last TOTP time step accepted: a code seen once is refused if replayed.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class EndedSession(Base):
    """A page session signed out: its cookie, or any copy of it, is refused until it would
    have expired anyway (then the row goes too)."""

    __tablename__ = "ended_sessions"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    ended_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (CheckConstraint("status IN ('open', 'closed')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(100), unique=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    legal_basis: Mapped[str] = mapped_column(String(60))
    # For an incoming mutual-legal-assistance request: the requesting state.
    requesting_state: Mapped[str | None] = mapped_column(String(2))
    offence: Mapped[str] = mapped_column(String(60))
    subjects: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    status: Mapped[str] = mapped_column(String(10), default="open")
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(server_default=func.now())
    closed_at: Mapped[datetime | None]


class CaseAssignment(Base):
    __tablename__ = "case_assignments"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    assigned_at: Mapped[datetime] = mapped_column(server_default=func.now())


class CaseApproval(Base):
    """A supervisor's approval to search a name marked sensitive under one case.

    Stored folded (search.names.analyse_name), like SensitiveName. Withdrawn, never deleted:
    what was approved when is evidence an auditor may need.
    """

    __tablename__ = "case_approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    name: Mapped[str] = mapped_column(Text)
    folded: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    # None: approved by an administrator on the command line (`registry cases approve`).
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime] = mapped_column(server_default=func.now())
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None]


class CooperationRequest(Base):
    """An international cooperation request received or sent (UNCAC art. 46 statistics)."""

    __tablename__ = "cooperation_requests"
    __table_args__ = (CheckConstraint("direction IN ('received', 'sent')", name="direction"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(10))
    counterpart_state: Mapped[str] = mapped_column(String(2))
    assistance_type: Mapped[str] = mapped_column(String(60))
    legal_basis: Mapped[str] = mapped_column(String(60))
    offence: Mapped[str] = mapped_column(String(60))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    # Whose request it is: only that agency's supervisors read and update it (0007).
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    received_on: Mapped[date | None] = mapped_column(Date)
    acknowledged_on: Mapped[date | None] = mapped_column(Date)
    executed_on: Mapped[date | None] = mapped_column(Date)
    refused_on: Mapped[date | None] = mapped_column(Date)
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    confidential: Mapped[bool] = mapped_column(Boolean, default=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SensitiveName(Base):
    """A person whose searches an auditor must see (PEPs, staff of the agencies themselves).

    Stored folded (search.names.fold), so that the oversight check compares like with like.
    """

    __tablename__ = "sensitive_names"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    folded: Mapped[str] = mapped_column(Text, index=True)
    reason: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
