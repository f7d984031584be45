"""Entry points: write a plan's full extracts, or a delta for one of its banks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from tqdm import tqdm

from seed.book import BankBook, layout
from seed.delta import delta_records
from seed.extract import ExtractWriter, extract_name
from seed.parties import entity_party, person_party

# Progress is reported in batches: a tqdm update per party would cost more
# than some parties take to generate.
_PROGRESS_BATCH = 1000


@dataclass
class SeedPlan:
    """What to generate; the same plan always produces byte-identical files."""

    parties: int = 2000
    banks: int = 3
    seed: int = 42
    as_of: date = date(2026, 1, 1)
    sequence: int = 1
    gzip: bool = False


def plan_books(plan: SeedPlan) -> list[BankBook]:
    return layout(plan.parties, plan.banks, plan.seed, plan.as_of)


def write_extracts(plan: SeedPlan, out_dir: Path, progress: bool = False) -> list[Path]:
    """One full extract per bank in `out_dir`, named <BIC>-<sequence>.jsonl[.gz]."""
    out_dir.mkdir(parents=True, exist_ok=True)
    books = plan_books(plan)
    with tqdm(total=plan.parties, disable=not progress, unit="party") as bar:
        return [_write_full(book, plan, out_dir, bar) for book in books]


def _write_full(book: BankBook, plan: SeedPlan, out_dir: Path, bar: tqdm[Any]) -> Path:
    path = out_dir / extract_name(book.bank.bic, plan.sequence, plan.gzip)
    with ExtractWriter(path, plan.gzip) as writer:
        for i in range(book.persons):
            for record in person_party(book, i):
                writer.write(record)
            if i % _PROGRESS_BATCH == _PROGRESS_BATCH - 1:
                bar.update(_PROGRESS_BATCH)
        bar.update(book.persons % _PROGRESS_BATCH)
        for e in range(book.entities):
            for record in entity_party(book, e):
                writer.write(record)
        bar.update(book.entities)
        return writer.finish(book.bank.bic, "full", plan.as_of, plan.sequence)


def write_delta(plan: SeedPlan, out_dir: Path, bank_index: int, fraction: float,
                sequence: int, as_of: date) -> Path:
    """A delta extract for one bank that amends the full extract `plan` produces.

    About `fraction` of the bank's parties change: persons move or are renamed,
    accounts close, and new persons arrive with an account each. `sequence`
    must be above the plan's own, and `as_of` not before the plan's.
    """
    if sequence <= plan.sequence:
        raise ValueError("a delta's sequence must follow the full extract's")
    if as_of < plan.as_of:
        raise ValueError("a delta cannot be dated before the extract it amends")
    if not 0 <= fraction <= 1:
        raise ValueError("fraction must be between 0 and 1")
    books = plan_books(plan)
    if not 0 <= bank_index < len(books):
        raise ValueError(f"the plan has no bank number {bank_index}")
    book = books[bank_index]
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / extract_name(book.bank.bic, sequence, plan.gzip)
    with ExtractWriter(path, plan.gzip) as writer:
        closed = _closed_by_earlier_deltas(book, fraction, plan.sequence, sequence, as_of)
        for record in delta_records(book, fraction, sequence - plan.sequence, sequence, as_of, closed):
            writer.write(record)
        return writer.finish(book.bank.bic, "delta", as_of, sequence)


def _closed_by_earlier_deltas(book: BankBook, fraction: float, first: int, sequence: int,
                              as_of: date) -> frozenset[str]:
    """Accounts the deltas between the full extract and this one close, written again (they
    are deterministic) as if with the same fraction: the registry refuses to close an account
    twice, as a bank would not."""
    closed: set[str] = set()
    for earlier in range(first + 1, sequence):
        closed.update(r["id"] for r in delta_records(book, fraction, earlier - first, earlier, as_of,
                                                     frozenset(closed))
                      if r.get("op") == "close")
    return frozenset(closed)
