"""Search load: a steady rate of person searches against a real gunicorn, every answer
counted, every audit event counted, and the hash chain verified at the end. Prints JSON.

The acceptance run (issue "who may look"): ten minutes at 100 searches/s from 20 clients,
no errors other than intended 429s, exactly one audit event per search, chain verifying:

    .venv/bin/python bench/search_load.py --seconds 600 --rate 100 --clients 20

Shorter by default (60 s). Needs the services (`registry services up`); reads their URLs
from the environment or `.local/services.env`, and refuses any that is not on loopback.
It works in a database, index prefix and rate-limit keys of its own: creates a scratch
database, migrates it, seeds `--parties` synthetic parties through the banks' own path
(`registry seed`), makes one investigator with a token and a case per client, starts
gunicorn on a free loopback port, runs, and drops everything it made (unless --keep).

Each client is one investigator sending at rate/clients per second on a fixed schedule
(open loop: a slow answer does not slow the offered load; `late_sends` counts sends that
left after their slot). `--user-limit` is set on every bench user; pick one below the
per-client rate (e.g. "60/minute") to see intended 429s.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import machine_cpu  # noqa: E402
from registry import audit, localservices  # noqa: E402
from registry.cli import main as registry_cli  # noqa: E402
from registry.config import Settings  # noqa: E402

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_SECONDS, MAX_RATE, MAX_CLIENTS = 900, 500, 64


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=100, help="searches per second, all clients")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    # What `make demo` seeds (DEMO_PARTIES in the Makefile).
    parser.add_argument("--parties", type=int, default=5000)
    parser.add_argument("--user-limit", default="600/minute;100000/day")
    parser.add_argument("--case-limit", default="600/minute;100000/day")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database and index")
    parser.add_argument("--reuse", metavar="DATABASE",
                        help="search a database (and its index prefix) kept by load_bench.py --keep, "
                             "e.g. bench_load_1000000, instead of seeding a scratch one")
    args = parser.parse_args()
    if not (0 < args.seconds <= MAX_SECONDS and 0 < args.rate <= MAX_RATE and 0 < args.clients <= MAX_CLIENTS):
        parser.error(f"bounded: seconds <= {MAX_SECONDS}, rate <= {MAX_RATE}, clients <= {MAX_CLIENTS}")
    return args


def loopback_only(settings: Settings) -> None:
    for url in (settings.database_url, settings.elasticsearch_url, settings.redis_url):
        host = urlsplit(url).hostname
        if host not in LOOPBACK:
            raise SystemExit(f"refusing to load a non-loopback service: {host}")


class Scratch:
    """A database and index prefix of this run's own, removed at the end."""

    def __init__(self, base: Settings, reuse: str | None = None) -> None:
        self.run = uuid.uuid4().hex[:8]
        self.owned = reuse is None
        self.name = reuse or f"registry_bench_{self.run}"
        self.admin = create_engine(make_url(base.owner_database_url), isolation_level="AUTOCOMMIT")
        # Named after the database either way, so a kept run (--keep) can be --reuse'd.
        prefix = self.name.replace("_", "-")
        self.settings = replace(base.on_database(self.name), index_prefix=prefix)

    def env(self) -> dict[str, str]:
        s = self.settings
        return {"DATABASE_URL": s.database_url, "REGISTRY_MIGRATE_DATABASE_URL": s.owner_database_url,
                "ELASTICSEARCH_URL": s.elasticsearch_url,
                "REDIS_URL": s.redis_url, "REGISTRY_INDEX_PREFIX": s.index_prefix}

    def create(self) -> None:
        if not self.owned:
            return
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.cli("db", "upgrade")

    def cli(self, *args: str) -> str:
        result = CliRunner().invoke(registry_cli, list(args), env=self.env(), catch_exceptions=False)
        if result.exit_code != 0:
            raise SystemExit(f"registry {' '.join(args)} failed:\n{result.output}")
        return result.output

    def drop(self) -> None:
        from registry.app import make_es, make_redis

        if not self.owned:
            self.admin.dispose()
            return
        make_es(self.settings.elasticsearch_url).indices.delete(
            index=f"{self.settings.index_prefix}-*", ignore_unavailable=True)
        redis = make_redis(self.settings.redis_url)
        for key in redis.scan_iter(match=f"*{self.settings.index_prefix}*", count=1000):
            redis.delete(key)
        redis.close()
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def setup_users(scratch: Scratch, clients: int, user_limit: str) -> list[tuple[str, str, int]]:
    """One investigator per client: (name, token, case id)."""
    users = []
    for n in range(clients):
        name = f"bench-{scratch.run}-{n:02d}"  # unique: a reused database keeps earlier runs' users
        scratch.cli("users", "create", name, "--role", "investigator", "--agency", "Bench FIU")
        scratch.cli("users", "limit", name, user_limit)
        token = scratch.cli("tokens", "create", name, "--days", "1").strip().splitlines()[-1]
        case_id = int(scratch.cli("cases", "open", f"BENCH-{scratch.run}-{n:02d}", "--legal-basis", "fiu_analysis",
                                  "--offence", "money_laundering", "--assign", name).strip().splitlines()[-1])
        users.append((name, token, case_id))
    return users


