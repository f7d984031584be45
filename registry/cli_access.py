"""Administrators' commands: users, tokens, cases, sensitive names, the audit log,
cooperation requests. Each change is an audit event. Users and tokens are changed through
`registry.directory.Directory`, the service the administrator's pages call too."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import json
import sys

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry import audit
from registry.config import ConfigurationError, Settings
from registry.directory import COMMAND_LINE, Directory, agency_named
from registry.errors import RegistryError
from registry.models import LEGAL_BASES, OFFENCES, ROLES, Case, CaseAssignment, User
from registry.models.access import (
    ASSISTANCE_TYPES,
    COOPERATION_BASES,
    SENSITIVE_REASONS,
    CaseApproval,
    SensitiveName,
)
from search.names import analyse_name

ADMIN = COMMAND_LINE


def _user(session: Session, name: str) -> User:
    user = session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"no user named {name!r}")
    return user


@contextmanager
def _directory(engine: Callable[[], Any]) -> Iterator[Directory]:
    """The same service the administrator's pages call, committed when the command succeeds."""
    with Session(engine()) as session:
        try:
            yield Directory(session, ADMIN)
        except RegistryError as error:
            raise click.ClickException(error.detail) from error
        session.commit()


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
        with _directory(engine) as directory:
            user_id = directory.create_user(name, role, agency).id
        click.echo(user_id)

    @main.group()
    def tokens() -> None:
        """API tokens (stored hashed; shown once)."""

    @tokens.command("create")
    @click.argument("name")
    @click.option("--days", default=90, show_default=True, help="Days until it expires.")
    def tokens_create(name: str, days: int) -> None:
        """Create an API token for user NAME and print it once."""
        with _directory(engine) as directory:
            _, token = directory.create_token(directory.user_named(name), days)
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
    @click.option("--agency", default=None, help="The agency working the case.")
    @click.option("--requesting-state", default=None, help="For an incoming MLA request (ISO alpha-2).")
    def cases_open(reference: str, legal_basis: str, offence: str, assignees: tuple[str, ...],
                   subjects: tuple[str, ...], agency: str | None, requesting_state: str | None) -> None:
        """Open case REFERENCE and print its id."""
        if legal_basis == "incoming_mla_request" and not requesting_state:
            raise click.ClickException("an incoming MLA request needs --requesting-state")
        with Session(engine()) as session:
            found = agency_named(session, agency)
            case = Case(reference=reference, legal_basis=legal_basis, offence=offence,
                        subjects=list(subjects), agency_id=found.id if found else None,
                        requesting_state=requesting_state.upper() if requesting_state else None)
            session.add(case)
            session.flush()
            for name in assignees:
                session.add(CaseAssignment(case_id=case.id, user_id=_user(session, name).id))
            audit.record(session, "admin:case:open", "ok", actor="cli", role="administrator",
                         case_id=case.id, legal_basis=legal_basis,
                         parameters={"reference": reference, "assign": list(assignees)})
            session.commit()
            click.echo(case.id)

    @cases.command("close")
    @click.argument("reference")
    def cases_close(reference: str) -> None:
        """Close case REFERENCE: no search may name it any more."""
        with Session(engine()) as session:
            case = session.execute(select(Case).where(Case.reference == reference)).scalar_one_or_none()
            if case is None:
                raise click.ClickException(f"no case {reference!r}")
            case.status, case.closed_at = "closed", datetime.now(UTC)
            audit.record(session, "admin:case:close", "ok", **ADMIN, case_id=case.id,
                         legal_basis=case.legal_basis, parameters={"reference": reference})
            session.commit()

    @cases.command("approve")
    @click.argument("reference")
    @click.argument("name")
    @click.option("--reason", required=True, help="Why this search is needed (kept in the log).")
    def cases_approve(reference: str, name: str, reason: str) -> None:
        """Approve searching NAME, marked sensitive, under case REFERENCE (as a supervisor
        would through the API; for cases opened here without an agency)."""
        with Session(engine()) as session:
            case = session.execute(select(Case).where(Case.reference == reference)).scalar_one_or_none()
            if case is None or case.status != "open":
                raise click.ClickException(f"no open case {reference!r}")
            approval = CaseApproval(case_id=case.id, name=name, folded=analyse_name(name).folded,
                                    reason=reason, approved_by_id=None)
            session.add(approval)
            session.flush()
            audit.record(session, "admin:approval:grant", "ok", **ADMIN, case_id=case.id,
                         legal_basis=case.legal_basis,
                         parameters={"approval_id": approval.id, "name": name, "reason": reason})
            session.commit()
            click.echo(approval.id)

    _register_credentials(users, tokens, engine)
    _register_sensitive(main, engine)
    _register_audit(main, engine)
    _register_cooperation(main, engine)


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from error


