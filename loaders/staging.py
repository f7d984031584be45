"""Staging tables filled with COPY, then checked with set-based SQL.

Staging lives in temporary tables of the apply transaction: a rejected extract leaves
nothing behind, and memory does not grow with the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from loaders.tables import TABLES, Target


def staging_table(table: str) -> str:
    return f"stg_{table}"


def create_staging(cursor: psycopg.Cursor[Any]) -> None:
    for table, target in TABLES.items():
        columns = ", ".join(f"{c} {t}" for c, t in zip(target.columns, target.types, strict=True))
        cursor.execute(
            f"CREATE TEMP TABLE {staging_table(table)} (line integer NOT NULL, ref text NOT NULL, "
            f"record_hash text, op text NOT NULL, {columns}) ON COMMIT DROP"
        )


class Stager:
    """One open COPY per staging table, written to as records stream past."""

    def __init__(self, cursors: dict[str, Any]) -> None:
        self._copies = cursors

    def write(self, target: Target, line: int, ref: str, record_hash: str | None, op: str,
              values: tuple[Any, ...]) -> None:
        self._copies[target.table].write_row((line, ref, record_hash, op, *values))


@contextmanager
def stager(connection: psycopg.Connection[Any]) -> Iterator[Stager]:
    # COPY streams are per cursor and one at a time per connection, so rows are buffered per
    # table and flushed in blocks; the buffer is bounded, not the file.
    buffers = {table: _Buffered(connection, table, target) for table, target in TABLES.items()}
    try:
        yield Stager(buffers)
    finally:
        for buffer in buffers.values():
            buffer.flush()
        for table in TABLES:
            # The registry tables' statistics lag behind a big load, so the planner may pick
            # nested loops over staging: an index keeps those lookups cheap whatever it picks.
            connection.execute(f"CREATE INDEX ON {staging_table(table)} (ref)")
            connection.execute(f"ANALYZE {staging_table(table)}")


class _Buffered:
    BLOCK = 20_000

    def __init__(self, connection: psycopg.Connection[Any], table: str, target: Target) -> None:
        self.connection = connection
        self.sql = (f"COPY {staging_table(table)} (line, ref, record_hash, op, "
                    f"{', '.join(target.columns)}) FROM STDIN")
        self.rows: list[tuple[Any, ...]] = []

    def write_row(self, row: tuple[Any, ...]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.BLOCK:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        with self.connection.cursor() as cursor, cursor.copy(self.sql) as copy:
            for row in self.rows:
                copy.write_row(row)
        self.rows.clear()