def names_to_search(engine: Any, count: int = 5000) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT full_name FROM parties WHERE kind = 'person' "
                                      "ORDER BY random() LIMIT :n"), {"n": count}).scalars())


def start_server(scratch: Scratch, args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, **scratch.env(), "REGISTRY_CASE_RATE_LIMIT": args.case_limit}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", str(args.workers),
                               "--threads", str(args.threads), "--bind", f"127.0.0.1:{port}",
                               "registry.wsgi:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                return server, base
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("gunicorn did not come up")


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.late = 0

    def add(self, status: str, seconds: float, late: bool) -> None:
        with self.lock:
            self.statuses[status] += 1
            self.latencies.append(seconds)
            self.late += late


def search_once(base: str, token: str, body: bytes) -> str:
    request = urllib.request.Request(f"{base}/api/v1/search/persons", data=body, method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return str(response.status)
    except urllib.error.HTTPError as error:
        with error:
            return str(error.code)
    except OSError as error:
        return type(error).__name__


def client_loop(base: str, user: tuple[str, str, int], names: list[str], interval: float,
                start: float, end: float, offset: float, tally: Tally) -> None:
    _, token, case_id = user
    k = 0
    while True:
        slot = start + offset + k * interval
        if slot >= end or time.monotonic() >= end:  # bounded in time, even when behind
            return
        delay = slot - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        body = json.dumps({"case_id": case_id, "name": names[k % len(names)]}).encode()
        sent = time.monotonic()
        status = search_once(base, token, body)
        tally.add(status, time.monotonic() - sent, late=sent - slot > interval)
        k += 1


def run_load(base: str, users: list[tuple[str, str, int]], names: list[str],
             args: argparse.Namespace) -> tuple[Tally, float]:
    tally = Tally()
    interval = len(users) / args.rate
    start = time.monotonic() + 0.5
    end = start + args.seconds
    threads = [threading.Thread(target=client_loop, daemon=True, args=(
        base, user, names[i::len(users)] or names, interval, start, end, i * interval / len(users), tally))
        for i, user in enumerate(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally, time.monotonic() - start


def server_cpu_seconds(pid: int) -> float:
    """CPU seconds so far of gunicorn's master and its live workers (threads included)."""
    ticks = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = 0
    for process in [str(pid), *children]:
        # Fields after the parenthesised name; utime and stime are the 14th and 15th.
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def audit_counts(engine: Any, users: list[tuple[str, str, int]]) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT outcome, count(*) FROM audit_events WHERE tag = 'search:person:query' "
                                 "AND actor = ANY(:names) GROUP BY outcome"), {"names": [u[0] for u in users]})
        return {outcome: count for outcome, count in rows}


def raw_search_times(settings: Settings, names: list[str]) -> dict[str, Any]:
    """The same candidate queries sent straight to Elasticsearch, one at a time: what the
    search costs before authentication, rate limiting, scoring, accounts and audit."""
    from registry.app import make_es
    from search.gateway import SearchGateway
    from search.queries import PersonQuery, person_search

    gateway = SearchGateway(make_es(settings.elasticsearch_url), settings.index_prefix)
    took, wall = [], []
    for name in names:
        sent = time.monotonic()
        took.append(gateway.search(person_search(PersonQuery(name)))["took"] / 1000)
        wall.append(time.monotonic() - sent)
    return {"queries": len(names), "took_ms": {"p50": percentile(took, 50), "p95": percentile(took, 95)},
            "round_trip_ms": {"p50": percentile(wall, 50), "p95": percentile(wall, 95)}}


def percentile(values: list[float], q: float) -> float:
    return round(statistics.quantiles(values, n=100)[int(q) - 1] * 1000, 1) if len(values) > 1 else 0.0


def cpu_per_search(cpu: dict[str, float], sent: int) -> dict[str, float]:
    """How busy the cores were during the load, and what one search cost them: all of it,
    and the app's share (the rest is Elasticsearch, Postgres, Redis and the clients)."""
    def per_search(seconds: float) -> float:
        return round(seconds * 1000 / max(sent, 1), 2)
    return {**cpu, "core_ms_per_search": per_search(cpu["busy_core_seconds"]),
            "app_core_ms_per_search": per_search(cpu["app_core_seconds"])}


def report(args: argparse.Namespace, tally: Tally, elapsed: float, events: dict[str, int],
           chain: audit.VerifyResult, verify_seconds: float) -> dict[str, Any]:
    sent = sum(tally.statuses.values())
    # The offered load counts as reached when 95% of it was sent within the time.
    reached = sent >= 0.95 * args.rate * args.seconds
    errors = {s: n for s, n in tally.statuses.items() if s not in ("200", "429")}
    expected = {"ok": tally.statuses.get("200", 0), "rate_limited": tally.statuses.get("429", 0)}
    return {
        "offered": {"seconds": args.seconds, "rate": args.rate, "clients": args.clients,
                    "workers": args.workers, "threads": args.threads, "parties": args.parties},
        "sent": sent, "achieved_rate": round(sent / elapsed, 1), "rate_reached": reached,
        "late_sends": tally.late,
        "statuses": dict(tally.statuses), "errors": errors,
        "latency_ms": {"p50": percentile(tally.latencies, 50), "p95": percentile(tally.latencies, 95),
                       "p99": percentile(tally.latencies, 99),
                       "max": round(max(tally.latencies, default=0) * 1000, 1)},
        "audit_events": events,
        "one_event_per_search": sum(events.values()) == sent and {k: v for k, v in events.items() if v} ==
        {k: v for k, v in expected.items() if v},
        "chain": {"ok": chain.ok, "events_checked": chain.events, "seconds": round(verify_seconds, 2),
                  "broken": chain.broken.__dict__ if chain.broken else None},
        "passed": reached and not errors and chain.ok and sum(events.values()) == sent,
    }


def main() -> None:
    args = parse_args()
    localservices.load_env_file(ROOT)
    base_settings = Settings.from_env()
    loopback_only(base_settings)
    scratch = Scratch(base_settings, args.reuse)
    scratch.create()
    engine = create_engine(scratch.settings.database_url, pool_size=2)
    server = None
    try:
        if not scratch.owned:
            with engine.connect() as conn:
                args.parties = conn.execute(text(
                    "SELECT count(*) FROM parties WHERE superseded_at IS NULL")).scalar_one()
        else:
            print(f"seeding {args.parties} parties into {scratch.name}", file=sys.stderr)
            with tempfile.TemporaryDirectory() as out:
                scratch.cli("seed", "--parties", str(args.parties), "--banks", "2", "--out", out)
        users = setup_users(scratch, args.clients, args.user_limit)
        names = names_to_search(engine)
        server, base = start_server(scratch, args)
        print(f"running {args.seconds:g} s at {args.rate:g}/s against {base}", file=sys.stderr)
        server_before = server_cpu_seconds(server.pid)
        with machine_cpu() as cpu:
            tally, elapsed = run_load(base, users, names, args)
        cpu["app_core_seconds"] = round(server_cpu_seconds(server.pid) - server_before, 1)
        events = audit_counts(engine, users)
        began = time.monotonic()
        with Session(engine) as session:
            chain = audit.verify(session)
        result = report(args, tally, elapsed, events, chain, time.monotonic() - began)
        result["cpu"] = cpu_per_search(cpu, sum(tally.statuses.values()))
        result["elasticsearch_alone"] = raw_search_times(scratch.settings, names)
        print(json.dumps(result, indent=2))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        engine.dispose()
        if not args.keep:
            scratch.drop()


if __name__ == "__main__":
    main()
