"""The `registry` command line. Every command has --help."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from registry import localservices
from registry.config import ConfigurationError, Settings


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from error


def _engine() -> Any:
    """One engine per command, disposed when the command ends (no connection outlives it)."""
    from registry.db import make_engine

    ctx = click.get_current_context().find_root()
    if "engine" not in ctx.meta:
        ctx.meta["engine"] = make_engine(_settings().database_url, pool_size=2)
        ctx.call_on_close(ctx.meta["engine"].dispose)
    return ctx.meta["engine"]


def _gateway() -> Any:
    from registry.app import make_es
    from registry.indexing import quiet_elasticsearch_transport
    from search.gateway import SearchGateway

    quiet_elasticsearch_transport()
    settings = _settings()
    return SearchGateway(make_es(settings.elasticsearch_url), settings.index_prefix)


@contextmanager
def _elasticsearch_errors(gateway: Any) -> Iterator[None]:
    """Elasticsearch away, refusing, or a rebuild running: expected, so one line and a
    non-zero exit, not a traceback. Postgres keeps every change for the next try."""
    from elasticsearch import ApiError, TransportError

    from registry.indexing import DrainPostponed, IndexingFailed, search_problem

    try:
        yield
    except DrainPostponed as waiting:
        raise click.ClickException(f"{waiting}; run this again after the rebuild") from waiting
    except (ApiError, TransportError, IndexingFailed) as error:
        raise click.ClickException(search_problem(error, gateway)) from error


@click.group()
def main() -> None:
    """Central registry of account holders and beneficial owners."""
    # Before reading the file, remember which services the environment points elsewhere.
    click.get_current_context().obj = {"external": localservices.external_variables()}
    localservices.load_env_file()


@main.group()
def services() -> None:
    """Run the project's own Postgres, Elasticsearch and Redis on loopback."""


@services.command("up")
@click.pass_obj
def services_up(obj: dict[str, Any]) -> None:
    """Install if missing, start, and wait until each service is healthy (idempotent)."""
    try:
        localservices.up(external=obj["external"])
    except localservices.ServiceError as error:
        raise click.ClickException(str(error)) from error


@services.command("down")
@click.pass_obj
def services_down(obj: dict[str, Any]) -> None:
    """Stop exactly the service processes that `up` started."""
    localservices.down(external=obj["external"])


