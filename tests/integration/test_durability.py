"""Nothing is lost: a worker killed mid-apply, an Elasticsearch that is away, a rebuild."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from typing import Any

from sqlalchemy import Engine, select, text

from registry.admin import add_institution
from registry.app import make_es
from registry.config import Settings
from registry.indexing import (PARTY_FIELDS, compare_counts, drain_outbox, drain_side_by_side,
                               institution_codes, party_actions, rebuild)
from registry.models import Institution, Party
from registry.processing import process_uploads
from search.gateway import SearchGateway
from search.queries import PersonQuery, person_search
from tests.integration.helpers import account, person, role, write_extract

PARTIES = 10_000


def big_book() -> list[dict]:  # type: ignore[type-arg]
    records: list[dict] = []  # type: ignore[type-arg]
    for i in range(PARTIES):
        records += [person(f"P{i}", f"Karin{i} Lindqvist", birth_date="1966-01-02"),
                    account(f"A{i}", i), role(f"A{i}", f"P{i}")]
    return records


def new_bank(engine: Engine, prefix: str) -> str:
    code = prefix + uuid.uuid4().hex[:6].upper() + "XXX"
    add_institution(engine, code, code)
    return code


def state(engine: Engine, code: str) -> dict[str, object]:
    """Everything an apply writes, minus ids and clocks: equal states mean equal outcomes."""
    with engine.connect() as conn:
        tables = {t: sorted(map(tuple, conn.execute(text(
            f"SELECT ref, record_hash, superseded_at IS NULL FROM {t} x JOIN institutions i "
            "ON i.id = x.institution_id WHERE i.code = :c"), {"c": code}).all()))
            for t in ("parties", "accounts", "account_roles", "ownership_interests")}
        tables["outbox"] = conn.execute(text(
            "SELECT count(*) FROM search_outbox o JOIN institutions i ON i.id = o.institution_id "
            "WHERE i.code = :c"), {"c": code}).scalar_one()
        tables["extracts"] = conn.execute(text(
            "SELECT array_agg(status ORDER BY e.id) FROM extracts e JOIN institutions i "
            "ON i.id = e.institution_id WHERE i.code = :c"), {"c": code}).scalar_one()
        # What the bank is told: counts written, closed and read, and the scorecard.
        tables["counts"] = conn.execute(text(
            "SELECT array_agg(counts ORDER BY e.id) FROM extracts e JOIN institutions i "
            "ON i.id = e.institution_id WHERE i.code = :c"), {"c": code}).scalar_one()
    return tables


def queue(engine: Engine, code: str, path: Path) -> int:
    with engine.begin() as conn:
        return int(conn.execute(text(
            "INSERT INTO extracts (institution_id, path, content_hash, status, format, counts, timings) "
            "SELECT id, :p, 'x', 'received', 'jsonl', '{}', '{}' FROM institutions WHERE code = :c "
            "RETURNING id"), {"p": str(path), "c": code}).scalar_one())


def status_of(engine: Engine, extract_id: int) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT status FROM extracts WHERE id = :i"), {"i": extract_id}).scalar_one())


def kill_worker_during(engine: Engine, settings: Settings, extract_id: int, phase: str) -> None:
    env = {**os.environ, "DATABASE_URL": settings.database_url,
           "ELASTICSEARCH_URL": settings.elasticsearch_url, "REDIS_URL": settings.redis_url,
           "REGISTRY_INDEX_PREFIX": settings.index_prefix}
    worker = subprocess.Popen([sys.executable, "-m", "registry.cli", "worker", "--once"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while status_of(engine, extract_id) != phase and time.monotonic() < deadline:
        assert worker.poll() is None, "the worker finished before it could be killed"
        time.sleep(0.005)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert status_of(engine, extract_id) == phase


# "applied": killed the moment the apply has committed, before anything after it.
@pytest.mark.parametrize("phase", ["validating", "applying", "applied"])
def test_a_worker_killed_mid_load_ends_like_an_uninterrupted_one(
        engine: Engine, settings: Settings, tmp_path: Path, phase: str) -> None:
    records = big_book()
    reference = new_bank(engine, "RF")
    killed = new_bank(engine, "KL")
    reference_id = queue(engine, reference, write_extract(tmp_path / "ref.jsonl", reference, records))
    process_uploads(engine)
    assert status_of(engine, reference_id) == "applied"
    extract_id = queue(engine, killed, write_extract(tmp_path / "kill.jsonl", killed, records))
    kill_worker_during(engine, settings, extract_id, phase)
    finish_like_the_worker_loop(engine, extract_id)
    process_uploads(engine)  # the next worker's poll, whatever it finds
    assert status_of(engine, extract_id) == "applied"
    expected, got = state(engine, reference), state(engine, killed)
    if phase == "applied":
        # The worker was draining the outbox into the index when it died: some went, the
        # rest stays queued (the drain tests cover that). All else must be as if not killed.
        del expected["outbox"], got["outbox"]
    assert got == expected


def finish_like_the_worker_loop(engine: Engine, extract_id: int, seconds: float = 60) -> None:
    """Poll as `registry worker` does: Postgres notices the killed client's sessions a moment
    later, and until then the dead worker's lock on the extract still stands."""
    deadline = time.monotonic() + seconds
    while status_of(engine, extract_id) != "applied" and time.monotonic() < deadline:
        process_uploads(engine)
        time.sleep(0.2)


