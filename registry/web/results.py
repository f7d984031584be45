"""Search results as the pages show and export them, whatever shape the search returns.

The person search is moving from one result per institution record to one result per human
(`records: [...]` under it); both shapes read the same here, so the pages need not change
in step with it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

from registry.oversight import safe_cell

EXPORT_COLUMNS = ("rank", "score", "likely", "name", "birth_date", "institution", "customer_id",
                  "account", "account_type", "role", "opened_on", "closed_on", "role_from", "role_to",
                  "explanation")
# Excel reads a CSV file as UTF-8 only when it starts with a byte-order mark; without one,
# every name outside ASCII comes out garbled.
BOM = "\ufeff"


def _record_key(record: Mapping[str, Any], fallback: Any = None) -> str:
    if record.get("key"):
        return str(record["key"])
    if record.get("institution_id") is not None:
        return f"{record['institution_id']}:{record['customer_id']}"
    return str(fallback)


def _records(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    if "records" in result:
        return [{**r, "key": _record_key(r)} for r in result["records"]]
    return [{"institution": result.get("institution"), "customer_id": result.get("customer_id"),
             "party": result.get("party") or {}, "key": _record_key(result, result.get("id"))}]


def explanation_text(item: Any) -> str:
    if isinstance(item, Mapping):
        return "; ".join(f"{k}: {v}" for k, v in item.items())
    return str(item)


def shown(results: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per result: its score, why it matched, its records and its accounts."""
    rows = []
    for result in results:
        records = _records(result)
        first = records[0]["party"] if records else {}
        rows.append({"score": result.get("score", 0.0), "likely": result.get("likely"),
                     "name": first.get("full_name") or first.get("name") or "?",
                     "birth_date": first.get("birth_date"), "records": records,
                     # A record superseded since it was indexed has no current id: left out.
                     "party_ids": [r["party_id"] for r in records if r.get("party_id") is not None],
                     "explanation": [explanation_text(e) for e in result.get("explanation") or []],
                     "accounts": list(result.get("accounts") or [])})
    return rows


def as_csv(rows: list[dict[str, Any]], withheld: int = 0) -> str:
    """The results as CSV, one line per account of each record (one line for a record with
    none), each with what that institution reported; no cell starts like a formula, whatever
    a bank reported. A last line says how many results were withheld, if any: whoever reads
    the file must not take it for complete."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for rank, row in enumerate(rows, 1):
        for record in row["records"]:
            party = record.get("party") or {}
            reported = [rank, f"{row['score']:.4f}", row["likely"],
                        party.get("full_name") or party.get("name") or row["name"],
                        party.get("birth_date"), record["institution"], record["customer_id"]]
            for account in _accounts_of(record, row["accounts"]) or [{}]:
                values = [*reported, account.get("iban") or account.get("number") or account.get("account_id"),
                          account.get("type"), account.get("role"), account.get("opened_on"),
                          account.get("closed_on"), account.get("role_from"), account.get("role_to"),
                          " | ".join(row["explanation"])]
                writer.writerow([safe_cell(v) for v in values])
    if withheld:
        writer.writerow([f"{withheld} result(s) withheld: they show people marked sensitive; a "
                         "supervisor of the case's agency sees whom and may approve them"])
    return out.getvalue()


def _accounts_of(record: Mapping[str, Any], accounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a for a in accounts if a.get("institution") == record["institution"]
            and a.get("customer_id") in (None, record["customer_id"])]
