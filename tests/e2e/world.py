"""A small registry for the page tests: one bank's book (two people, a holding company and
the company it owns, their accounts), a case of the users' agency, and a signed-up user of
every role."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp
from sqlalchemy import Engine, text

from loaders.pipeline import ExtractLoader
from registry.admin import add_institution
from registry.config import Settings
from registry.indexing import drain_outbox
from search.gateway import SearchGateway
from tests.integration.helpers import account, person, role, write_extract
from tests.integration.test_access import PASSWORD, unique, with_password
from tests.integration.test_slice import run

SUBJECT = "Katarina Horvat"
ROLES = ("investigator", "supervisor", "auditor", "administrator")
AGENCY = "FIU"  # the agency `with_password` gives every user


@dataclass
class World:
    bank: str
    key: str
    case_id: int
    parties: dict[str, int]
    users: dict[str, tuple[str, str]] = field(default_factory=dict)  # role -> (name, TOTP secret)


def _entity(ref: str, name: str) -> dict[str, Any]:
    return {"record": "entity", "id": ref, "name": name, "legal_form": "d.o.o."}


def _owns(owner: str, owned: str, share: float) -> dict[str, Any]:
    return {"record": "ownership", "owner": owner, "owned": owned, "share": {"exact": share},
            "interests": ["shareholding"], "direct": True, "from": "2015-01-01"}


def book() -> list[dict[str, Any]]:
    return [person("P1", SUBJECT, birth_date="1971-03-14", nationalities=["HR"]),
            person("P2", "Marko Horvat", birth_date="1968-11-02"),
            _entity("C1", "Horvat Holding"), _entity("C2", "Adriatic Trade"),
            account("A1", 71), account("A2", 72), account("A3", 73),
            role("A1", "P1"), role("A2", "C2"), role("A3", "P2"), role("A3", "P1", "co_holder"),
            _owns("P1", "C1", 60), _owns("P2", "C1", 40), _owns("C1", "C2", 100)]


def build(settings: Settings, engine: Engine, gateway: SearchGateway, folder: Path) -> World:
    bank = "PG" + uuid.uuid4().hex[:6].upper() + "XXX"
    key = add_institution(engine, bank, f"Page test bank {bank}")
    result = ExtractLoader(engine).load(write_extract(folder / f"{bank}.jsonl", bank, book()))
    assert result.status == "applied", result.report and result.report.as_text()
    drain_outbox(engine, gateway)
    gateway.es.indices.refresh(index=f"{settings.index_prefix}-*")
    with engine.connect() as conn:
        parties = dict(conn.execute(text(
            "SELECT p.ref, p.id FROM parties p JOIN institutions i ON i.id = p.institution_id "
            "WHERE i.code = :c AND p.superseded_at IS NULL"), {"c": bank}).all())
    users = {r: with_password(settings, r) for r in ROLES}
    # Of the users' agency, so that its supervisor sees and staffs the case on the pages.
    out = run(settings, "cases", "open", unique("CASE"), "--legal-basis", "fiu_analysis",
              "--offence", "money_laundering", "--assign", users["investigator"][0],
              f"--subject={SUBJECT}", "--agency", AGENCY)
    case_id = int(out.strip().splitlines()[-1])
    return World(bank, key, case_id, parties, users)


def totp(secret: str) -> str:
    return pyotp.TOTP(secret).now()


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form token"
    return found.group(1)


def bad_extract(folder: Path, bank: str) -> Path:
    """One impossible birth date (line 2) and one unknown currency (line 3)."""
    records = [person("X1", "Ana Kovac", birth_date="1975-02-31"),
               account("XA", 99, currency="EURO"), role("XA", "X1")]
    return write_extract(folder / "bad.jsonl", bank, records, sequence=2)


__all__ = ["PASSWORD", "World", "bad_extract", "book", "build", "form_token", "totp"]
