"""Builders for integration tests: extracts written in the banks' own format."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from schwifty import IBAN


def iban(n: int, country: str = "DE") -> str:
    return str(IBAN.generate(country, bank_code="37040044", account_code=f"{n:010d}").compact)


def write_extract(path: Path, institution: str, records: list[dict[str, Any]], sequence: int = 1,
                  kind: str = "full", as_of: date = date(2026, 1, 1),
                  counts: dict[str, int] | None = None) -> Path:
    if counts is None:
        counts = {k: sum(1 for r in records if r["record"] == k)
                  for k in ("person", "entity", "account", "role", "ownership")}
    header = {"record": "header", "format": "registry-extract", "version": 1,
              "institution": institution, "kind": kind, "as_of": as_of.isoformat(),
              "sequence": sequence, "counts": counts}
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [header, *records]) + "\n")
    return path


def person(ref: str, name: str, **extra: Any) -> dict[str, Any]:
    given, _, family = name.rpartition(" ")
    return {"record": "person", "id": ref, "full_name": name, "given_names": given,
            "family_name": family, **extra}


def account(ref: str, n: int, **extra: Any) -> dict[str, Any]:
    return {"record": "account", "id": ref, "iban": iban(n), "currency": "EUR", "type": "current",
            "opened_on": "2020-05-01", **extra}


def role(account_ref: str, party_ref: str, kind: str = "holder", **extra: Any) -> dict[str, Any]:
    return {"record": "role", "account": account_ref, "party": party_ref, "role": kind,
            "from": "2020-05-01", **extra}
