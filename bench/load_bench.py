"""Load and index a national book, then a resend and a 1 % delta; print JSON.

    .venv/bin/python bench/load_bench.py --parties 1000000 --banks 10 --jobs 2

Needs the services (`make services`). Works in a scratch database and index prefix of its
own (dropped at the end unless --keep). Extracts are cached in var/bench/. Beside our
figures it measures a raw COPY of the same rows into unindexed tables and a raw _bulk of the
same documents, and reports our throughput as a fraction of each.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from datetime import date
from pathlib import Path

from elasticsearch.helpers import streaming_bulk
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, base_settings, env_for, run_measured, scratch_database, self_peak_mb  # noqa: E402
from registry.admin import add_institution  # noqa: E402
from registry.app import make_es  # noqa: E402
from registry.config import Settings  # noqa: E402
from registry.db import make_engine  # noqa: E402
from registry.indexing import PARTY_FIELDS, institution_codes, party_actions  # noqa: E402
from search.mappings import PARTIES_MAPPING, PARTIES_SETTINGS  # noqa: E402
from seed.banks import national_banks  # noqa: E402
from seed.generate import SeedPlan, write_delta, write_extracts  # noqa: E402

REGISTRY = str(ROOT / ".venv" / "bin" / "registry")
TABLES = ("parties", "accounts", "account_roles", "ownership_interests")


def seed(plan: SeedPlan, folder: Path) -> tuple[list[Path], float]:
    done = folder / "done"
    if done.exists():
        return sorted(folder.glob("*-000001.jsonl*")), 0.0
    started = time.monotonic()
    paths = write_extracts(plan, folder)
    done.touch()
    return paths, round(time.monotonic() - started, 1)


def row_counts(settings: Settings) -> dict[str, int]:
    engine = make_engine(settings.database_url, pool_size=1)
    with engine.connect() as conn:
        counts = {t: conn.execute(text(f"SELECT count(*) FROM {t} WHERE superseded_at IS NULL")).scalar_one()
                  for t in TABLES}
        counts["outbox"] = conn.execute(text("SELECT count(*) FROM search_outbox")).scalar_one()
    engine.dispose()
    return counts


def raw_copy(settings: Settings) -> dict[str, float]:
    """COPY the rows we applied, as CSV, into unindexed copies of the tables (made by the
    schema's owner: the application's role may not create tables)."""
    engine = make_engine(settings.owner_database_url, pool_size=1)
    raw = engine.raw_connection()
    seconds, rows = 0.0, 0
    with raw.cursor() as cursor:
        for table in TABLES:
            buffer = io.BytesIO()
            with cursor.copy(f"COPY {table} TO STDOUT") as out:
                for block in out:
                    buffer.write(block)
            cursor.execute(f"CREATE TABLE raw_{table} (LIKE {table} INCLUDING DEFAULTS)")
            started = time.monotonic()
            with cursor.copy(f"COPY raw_{table} FROM STDIN") as into:
                into.write(buffer.getvalue())
            raw.commit()
            seconds += time.monotonic() - started
            rows += cursor.execute(f"SELECT count(*) FROM raw_{table}").fetchone()[0]
    raw.close()
    engine.dispose()
    return {"seconds": round(seconds, 2), "rows": rows, "rows_per_s": round(rows / seconds)}


def raw_bulk(settings: Settings) -> dict[str, float]:
    """_bulk the same documents (built beforehand, outside the clock) into a fresh index."""
    engine = make_engine(settings.database_url, pool_size=1)
    codes = institution_codes(engine)
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT {', '.join(c.name for c in PARTY_FIELDS)} FROM parties "
                                 "WHERE superseded_at IS NULL")).mappings().all()
    engine.dispose()
    actions = list(party_actions(rows, codes))
    es = make_es(settings.elasticsearch_url).options(request_timeout=300)
    index = f"{settings.index_prefix}-rawbulk"
    es.indices.create(index=index, mappings=PARTIES_MAPPING, settings=PARTIES_SETTINGS)
    started = time.monotonic()
    for ok, item in streaming_bulk(es, ({"_index": index, **a} for a in actions), chunk_size=2000):
        if not ok:
            raise RuntimeError(item)
    seconds = time.monotonic() - started
    es.indices.delete(index=index)
    return {"seconds": round(seconds, 2), "docs": len(actions), "docs_per_s": round(len(actions) / seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parties", type=int, default=100_000)
    parser.add_argument("--banks", type=int, default=10)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--jobs", type=int, default=2, help="banks loaded side by side")
    args = parser.parse_args()
    plan = SeedPlan(parties=args.parties, banks=args.banks, seed=args.seed)
    folder = ROOT / "var" / "bench" / f"book-{args.parties}-{args.banks}-{args.seed}"
    paths, seed_seconds = seed(plan, folder)
    result: dict[str, object] = {"parties": args.parties, "banks": args.banks, "seed_seconds": seed_seconds,
                                 "extract_bytes": sum(p.stat().st_size for p in paths)}
    with scratch_database(base_settings(), f"bench_load_{args.parties}", keep=args.keep) as settings:
        engine = make_engine(settings.database_url, pool_size=1)
        for bank in national_banks(args.banks, args.seed):
            add_institution(engine, bank.bic, bank.name, "bank", bank.country)
        engine.dispose()
        env = env_for(settings)
        files = [str(p) for p in paths]
        load = run_measured([REGISTRY, "load", "--no-index", "--jobs", str(args.jobs), *files], env)
        load["jobs"] = args.jobs
        load["parties_per_s"] = round(args.parties / load["seconds"])
        load["seconds_per_million_parties"] = round(load["seconds"] * 1_000_000 / args.parties, 1)
        # What the load costs whatever the machine: the loader's and Postgres's CPU per million.
        load["core_seconds_per_million_parties"] = {
            side: round(load["cpu"][key] * 1_000_000 / args.parties, 1)
            for side, key in (("all", "busy_core_seconds"), ("loader", "command_core_seconds"),
                              ("postgres_and_rest", "services_and_rest_core_seconds"))}
        result["rows"] = row_counts(settings)
        index = run_measured([REGISTRY, "index", "drain", "--jobs", str(args.jobs)], env)
        index["jobs"] = args.jobs
        index["seconds_per_million_parties"] = round(index["seconds"] * 1_000_000 / args.parties, 1)
        resend = run_measured([REGISTRY, "load", "--no-index", *files], env)
        resend["fraction_of_first_load"] = round(resend["seconds"] / load["seconds"], 3)
        resend["outbox_rows_after"] = row_counts(settings)["outbox"]  # zero means zero ES writes
        delta_path = write_delta(plan, folder, bank_index=0, fraction=0.01, sequence=2, as_of=date(2026, 2, 1))
        delta = run_measured([REGISTRY, "load", str(delta_path)], env)
        delta_path.unlink()
        copy, bulk = raw_copy(settings), raw_bulk(settings)
        rows_loaded = sum(v for k, v in result["rows"].items() if k != "outbox")  # type: ignore[union-attr]
        result.update({
            "load": load, "index": index, "resend": resend, "delta_1_percent": delta,
            "raw_copy": copy, "raw_bulk": bulk,
            "load_rows_per_s": round(rows_loaded / load["seconds"]),
            "load_fraction_of_raw_copy": round(rows_loaded / load["seconds"] / copy["rows_per_s"], 3),
            "index_fraction_of_raw_bulk": round(args.parties / index["seconds"] / bulk["docs_per_s"], 3),
            "bench_peak_rss_mb": self_peak_mb(),
        })
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
