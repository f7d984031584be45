"""Bank customers and investigators' queries for the search-quality benchmark, from the
shared name data sets. The split is the one `../shared/data/README.md` asks for: some
records of each person are loaded as customers, the others are the queries, and a query
never is a loaded record. Whole people are held out to make absent-person queries.

Sources (MIT licence, see `../shared/data/names/LICENSE-splink_datasets`), from the
`splink_datasets` repository:
- `historical_figures_with_errors_50k.parquet`: 50,578 records of 5,156 real people
  (Wikidata) with realistic errors (typos, nicknames, titles, dropped parts, wrong day or
  month of birth, missing fields).
- `fake_1000.csv`: 1,000 records of 250 people.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

NAMES_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "names"
HISTORICAL = NAMES_DIR / "historical_figures_with_errors_50k.parquet"
FAKE_1000 = NAMES_DIR / "fake_1000.csv"
ABSENT = "absent"


@dataclass(frozen=True)
class Customer:
    """One record as a bank reports it; `cluster` is the true person."""

    ref: str
    cluster: str
    name: str
    birth_date: str | None
    nationality: str | None = None


@dataclass(frozen=True)
class Probe:
    """One investigator's query; `cluster` None means the person is not in the registry."""

    dataset: str
    variant: str
    cluster: str | None
    name: str
    birth_date: str | None
    nationality: str | None = None


@dataclass
class Split:
    customers: list[Customer]
    probes: list[Probe]


def iso_date(value: object) -> str | None:
    """The date if it is a real ISO date, else None: the API answers 422 to an impossible
    date and the loader rejects it, so neither a query nor a customer can carry one."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return None


def _name(*parts: object) -> str:
    return " ".join(str(p).strip() for p in parts if isinstance(p, str) and p.strip())


def _split_clusters(
    rows_by_cluster: Mapping[str, list[Customer]], rng: random.Random, dataset: str,
    queried: int, per_cluster: int, absent: int,
) -> Split:
    """Hold out `absent` whole clusters (one query each); load about half of every other
    cluster and query with up to `per_cluster` of the rest of `queried` of them. Clusters
    not queried still load their half: they are the crowd a real query searches through."""
    clusters = sorted(rows_by_cluster)
    rng.shuffle(clusters)
    split = Split([], [])
    for cluster in clusters[:absent]:
        record = rng.choice(rows_by_cluster[cluster])
        split.probes.append(Probe(dataset, ABSENT, None, record.name, record.birth_date))
    asked = 0
    for cluster in clusters[absent:]:
        records = list(rows_by_cluster[cluster])
        rng.shuffle(records)
        loaded = max(1, len(records) // 2)
        split.customers.extend(records[:loaded])
        rest = records[loaded:]
        if rest and asked < queried:
            asked += 1
            split.probes.extend(Probe(dataset, "as recorded", r.cluster, r.name, r.birth_date)
                                for r in rest[:per_cluster])
    return split


def historical(rng: random.Random, queried: int, per_cluster: int, absent: int) -> Split:
    import pyarrow.parquet as pq  # type: ignore[import-untyped]  # the optional `bench` extra

    columns = ["unique_id", "cluster", "full_name", "first_name", "surname", "dob"]
    rows = pq.read_table(HISTORICAL, columns=columns).to_pylist()
    return _split_clusters(_group(
        Customer(f"hist-{r['unique_id']}", f"hist:{r['cluster']}",
                 _name(r["full_name"]) or _name(r["first_name"], r["surname"]), iso_date(r["dob"]))
        for r in rows), rng, "historical_figures", queried, per_cluster, absent)


def fake_1000(rng: random.Random, absent: int) -> Split:
    with FAKE_1000.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    return _split_clusters(_group(
        Customer(f"fake-{r['unique_id']}", f"fake:{r['cluster']}",
                 _name(r["first_name"], r["surname"]), iso_date(r["dob"]))
        for r in rows), rng, "fake_1000", len(rows), len(rows), absent)


def _group(records: Iterable[Customer]) -> dict[str, list[Customer]]:
    """Records by person; a record with a name of fewer than two letters is no query the
    API accepts, nor a customer a bank can report."""
    grouped: dict[str, list[Customer]] = defaultdict(list)
    for record in records:
        if len(record.name.replace(" ", "")) >= 2:
            grouped[record.cluster].append(record)
    return grouped