def _register_credentials(users: click.Group, tokens: click.Group, engine: Callable[[], Any]) -> None:
    @users.command("password")
    @click.argument("name")
    @click.password_option(help="The new password (asked twice when not given).")
    @click.option("--totp/--keep-totp", default=True, show_default=True,
                  help="Make a new TOTP secret and print its provisioning URI.")
    def users_password(name: str, password: str, totp: bool) -> None:
        """Set user NAME's password (argon2) and, by default, a new TOTP secret."""
        with _directory(engine) as directory:
            enrolment = directory.enrol(directory.user_named(name), password, new_totp=totp)
        if enrolment.totp_uri:
            click.echo(enrolment.totp_uri)

    @users.command("limit")
    @click.argument("name")
    @click.argument("rate")
    def users_limit(name: str, rate: str) -> None:
        """Set user NAME's search rate limit, e.g. "60/minute;1000/day" ("default" to clear)."""
        with _directory(engine) as directory:
            directory.set_rate_limit(directory.user_named(name), None if rate == "default" else rate)

    @tokens.command("revoke")
    @click.argument("name")
    def tokens_revoke(name: str) -> None:
        """Revoke every live API token of user NAME; print how many."""
        with _directory(engine) as directory:
            revoked = directory.revoke_tokens(directory.user_named(name))
        click.echo(revoked)


def _register_sensitive(main: click.Group, engine: Callable[[], Any]) -> None:
    @main.group()
    def sensitive() -> None:
        """People whose searches are flagged for auditors (PEPs, agency staff)."""

    @sensitive.command("add")
    @click.argument("name")
    @click.option("--reason", required=True, type=click.Choice(SENSITIVE_REASONS))
    def sensitive_add(name: str, reason: str) -> None:
        """Mark NAME sensitive: every search for it is flagged."""
        with Session(engine()) as session:
            session.add(SensitiveName(name=name, folded=analyse_name(name).folded, reason=reason))
            audit.record(session, "admin:sensitive:add", "ok", **ADMIN,
                         parameters={"name": name, "reason": reason})
            session.commit()


def _register_audit(main: click.Group, engine: Callable[[], Any]) -> None:
    @main.group("audit")
    def audit_group() -> None:
        """The append-only, hash-chained audit log."""

    @audit_group.command("verify")
    def audit_verify() -> None:
        """Check every link and signed checkpoint; name the first broken event (exit 1)."""
        with Session(engine()) as session:
            result = audit.verify(session, _settings().audit_signing_key)
        click.echo(json.dumps(result.as_dict(), indent=2))
        if not result.ok:
            sys.exit(1)

    @audit_group.command("checkpoint")
    def audit_checkpoint() -> None:
        """Sign the chain head with REGISTRY_AUDIT_SIGNING_KEY; print the checkpoint."""
        with Session(engine()) as session:
            try:
                row = audit.checkpoint(session, _settings().audit_signing_key)
            except ValueError as error:
                raise click.ClickException(str(error)) from error
            session.commit()
            click.echo(json.dumps({"last_event_id": row.last_event_id, "chain_hash": row.chain_hash,
                                   "event_count": row.event_count, "signature": row.signature}))

    @audit_group.command("prune")
    @click.option("--days", type=int, default=None, help="Keep this many days (default: the setting).")
    def audit_prune(days: int | None) -> None:
        """Delete events older than the retention period, after verifying them and signing
        an anchor that later verification starts from."""
        from registry.db import make_engine

        settings = _settings()
        keep = days if days is not None else settings.audit_retention_days
        # Only the schema's owner may run the pruning function; the application's role never can.
        owner = make_engine(settings.owner_database_url, pool_size=1)
        try:
            with Session(owner) as session:
                try:
                    done = audit.prune(session, settings.audit_signing_key,
                                       datetime.now(UTC) - timedelta(days=keep))
                except (ValueError, audit.ChainBroken) as error:
                    raise click.ClickException(str(error)) from error
                audit.record(session, "admin:audit:prune", "ok", **ADMIN, result_count=done.removed,
                             parameters={"days": keep, "anchor": done.anchor_event_id})
                session.commit()
        finally:
            owner.dispose()
        click.echo(f"{done.removed} events pruned")


