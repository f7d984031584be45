"""Administrators' commands: users, tokens, cases. Each change is an audit event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry import audit
from registry.auth import hash_secret, new_secret
from registry.models import LEGAL_BASES, OFFENCES, ROLES, Agency, ApiToken, Case, CaseAssignment, User


def _user(session: Session, name: str) -> User:
    user = session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"no user named {name!r}")
    return user


def _agency(session: Session, name: str | None) -> Agency | None:
    if name is None:
        return None
    agency = session.execute(select(Agency).where(Agency.name == name)).scalar_one_or_none()
    if agency is None:
        agency = Agency(name=name)
        session.add(agency)
        session.flush()
    return agency


def register(main: click.Group, engine: Callable[[], Any]) -> None:
    @main.group()
    def users() -> None:
        """People who may use the registry."""

    @users.command("create")
    @click.argument("name")
    @click.option("--role", required=True, type=click.Choice(ROLES))
    @click.option("--agency", default=None, help="Agency name (created if new).")
    def users_create(name: str, role: str, agency: str | None) -> None:
        """Create user NAME with ROLE."""
        with Session(engine()) as session:
            found = _agency(session, agency)
            user = User(name=name, role=role, agency_id=found.id if found else None)
            session.add(user)
            session.flush()
            audit.record(session, "admin:user:create", "ok", actor="cli", role="administrator",
                         parameters={"name": name, "role": role, "agency": agency})
            session.commit()
            click.echo(user.id)

    @main.group()
    def tokens() -> None:
        """API tokens (stored hashed; shown once)."""

    @tokens.command("create")
    @click.argument("name")
    @click.option("--days", default=90, show_default=True, help="Days until it expires.")
    def tokens_create(name: str, days: int) -> None:
        """Create an API token for user NAME and print it once."""
        token = new_secret("reg")
        with Session(engine()) as session:
            user = _user(session, name)
            session.add(ApiToken(user_id=user.id, token_hash=hash_secret(token),
                                 expires_at=datetime.now(UTC) + timedelta(days=days)))
            audit.record(session, "admin:token:create", "ok", actor="cli", role="administrator",
                         parameters={"user": name, "days": days})
            session.commit()
        click.echo(token)

    @main.group()
    def cases() -> None:
        """Cases: no search without a purpose."""

    @cases.command("open")
    @click.argument("reference")
    @click.option("--legal-basis", required=True, type=click.Choice(LEGAL_BASES))
    @click.option("--offence", required=True, type=click.Choice(OFFENCES))
    @click.option("--assign", "assignees", multiple=True, help="User to assign (repeatable).")
    @click.option("--subject", "subjects", multiple=True, help="A subject's name (repeatable).")
    def cases_open(reference: str, legal_basis: str, offence: str, assignees: tuple[str, ...],
                   subjects: tuple[str, ...]) -> None:
        """Open case REFERENCE and print its id."""
        with Session(engine()) as session:
            case = Case(reference=reference, legal_basis=legal_basis, offence=offence,
                        subjects=list(subjects))
            session.add(case)
            session.flush()
            for name in assignees:
                session.add(CaseAssignment(case_id=case.id, user_id=_user(session, name).id))
            audit.record(session, "admin:case:open", "ok", actor="cli", role="administrator",
                         case_id=case.id, legal_basis=legal_basis,
                         parameters={"reference": reference, "assign": list(assignees)})
            session.commit()
            click.echo(case.id)


def register_demo(main: click.Group, engine: Callable[[], Any]) -> None:
    @main.command("demo-users")
    def demo_users() -> None:
        """Create a demo investigator with a token and an open case, and print how to search."""
        token = new_secret("reg")
        with Session(engine()) as session:
            user = session.execute(select(User).where(User.name == "demo")).scalar_one_or_none()
            if user is None:
                user = User(name="demo", role="investigator", agency_id=_agency(session, "Demo FIU").id)
                session.add(user)
                session.flush()
            case = session.execute(select(Case).where(Case.reference == "DEMO-1")).scalar_one_or_none()
            if case is None:
                case = Case(reference="DEMO-1", legal_basis="fiu_analysis", offence="money_laundering")
                session.add(case)
                session.flush()
                session.add(CaseAssignment(case_id=case.id, user_id=user.id))
            session.add(ApiToken(user_id=user.id, token_hash=hash_secret(token),
                                 expires_at=datetime.now(UTC) + timedelta(days=1)))
            audit.record(session, "admin:token:create", "ok", actor="demo-users", role="administrator",
                         parameters={"user": "demo", "days": 1})
            session.commit()
            click.echo(f"demo investigator token (valid one day): {token}\n"
                       f"try: curl -s -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' "
                       f"-d '{{\"case_id\": {case.id}, \"name\": \"Maria Garcia\"}}' "
                       "http://127.0.0.1:5000/api/v1/search/persons")
