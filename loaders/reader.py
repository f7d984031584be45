"""Read an extract's bytes safely: gzip or plain JSON Lines, one record at a time.

Bad bytes must end in a clear message, never a stack trace: not UTF-8, truncated gzip,
over-long lines, JSON nested too deep, an empty file.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

import orjson

from loaders.errors import rejected

MAX_LINE_BYTES = 1024 * 1024
MAX_DEPTH = 8
GZIP_MAGIC = b"\x1f\x8b"


def open_extract(path: Path) -> IO[bytes]:
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == GZIP_MAGIC:
        # typeshed does not count a GzipFile as an IO[bytes]; it reads like one.
        return cast(IO[bytes], gzip.GzipFile(path, "rb"))
    return open(path, "rb")


def raw_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) for each non-blank line, with truncation turned into a message."""
    seen_any = False
    with open_extract(path) as stream:
        try:
            for number, line in enumerate(_bounded_lines(stream), start=1):
                if line.strip():
                    seen_any = True
                    yield number, line
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            raise rejected(f"the gzip stream is truncated or corrupt ({error})") from error
    if not seen_any:
        raise rejected("the extract is empty")


def _bounded_lines(stream: IO[bytes]) -> Iterator[bytes]:
    number = 0
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            raise rejected(f"line longer than {MAX_LINE_BYTES} bytes", line=number)
        yield line


def parse_line(line: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """The JSON object on a line, or why it is not one."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        return None, f"not UTF-8 (byte {error.start})"
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        return None, f"not valid JSON: {error}"
    if not isinstance(value, dict):
        return None, "each line must be one JSON object"
    # Counting brackets first spares the walk for the usual flat record.
    if text.count("{") + text.count("[") > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        return None, f"nested deeper than {MAX_DEPTH} levels"
    if NUL_ESCAPE in line and has_nul(value):
        return None, NUL_MESSAGE
    return value, None


# JSON carries NUL only as the escape \u0000. Postgres text cannot hold it, and a COPY that
# meets one fails the whole load; the byte search keeps the walk off almost every line.
NUL_ESCAPE = b"\\u0000"
NUL_MESSAGE = "contains a NUL character (\\u0000), which text cannot hold"


def has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(key) or has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(has_nul(item) for item in value)
    return False


def _depth(value: Any, level: int = 1) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level
