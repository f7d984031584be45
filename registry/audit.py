"""The audit log: events written in the caller's transaction, hash-chained to the previous
event; verification that names the first broken event; signed checkpoints; pruning.

Every event's `chain_hash` is SHA-256 over its content and the previous event's hash. An
edit breaks that event's own hash; a deletion, an insertion or a reordering breaks a link.
Recomputing the whole chain after an edit would hide it, so an auditor signs checkpoints of
the head (HMAC-SHA256 with a key the database never sees); a rewritten chain no longer
matches them. Pruning under the retention rule first signs a `prune` anchor at the last
deleted event, and verification restarts from it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from registry.models import AuditEvent
from registry.models.audit import AuditCheckpoint

# One chain: writers take this transaction-scoped lock so each event links to the one
# committed before it, and the lock is released with the commit that makes it visible.
CHAIN_LOCK = 0x41554449  # "AUDI"

CHAINED_FIELDS = ("occurred_at", "tag", "outcome", "user_id", "actor", "role", "agency",
                  "client_address", "case_id", "legal_basis", "parameters", "result_count",
                  "result_ids", "detail")


class ChainBroken(RuntimeError):
    """Refuse to act (prune) on a chain that does not verify: that would destroy evidence."""


def event_hash(fields: dict[str, Any], prev_hash: str | None) -> str:
    body = orjson.dumps({"prev": prev_hash, **fields}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()


# Statements built once. Checkpoints and pruning take the chain lock on its own.
_TAKE_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
# Every audited event takes the lock and, once it is granted, reads the head (or the prune
# anchor's hash), in one round trip; migration 0008 says why a plain SELECT could not.
_LOCK_AND_HEAD = text("SELECT audit_chain_head(:k)")
# On the table, not the ORM class: an ORM insert goes through the bulk-persistence machinery.
_INSERT = insert(AuditEvent.__table__).returning(AuditEvent.__table__.c.id)


def _lock(session: Session) -> None:
    session.execute(_TAKE_LOCK, {"k": CHAIN_LOCK})


def _latest_anchor(session: Session) -> AuditCheckpoint | None:
    return session.execute(
        select(AuditCheckpoint).where(AuditCheckpoint.kind == "prune")
        .order_by(AuditCheckpoint.last_event_id.desc()).limit(1)).scalar()


@dataclass(frozen=True)
class Recorded:
    id: int


def record(session: Session, tag: str, outcome: str, **fields: Any) -> Recorded:
    prev = session.execute(_LOCK_AND_HEAD, {"k": CHAIN_LOCK}).scalar()
    values: dict[str, Any] = {k: fields.get(k) for k in CHAINED_FIELDS}
    values.update(tag=tag, outcome=outcome, occurred_at=datetime.now(UTC))
    values["parameters"] = values["parameters"] or {}
    values["result_ids"] = values["result_ids"] or []
    hashed = {**values, "occurred_at": values["occurred_at"].isoformat()}
    chain_hash = event_hash(hashed, prev)
    # A plain INSERT on the session's connection (same transaction), not an ORM object: every
    # search writes one while holding the chain lock, so the shorter the better.
    session.flush()
    event_id = session.connection().execute(
        _INSERT, {**values, "prev_hash": prev, "chain_hash": chain_hash}).scalar_one()
    return Recorded(event_id)


# ---- verification -----------------------------------------------------------------------

@dataclass(frozen=True)
class ChainRow:
    id: int
    fields: dict[str, Any]
    prev_hash: str | None
    chain_hash: str | None


@dataclass(frozen=True)
class Break:
    event_id: int
    kind: str  # edited, deleted, inserted, reordered, rewritten, checkpoint
    detail: str


@dataclass
class VerifyResult:
    events: int = 0
    first_id: int | None = None
    last_id: int | None = None
    checkpoints: int = 0
    signatures_checked: bool = False
    broken: Break | None = None
    anchor_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, **asdict(self)}


@dataclass(frozen=True)
class Checkpoint:
    kind: str
    last_event_id: int
    chain_hash: str
    event_count: int
    created_at: datetime
    signature: str = field(default="")


def sign(key: str, cp: Checkpoint) -> str:
    # The kind is signed too, so an ordinary checkpoint cannot be passed off as a prune anchor.
    message = (f"{cp.kind}|{cp.last_event_id}|{cp.chain_hash}|{cp.event_count}|"
               f"{cp.created_at.astimezone(UTC).isoformat()}")
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def signature_ok(key: str, cp: Checkpoint) -> bool:
    return hmac.compare_digest(sign(key, cp), cp.signature)


def _classify(row: ChainRow, nxt: ChainRow | None, prev: ChainRow | None, grand: str | None,
              locate: Callable[[str], int | None]) -> Break:
    """Name what happened at the first link that does not hold."""
    linked = locate(row.prev_hash) if row.prev_hash else None
    if linked is not None and linked > row.id:
        return Break(row.id, "reordered", f"event {row.id} links to the later event {linked}")
    if nxt is not None and prev is not None and nxt.prev_hash == prev.chain_hash:
        return Break(row.id, "inserted", f"event {row.id} is not in the chain: event {nxt.id} "
                     f"links past it to event {prev.id}")
    if prev is not None and grand is not None and row.prev_hash == grand:
        return Break(prev.id, "inserted", f"event {prev.id} is not in the chain: event {row.id} "
                     "links past it")
    return Break(row.id, "deleted", f"the event before {row.id} is missing (or was edited "
                 "and re-hashed)")


def _lookahead(rows: Iterable[ChainRow]) -> Iterator[tuple[ChainRow, ChainRow | None]]:
    it = iter(rows)
    current = next(it, None)
    while current is not None:
        following = next(it, None)
        yield current, following
        current = following


def walk_chain(rows: Iterable[ChainRow], checkpoints: list[Checkpoint],
               locate: Callable[[str], int | None], start: Checkpoint | None = None) -> VerifyResult:
    """Check every link and every checkpoint; stop at the first break. Rows in id order."""
    result = VerifyResult(anchor_id=start.last_event_id if start else None)
    expected, count = (start.chain_hash, start.event_count) if start else (None, 0)
    pending = sorted((c for c in checkpoints if not start or c.last_event_id > start.last_event_id),
                     key=lambda c: c.last_event_id)
    prev: ChainRow | None = None
    grand: str | None = None
    for row, nxt in _lookahead(rows):
        if pending and pending[0].last_event_id < row.id:
            return _done(result, Break(pending[0].last_event_id, "deleted",
                                       f"event {pending[0].last_event_id}, named by a checkpoint, is missing"))
        if event_hash(row.fields, row.prev_hash) != row.chain_hash:
            return _done(result, Break(row.id, "edited", f"event {row.id} does not match its own hash"))
        if row.prev_hash != expected:
            return _done(result, _classify(row, nxt, prev, grand, locate))
        count += 1
        while pending and pending[0].last_event_id == row.id:
            cp = pending.pop(0)
            if cp.chain_hash != row.chain_hash or cp.event_count != count:
                return _done(result, Break(row.id, "rewritten", f"event {row.id} differs from the "
                                           "signed checkpoint: the chain was recomputed before it"))
            result.checkpoints += 1
        result.events += 1
        result.first_id = result.first_id or row.id
        result.last_id = row.id
        grand, expected, prev = expected, row.chain_hash, row
    if pending:
        return _done(result, Break(pending[0].last_event_id, "deleted",
                                   f"event {pending[0].last_event_id}, named by a checkpoint, is missing"))
    return result


def _done(result: VerifyResult, broken: Break) -> VerifyResult:
    result.broken = broken
    return result


def _as_checkpoint(row: AuditCheckpoint) -> Checkpoint:
    return Checkpoint(row.kind, row.last_event_id, row.chain_hash, row.event_count,
                      row.created_at, row.signature)


def _events_query(after: int | None, upto: int | None) -> Any:
    columns = [getattr(AuditEvent, name) for name in CHAINED_FIELDS]
    query = select(AuditEvent.id, AuditEvent.prev_hash, AuditEvent.chain_hash, *columns)
    if after is not None:
        query = query.where(AuditEvent.id > after)
    if upto is not None:
        query = query.where(AuditEvent.id <= upto)
    return query.order_by(AuditEvent.id).execution_options(yield_per=2000)


def _rows(result: Iterable[Any]) -> Iterator[ChainRow]:
    for row in result:
        values = dict(zip(CHAINED_FIELDS, row[3:], strict=True))
        # Hashed as written: UTC ISO 8601, whatever time zone the connection reads in.
        values["occurred_at"] = values["occurred_at"].astimezone(UTC).isoformat()
        yield ChainRow(row.id, values, row.prev_hash, row.chain_hash)


def verify(session: Session, key: str = "", upto: int | None = None) -> VerifyResult:
    """Verify the log from the latest prune anchor on (or from the start)."""
    stored = [_as_checkpoint(c) for c in session.execute(
        select(AuditCheckpoint).order_by(AuditCheckpoint.id)).scalars()]
    if key:
        forged = next((c for c in stored if not signature_ok(key, c)), None)
        if forged is not None:
            return VerifyResult(signatures_checked=True, broken=Break(
                forged.last_event_id, "checkpoint", "a checkpoint's signature does not verify"))
    anchors = [c for c in stored if c.kind == "prune"]
    start = max(anchors, key=lambda c: c.last_event_id) if anchors else None
    checkpoints = [c for c in stored if upto is None or c.last_event_id <= upto]

    def locate(chain_hash: str) -> int | None:
        return session.execute(select(AuditEvent.id).where(AuditEvent.chain_hash == chain_hash)
                               .limit(1)).scalar()

    # A server-side cursor: memory stays flat however long the log; closed even on a break.
    cursor = session.execute(_events_query(start.last_event_id if start else None, upto))
    try:
        result = walk_chain(_rows(cursor), checkpoints, locate, start)
    finally:
        cursor.close()
    result.signatures_checked = bool(key)
    return result


# ---- checkpoints and pruning ------------------------------------------------------------

def checkpoint(session: Session, key: str, kind: str = "checkpoint",
               upto: int | None = None) -> AuditCheckpoint:
    """Sign the chain head (or the event `upto`). Needs the signing key."""
    if not key:
        raise ValueError("no signing key: set REGISTRY_AUDIT_SIGNING_KEY")
    _lock(session)
    anchor = _latest_anchor(session)
    query = select(AuditEvent.id, AuditEvent.chain_hash).order_by(AuditEvent.id.desc()).limit(1)
    head = session.execute(query.where(AuditEvent.id <= upto) if upto else query).first()
    if head is None:
        raise ValueError("the audit log holds no event to sign")
    since = select(func.count()).select_from(AuditEvent).where(AuditEvent.id <= head.id)
    if anchor is not None:
        since = since.where(AuditEvent.id > anchor.last_event_id)
    count = (anchor.event_count if anchor else 0) + session.execute(since).scalar_one()
    cp = Checkpoint(kind, head.id, head.chain_hash, count, datetime.now(UTC))
    row = AuditCheckpoint(kind=kind, last_event_id=cp.last_event_id, chain_hash=cp.chain_hash,
                          event_count=count, created_at=cp.created_at, signature=sign(key, cp))
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class PruneResult:
    removed: int
    anchor_event_id: int | None


def prune(session: Session, key: str, before: datetime) -> PruneResult:
    """Delete events older than `before`, after verifying them and signing an anchor."""
    _lock(session)
    anchor = _latest_anchor(session)
    query = select(func.max(AuditEvent.id)).where(AuditEvent.occurred_at < before)
    if anchor is not None:
        query = query.where(AuditEvent.id > anchor.last_event_id)
    upto = session.execute(query).scalar()
    if upto is None:
        return PruneResult(0, None)
    checked = verify(session, key, upto=upto)
    if not checked.ok:
        assert checked.broken is not None
        raise ChainBroken(f"not pruning: {checked.broken.kind} at event {checked.broken.event_id}: "
                          f"{checked.broken.detail}")
    checkpoint(session, key, "prune", upto)
    removed = session.execute(text("SELECT prune_audit_events(:upto)"), {"upto": upto}).scalar_one()
    return PruneResult(int(removed), upto)
