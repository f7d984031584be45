"""A rebuild and the drainers side by side: nothing drained during a rebuild is lost when the
alias moves (Postgres is the truth; the index is always rebuilt from it)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from loaders.pipeline import ExtractLoader
from registry import indexing
from registry.admin import add_institution
from registry.config import Settings
from registry.indexing import compare_counts, drain_outbox, rebuild
from search.gateway import SearchGateway
from tests.integration.helpers import person, write_extract


def new_bank(engine: Engine, tmp_path: Path, parties: int) -> str:
    code = "RB" + uuid.uuid4().hex[:6].upper() + "XXX"
    add_institution(engine, code, code)
    book = [person(f"P{i}", f"Halvard{i} Rasmussen") for i in range(parties)]
    assert ExtractLoader(engine).load(write_extract(tmp_path / "full.jsonl", code, book)).status == "applied"
    return code


def rename(engine: Engine, tmp_path: Path, code: str, ref: str, name: str) -> None:
    delta = write_extract(tmp_path / f"{ref}.jsonl", code, [person(ref, name)], sequence=2,
                          kind="delta", as_of=date(2026, 2, 1))
    assert ExtractLoader(engine).load(delta).status == "applied"


def indexed_name(engine: Engine, gateway: SearchGateway, code: str, ref: str) -> str:
    with engine.connect() as conn:
        institution: int = conn.execute(text("SELECT id FROM institutions WHERE code = :c"), {"c": code}).scalar_one()
    document = gateway.es.get(index=gateway.alias, id=f"{institution}:{ref}")
    return str(document["_source"]["display"]["full_name"])


def queued(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM search_outbox")).scalar_one())


def test_a_change_drained_while_a_rebuild_reads_is_in_the_index_after_the_alias_moves(
        engine: Engine, gateway: SearchGateway, tmp_path: Path) -> None:
    code = new_bank(engine, tmp_path, 300)
    drain_outbox(engine, gateway)
    drained_meanwhile: list[object] = []

    def meanwhile(_: int) -> None:
        # The rebuild has read its first chunk: its snapshot is taken. A bank's delta is
        # applied now, and a drainer (the worker, `registry index drain`) comes round.
        if drained_meanwhile:
            return
        rename(engine, tmp_path, code, "P299", "Renamed Omega")
        try:
            drained_meanwhile.append(drain_outbox(engine, gateway))
        except indexing.DrainPostponed as waiting:
            drained_meanwhile.append(str(waiting))

    rebuild(engine, gateway, progress=meanwhile, chunk=50)
    drain_outbox(engine, gateway)  # the worker's next round, after the move
    assert indexed_name(engine, gateway, code, "P299") == "Renamed Omega"
    assert "rebuild" in str(drained_meanwhile[0]), "the drainer left the change queued"
    assert queued(engine) == 0
    assert all(r["ok"] for r in compare_counts(engine, gateway))


def rebuild_waiting(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND classid = :space AND objid = :key AND objsubid = 2"), indexing.INDEX_LOCK).scalar_one())


def wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_rebuild_waits_for_the_batch_in_flight_and_turns_later_drainers_away(
        engine: Engine, gateway: SearchGateway, tmp_path: Path) -> None:
    code = new_bank(engine, tmp_path, 20)
    drain_outbox(engine, gateway)
    before = gateway.current_index()
    rename(engine, tmp_path, code, "P7", "Halvard7 Berg")
    rebuilt: list[int] = []
    with engine.begin() as batch:
        # A drainer's batch in flight holds the lock shared until it commits.
        assert batch.execute(text("SELECT pg_try_advisory_xact_lock_shared(:space, :key)"),
                             indexing.INDEX_LOCK).scalar()
        rebuilding = threading.Thread(target=lambda: rebuilt.append(rebuild(engine, gateway)))
        rebuilding.start()
        wait_for(lambda: rebuild_waiting(engine))
        assert gateway.current_index() == before, "the rebuild read nothing yet"
        # A drainer arriving now is not let in ahead of the waiting rebuild (no starvation).
        with pytest.raises(indexing.DrainPostponed):
            drain_outbox(engine, gateway)
    rebuilding.join(120)
    assert rebuilt and gateway.current_index() != before
    assert indexed_name(engine, gateway, code, "P7") == "Halvard7 Berg"  # in the snapshot
    assert drain_outbox(engine, gateway) >= 1
    assert all(r["ok"] for r in compare_counts(engine, gateway))


def test_index_check_finds_a_document_older_than_its_party_and_a_rebuild_mends_it(
        engine: Engine, gateway: SearchGateway, settings: Settings, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from registry.cli import main
    from tests.integration.test_slice import cli_env

    code = new_bank(engine, tmp_path, 10)
    drain_outbox(engine, gateway)
    rename(engine, tmp_path, code, "P3", "Renamed Later")
    # What a lost update leaves: Postgres moved on, the outbox forgot, the index did not.
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM search_outbox WHERE institution_id = "
                          "(SELECT id FROM institutions WHERE code = :c)"), {"c": code})

    def check() -> tuple[int, dict[str, Any]]:
        result = CliRunner().invoke(main, ["index", "check"], env=cli_env(settings))
        rows = json.loads(result.stdout)
        return result.exit_code, next(r for r in rows if r["institution"] == code)

    exit_code, row = check()
    assert row["postgres"] == row["elasticsearch"] == 10, "the counts agree"
    assert (exit_code, row["ok"]) == (1, False)
    assert row["same_versions"] is False
    rebuild(engine, gateway)
    exit_code, row = check()
    assert (exit_code, row["same_versions"], row["ok"]) == (0, True, True)
    assert indexed_name(engine, gateway, code, "P3") == "Renamed Later"


def test_two_creators_of_the_first_index_make_one(engine: Engine, gateway: SearchGateway) -> None:
    fresh = SearchGateway(gateway.es, f"{gateway.prefix}-first-{uuid.uuid4().hex[:6]}")
    outcome: list[object] = []

    def create() -> None:
        try:
            indexing.ensure_index(engine, fresh)
            outcome.append("done")
        except Exception as error:  # noqa: BLE001 - the test reports whatever it was
            outcome.append(error)

    try:
        with engine.begin() as other:
            # Another creator (a drainer starting at the same moment, or a rebuild) holds the lock.
            other.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"), indexing.INDEX_LOCK)
            creating = threading.Thread(target=create)
            creating.start()
            wait_for(lambda: rebuild_waiting(engine))
            assert fresh.current_index() is None and not outcome, "it waits, creating nothing"
            fresh.ensure_index()  # what the other creator does while it holds the lock
        creating.join(30)
        assert outcome == ["done"]
        assert len(fresh.es.indices.get_alias(name=fresh.alias)) == 1
    finally:
        fresh.delete_all()


def test_a_rebuild_that_loses_its_lock_moves_no_alias(engine: Engine, gateway: SearchGateway,
                                                      tmp_path: Path) -> None:
    new_bank(engine, tmp_path, 120)
    drain_outbox(engine, gateway)
    before = gateway.current_index()
    indices = set(gateway.es.indices.get(index=f"{gateway.prefix}-parties-*"))

    def lose_the_lock(_: int) -> None:
        # The lock's connection ends (a restart, a network cut, an administrator's kill):
        # drainers could now write to the live index while the rebuild fills its new one.
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                              "AND classid = :space AND objid = :key AND mode = 'ExclusiveLock'"),
                         indexing.INDEX_LOCK)

    with pytest.raises(indexing.IndexingFailed, match="lost its lock"):
        rebuild(engine, gateway, progress=lose_the_lock, chunk=50)
    assert gateway.current_index() == before
    assert set(gateway.es.indices.get(index=f"{gateway.prefix}-parties-*")) == indices  # the new one dropped
