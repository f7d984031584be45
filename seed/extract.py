"""Writing one extract file: header first, then records grouped by type.

The header carries the record counts, which are only known at the end, so the
records are streamed into one temporary file per type and concatenated behind
the header. Memory stays flat however large the extract; the final file is
renamed into place so that a watcher never sees a half-written extract.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import tempfile
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import IO, Any

FORMAT = "registry-extract"
VERSION = 1
RECORD_TYPES = ("person", "entity", "account", "role", "ownership")
_BUFFER = 1 << 20
# Level 6 compresses nearly as well as 9 at a fraction of the time.
_GZIP_LEVEL = 6


def extract_name(bic: str, sequence: int, compressed: bool) -> str:
    return f"{bic}-{sequence:06d}.jsonl" + (".gz" if compressed else "")


def dumps(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


class ExtractWriter:
    """Collects records by type, then writes header and records to `path`."""

    def __init__(self, path: Path, compressed: bool) -> None:
        self.path = path
        self.compressed = compressed
        self.counts = dict.fromkeys(RECORD_TYPES, 0)
        self._bodies: dict[str, IO[bytes]] = {
            kind: tempfile.TemporaryFile(dir=path.parent, prefix=f".{path.name}.{kind}.",
                                         buffering=_BUFFER)
            for kind in RECORD_TYPES
        }

    def __enter__(self) -> ExtractWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        for body in self._bodies.values():
            body.close()

    def write(self, record: dict[str, Any]) -> None:
        kind = record["record"]
        self._bodies[kind].write(dumps(record))
        self.counts[kind] += 1

    def finish(self, institution: str, kind: str, as_of: date, sequence: int) -> Path:
        header = {
            "record": "header", "format": FORMAT, "version": VERSION, "institution": institution,
            "kind": kind, "as_of": as_of.isoformat(), "sequence": sequence, "counts": self.counts,
        }
        partial = self.path.with_name(f".{self.path.name}.part")
        with open(partial, "wb") as raw:
            if self.compressed:
                # No timestamp or file name in the gzip header: same plan, same bytes.
                with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                   compresslevel=_GZIP_LEVEL) as packed:
                    self._copy(header, packed)
            else:
                self._copy(header, raw)
        os.replace(partial, self.path)
        return self.path

    def _copy(self, header: dict[str, Any], out: IO[bytes] | gzip.GzipFile) -> None:
        out.write(dumps(header))
        for body in self._bodies.values():
            body.seek(0)
            shutil.copyfileobj(body, out, _BUFFER)


def read_extract(path: Path) -> list[dict[str, Any]]:
    """All lines of an extract, header first (for tests and small tools)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]
