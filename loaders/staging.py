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


# The ids of records that failed validation, by line: a reference to one, or a second record
# with its id, is then reported as what it is rather than as a reference to nothing.
FAILED = "stg_failed"
FAILED_COPY = f"COPY {FAILED} (line, record, ref) FROM STDIN"


def create_staging(cursor: psycopg.Cursor[Any]) -> None:
    for table, target in TABLES.items():
        columns = ", ".join(f"{c} {t}" for c, t in zip(target.columns, target.types, strict=True))
        cursor.execute(
            f"CREATE TEMP TABLE {staging_table(table)} (line integer NOT NULL, ref text NOT NULL, "
            f"record_hash text, op text NOT NULL, {columns}) ON COMMIT DROP"
        )
    cursor.execute(f"CREATE TEMP TABLE {FAILED} (line integer NOT NULL, record text NOT NULL, "
                   "ref text NOT NULL) ON COMMIT DROP")


class Stager:
    """One open COPY per staging table, written to as records stream past."""

    def __init__(self, cursors: dict[str, Any]) -> None:
        self._copies = cursors

    def write(self, target: Target, line: int, ref: str, record_hash: str | None, op: str,
              values: tuple[Any, ...]) -> None:
        self._copies[target.table].write_row((line, ref, record_hash, op, *values))

    def failed(self, line: int, record: str, ref: str) -> None:
        self._copies[FAILED].write_row((line, record, ref))


@contextmanager
def stager(connection: psycopg.Connection[Any]) -> Iterator[Stager]:
    # COPY streams are per cursor and one at a time per connection, so rows are buffered per
    # table and flushed in blocks; the buffer is bounded, not the file.
    buffers = {table: _Buffered(connection, _copy_sql(table, target)) for table, target in TABLES.items()}
    buffers[FAILED] = _Buffered(connection, FAILED_COPY)
    try:
        yield Stager(buffers)
    finally:
        for buffer in buffers.values():
            buffer.flush()
        for table in [*TABLES, FAILED]:
            # The registry tables' statistics lag behind a big load, so the planner may pick
            # nested loops over staging: an index keeps those lookups cheap whatever it picks.
            name = table if table == FAILED else staging_table(table)
            connection.execute(f"CREATE INDEX ON {name} (ref)")
            connection.execute(f"ANALYZE {name}")


def _copy_sql(table: str, target: Target) -> str:
    return (f"COPY {staging_table(table)} (line, ref, record_hash, op, "
            f"{', '.join(target.columns)}) FROM STDIN")


class _Buffered:
    BLOCK = 20_000

    def __init__(self, connection: psycopg.Connection[Any], sql: str) -> None:
        self.connection = connection
        self.sql = sql
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