def test_loads_apply_while_elasticsearch_is_away_and_the_index_catches_up(
        engine: Engine, gateway: SearchGateway, tmp_path: Path) -> None:
    code = new_bank(engine, "ES")
    path = write_extract(tmp_path / "x.jsonl", code, [person("P1", "Oskar Halvorsen", birth_date="1950"),
                                                      account("A1", 1), role("A1", "P1")])
    extract_id = queue(engine, code, path)
    process_uploads(engine)
    assert status_of(engine, extract_id) == "applied"
    away = SearchGateway(make_es("http://127.0.0.1:1"), gateway.prefix)
    with pytest.raises(Exception):  # noqa: B017 - any transport error: the server is not there
        drain_outbox(engine, away)
    assert state(engine, code)["outbox"] == 1  # still queued, nothing lost
    assert drain_outbox(engine, gateway) >= 1
    assert state(engine, code)["outbox"] == 0
    hits = gateway.search(person_search(PersonQuery("Oskar Halvorsen")))["hits"]["hits"]
    assert any(h["_source"]["institution"] == code for h in hits)


def test_rebuild_moves_the_alias_and_keeps_every_party(engine: Engine, gateway: SearchGateway) -> None:
    drain_outbox(engine, gateway)
    before = gateway.current_index()
    total = rebuild(engine, gateway)
    after = gateway.current_index()
    assert after != before and before is not None
    assert not gateway.es.indices.exists(index=before)
    rows = compare_counts(engine, gateway)
    assert all(r["ok"] for r in rows)
    assert total == sum(r["postgres"] for r in rows)
    assert segments(gateway) == 1, "merged before searches reach it"


def test_a_worker_leaves_alone_an_extract_the_command_line_is_applying(
        engine: Engine, tmp_path: Path) -> None:
    from loaders.pipeline import ExtractLoader

    code = new_bank(engine, "CL")
    path = write_extract(tmp_path / "book.jsonl", code, big_book())
    taken_up: list[object] = []

    def meanwhile(_: int) -> None:
        # Mid-load the extract is visible as unfinished; a worker polling now must skip it.
        if not taken_up:
            taken_up.append([r.extract_id for r in process_uploads(engine)])

    result = ExtractLoader(engine).load(path, progress=meanwhile)
    assert result.status == "applied"
    assert taken_up == [[]]
    assert state(engine, code)["extracts"] == ["applied"]


def test_a_worker_that_gets_the_lock_late_leaves_a_finished_extract_as_it_is(
        engine: Engine, tmp_path: Path) -> None:
    from registry.processing import _process_one

    code = new_bank(engine, "LT")
    path = write_extract(tmp_path / "book.jsonl", code, big_book()[:30])
    extract_id = queue(engine, code, path)
    process_uploads(engine)
    assert status_of(engine, extract_id) == "applied"
    # Another worker listed it as unfinished before that, and gets its lock only now.
    assert _process_one(engine, extract_id, path, code) == (True, None)
    assert status_of(engine, extract_id) == "applied"


def versions_of(engine: Engine, code: str, ref: str) -> list[Any]:
    """Every version of one party, oldest first, as the indexer reads them."""
    with engine.connect() as conn:
        return list(conn.execute(select(*PARTY_FIELDS).join(Institution, Institution.id == Party.institution_id)
                                 .where(Institution.code == code, Party.ref == ref).order_by(Party.id))
                    .mappings().all())


