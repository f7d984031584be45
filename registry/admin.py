"""Administrative actions behind the command line: institutions, loading, seeding."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import click
from elasticsearch import ApiError, TransportError
from marshmallow import Schema, ValidationError, fields, validate
from schwifty import BIC
from schwifty.exceptions import SchwiftyException
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from stdnum import lei
from tqdm import tqdm

from loaders.errors import ExtractRejected
from loaders.pipeline import ExtractLoader, LoadResult, read_header
from loaders.schemas import Country
from loaders.sources import describe_line, detect_format, open_source
from registry.db import make_engine
from registry.directory import COMMAND_LINE, Directory
from registry.indexing import DrainPostponed, IndexingFailed, drain_outbox, search_problem
from registry.models import Institution
from registry.models.reporting import INSTITUTION_KINDS
from search.gateway import SearchGateway


class InstitutionCode(fields.String):
    """A BIC (8 or 11 characters) or an LEI (20, ISO 17442 check digits), in the compact
    upper-case form extract headers must then name. Anything else would be registered and
    then match no extract: headers are checked against the registered code."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        code = super()._deserialize(value, attr, data, **kw).replace(" ", "").upper()
        if len(code) == 20:
            if not lei.is_valid(code):
                raise ValidationError(f"{code} is not a valid LEI (ISO 17442 check digits)")
            return code
        try:
            return str(BIC(code).compact)
        except SchwiftyException as error:
            raise ValidationError(f"{code[:40]!r} is neither a BIC (8 or 11 characters) nor an LEI "
                                  f"(20): {error}") from error


class NewInstitution(Schema):
    """What `registry institutions add` accepts, checked before anything is written."""

    code = InstitutionCode(required=True)
    name = fields.String(required=True, validate=validate.Length(
        min=2, max=300, error="must be {min} to {max} characters long"))
    kind = fields.String(load_default="bank", validate=validate.OneOf(INSTITUTION_KINDS))
    country = Country(load_default=None)


def add_institution(engine: Engine, code: str, name: str, kind: str = "bank",
                    country: str | None = None) -> str:
    """Register an institution; returns its API key, shown only once. Refuses (Conflict) a
    code registered already: a second key would silently stop the bank's working one."""
    with Session(engine) as session:
        _, key = Directory(session, COMMAND_LINE).add_institution(code, name, kind, country)
        session.commit()
    return key


def rekey_institution(engine: Engine, code: str) -> str:
    """A new API key for a registered institution; its old key stops working at once."""
    with Session(engine) as session:
        _, key = Directory(session, COMMAND_LINE).rekey_institution(code)
        session.commit()
    return key


def load_one(loader: ExtractLoader, path: Path, bar: bool = True,
             institution: str | None = None) -> LoadResult:
    with tqdm(desc=path.name, unit=" records", unit_scale=True, leave=False, disable=not bar) as shown:
        def total(records: int) -> None:
            shown.total = records  # from the header: the bar shows how far, and how long to go
            shown.refresh()

        try:
            return loader.load(path, progress=shown.update, institution_code=institution,
                               expected=total)
        except ExtractRejected as error:
            return LoadResult(0, "rejected", report=error.report)


def _institution_of(path: Path, institution: str | None) -> str:
    if institution is not None:
        return institution  # a BODS file says no more than who it is for
    try:
        return read_header(open_source(path)).institution
    except ExtractRejected:
        return f"unreadable:{path}"  # reported when it is loaded


def _load_group(url: str, paths: list[Path], bar: bool,
                institution: str | None = None) -> list[tuple[Path, LoadResult]]:
    """One institution's files, in order (its sequence numbers must not overtake)."""
    engine = make_engine(url, pool_size=1)
    try:
        loader = ExtractLoader(engine)
        done = []
        for path in paths:
            done.append((path, load_one(loader, path, bar, institution)))
        return done
    finally:
        engine.dispose()


def load_files(engine: Engine, gateway: SearchGateway | None, paths: Sequence[Path], jobs: int = 1,
               institution: str | None = None) -> int:
    """Load files, several institutions at once when jobs > 1; returns how many were rejected."""
    groups: dict[str, list[Path]] = {}
    for path in paths:
        groups.setdefault(_institution_of(path, institution), []).append(path)
    url = engine.url.render_as_string(hide_password=False)
    if jobs <= 1 or len(groups) == 1:
        outcomes = [item for group in groups.values()
                    for item in _load_group(url, group, True, institution)]
    else:
        # Different institutions touch disjoint rows, so their loads run side by side.
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(_load_group, url, group, False) for group in groups.values()]
            outcomes = [item for future in futures for item in future.result()]
    failed = sum(_report(path, result) for path, result in outcomes)
    if gateway is not None:
        _index_loaded(engine, gateway)
    return failed


def _index_loaded(engine: Engine, gateway: SearchGateway) -> None:
    """What was applied stays applied: its changes wait in the outbox for whoever drains it
    next, so an index that cannot take them now is worth a line, not a failure."""
    try:
        click.echo(f"{drain_outbox(engine, gateway)} documents indexed")
    except DrainPostponed as waiting:
        click.echo(f"indexing postponed: {waiting}; the worker or `registry index drain` "
                   "indexes the changes after it", err=True)
    except (ApiError, TransportError, IndexingFailed) as error:
        click.echo(f"indexing postponed: {search_problem(error, gateway)}; the changes wait in "
                   "the outbox until the worker or `registry index drain` indexes them", err=True)


def _report(path: Path, result: LoadResult) -> bool:
    if result.status == "rejected" and result.report is not None:
        # A bundle's positions count records across its files: say file and row, as the
        # API's report and the bank's pages do.
        where = functools.partial(describe_line, detect_format(path))
        click.echo(f"{path}: rejected, nothing applied\n{result.report.as_text(where)}", err=True)
        return True
    click.echo(f"{path}: {result.status} (extract {result.extract_id}) {_summary(result)}")
    return False


def _summary(result: LoadResult) -> str:
    written = {t: c["written"] for t, c in result.counts.items() if isinstance(c, dict) and "written" in c}
    total = result.timings.get("total")
    return f"written {written} in {total:.1f}s" if total is not None else ""


def seed_and_load(engine: Engine, gateway: SearchGateway | None, parties: int, banks: int,
                  seed: int, out: Path, do_load: bool, jobs: int = 1) -> None:
    from seed.banks import national_banks
    from seed.generate import SeedPlan, write_extracts

    plan = SeedPlan(parties=parties, banks=banks, seed=seed)
    paths = write_extracts(plan, out, progress=True)
    click.echo(f"wrote {len(paths)} extracts to {out}")
    if not do_load:
        return
    with engine.connect() as conn:
        known = set(conn.execute(select(Institution.code)).scalars())
    # Seeding again reuses the banks registered already, keys and all.
    for bank in national_banks(banks, seed):
        if bank.bic not in known:
            add_institution(engine, bank.bic, bank.name, "bank", bank.country)
    load_files(engine, gateway, paths, jobs)
