"""Who is applying an extract: a session-level advisory lock per extract.

Whoever applies an extract holds its lock, the worker and `registry load` alike, so neither
takes up an extract the other is applying. A holder that dies (even by SIGKILL) loses its
connection and the lock with it; the extract is then unfinished and free to start again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

LOCK_SPACE = 0x45585452  # "EXTR"


@contextmanager
def extract_lock(engine: Engine, extract_id: int) -> Iterator[bool]:
    """Yields whether the lock was got; it is held until the block ends."""
    with engine.connect() as conn:
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:space, :id)"),
                                {"space": LOCK_SPACE, "id": extract_id}).scalar())
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:space, :id)"),
                             {"space": LOCK_SPACE, "id": extract_id})
                conn.commit()
