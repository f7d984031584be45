"""Reporting institutions, their extracts, and the facts they report."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from registry.models.base import Base, ReportedFact

INSTITUTION_KINDS = ("bank", "company_register", "payment_institution", "other")
EXTRACT_STATUSES = ("received", "validating", "applying", "applied", "rejected", "duplicate")
PARTY_KINDS = ("person", "entity")
ACCOUNT_TYPES = (
    "current", "savings", "deposit", "securities", "loan", "payment", "e_money", "crypto",
    "safe_deposit_box",
)
ROLE_KINDS = (
    "holder", "co_holder", "authorised_signatory", "legal_representative", "beneficial_owner",
    "box_lessee",
)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Institution(Base):
    __tablename__ = "institutions"
    __table_args__ = (CheckConstraint(_one_of("kind", INSTITUTION_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # BIC for banks, LEI for others: what extract headers name.
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(30), default="bank")
    country: Mapped[str | None] = mapped_column(String(2))
    api_key_hash: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Extract(Base):
    __tablename__ = "extracts"
    __table_args__ = (
        CheckConstraint(_one_of("status", EXTRACT_STATUSES), name="status"),
        CheckConstraint("kind IN ('full', 'delta', 'bods')", name="kind"),
        # Sequence numbers run without gaps per institution; only one extract may hold each.
        Index("uq_extracts_applied_sequence", "institution_id", "sequence", unique=True,
              postgresql_where=text("status = 'applied'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    # Unknown until the worker has read the header of an upload.
    kind: Mapped[str | None] = mapped_column(String(10))
    format: Mapped[str] = mapped_column(String(20), default="jsonl")
    sequence: Mapped[int | None] = mapped_column(Integer)
    as_of: Mapped[date | None] = mapped_column(Date)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20), default="received")
    path: Mapped[str | None] = mapped_column(Text)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    timings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    errors: Mapped[dict[str, Any] | None]
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[datetime | None]


class Party(ReportedFact, Base):
    """A natural person or legal entity, as one institution reports its customer."""

    __tablename__ = "parties"
    __table_args__ = (
        CheckConstraint(_one_of("kind", PARTY_KINDS), name="kind"),
        Index("uq_parties_current", "institution_id", "ref", unique=True,
              postgresql_where=text("superseded_at IS NULL")),
        # Earlier versions, for the names a party had before (migration 0010).
        Index("ix_parties_superseded", "institution_id", "ref",
              postgresql_where=text("superseded_at IS NOT NULL")),
    )

    kind: Mapped[str] = mapped_column(String(10))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    full_name: Mapped[str] = mapped_column(Text)
    given_names: Mapped[str | None] = mapped_column(Text)
    family_name: Mapped[str | None] = mapped_column(Text)
    other_names: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    # Partial dates are common in source data: YYYY, YYYY-MM or YYYY-MM-DD.
    birth_date: Mapped[str | None] = mapped_column(String(10))
    birth_place: Mapped[str | None] = mapped_column(Text)
    nationalities: Mapped[list[str]] = mapped_column(ARRAY(String(2)), default=list)
    residence_country: Mapped[str | None] = mapped_column(String(2))
    address: Mapped[str | None] = mapped_column(Text)
    identifiers: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    pep: Mapped[bool] = mapped_column(Boolean, default=False)
    legal_form: Mapped[str | None] = mapped_column(Text)
    registration_number: Mapped[str | None] = mapped_column(Text)
    registration_country: Mapped[str | None] = mapped_column(String(2))
    lei: Mapped[str | None] = mapped_column(String(20))
    incorporated_on: Mapped[date | None] = mapped_column(Date)


class Account(ReportedFact, Base):
    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(_one_of("type", ACCOUNT_TYPES), name="type"),
        CheckConstraint("iban IS NOT NULL OR number IS NOT NULL", name="iban_or_number"),
        Index("uq_accounts_current", "institution_id", "ref", unique=True,
              postgresql_where=text("superseded_at IS NULL")),
        Index("ix_accounts_iban_current", "iban", postgresql_where=text("superseded_at IS NULL")),
        # Earlier versions, for the record view's history (migration 0011).
        Index("ix_accounts_superseded", "institution_id", "ref",
              postgresql_where=text("superseded_at IS NOT NULL")),
    )

    iban: Mapped[str | None] = mapped_column(String(34))
    number: Mapped[str | None] = mapped_column(String(64))
    bic: Mapped[str | None] = mapped_column(String(11))
    currency: Mapped[str | None] = mapped_column(String(3))
    type: Mapped[str] = mapped_column(String(20))
    opened_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)


class AccountRole(ReportedFact, Base):
    """Who stands in which role on an account; `ref` is account|party|role."""

    __tablename__ = "account_roles"
    __table_args__ = (
        CheckConstraint(_one_of("role", ROLE_KINDS), name="role"),
        Index("uq_account_roles_current", "institution_id", "ref", unique=True,
              postgresql_where=text("superseded_at IS NULL")),
        Index("ix_account_roles_party", "institution_id", "party_ref",
              postgresql_where=text("superseded_at IS NULL")),
        Index("ix_account_roles_party_superseded", "institution_id", "party_ref",
              postgresql_where=text("superseded_at IS NOT NULL")),
        Index("ix_account_roles_account", "institution_id", "account_ref",
              postgresql_where=text("superseded_at IS NULL")),
    )

    account_ref: Mapped[str] = mapped_column(String(200))
    party_ref: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class OwnershipInterest(ReportedFact, Base):
    """An ownership or control interest of one party in an entity; `ref` is owner|owned, or
    owner|owned|indirect for a declared indirect interest (it can sit beside a direct one)."""

    __tablename__ = "ownership_interests"
    __table_args__ = (
        CheckConstraint("share_min IS NULL OR share_max IS NULL OR share_min <= share_max",
                        name="share_range"),
        CheckConstraint("share_min >= 0 AND share_max <= 100", name="share_bounds"),
        Index("uq_ownership_interests_current", "institution_id", "ref", unique=True,
              postgresql_where=text("superseded_at IS NULL")),
        Index("ix_ownership_owned", "institution_id", "owned_ref",
              postgresql_where=text("superseded_at IS NULL")),
        Index("ix_ownership_owner", "institution_id", "owner_ref",
              postgresql_where=text("superseded_at IS NULL")),
    )

    owner_ref: Mapped[str] = mapped_column(String(200))
    owned_ref: Mapped[str] = mapped_column(String(200))
    # An exact share is stored as min = max; a range as reported.
    share_min: Mapped[float | None] = mapped_column(Numeric(9, 6))
    share_max: Mapped[float | None] = mapped_column(Numeric(9, 6))
    voting_min: Mapped[float | None] = mapped_column(Numeric(9, 6))
    voting_max: Mapped[float | None] = mapped_column(Numeric(9, 6))
    # A bound that is not itself included ("more than 25 %", BODS exclusiveMinimum): "more than
    # 50 %" is a majority, "50 % or more" is not.
    share_min_exclusive: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    share_max_exclusive: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    voting_min_exclusive: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    voting_max_exclusive: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    interests: Mapped[list[str]] = mapped_column(ARRAY(String(60)), default=list)
    direct: Mapped[bool | None] = mapped_column(Boolean)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class SearchOutbox(Base):
    """Changes bound for Elasticsearch, written in the same transaction as the change.

    The worker drains it with bulk requests; while Elasticsearch is down rows wait here, so
    nothing the database accepted is lost to the index.
    """

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    party_ref: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
