"""Search quality: recall@1, recall@10 and MRR of person search, and false "likely"
results for people who are not in the registry, beside a plain baseline. Prints JSON.

    .venv/bin/pip install -c constraints.txt -e '.[bench]'   # pyarrow, for the parquet file
    .venv/bin/python -m bench.search_quality                  # about 3-4 minutes on 2 cores

Needs only Elasticsearch (`registry services up`; URL from the environment or
`.local/services.env`). Builds its own index under the prefix `bench-quality` (dropped
and rebuilt every run, dropped at the end unless --keep), loads the customers of three
data sets (see bench/quality_data.py and bench/quality_variants.py), and asks every query
two ways:
- ours: exactly what the API does, `person_search(PersonQuery(...))` -> `gateway.search`
  -> `score_person` over every candidate -> sorted by score;
- baseline: `baseline_person_search`, an Elasticsearch `match` on the name with
  `fuzziness: AUTO`, ranked by Elasticsearch.
A query is right when a record of the same person (cluster) is ranked; recall@k counts
queries with one in the first k, MRR uses the first one's rank (0 beyond 10). Every
random choice comes from --random-seed, so two runs with the same flags ask the same
queries of the same index.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.quality_data import Customer, Probe, Split, fake_1000, historical  # noqa: E402
from bench.quality_variants import seed_variants  # noqa: E402
from search.documents import party_document  # noqa: E402
from search.gateway import SearchGateway  # noqa: E402
from rapidfuzz.distance import Levenshtein  # noqa: E402

from search.names import analyse_name, fold  # noqa: E402
from search.queries import PersonQuery, baseline_person_search, person_search  # noqa: E402
from search.scoring import LIKELY, score_person  # noqa: E402

PREFIX = "bench-quality"
SHOWN = 10  # results a person search shows; recall@10 and MRR look no further
TARGETS = {"recall_at_10": 0.98, "recall_at_1": 0.92, "variant_recall_at_10": 0.90,
           "false_likely_per_1000": 2.0}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clusters", type=int, default=3000,
                        help="historical-figures people queried (of 5,156)")
    parser.add_argument("--per-cluster", type=int, default=2, help="queries per historical person")
    parser.add_argument("--absent", type=int, default=1000,
                        help="historical people held out of the index and queried")
    parser.add_argument("--fake-absent", type=int, default=50, help="fake_1000 people held out")
    parser.add_argument("--per-variant", type=int, default=250, help="seed people per variant type")
    parser.add_argument("--crowd", type=int, default=5000, help="seed people loaded, never queried")
    parser.add_argument("--seed-absent", type=int, default=1000, help="seed people never loaded")
    parser.add_argument("--random-seed", type=int, default=20261129)
    parser.add_argument("--keep", action="store_true", help="keep the index afterwards")
    return parser.parse_args()


def gateway() -> SearchGateway:
    from registry import localservices
    from registry.app import make_es

    os.environ.setdefault("REGISTRY_ROOT", str(ROOT))
    localservices.load_env_file(ROOT)
    return SearchGateway(make_es(os.environ["ELASTICSEARCH_URL"]), PREFIX)


def party(customer: Customer) -> dict[str, Any]:
    return {"institution_id": 1, "ref": customer.ref, "kind": "person", "full_name": customer.name,
            "birth_date": customer.birth_date,
            "nationalities": [customer.nationality] if customer.nationality else []}


def build_index(search: SearchGateway, customers: Sequence[Customer]) -> float:
    started = time.monotonic()
    search.delete_all()
    index = search.create_index(bulk_load=True)
    done, errors = search.bulk(({"_id": c.ref, "_source": party_document(party(c), "BENCH")}
                                for c in customers), index=index)
    if errors or done != len(customers):
        raise SystemExit(f"indexing failed: {done} of {len(customers)}, first error {errors[:1]}")
    search.finish_load(index)
    search.move_alias(index)
    return time.monotonic() - started


@dataclass
class Answer:
    """One query's ranked answer: the person behind each result, and our scores."""

    clusters: list[str]
    scores: list[float]
    es_ms: float
    total_ms: float
    names: list[str]


def ask_ours(search: SearchGateway, probe: Probe, cluster_of: dict[str, str]) -> Answer:
    started = time.perf_counter()
    query = PersonQuery(probe.name, birth_date=probe.birth_date, nationality=probe.nationality)
    response = search.search(person_search(query))
    wanted = analyse_name(query.name)
    scored = [(score_person(query, wanted, hit["_source"]).score, cluster_of[hit["_id"]],
               hit["_source"]["display"]["full_name"]) for hit in response["hits"]["hits"]]
    # Stable: equal scores keep Elasticsearch's order, as in the API.
    scored.sort(key=lambda row: -row[0])
    return Answer([c for _, c, _ in scored], [s for s, _, _ in scored], float(response["took"]),
                  (time.perf_counter() - started) * 1000, [n for _, _, n in scored])


