"""Owners of an entity and holdings of a person: latency over many random parties; prints JSON.

    .venv/bin/python bench/ownership_bench.py --parties 100000 --banks 10 --requests 1000
    .venv/bin/python bench/ownership_bench.py --parties 1000000 --banks 10 --keep   # target size
    .venv/bin/python bench/ownership_bench.py --parties 1000000 --reuse             # again, no load

Needs the services (`registry services up`). The seed book is cached in var/bench/ (made as
bench/load_bench.py makes it) and loaded through the banks' own path (`registry load`) into a
scratch database of its own, `bench_ownership_<parties>`: dropped at the end unless --keep;
--reuse times against one kept earlier. Each request goes through the whole app in process
(Flask test client): token check, rate limits in Redis, case check, graph and account
queries, arithmetic, audit event, commit. Parties are drawn at random among entities that
have owners and persons that hold something (the requests worth making), and among all
entities and persons (mostly empty answers). The issue's target: p95 <= 50 ms for both, on
the 1M-party book.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import registry.api.ownership  # noqa: E402,F401  (the routes, until registry.api imports them)
from bench.common import ROOT, base_settings, env_for, run_measured, scratch_database  # noqa: E402
from bench.load_bench import REGISTRY, row_counts, seed  # noqa: E402
from registry.admin import add_institution  # noqa: E402
from registry.app import create_app, make_redis  # noqa: E402
from registry.cli import main as registry_cli  # noqa: E402
from registry.config import Settings  # noqa: E402
from registry.db import make_engine  # noqa: E402
from seed.banks import national_banks  # noqa: E402
from seed.generate import SeedPlan  # noqa: E402

# Parties drawn from each pool: those with a network (EXISTS on the partial indexes), and any.
WITH_OWNERS = """SELECT p.id FROM parties p WHERE p.kind = 'entity' AND p.superseded_at IS NULL
AND EXISTS (SELECT 1 FROM ownership_interests o WHERE o.institution_id = p.institution_id
            AND o.owned_ref = p.ref AND o.superseded_at IS NULL)"""
HOLDING = """SELECT p.id FROM parties p WHERE p.kind = 'person' AND p.superseded_at IS NULL
AND EXISTS (SELECT 1 FROM ownership_interests o WHERE o.institution_id = p.institution_id
            AND o.owner_ref = p.ref AND o.superseded_at IS NULL)"""
ANY_KIND = "SELECT id FROM parties WHERE kind = :kind AND superseded_at IS NULL"
NO_LIMIT = "1000000/minute"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parties", type=int, default=100_000)
    parser.add_argument("--banks", type=int, default=10)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--requests", type=int, default=1000, help="timed requests per series")
    parser.add_argument("--jobs", type=int, default=2, help="banks loaded side by side")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", action="store_true", help="time against a kept database")
    parser.add_argument("--database", help="the kept database's name (default bench_ownership_PARTIES; "
                                           "load_bench.py --keep keeps bench_load_PARTIES)")
    return parser.parse_args()


@contextmanager
def database(args: argparse.Namespace) -> Iterator[tuple[Settings, dict[str, Any]]]:
    name = args.database or f"bench_ownership_{args.parties}"
    base = base_settings()
    if args.reuse:
        yield replace(base.on_database(name), index_prefix=name.replace("_", "-")), {"reused": name}
        return
    plan = SeedPlan(parties=args.parties, banks=args.banks, seed=args.seed)
    paths, _ = seed(plan, ROOT / "var" / "bench" / f"book-{args.parties}-{args.banks}-{args.seed}")
    with scratch_database(base, name, keep=args.keep) as settings:
        engine = make_engine(settings.database_url, pool_size=1)
        for bank in national_banks(args.banks, args.seed):
            add_institution(engine, bank.bic, bank.name, "bank", bank.country)
        engine.dispose()
        load = run_measured([REGISTRY, "load", "--no-index", "--jobs", str(args.jobs),
                             *map(str, paths)], env_for(settings))
        yield settings, {"load_seconds": load["seconds"]}


def cli(settings: Settings, *argv: str) -> str:
    # The same variables a child process gets (env_for), the migration owner's URL included.
    env = {key: env_for(settings)[key] for key in (
        "DATABASE_URL", "REGISTRY_MIGRATE_DATABASE_URL", "ELASTICSEARCH_URL", "REDIS_URL",
        "REGISTRY_INDEX_PREFIX")}
    result = CliRunner().invoke(registry_cli, list(argv), env=env, catch_exceptions=False)
    if result.exit_code != 0:
        raise SystemExit(f"registry {' '.join(argv)} failed:\n{result.output}")
    return (result.output.strip().splitlines() or [""])[-1]


def investigator(settings: Settings) -> tuple[str, int]:
    name = f"bench-ownership-{int(time.time())}"
    cli(settings, "users", "create", name, "--role", "investigator", "--agency", "Bench FIU")
    cli(settings, "users", "limit", name, NO_LIMIT)
    token = cli(settings, "tokens", "create", name, "--days", "1")
    case_id = int(cli(settings, "cases", "open", name.upper(), "--legal-basis", "fiu_analysis",
                      "--offence", "money_laundering", "--assign", name))
    return token, case_id


def sample(engine: Engine, sql: str, count: int, rng: random.Random, **params: Any) -> list[int]:
    with engine.connect() as conn:
        ids = list(conn.execute(text(sql), params).scalars())
    return rng.sample(ids, min(count, len(ids)))


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50_ms": round(cuts[49] * 1000, 2), "p95_ms": round(cuts[94] * 1000, 2),
            "p99_ms": round(cuts[98] * 1000, 2), "max_ms": round(ordered[-1] * 1000, 2)}


def series(client: FlaskClient, url: str, ids: list[int], token: str, case_id: int,
           key: str) -> dict[str, Any]:
    """Time one request per party; sizes say how much each answer held."""
    latencies, sizes, paths = [], [], []
    headers = {"Authorization": f"Bearer {token}"}
    for party_id in ids:
        started = time.perf_counter()
        response = client.get(url.format(party_id), headers=headers, query_string={"case_id": case_id})
        latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"{url.format(party_id)}: {response.status_code} {response.json}")
        items = response.json[key]
        sizes.append(len(items))
        paths.append(sum(len(i["paths"]) for i in items))
    return {"requests": len(ids), **percentiles(latencies), "mean_items": round(statistics.mean(sizes), 2),
            "max_items": max(sizes), "max_paths": max(paths)}


def main() -> None:
    args = parse_args()
    rng = random.Random(args.seed)
    with database(args) as (settings, setup):
        engine = make_engine(settings.database_url, pool_size=1)
        pools = {"owners_with_network": (WITH_OWNERS, {}), "owners_any_entity": (ANY_KIND, {"kind": "entity"}),
                 "holdings_with_network": (HOLDING, {}), "holdings_any_person": (ANY_KIND, {"kind": "person"})}
        drawn = {name: sample(engine, sql, args.requests, rng, **params) for name, (sql, params) in pools.items()}
        engine.dispose()
        token, case_id = investigator(settings)
        app = create_app(replace(settings, case_rate_limit=NO_LIMIT))
        client = app.test_client()
        series(client, "/api/v1/entities/{}/owners", drawn["owners_any_entity"][:20], token, case_id, "owners")
        result: dict[str, Any] = {"parties": args.parties, "banks": args.banks, **setup,
                                  "rows": row_counts(settings)}
        for name, ids in drawn.items():
            url, key = (("/api/v1/entities/{}/owners", "owners") if name.startswith("owners")
                        else ("/api/v1/persons/{}/holdings", "entities"))
            result[name] = series(client, url, ids, token, case_id, key)
        ext = app.extensions["registry"]
        ext.engine.dispose()
        ext.es.close()
        ext.redis.close()
        clear_limits(settings)
    print(json.dumps(result, indent=2))


def clear_limits(settings: Settings) -> None:
    redis = make_redis(settings.redis_url)
    for key in redis.scan_iter(match=f"*{settings.index_prefix}*", count=1000):
        redis.delete(key)
    redis.close()


if __name__ == "__main__":
    main()
