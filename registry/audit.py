"""Writing audit events: in the caller's transaction, hash-chained to the previous event."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from registry.models import AuditEvent

# One chain: writers take this transaction-scoped lock so each event links to the one
# committed before it, and the lock is released with the commit that makes it visible.
CHAIN_LOCK = 0x41554449  # "AUDI"

CHAINED_FIELDS = ("occurred_at", "tag", "outcome", "user_id", "actor", "role", "agency",
                  "client_address", "case_id", "legal_basis", "parameters", "result_count",
                  "result_ids", "detail")


def event_hash(fields: dict[str, Any], prev_hash: str | None) -> str:
    body = orjson.dumps({"prev": prev_hash, **fields}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()


def record(session: Session, tag: str, outcome: str, **fields: Any) -> AuditEvent:
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK})
    prev = session.execute(
        select(AuditEvent.chain_hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()
    values: dict[str, Any] = {k: fields.get(k) for k in CHAINED_FIELDS}
    values.update(tag=tag, outcome=outcome, occurred_at=datetime.now(UTC))
    values["parameters"] = values["parameters"] or {}
    values["result_ids"] = values["result_ids"] or []
    hashed = {**values, "occurred_at": values["occurred_at"].isoformat()}
    event = AuditEvent(**values, prev_hash=prev, chain_hash=event_hash(hashed, prev))
    session.add(event)
    session.flush()
    return event
