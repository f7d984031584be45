"""The chain walk names the first broken event and what happened to it (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from registry.audit import Checkpoint, ChainRow, event_hash, sign, signature_ok, walk_chain

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
KEY = "test-signing-key"


def chain(n: int, start_prev: str | None = None, first_id: int = 1) -> list[ChainRow]:
    rows, prev = [], start_prev
    for i in range(n):
        fields = {"occurred_at": (T0 + timedelta(seconds=i)).isoformat(), "tag": "search:person:query",
                  "outcome": "ok", "user_id": 1, "actor": "ines", "role": "investigator",
                  "agency": "FIU", "client_address": "127.0.0.1", "case_id": 1,
                  "legal_basis": "fiu_analysis", "parameters": {"name": f"Person {i}"},
                  "result_count": 1, "result_ids": [f"1:C{i}"], "detail": None}
        digest = event_hash(fields, prev)
        rows.append(ChainRow(first_id + i * 2, fields, prev, digest))  # ids have gaps, as in life
        prev = digest
    return rows


def locator(rows: list[ChainRow]):  # type: ignore[no-untyped-def]
    ids = {r.chain_hash: r.id for r in rows}
    return lambda h: ids.get(h)


def verify(rows: list[ChainRow], checkpoints: list[Checkpoint] | None = None,
           start: Checkpoint | None = None):  # type: ignore[no-untyped-def]
    return walk_chain(rows, checkpoints or [], locator(rows), start)


def checkpoint_at(rows: list[ChainRow], index: int, kind: str = "checkpoint") -> Checkpoint:
    cp = Checkpoint(kind, rows[index].id, rows[index].chain_hash or "", index + 1, T0)
    return replace(cp, signature=sign(KEY, cp))


def test_an_untouched_chain_verifies() -> None:
    rows = chain(10)
    result = verify(rows, [checkpoint_at(rows, 4), checkpoint_at(rows, 9)])
    assert result.ok and result.events == 10 and result.checkpoints == 2
    assert (result.first_id, result.last_id) == (1, 19)


def test_an_edited_event_is_named() -> None:
    rows = chain(10)
    rows[3] = replace(rows[3], fields={**rows[3].fields, "result_count": 0})
    broken = verify(rows).broken
    assert broken is not None and (broken.event_id, broken.kind) == (rows[3].id, "edited")


def test_a_deleted_event_is_named_by_its_successor() -> None:
    rows = chain(10)
    gone = rows.pop(5)
    broken = verify(rows).broken
    assert broken is not None and broken.kind == "deleted"
    assert broken.event_id == rows[5].id and gone.id < rows[5].id


def test_an_inserted_event_that_links_correctly_is_named() -> None:
    rows = chain(10)
    forged_fields = {**rows[4].fields, "parameters": {"name": "Forged"}}
    forged = ChainRow(rows[4].id + 1, forged_fields, rows[4].chain_hash,
                      event_hash(forged_fields, rows[4].chain_hash))
    rows.insert(5, forged)
    broken = verify(rows).broken
    assert broken is not None and (broken.event_id, broken.kind) == (forged.id, "inserted")


def test_an_inserted_event_with_a_made_up_link_is_named() -> None:
    rows = chain(10)
    fields = {**rows[4].fields, "parameters": {"name": "Forged"}}
    forged = ChainRow(rows[4].id + 1, fields, "0" * 64, event_hash(fields, "0" * 64))
    rows.insert(5, forged)
    broken = verify(rows).broken
    assert broken is not None and (broken.event_id, broken.kind) == (forged.id, "inserted")


def test_reordered_events_are_named() -> None:
    rows = chain(10)
    a, b = rows[3], rows[4]
    rows[3], rows[4] = replace(b, id=a.id), replace(a, id=b.id)  # ids swapped
    broken = verify(rows).broken
    assert broken is not None and (broken.event_id, broken.kind) == (a.id, "reordered")


def test_a_recomputed_chain_is_caught_by_a_signed_checkpoint() -> None:
    rows = chain(10)
    cp = checkpoint_at(rows, 7)
    rows[2] = replace(rows[2], fields={**rows[2].fields, "actor": "someone else"})
    rewritten = chain(0)
    prev = None
    for row in rows:  # the forger recomputes every hash after the edit
        digest = event_hash(row.fields, prev)
        rewritten.append(replace(row, prev_hash=prev, chain_hash=digest))
        prev = digest
    assert verify(rewritten).ok, "without a checkpoint the rewrite is invisible"
    broken = verify(rewritten, [cp]).broken
    assert broken is not None and (broken.event_id, broken.kind) == (rows[7].id, "rewritten")


def test_deleting_the_tail_is_caught_by_a_checkpoint() -> None:
    rows = chain(10)
    cp = checkpoint_at(rows, 9)
    broken = verify(rows[:8], [cp]).broken
    assert broken is not None and (broken.event_id, broken.kind) == (rows[9].id, "deleted")


def test_verification_restarts_from_a_prune_anchor() -> None:
    rows = chain(10)
    anchor = checkpoint_at(rows, 5, kind="prune")
    result = verify(rows[6:], [anchor, checkpoint_at(rows, 8)], start=anchor)
    assert result.ok and result.events == 4 and result.checkpoints == 1
    assert result.anchor_id == rows[5].id
    assert not verify(rows[7:], [anchor], start=anchor).ok, "an event after the anchor is missing"


def test_signatures_cover_every_field_of_a_checkpoint() -> None:
    rows = chain(3)
    cp = checkpoint_at(rows, 2)
    assert signature_ok(KEY, cp)
    assert not signature_ok("another key", cp)
    for change in ({"event_count": 2}, {"kind": "prune"}, {"last_event_id": 1},
                   {"chain_hash": "0" * 64}, {"created_at": T0 + timedelta(seconds=1)}):
        assert not signature_ok(KEY, replace(cp, **change)), change