def _register_cooperation(main: click.Group, engine: Callable[[], Any]) -> None:
    from registry.cooperation import CooperationService, InvalidRequest

    @main.group()
    def cooperation() -> None:
        """International cooperation requests (UNCAC art. 46 statistics)."""

    @cooperation.command("add")
    @click.option("--direction", required=True, type=click.Choice(["received", "sent"]))
    @click.option("--state", required=True, help="Requesting or requested state, ISO alpha-2.")
    @click.option("--assistance", required=True, type=click.Choice(ASSISTANCE_TYPES))
    @click.option("--legal-basis", required=True, type=click.Choice(COOPERATION_BASES))
    @click.option("--offence", required=True, type=click.Choice(OFFENCES))
    @click.option("--received", "received_on", required=True, type=click.DateTime(["%Y-%m-%d"]))
    @click.option("--acknowledged", "acknowledged_on", type=click.DateTime(["%Y-%m-%d"]))
    @click.option("--executed", "executed_on", type=click.DateTime(["%Y-%m-%d"]))
    @click.option("--refused", "refused_on", type=click.DateTime(["%Y-%m-%d"]))
    @click.option("--refusal-reason", default=None)
    @click.option("--case", "case_ref", default=None, help="Reference of the linked case.")
    @click.option("--confidential/--not-confidential", default=True, show_default=True)
    def cooperation_add(direction: str, state: str, assistance: str, legal_basis: str,
                        offence: str, case_ref: str | None, confidential: bool,
                        refusal_reason: str | None, **dates: datetime | None) -> None:
        """Record a cooperation request received or sent; print its id."""
        with Session(engine()) as session:
            case = session.execute(select(Case).where(Case.reference == case_ref)).scalar() if case_ref else None
            if case_ref and case is None:
                raise click.ClickException(f"no case {case_ref!r}")
            values = {"direction": direction, "counterpart_state": state.upper(),
                      "assistance_type": assistance, "legal_basis": legal_basis, "offence": offence,
                      "case_id": case.id if case else None, "confidential": confidential,
                      "refusal_reason": refusal_reason,
                      **{k: v.date() if v else None for k, v in dates.items()}}
            try:
                created = CooperationService(session).add(values)
            except InvalidRequest as error:
                raise click.ClickException(error.detail) from error
            audit.record(session, "cooperation:request:create", "ok", **ADMIN,
                         case_id=created.case_id, parameters={"id": created.id, "direction": direction,
                                                              "state": created.counterpart_state})
            session.commit()
            click.echo(created.id)


def register_demo(main: click.Group, engine: Callable[[], Any]) -> None:
    @main.command("demo-users")
    def demo_users() -> None:
        """Create a demo investigator with a token and an open case, and print how to search."""
        with Session(engine()) as session:
            user = session.execute(select(User).where(User.name == "demo")).scalar_one_or_none()
            if user is None:
                user = User(name="demo", role="investigator", agency_id=agency_named(session, "Demo FIU").id)
                session.add(user)
                session.flush()
            case = session.execute(select(Case).where(Case.reference == "DEMO-1")).scalar_one_or_none()
            if case is None:
                case = Case(reference="DEMO-1", legal_basis="fiu_analysis", offence="money_laundering")
                session.add(case)
                session.flush()
                session.add(CaseAssignment(case_id=case.id, user_id=user.id))
            directory = Directory(session, {"actor": "demo-users", "role": "administrator"})
            _, token = directory.create_token(user, days=1)
            # The pages need a password and a second factor: a fresh pair each demo.
            enrolment = directory.enrol(user)
            session.commit()
            click.echo(f"demo investigator token (valid one day): {token}\n"
                       f"try: curl -s -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' "
                       f"-d '{{\"case_id\": {case.id}, \"name\": \"Maria Garcia\"}}' "
                       "http://127.0.0.1:5000/api/v1/search/persons\n"
                       f"pages: http://127.0.0.1:5000/ as demo, password {enrolment.password}, with the "
                       f"code from an authenticator given TOTP secret {enrolment.totp_secret}\n"
                       f"  (or: .venv/bin/python -c 'import pyotp; print(pyotp.TOTP(\"{enrolment.totp_secret}\").now())')")
