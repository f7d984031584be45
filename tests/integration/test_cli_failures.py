"""Expected failures on the command line are one clear line, never a traceback: Elasticsearch
away, a folder given for a file, an institution registered twice or described wrongly."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from registry.admin import add_institution
from registry.cli import main
from registry.config import Settings
from registry.indexing import drain_outbox
from search.gateway import SearchGateway
from tests.integration.helpers import person, write_extract
from tests.integration.institution_codes import new_bic, new_lei
from tests.integration.test_slice import cli_env

# Loopback port 1: nothing listens there, so every connection is refused at once.
AWAY = "http://127.0.0.1:1"


def command(settings: Settings, *args: str, elasticsearch: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real `registry` process: what an operator's terminal shows, logging included."""
    env = {**os.environ, **cli_env(settings)}
    if elasticsearch:
        env["ELASTICSEARCH_URL"] = elasticsearch
    return subprocess.run([sys.executable, "-m", "registry.cli", *args], env=env, capture_output=True,
                          text=True, timeout=120)


def cli(settings: Settings, *args: str) -> Any:
    return CliRunner().invoke(main, list(args), env=cli_env(settings))


def outbox_of(engine: Engine, code: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT count(*) FROM search_outbox o JOIN institutions i ON i.id = o.institution_id "
            "WHERE i.code = :c"), {"c": code}).scalar_one())


def test_load_with_elasticsearch_away_applies_and_says_indexing_is_postponed(
        engine: Engine, gateway: SearchGateway, settings: Settings, tmp_path: Path) -> None:
    code = "LE" + uuid.uuid4().hex[:6].upper() + "XXX"
    add_institution(engine, code, code)
    path = write_extract(tmp_path / "x.jsonl", code, [person("P1", "Oda Kristiansen"),
                                                      person("P2", "Eirik Kristiansen")])
    done = command(settings, "load", str(path), elasticsearch=AWAY)
    assert done.returncode == 0, done.stderr
    assert f"{path}: applied" in done.stdout
    assert "Traceback" not in done.stderr
    # Beside the (cleared) progress bar, one line says what happened and what comes next.
    said = [line for line in done.stderr.splitlines() if "Elasticsearch" in line]
    assert len(said) == 1, done.stderr
    assert said[0].startswith("indexing postponed: Elasticsearch at http://127.0.0.1:1 cannot be reached")
    assert "registry index drain" in said[0]
    assert outbox_of(engine, code) == 2, "kept for the next drain"
    assert drain_outbox(engine, gateway) >= 2
    assert outbox_of(engine, code) == 0


@pytest.mark.parametrize("args", [("index", "check"), ("index", "rebuild"), ("index", "drain")])
def test_index_commands_with_elasticsearch_away_say_so_in_one_line(
        settings: Settings, args: tuple[str, ...]) -> None:
    done = command(settings, *args, elasticsearch=AWAY)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "Error: Elasticsearch at http://127.0.0.1:1 cannot be reached ([Errno 111] Connection refused)"]


def test_the_worker_says_one_line_a_poll_while_elasticsearch_is_away(settings: Settings) -> None:
    done = command(settings, "worker", "--once", elasticsearch=AWAY)
    assert done.returncode == 0
    assert "Traceback" not in done.stderr
    # At start, the check of the live index's release; then the poll's one line (other
    # lines are what the worker did with uploads other tests left queued).
    said = [line for line in done.stderr.splitlines() if "Elasticsearch" in line]
    assert len(said) == 2, done.stderr
    assert "could not check the live index: Elasticsearch at http://127.0.0.1:1" in said[0]
    assert "indexing postponed: Elasticsearch at http://127.0.0.1:1 cannot be reached" in said[1]


def test_load_refuses_a_folder_clearly(settings: Settings, tmp_path: Path) -> None:
    result = cli(settings, "load", str(tmp_path))
    assert result.exit_code == 2
    assert "is a directory" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def institution(engine: Engine, code: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT name, kind, api_key_hash FROM institutions WHERE code = :c"),
                           {"c": code}).mappings().first()
    return dict(row) if row else None


def test_adding_an_institution_twice_keeps_its_key_and_rekey_is_explicit(
        engine: Engine, settings: Settings) -> None:
    code = new_bic()
    first = cli(settings, "institutions", "add", code, "--name", "Fjord Sparebank")
    assert first.exit_code == 0, first.output
    before = institution(engine, code)
    again = cli(settings, "institutions", "add", code, "--name", "Typo fixed", "--kind", "company_register")
    assert again.exit_code == 1
    assert again.output.strip() == (f"Error: {code} is registered already; its key is unchanged. "
                                    f"To issue a new one: registry institutions rekey {code}")
    assert institution(engine, code) == before, "same key, name and kind"
    rekeyed = cli(settings, "institutions", "rekey", code)
    assert rekeyed.exit_code == 0, rekeyed.output
    assert rekeyed.output.strip() != first.output.strip()
    assert institution(engine, code)["api_key_hash"] != before["api_key_hash"]  # type: ignore[index]
    missing = cli(settings, "institutions", "rekey", new_bic())
    assert missing.exit_code == 1 and "There is no institution" in missing.output


def test_an_lei_and_a_lower_case_bic_are_registered_in_the_form_headers_name(
        engine: Engine, settings: Settings) -> None:
    code = new_lei()
    assert cli(settings, "institutions", "add", code, "--name", "Register", "--kind", "company_register",
               "--country", "no").exit_code == 0
    assert institution(engine, code) is not None
    bic = new_bic()
    assert cli(settings, "institutions", "add", bic.lower(), "--name", "Lower Bank").exit_code == 0
    assert institution(engine, bic) is not None


@pytest.mark.parametrize(("args", "said"), [
    (("XY",), "'XY' is neither a BIC (8 or 11 characters) nor an LEI (20)"),
    (("COBADEFFXXXYYYYZZZZZZZZ",), "is neither a BIC (8 or 11 characters) nor an LEI (20)"),
    (("529900T8BM49AURSDO56",), "529900T8BM49AURSDO56 is not a valid LEI (ISO 17442 check digits)"),
    (("ABCDDEFFXXX", "--country", "GERMANY"), "--country 'GERMANY' is not an ISO 3166 alpha-2 country code"),
    (("ABCDDEFFXXX", "--name", "N" * 301), "--name must be 2 to 300 characters long"),
])
def test_a_bad_institution_is_refused_in_one_line_and_nothing_is_written(
        engine: Engine, settings: Settings, args: tuple[str, ...], said: str) -> None:
    with engine.connect() as conn:
        before: int = conn.execute(text("SELECT count(*) FROM institutions")).scalar_one()
    named = args if "--name" in args else (*args, "--name", "Some Bank")
    result = cli(settings, "institutions", "add", *named)
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and said in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM institutions")).scalar_one() == before


def test_seeding_again_keeps_the_banks_keys(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    from seed.banks import national_banks

    args = ("seed", "--parties", "30", "--banks", "1", "--seed", "7", "--out", str(tmp_path))
    assert cli(settings, *args).exit_code == 0
    bank = national_banks(1, 7)[0].bic
    before = institution(engine, bank)
    again = cli(settings, *args)
    assert again.exit_code == 0, again.output
    assert institution(engine, bank) == before
