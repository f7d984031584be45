"""Uploads of extracts: stored to disk as they stream in, then processed by the worker.

An institution sees only its own extracts. Nothing here reveals anything about searches.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from loaders.sources import FORMATS
from registry.errors import InvalidRequest, NotFound, RegistryError
from registry.models import Extract
from registry.scorecard import institution_scorecard

CHUNK = 1 << 20


class UploadTooLarge(RegistryError):
    status = 413
    title = "Extract too large"


class EmptyUpload(RegistryError):
    status = 400
    title = "Empty upload"


def store_upload(stream: IO[bytes], folder: Path, limit: int) -> tuple[Path, str, int]:
    """Stream the body to disk (never into memory); returns path, SHA-256 and size."""
    folder.mkdir(parents=True, exist_ok=True)
    # Absolute: the worker that reads it may run from another directory.
    final = folder.resolve() / f"{uuid.uuid4().hex}.upload"
    partial = final.with_suffix(".part")
    digest, size = hashlib.sha256(), 0
    with open(partial, "wb") as out:
        for block in iter(lambda: stream.read(CHUNK), b""):
            size += len(block)
            if size > limit:
                out.close()
                partial.unlink()
                raise UploadTooLarge(f"An extract may be at most {limit} bytes; split it into deltas.")
            digest.update(block)
            out.write(block)
    if size == 0:
        partial.unlink()
        raise EmptyUpload("The request body was empty; send the extract file as the body.")
    partial.rename(final)
    return final, digest.hexdigest(), size


# What an uploader may declare; the loader tells the formats apart by content either way.
UPLOAD_FORMATS = ("auto", *FORMATS)


def upload_format(declared: str | None) -> str:
    """The format an upload declares (`?format=`), checked before its body is stored."""
    if declared is None:
        return "auto"
    if declared not in UPLOAD_FORMATS:
        raise InvalidRequest(f"Unknown format; give one of {', '.join(UPLOAD_FORMATS)}, or "
                             "leave it out: the registry recognises the format by its content.")
    return declared


class ExtractService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def receive(self, institution_id: int, path: Path, digest: str, size: int, fmt: str) -> Extract:
        extract = Extract(institution_id=institution_id, path=str(path), content_hash=digest,
                          size_bytes=size, status="received", format=fmt)
        self.session.add(extract)
        self.session.flush()
        # Wake a waiting worker at commit rather than at its next poll.
        self.session.execute(text("NOTIFY registry_extracts"))
        return extract

    def get(self, institution_id: int, extract_id: int) -> Extract:
        extract = self.session.get(Extract, extract_id)
        # Someone else's extract answers exactly like a missing one.
        if extract is None or extract.institution_id != institution_id:
            raise NotFound(f"No extract {extract_id} of yours.")
        return extract

    def book(self, institution_id: int) -> dict[str, Any] | None:
        """The data quality of the institution's current book (None before its first
        applied extract)."""
        return institution_scorecard(self.session.connection(), institution_id)

    def list(self, institution_id: int, limit: int = 100) -> list[Extract]:
        return list(self.session.execute(
            select(Extract).where(Extract.institution_id == institution_id)
            .order_by(Extract.id.desc()).limit(limit)).scalars())


def describe(extract: Extract) -> dict[str, Any]:
    return {
        "id": extract.id, "status": extract.status, "kind": extract.kind, "format": extract.format,
        "sequence": extract.sequence, "as_of": extract.as_of.isoformat() if extract.as_of else None,
        "size_bytes": extract.size_bytes, "content_hash": extract.content_hash,
        "received_at": extract.received_at.isoformat() if extract.received_at else None,
        "finished_at": extract.finished_at.isoformat() if extract.finished_at else None,
        "counts": extract.counts, "timings": extract.timings, "errors": extract.errors,
    }
