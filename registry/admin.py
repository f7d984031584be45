"""Administrative actions behind the command line: institutions, loading, seeding."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tqdm import tqdm

from loaders.errors import ExtractRejected
from loaders.pipeline import ExtractLoader, LoadResult
from registry.auth import hash_secret, new_secret
from registry.indexing import drain_outbox
from registry.models import Institution
from registry.scorecard import store_scorecard
from search.gateway import SearchGateway


def add_institution(engine: Engine, code: str, name: str, kind: str = "bank",
                    country: str | None = None) -> str:
    """Register (or re-key) an institution; returns its new API key, shown only once."""
    key = new_secret("inst")
    with Session(engine) as session:
        institution = session.execute(select(Institution).where(Institution.code == code)).scalar()
        if institution is None:
            institution = Institution(code=code, name=name, kind=kind, country=country)
            session.add(institution)
        institution.api_key_hash = hash_secret(key)
        session.commit()
    return key


def load_one(loader: ExtractLoader, path: Path) -> LoadResult:
    with tqdm(desc=path.name, unit=" lines", unit_scale=True, leave=False) as bar:
        try:
            return loader.load(path, progress=bar.update)
        except ExtractRejected as error:
            return LoadResult(0, "rejected", report=error.report)


def load_files(engine: Engine, gateway: SearchGateway | None, paths: Sequence[Path]) -> int:
    """Load each file in turn; returns how many were rejected."""
    loader = ExtractLoader(engine)
    failed = 0
    for path in paths:
        result = load_one(loader, path)
        if result.status == "rejected" and result.report is not None:
            failed += 1
            click.echo(f"{path}: rejected, nothing applied\n{result.report.as_text()}", err=True)
        else:
            if result.status == "applied":
                store_scorecard(engine, result.extract_id)
            click.echo(f"{path}: {result.status} (extract {result.extract_id}) "
                       f"{_summary(result)}")
    if gateway is not None:
        click.echo(f"{drain_outbox(engine, gateway)} documents indexed")
    return failed


def _summary(result: LoadResult) -> str:
    written = {t: c["written"] for t, c in result.counts.items() if isinstance(c, dict) and "written" in c}
    total = result.timings.get("total")
    return f"written {written} in {total:.1f}s" if total is not None else ""


def seed_and_load(engine: Engine, gateway: SearchGateway | None, parties: int, banks: int,
                  seed: int, out: Path, do_load: bool) -> None:
    from seed.banks import national_banks
    from seed.generate import SeedPlan, write_extracts

    plan = SeedPlan(parties=parties, banks=banks, seed=seed)
    paths = write_extracts(plan, out, progress=True)
    click.echo(f"wrote {len(paths)} extracts to {out}")
    if not do_load:
        return
    for bank in national_banks(banks, seed):
        add_institution(engine, bank.bic, bank.name, "bank", bank.country)
    load_files(engine, gateway, paths)
