"""A person's history as one list of dated happenings, built from record views (registry.records):
when each institution first reported them and changed its record, when they took or left a
role on an account, when accounts opened and closed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def _day(value: str | None) -> str | None:
    return value[:10] if value else None


def _versions(record: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    for n, version in enumerate(record["history"]):
        what = "first reported as" if n == 0 else "record changed:"
        yield {"on": _day(version["valid_from"]) or _day(version["recorded_at"]),
               "what": f"{what} {version['full_name']}"}


def _accounts(record: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    for account in record["accounts"]:
        name = account["iban"] or account["number"] or account["account_id"]
        if account["opened_on"]:
            yield {"on": account["opened_on"], "what": f"account {name} opened"}
        if account["closed_on"]:
            yield {"on": account["closed_on"], "what": f"account {name} closed"}
        for role in account["roles"]:
            shown = role["role"].replace("_", " ")
            if role["from"]:
                yield {"on": role["from"], "what": f"became {shown} of {name}"}
            if role["to"]:
                yield {"on": role["to"], "what": f"ceased to be {shown} of {name}"}


def timeline(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Newest first; undated happenings are left out rather than placed at a guess."""
    events = [{**event, "institution": record["institution"]}
              for record in records for source in (_versions, _accounts)
              for event in source(record) if event["on"]]
    return sorted(events, key=lambda e: e["on"], reverse=True)