def ask_baseline(search: SearchGateway, probe: Probe, cluster_of: dict[str, str]) -> Answer:
    started = time.perf_counter()
    response = search.search(baseline_person_search(probe.name, SHOWN))
    clusters = [cluster_of[hit["_id"]] for hit in response["hits"]["hits"]]
    return Answer(clusters, [], float(response["took"]), (time.perf_counter() - started) * 1000, [])


def answerable(probe: Probe, loaded: Sequence[Customer]) -> bool:
    """Whether any matcher could know the query's person: a loaded record of theirs shares
    a word with the query (within one edit, for words of four letters or more) or the full
    birth date. The historical set has records that share neither ("Countess Bradford"
    loaded as "Ida Lumley", "Sam" with no date as "Samuel Hodge")."""
    words = set(fold(probe.name).split())
    for customer in loaded:
        if probe.birth_date and probe.birth_date == customer.birth_date:
            return True
        for word in fold(customer.name).split():
            if any(w == word or (min(len(w), len(word)) >= 4 and Levenshtein.distance(w, word) <= 1)
                   for w in words):
                return True
    return False


def rank(probe: Probe, answer: Answer) -> int | None:
    return next((i + 1 for i, c in enumerate(answer.clusters) if c == probe.cluster), None)


def recall(probes: Sequence[tuple[Probe, Answer]]) -> dict[str, float | int]:
    ranks = [rank(p, a) for p, a in probes]
    n = len(ranks)
    if n == 0:
        return {"queries": 0}
    return {"queries": n,
            "recall_at_1": round(sum(r == 1 for r in ranks) / n, 4),
            "recall_at_10": round(sum(r is not None and r <= SHOWN for r in ranks) / n, 4),
            "mrr": round(sum(1 / r for r in ranks if r is not None and r <= SHOWN) / n, 4),
            # Ours only: the right person among all candidates re-scored (what re-scoring
            # could at best put on top), and scored "likely" (how often the flag helps).
            **({"in_candidates": round(sum(r is not None for r in ranks) / n, 4),
                "right_is_likely": round(sum(_right_likely(p, a) for p, a in probes) / n, 4)}
               if probes[0][1].scores else {})}


def _right_likely(probe: Probe, answer: Answer) -> bool:
    return any(c == probe.cluster and s >= LIKELY
               for c, s in zip(answer.clusters[:SHOWN], answer.scores[:SHOWN]))


def false_likely(probes: Sequence[tuple[Probe, Answer]]) -> dict[str, float | int]:
    """Results shown at or above LIKELY for people who are not there, per 1,000 queries."""
    n = len(probes)
    counts = [sum(s >= LIKELY for s in a.scores[:SHOWN]) for _, a in probes]
    return {"queries": n,
            "false_likely_per_1000": round(1000 * sum(counts) / n, 2) if n else 0.0,
            "queries_with_a_false_likely_per_1000": round(1000 * sum(c > 0 for c in counts) / n, 2)
            if n else 0.0,
            "top_score_p50": round(statistics.median(a.scores[0] if a.scores else 0.0
                                                     for _, a in probes), 4) if n else 0.0}


def wrong_likely(probes: Sequence[tuple[Probe, Answer]]) -> float:
    """Results of another person shown at or above LIKELY, per 1,000 queries of people who are there."""
    wrong = sum(c != p.cluster and s >= LIKELY for p, a in probes
                for c, s in zip(a.clusters[:SHOWN], a.scores[:SHOWN]))
    return round(1000 * wrong / len(probes), 2) if probes else 0.0


