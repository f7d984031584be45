"""The audit log in the real database: tampering of each kind is named by `verify`, signed
checkpoints catch a recomputed chain, pruning keeps the rest verifiable.

Tampering happens inside a transaction that is rolled back, with triggers off for that
transaction only (session_replication_role, as a superuser could), so the shared test
database keeps an intact chain.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from registry import audit
from registry.cli import main
from registry.config import Settings
from registry.models import AuditEvent
from tests.integration.test_slice import cli_env

from tests.conftest import AUDIT_SIGNING_KEY as KEY  # noqa: E402  (the app's key too)


@contextmanager
def rolled_back(engine: Engine, tamper: bool = True) -> Iterator[Session]:
    with engine.connect() as conn:
        outer = conn.begin()
        if tamper:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        session = Session(bind=conn)
        try:
            yield session
        finally:
            session.close()
            outer.rollback()


@pytest.fixture()
def events(engine: Engine) -> list[int]:
    """Five fresh events, with a gap in their ids after the first (as a rollback leaves)."""
    ids = []
    with Session(engine) as session:
        ids.append(audit.record(session, "test:audit:write", "ok", parameters={"n": 0}).id)
        session.commit()
    with Session(engine) as session:
        audit.record(session, "test:audit:write", "ok", parameters={"n": "rolled back"})
        session.rollback()
    with Session(engine) as session:
        ids += [audit.record(session, "test:audit:write", "ok", parameters={"n": n}).id for n in range(1, 5)]
        session.commit()
    return ids


def test_a_writer_that_waited_for_the_lock_links_to_the_event_committed_meanwhile(engine: Engine) -> None:
    # The second writer blocks on the chain lock while the first holds it; once granted, it
    # must read the head the first one committed, not the one it would have seen before
    # waiting (what a single SELECT taking the lock and reading the head would link to).
    second: dict[str, Any] = {}

    def write_second() -> None:
        try:
            with Session(engine) as session:
                second["id"] = audit.record(session, "test:audit:write", "ok",
                                            parameters={"n": "second"}).id
                session.commit()
        except Exception as error:  # noqa: BLE001  (reported by the test below)
            second["error"] = error

    first = Session(engine)
    waiter = threading.Thread(target=write_second, daemon=True)
    try:
        mine = audit.record(first, "test:audit:write", "ok", parameters={"n": "first"})
        waiter.start()
        waiter.join(timeout=1.0)
        assert waiter.is_alive(), "the second writer did not wait for the chain lock"
        first.commit()
    finally:
        first.close()  # releases the lock whatever happened
    waiter.join(timeout=30)
    assert "error" not in second, second.get("error")
    with Session(engine) as session:
        prev = session.execute(select(AuditEvent.prev_hash).where(AuditEvent.id == second["id"])).scalar()
        head = session.execute(select(AuditEvent.chain_hash).where(AuditEvent.id == mine.id)).scalar()
        assert prev == head
        assert audit.verify(session, KEY).ok


def broken(session: Session, key: str = "") -> tuple[int, str]:
    result = audit.verify(session, key)
    assert result.broken is not None, "tampering went unnoticed"
    return result.broken.event_id, result.broken.kind


def test_the_real_chain_verifies(engine: Engine, events: list[int]) -> None:
    with Session(engine) as session:
        result = audit.verify(session)
    assert result.ok, result.broken
    assert result.last_id is not None and result.last_id >= events[-1]


def test_an_edited_event_is_named(engine: Engine, events: list[int]) -> None:
    with rolled_back(engine) as session:
        session.execute(text("UPDATE audit_events SET result_count = 99 WHERE id = :i"), {"i": events[2]})
        assert broken(session) == (events[2], "edited")


def test_a_deleted_event_is_named_by_its_successor(engine: Engine, events: list[int]) -> None:
    with rolled_back(engine) as session:
        session.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": events[2]})
        assert broken(session) == (events[3], "deleted")


def test_an_inserted_event_is_named(engine: Engine, events: list[int]) -> None:
    with rolled_back(engine) as session:
        first = session.get(AuditEvent, events[0])
        assert first is not None
        fields = {k: getattr(first, k) for k in audit.CHAINED_FIELDS}
        fields.update(parameters={"n": "forged"})
        hashed = {**fields, "occurred_at": fields["occurred_at"].astimezone(UTC).isoformat()}
        forged_id = events[0] + 1  # the id the rolled-back event left unused
        session.add(AuditEvent(id=forged_id, **fields, prev_hash=first.chain_hash,
                               chain_hash=audit.event_hash(hashed, first.chain_hash)))
        session.flush()
        assert broken(session) == (forged_id, "inserted")


def test_reordered_events_are_named(engine: Engine, events: list[int]) -> None:
    a, b = events[2], events[3]
    with rolled_back(engine) as session:
        for old, new in ((a, -1), (b, a), (-1, b)):
            session.execute(text("UPDATE audit_events SET id = :new WHERE id = :old"), {"old": old, "new": new})
        assert broken(session) == (a, "reordered")


def test_a_recomputed_chain_is_caught_by_a_signed_checkpoint(engine: Engine, events: list[int]) -> None:
    with rolled_back(engine) as session:
        cp = audit.checkpoint(session, KEY)
        assert audit.verify(session, KEY).ok
        rows = session.execute(select(AuditEvent).where(AuditEvent.id >= events[1])
                               .order_by(AuditEvent.id)).scalars().all()
        rows[0].actor = "someone else"
        prev = rows[0].prev_hash
        for row in rows:  # the forger recomputes every later hash
            fields = {k: getattr(row, k) for k in audit.CHAINED_FIELDS}
            fields["occurred_at"] = fields["occurred_at"].astimezone(UTC).isoformat()
            row.prev_hash, row.chain_hash = prev, audit.event_hash(fields, prev)
            prev = row.chain_hash
        session.flush()
        assert broken(session) == (cp.last_event_id, "rewritten")


def test_a_forged_checkpoint_is_caught(engine: Engine, events: list[int]) -> None:
    with rolled_back(engine) as session:
        session.execute(text("INSERT INTO audit_checkpoints (kind, last_event_id, chain_hash, event_count, "
                             "created_at, signature) SELECT 'prune', id, chain_hash, 1, now(), :sig "
                             "FROM audit_events WHERE id = :i"), {"i": events[4], "sig": "0" * 64})
        assert broken(session, KEY) == (events[4], "checkpoint")


def test_pruning_keeps_the_rest_verifiable(engine: Engine, events: list[int]) -> None:
    with rolled_back(engine, tamper=False) as session:
        done = audit.prune(session, KEY, datetime.now(UTC) + timedelta(seconds=1))
        assert done.removed >= len(events) and done.anchor_event_id is not None
        assert session.execute(select(AuditEvent.id).limit(1)).first() is None
        after = audit.record(session, "test:audit:write", "ok", parameters={"n": "after prune"})
        result = audit.verify(session, KEY)
        assert result.ok, result.broken
        assert (result.anchor_id, result.events, result.first_id) == (done.anchor_event_id, 1, after.id)


def test_pruning_refuses_a_broken_chain(engine: Engine, events: list[int]) -> None:
    with rolled_back(engine) as session:
        session.execute(text("UPDATE audit_events SET detail = 'edited' WHERE id = :i"), {"i": events[1]})
        session.execute(text("SET LOCAL session_replication_role = origin"))
        with pytest.raises(audit.ChainBroken, match=f"edited at event {events[1]}"):
            audit.prune(session, KEY, datetime.now(UTC) + timedelta(seconds=1))


def test_deleting_without_an_anchor_is_refused_even_with_the_setting(engine: Engine, events: list[int]) -> None:
    with pytest.raises(DBAPIError, match="not covered by a prune anchor"), engine.begin() as conn:
        conn.execute(text("SET LOCAL registry.audit_prune = 'on'"))
        conn.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": events[4]})
    with pytest.raises(DBAPIError, match="no prune anchor"), engine.begin() as conn:
        conn.execute(text("SELECT prune_audit_events(:i)"), {"i": events[4]})


def test_cli_signs_checkpoints_and_verifies(settings: Settings, events: list[int]) -> None:
    env = {**cli_env(settings), "REGISTRY_AUDIT_SIGNING_KEY": KEY}
    signed = CliRunner().invoke(main, ["audit", "checkpoint"], env=env, catch_exceptions=False)
    assert signed.exit_code == 0, signed.output
    assert json.loads(signed.output)["last_event_id"] >= events[-1]
    checked = CliRunner().invoke(main, ["audit", "verify"], env=env, catch_exceptions=False)
    assert checked.exit_code == 0, checked.output
    report = json.loads(checked.output)
    assert report["ok"] and report["signatures_checked"] and report["checkpoints"] >= 1
    pruned = CliRunner().invoke(main, ["audit", "prune", "--days", "3650"], env=env, catch_exceptions=False)
    assert pruned.exit_code == 0 and "0 events pruned" in pruned.output


def test_cli_checkpoint_needs_the_key(settings: Settings) -> None:
    result = CliRunner().invoke(main, ["audit", "checkpoint"], env={**cli_env(settings),
                                                                    "REGISTRY_AUDIT_SIGNING_KEY": ""})
    assert result.exit_code != 0 and "REGISTRY_AUDIT_SIGNING_KEY" in result.output
