"""Administrative actions behind the command line: institutions, loading, seeding."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import click
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tqdm import tqdm

from loaders.errors import ExtractRejected
from loaders.pipeline import ExtractLoader, LoadResult, read_header
from loaders.sources import open_source
from registry.db import make_engine
from registry.directory import COMMAND_LINE, Directory
from registry.indexing import drain_outbox
from registry.models import Institution
from registry.scorecard import store_scorecard
from search.gateway import SearchGateway


def add_institution(engine: Engine, code: str, name: str, kind: str = "bank",
                    country: str | None = None) -> str:
    """Register (or re-key) an institution; returns its new API key, shown only once."""
    with Session(engine) as session:
        directory = Directory(session, COMMAND_LINE)
        exists = session.execute(select(Institution.id).where(Institution.code == code)).first()
        _, key = (directory.rekey_institution(code) if exists
                  else directory.add_institution(code, name, kind, country))
        session.commit()
    return key


def load_one(loader: ExtractLoader, path: Path, bar: bool = True,
             institution: str | None = None) -> LoadResult:
    with tqdm(desc=path.name, unit=" records", unit_scale=True, leave=False, disable=not bar) as shown:
        try:
            return loader.load(path, progress=shown.update, institution_code=institution)
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
            result = load_one(loader, path, bar, institution)
            if result.status == "applied":
                store_scorecard(engine, result.extract_id)
            done.append((path, result))
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
        click.echo(f"{drain_outbox(engine, gateway)} documents indexed")
    return failed


def _report(path: Path, result: LoadResult) -> bool:
    if result.status == "rejected" and result.report is not None:
        click.echo(f"{path}: rejected, nothing applied\n{result.report.as_text()}", err=True)
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
    for bank in national_banks(banks, seed):
        add_institution(engine, bank.bic, bank.name, "bank", bank.country)
    load_files(engine, gateway, paths, jobs)