def percentiles(values: Iterable[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}
    return {"p50": round(ordered[len(ordered) // 2], 2),
            "p95": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2)}


def grouped(results: Sequence[tuple[Probe, Answer, Answer]], key: str,
            unanswerable: frozenset[int] = frozenset()) -> dict[str, Any]:
    groups: dict[str, list[tuple[Probe, Answer, Answer]]] = defaultdict(list)
    for result in results:
        if result[0].cluster is not None:
            groups[getattr(result[0], key)].append(result)
    return {name: side_by_side(rows, unanswerable) for name, rows in sorted(groups.items())}


def side_by_side(rows: Sequence[tuple[Probe, Answer, Answer]],
                 unanswerable: frozenset[int] = frozenset()) -> dict[str, Any]:
    sides: dict[str, Any] = {"ours": recall([(p, o) for p, o, _ in rows]),
                             "baseline": recall([(p, b) for p, _, b in rows])}
    if unanswerable:
        kept = [r for r in rows if id(r[0]) not in unanswerable]
        sides["unanswerable_queries"] = len(rows) - len(kept)
        sides["ours_answerable"] = recall([(p, o) for p, o, _ in kept])
        sides["baseline_answerable"] = recall([(p, b) for p, _, b in kept])
    return sides


def summary(results: list[tuple[Probe, Answer, Answer]], config: dict[str, Any],
            index_seconds: float, customers: int, query_seconds: float,
            unanswerable: frozenset[int]) -> dict[str, Any]:
    present = [r for r in results if r[0].cluster is not None]
    absent = [r for r in results if r[0].cluster is None]
    overall = side_by_side(present, unanswerable)
    by_variant = grouped([r for r in present if r[0].dataset == "seed_variants"], "variant")
    absent_ours = false_likely([(p, o) for p, o, _ in absent])
    worst_variant = min((v["ours"]["recall_at_10"] for v in by_variant.values()), default=0.0)
    return {
        "config": config,
        "likely_threshold": LIKELY,
        "index": {"customers": customers, "seconds": round(index_seconds, 1)},
        "overall": overall,
        "by_dataset": grouped(present, "dataset", unanswerable),
        "by_variant": by_variant,
        "absent": {"ours": absent_ours,
                   "by_dataset": {ds: false_likely([(p, o) for p, o, _ in absent if p.dataset == ds])
                                  for ds in sorted({p.dataset for p, _, _ in absent})},
                   "baseline": "no calibrated score: Elasticsearch's relevance is not 0-1"},
        "wrong_person_likely_per_1000_present_queries": wrong_likely([(p, o) for p, o, _ in present]),
        "timings_ms": {"ours": {"elasticsearch": percentiles(o.es_ms for _, o, _ in results),
                                "total": percentiles(o.total_ms for _, o, _ in results)},
                       "baseline": {"elasticsearch": percentiles(b.es_ms for _, _, b in results),
                                    "total": percentiles(b.total_ms for _, _, b in results)},
                       "queries": len(results), "all_queries_seconds": round(query_seconds, 1)},
        "targets": {
            "recall_at_10": [overall["ours"]["recall_at_10"], TARGETS["recall_at_10"]],
            "recall_at_1": [overall["ours"]["recall_at_1"], TARGETS["recall_at_1"]],
            "worst_variant_recall_at_10": [worst_variant, TARGETS["variant_recall_at_10"]],
            "false_likely_per_1000": [absent_ours["false_likely_per_1000"],
                                      TARGETS["false_likely_per_1000"]],
        },
    }


def main() -> None:
    args = parse_args()
    rng = random.Random(args.random_seed)
    started = time.monotonic()
    splits: list[Split] = [historical(rng, args.clusters, args.per_cluster, args.absent),
                           fake_1000(rng, args.fake_absent),
                           seed_variants(rng, args.per_variant, args.crowd, args.seed_absent)]
    customers = [c for s in splits for c in s.customers]
    probes = [p for s in splits for p in s.probes]
    cluster_of = {c.ref: c.cluster for c in customers}
    search = gateway()
    index_seconds = build_index(search, customers)
    asked = time.monotonic()
    results = [(p, ask_ours(search, p, cluster_of), ask_baseline(search, p, cluster_of)) for p in probes]
    query_seconds = time.monotonic() - asked
    config = {k: v for k, v in vars(args).items() if k != "keep"}
    loaded: dict[str, list[Customer]] = defaultdict(list)
    for customer in customers:
        loaded[customer.cluster].append(customer)
    unanswerable = frozenset(id(p) for p in probes
                             if p.cluster is not None and not answerable(p, loaded[p.cluster]))
    report = summary(results, config, index_seconds, len(customers), query_seconds, unanswerable)
    report["wall_seconds"] = round(time.monotonic() - started, 1)
    if os.environ.get("BENCH_QUALITY_MISSES"):
        _write_misses(Path(os.environ["BENCH_QUALITY_MISSES"]), results)
    if not args.keep:
        search.delete_all()
    print(json.dumps(report, indent=2))


def _write_misses(path: Path, results: Sequence[tuple[Probe, Answer, Answer]]) -> None:
    """For looking at failures by hand (not part of the report): queries whose person was
    not ranked first, and absent-person queries that drew a likely result."""
    with path.open("w", encoding="utf-8") as out:
        for probe, ours, _ in results:
            if (probe.cluster is None and ours.scores[:1] and ours.scores[0] >= LIKELY) or (
                    probe.cluster is not None and rank(probe, ours) != 1):
                top = list(zip(ours.clusters[:3], ours.names[:3], ours.scores[:3]))
                out.write(json.dumps({"probe": probe.__dict__, "rank": rank(probe, ours),
                                      "top": top}) + "\n")


if __name__ == "__main__":
    main()