@services.command("status")
@click.pass_obj
def services_status(obj: dict[str, Any]) -> None:
    """Show whether each service is running, and where."""
    for name, state in localservices.status(external=obj["external"]).items():
        click.echo(f"{name:14} {state}")


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply schema migrations up to REVISION (default: the newest), as the schema's owner
    (REGISTRY_MIGRATE_DATABASE_URL; the application's own role may not change the schema)."""
    from registry.db import make_engine
    from registry.migrate import upgrade

    engine = make_engine(_settings().owner_database_url, pool_size=1)
    try:
        upgrade(engine, revision)
    finally:
        engine.dispose()
    click.echo(f"schema at {revision}")


@main.group()
def institutions() -> None:
    """Reporting institutions (banks, company registers)."""


@institutions.command("add")
@click.argument("code")
@click.option("--name", required=True, help="The institution's legal name.")
@click.option("--kind", default="bank", show_default=True,
              type=click.Choice(["bank", "company_register", "payment_institution", "other"]))
@click.option("--country", default=None, help="ISO 3166 alpha-2.")
def institutions_add(code: str, name: str, kind: str, country: str | None) -> None:
    """Register institution CODE (its BIC, or its LEI) and print its API key, once.

    A code registered already is refused and its key left working; `registry institutions
    rekey CODE` issues a new key."""
    from registry.admin import add_institution
    from registry.errors import Conflict

    fields = _new_institution(code, name, kind, country)
    try:
        key = add_institution(_engine(), **fields)
    except Conflict as taken:
        raise click.ClickException(
            f"{fields['code']} is registered already; its key is unchanged. "
            f"To issue a new one: registry institutions rekey {fields['code']}") from taken
    click.echo(key)


def _new_institution(code: str, name: str, kind: str, country: str | None) -> dict[str, Any]:
    from marshmallow import ValidationError

    from registry.admin import NewInstitution

    try:
        return dict(NewInstitution().load({"code": code, "name": name, "kind": kind, "country": country}))
    except ValidationError as invalid:
        raise click.ClickException("; ".join(
            f"--{field} {problems[0]}" if field != "code" else problems[0]
            for field, problems in invalid.messages_dict.items())) from invalid


@institutions.command("rekey")
@click.argument("code")
def institutions_rekey(code: str) -> None:
    """Issue institution CODE a new API key and print it, once. The old key, and every page
    session opened with it, stop working at once."""
    from registry.admin import rekey_institution
    from registry.errors import RegistryError

    try:
        key = rekey_institution(_engine(), code)
    except RegistryError as refused:
        raise click.ClickException(refused.detail) from refused
    click.echo(key)


@main.command()
# Files only: a folder's order is not the order of its extracts' sequence numbers, and
# `registry load DIR/*.jsonl` names the files in the order the user means.
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--index/--no-index", default=True, help="Drain the search outbox afterwards.")
@click.option("--jobs", default=1, show_default=True, help="Institutions loaded side by side.")
@click.option("--institution", default=None,
              help="Who reports a BODS file (BODS has no header naming the institution).")
def load(paths: tuple[Path, ...], index: bool, jobs: int, institution: str | None) -> None:
    """Validate and apply extracts (JSONL, CSV bundle, BODS), as an upload would."""
    from registry.admin import load_files

    failed = load_files(_engine(), _gateway() if index else None, paths, jobs, institution)
    if failed:
        sys.exit(1)


@main.command()
@click.option("--parties", default=2000, show_default=True, help="Parties in the national book.")
@click.option("--banks", default=3, show_default=True)
@click.option("--seed", "seed_value", default=42, show_default=True)
@click.option("--out", default=Path("var/extracts"), type=click.Path(path_type=Path), show_default=True)
@click.option("--load/--no-load", "do_load", default=True, help="Register the banks and load them.")
@click.option("--jobs", default=2, show_default=True, help="Banks loaded side by side.")
def seed(parties: int, banks: int, seed_value: int, out: Path, do_load: bool, jobs: int) -> None:
    """Write synthetic banks' full extracts (the banks' own format) and load them."""
    from registry.admin import seed_and_load

    seed_and_load(_engine(), _gateway() if do_load else None, parties, banks, seed_value, out,
                  do_load, jobs)


@main.group()
def index() -> None:
    """The Elasticsearch index (Postgres is the truth)."""


@index.command("drain")
@click.option("--jobs", default=1, show_default=True, help="Processes draining side by side.")
def index_drain(jobs: int) -> None:
    """Index every party waiting in the outbox."""
    from registry.indexing import drain_side_by_side

    gateway = _gateway()
    with _elasticsearch_errors(gateway):
        done = drain_side_by_side(_engine(), gateway, jobs, _settings().elasticsearch_url)
    click.echo(f"{done} documents indexed")


@index.command("rebuild")
@click.option("--if-older", is_flag=True,
              help="Only if the live index was built by an older release (after an upgrade).")
def index_rebuild(if_older: bool) -> None:
    """Build a new index from Postgres and move the alias to it (no downtime)."""
    from tqdm import tqdm

    from registry.indexing import rebuild

    gateway = _gateway()
    with _elasticsearch_errors(gateway):
        # Asked first, of the live index: an Elasticsearch that is away fails here, before
        # a progress bar is drawn.
        if gateway.built_for_this_release() and if_older:
            click.echo("nothing to rebuild: the live index is this release's")
            return
        with tqdm(unit=" parties", desc="indexing") as bar:
            total = rebuild(_engine(), gateway, progress=bar.update)
    click.echo(f"{total} documents in the new index")


@index.command("check")
def index_check() -> None:
    """Compare current parties per institution in Postgres and Elasticsearch."""
    from registry.indexing import compare_counts

    gateway = _gateway()
    with _elasticsearch_errors(gateway):
        rows = compare_counts(_engine(), gateway)
        current = gateway.built_for_this_release()
    click.echo(json.dumps(rows, indent=2))
    if not current:
        click.echo(f"the live index {gateway.current_index()} was built by an older release; "
                   "run `registry index rebuild`", err=True)
    if not current or not all(r["ok"] for r in rows):
        sys.exit(1)


@main.command()
@click.option("--once", is_flag=True, help="Do what is waiting, then exit.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between polls.")
def worker(once: bool, interval: float) -> None:
    """Load uploaded extracts and drain the search outbox, in a loop."""
    from registry.worker import run_worker

    run_worker(_engine(), _gateway(), once=once, interval=interval)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--workers", default=2, show_default=True)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the registry with gunicorn."""
    import os

    _settings()  # fail here, clearly, if the services are not configured
    os.execvp(sys.executable, [sys.executable, "-m", "gunicorn", "--workers", str(workers),
                               "--bind", f"{host}:{port}", "--access-logfile", "-",
                               "registry.wsgi:app"])


from registry.cli_access import register as _register_access  # noqa: E402
from registry.cli_access import register_demo as _register_demo  # noqa: E402

_register_access(main, _engine)
_register_demo(main, _engine)
if __name__ == "__main__":
    main()