def test_an_older_version_landing_last_never_replaces_a_newer_one(
        engine: Engine, gateway: SearchGateway, tmp_path: Path) -> None:
    code = new_bank(engine, "VR")
    first = write_extract(tmp_path / "1.jsonl", code, [person("P1", "Ingrid Solberg")])
    second = write_extract(tmp_path / "2.jsonl", code, [person("P1", "Ingrid Solberg-Dahl")], sequence=2,
                            as_of=date(2026, 2, 1))
    for path in (first, second):
        queue(engine, code, path)
        process_uploads(engine)
    older, newer = versions_of(engine, code, "P1")
    codes = institution_codes(engine)
    # Two drainers: the one holding the newer version finishes first.
    assert gateway.bulk(party_actions([newer], codes))[1] == []
    done, errors = gateway.bulk(party_actions([older], codes))
    assert (done, errors) == (1, [])  # acknowledged: a newer version is already there
    document = gateway.es.get(index=gateway.alias, id=f"{newer['institution_id']}:P1")
    assert document["_version"] == newer["id"]
    assert document["_source"]["display"]["full_name"] == "Ingrid Solberg-Dahl"


def test_drainers_side_by_side_index_every_party_once(
        engine: Engine, gateway: SearchGateway, settings: Settings, tmp_path: Path) -> None:
    drain_outbox(engine, gateway)
    code = new_bank(engine, "SB")
    records = [person(f"P{i}", f"Torvald{i} Amundsen") for i in range(3000)]
    queue(engine, code, write_extract(tmp_path / "x.jsonl", code, records))
    process_uploads(engine)
    assert state(engine, code)["outbox"] == 3000
    assert drain_side_by_side(engine, gateway, 2, settings.elasticsearch_url) == 3000
    assert state(engine, code)["outbox"] == 0
    assert all(r["ok"] for r in compare_counts(engine, gateway))


def test_a_big_backlog_is_drained_with_slower_refreshes_then_the_index_is_as_before(
        engine: Engine, gateway: SearchGateway, settings: Settings, tmp_path: Path) -> None:
    drain_outbox(engine, gateway)
    code = new_bank(engine, "BB")
    queue(engine, code, write_extract(tmp_path / "x.jsonl", code, [
        person(f"P{i}", f"Sigrun{i} Bakke") for i in range(40)]))
    process_uploads(engine)
    # A backlog of 40 counts as big here, as 100,000 does in production.
    assert drain_side_by_side(engine, gateway, 1, settings.elasticsearch_url, big_backlog=20) == 40
    live = gateway.es.indices.get_settings(index=gateway.alias)
    assert next(iter(live.values()))["settings"]["index"]["refresh_interval"] == "1s"
    hits = gateway.search(person_search(PersonQuery("Sigrun7 Bakke")))["hits"]["hits"]
    assert any(h["_source"]["institution"] == code for h in hits), "searchable when the drain returns"
    # The index already had segments; the 40 came in another. A big drain then asks for
    # one, merged in the background.
    deadline = time.monotonic() + 60
    while segments(gateway) > 1 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert segments(gateway) == 1


def segments(gateway: SearchGateway) -> int:
    answer = gateway.es.indices.segments(index=gateway.alias)
    return sum(len(copy["segments"]) for index in answer["indices"].values()
               for copies in index["shards"].values() for copy in copies)


def test_an_index_built_by_an_older_release_is_reported_and_rebuilt_on_demand(settings: Settings) -> None:
    from click.testing import CliRunner

    from registry.cli import main
    from search.mappings import PARTIES_MAPPING, PARTIES_SETTINGS, PARTIES_VERSION
    from tests.integration.test_slice import cli_env

    own = replace(settings, index_prefix=f"{settings.index_prefix}-old{uuid.uuid4().hex[:6]}")
    gateway = SearchGateway(make_es(own.elasticsearch_url), own.index_prefix)
    older = f"{gateway.prefix}-parties-v{PARTIES_VERSION - 1}-19990101000000000"
    gateway.es.indices.create(index=older, mappings=PARTIES_MAPPING, settings=PARTIES_SETTINGS)
    gateway.es.indices.put_alias(index=older, name=gateway.alias)
    assert not gateway.built_for_this_release()

    def cli(*args: str) -> Any:
        return CliRunner().invoke(main, list(args), env=cli_env(own), catch_exceptions=False)

    check = cli("index", "check")
    assert check.exit_code == 1 and "registry index rebuild" in check.output
    assert cli("index", "rebuild", "--if-older").exit_code == 0
    assert gateway.built_for_this_release() and gateway.current_index() != older
    assert not gateway.es.indices.exists(index=older)
    again = cli("index", "rebuild", "--if-older")
    assert again.exit_code == 0 and "nothing to rebuild" in again.output
    gateway.es.indices.delete(index=f"{gateway.prefix}-*")
