"""Read an extract's bytes safely: gzip or plain JSON Lines, one record at a time.

Bad bytes must end in a clear message, never a stack trace: not UTF-8, truncated gzip,
over-long lines, JSON nested too deep, an empty file.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

import orjson

from loaders.errors import rejected

MAX_LINE_BYTES = 1024 * 1024
MAX_DEPTH = 8
GZIP_MAGIC = b"\x1f\x8b"
BOM = b"\xef\xbb\xbf"
# Bomb guards, the same for a gzip file as for a zip bundle (loaders/csv_bundle.py). The
# largest bank books are a few GiB of records; 20 GiB leaves room for growth and still stops
# a file that would keep the worker busy for days.
MAX_UNCOMPRESSED = 20 * 1024**3
# Real extracts deflate about 5-20:1; far above that it is a bomb, not an extract. Below
# RATIO_FLOOR nothing can do harm, and small files have noisy ratios.
MAX_RATIO = 200
RATIO_FLOOR = 1024 * 1024
INFLATE_BUFFER = 64 * 1024


def open_extract(path: Path) -> IO[bytes]:
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == GZIP_MAGIC:
        size = path.stat().st_size
        limit = min(MAX_UNCOMPRESSED, max(RATIO_FLOOR, MAX_RATIO * size))
        inflated = _Inflated(gzip.GzipFile(path, "rb"), limit, size)
        # typeshed does not count a BufferedReader over a RawIOBase as an IO[bytes]; it is one.
        return cast(IO[bytes], io.BufferedReader(inflated, INFLATE_BUFFER))
    return open(path, "rb")


class _Inflated(io.RawIOBase):
    """A gzip stream that counts what it inflates, and stops at `limit` bytes: a gzip
    header cannot be trusted to say how big its content is, so it is counted as it is read."""

    def __init__(self, stream: gzip.GzipFile, limit: int, size: int) -> None:
        self.stream = stream
        self.limit = limit
        self.size = size
        self.inflated = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self.stream.readinto(buffer)
        self.inflated += count
        if self.inflated > self.limit:
            raise rejected(self._too_big())
        return count

    def _too_big(self) -> str:
        if self.limit == MAX_UNCOMPRESSED:
            return f"the gzip file expands to more than {MAX_UNCOMPRESSED} bytes; split it into deltas"
        return (f"the gzip file expands more than {MAX_RATIO}:1 ({self.size} bytes to over "
                f"{self.inflated} so far), far more than any real extract (a gzip bomb?)")

    def close(self) -> None:
        self.stream.close()
        super().close()


def first_line(path: Path) -> bytes:
    """The first line that is not blank, without a byte-order mark or surrounding white space;
    at most MAX_LINE_BYTES of it. Empty if there is none."""
    with open_extract(path) as stream:
        for line in iter(lambda: stream.readline(MAX_LINE_BYTES + 1), b""):
            content = line.strip(b" \t\r\n").removeprefix(BOM).strip(b" \t\r\n")
            if content:
                return content
    return b""


def raw_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) for each non-blank line, with truncation turned into a message."""
    seen_any = False
    with open_extract(path) as stream:
        try:
            for number, line in enumerate(_bounded_lines(stream), start=1):
                if number == 1:
                    # Windows editors start UTF-8 with a byte-order mark; CSV and BODS allow it.
                    line = line.removeprefix(BOM)
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
