"""What the benchmarks share: a scratch database of their own, timing, peak memory."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from registry import localservices
from registry.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def base_settings() -> Settings:
    os.environ.setdefault("REGISTRY_ROOT", str(ROOT))
    localservices.load_env_file(ROOT)
    return Settings.from_env()


@contextmanager
def scratch_database(settings: Settings, name: str, keep: bool = False) -> Iterator[Settings]:
    """A fresh, migrated database and index prefix for one benchmark run."""
    admin = create_engine(make_url(settings.owner_database_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    scratch = replace(settings.on_database(name), index_prefix=name.replace("_", "-"))
    from registry.app import make_es
    from registry.db import make_engine
    from registry.migrate import upgrade

    # A kept run's index too: documents already there at the same version would be
    # acknowledged without being indexed again, and the run would measure nothing.
    es = make_es(scratch.elasticsearch_url)
    es.indices.delete(index=f"{scratch.index_prefix}-*", ignore_unavailable=True)

    engine = make_engine(scratch.owner_database_url, pool_size=2)
    upgrade(engine)
    engine.dispose()
    try:
        yield scratch
    finally:
        if not keep:
            es.indices.delete(index=f"{scratch.index_prefix}-*", ignore_unavailable=True)
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def env_for(settings: Settings) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": settings.database_url,
            "REGISTRY_MIGRATE_DATABASE_URL": settings.owner_database_url,
            "ELASTICSEARCH_URL": settings.elasticsearch_url, "REDIS_URL": settings.redis_url,
            "REGISTRY_INDEX_PREFIX": settings.index_prefix}


def machine_cpu_seconds() -> tuple[float, float]:
    """Busy and total CPU seconds of the whole machine since boot, all cores (/proc/stat)."""
    ticks = os.sysconf("SC_CLK_TCK")
    # user nice system idle iowait irq softirq steal; guest time is inside user already.
    # Steal is time the hypervisor gave another machine: neither this one's work nor idle.
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    waiting = fields[3] + fields[4] + fields[7]
    return (sum(fields) - waiting) / ticks, sum(fields) / ticks


@contextmanager
def machine_cpu() -> Iterator[dict[str, float]]:
    """Fills the yielded dict, on exit, with how busy the machine's cores were meanwhile:
    the benchmark's own processes and the services (Postgres, Elasticsearch) together."""
    figures: dict[str, float] = {}
    busy, total = machine_cpu_seconds()
    yield figures
    busy_after, total_after = machine_cpu_seconds()
    figures["cores"] = os.cpu_count() or 1
    figures["busy_core_seconds"] = round(busy_after - busy, 1)
    figures["busy_fraction"] = round((busy_after - busy) / max(total_after - total, 1e-9), 3)


def run_measured(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Wall time, peak resident memory (MB) and CPU of a child process (with the processes
    it started and waited for), beside the CPU the rest of the machine used meanwhile."""
    started = time.monotonic()
    with machine_cpu() as machine:
        process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    if status != 0:
        sys.stderr.write(output)
        raise RuntimeError(f"{' '.join(argv)} exited with {status}")
    own = usage.ru_utime + usage.ru_stime
    return {"seconds": round(time.monotonic() - started, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "cpu": {**machine, "command_core_seconds": round(own, 1),
                    "services_and_rest_core_seconds": round(machine["busy_core_seconds"] - own, 1)},
            "output_tail": output.strip().splitlines()[-1] if output.strip() else ""}


def self_peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
