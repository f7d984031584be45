"""The query log: one append-only, hash-chained row per look at the registry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from registry.models.base import Base


class AuditEvent(Base):
    """Written in the same transaction as the action it records; never updated or deleted.

    The database itself refuses UPDATE and DELETE (trigger in the migration). `chain_hash`
    covers this row's content and the previous row's hash, so an edit, a deletion or an
    insertion in the middle breaks every later link.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # subject:object:action, e.g. search:person:query, extract:upload:reject.
    tag: Mapped[str] = mapped_column(String(80), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(30))
    agency: Mapped[str | None] = mapped_column(String(200))
    client_address: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    legal_basis: Mapped[str | None] = mapped_column(String(60))
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result_count: Mapped[int | None] = mapped_column(Integer)
    result_ids: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    chain_hash: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)


class AuditCheckpoint(Base):
    """A signed statement of the chain head: "event `last_event_id` has hash `chain_hash` and
    is the `event_count`-th event ever written".

    Anyone holding the signing key can check the log was not rewritten wholesale since: a
    recomputed chain would not match the signed hash. A `prune` checkpoint is the anchor the
    chain restarts from after older events were deleted under the retention rule.
    """

    __tablename__ = "audit_checkpoints"
    __table_args__ = (CheckConstraint("kind IN ('checkpoint', 'prune')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), default="checkpoint")
    last_event_id: Mapped[int] = mapped_column(BigInteger, index=True)
    chain_hash: Mapped[str] = mapped_column(String(64))
    event_count: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    signature: Mapped[str] = mapped_column(String(64))
