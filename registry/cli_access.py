"""Administrators' commands: users, tokens, cases, sensitive names, the audit log,
cooperation requests. Each change is an audit event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import json
import sys

import click
from limits import parse_many
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry import audit
from registry.auth import hash_secret, new_secret
from registry.config import ConfigurationError, Settings
from registry.credentials import WeakPassword, hash_password, new_totp_secret, provisioning_uri
from registry.models import LEGAL_BASES, OFFENCES, ROLES, Agency, ApiToken, Case, CaseAssignment, User
from registry.models.access import ASSISTANCE_TYPES, COOPERATION_BASES, SENSITIVE_REASONS, SensitiveName
from search.names import analyse_name

ADMIN = {"actor": "cli", "role": "administrator"}


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
    @click.option("--agency", default=None, help="The agency working the case.")
    @click.option("--requesting-state", default=None, help="For an incoming MLA request (ISO alpha-2).")
    def cases_open(reference: str, legal_basis: str, offence: str, assignees: tuple[str, ...],
                   subjects: tuple[str, ...], agency: str | None, requesting_state: str | None) -> None:
        """Open case REFERENCE and print its id."""
        if legal_basis == "incoming_mla_request" and not requesting_state:
            raise click.ClickException("an incoming MLA request needs --requesting-state")
        with Session(engine()) as session:
            found = _agency(session, agency)
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
        try:
            hashed = hash_password(password)
        except WeakPassword as error:
            raise click.ClickException(str(error)) from error
        with Session(engine()) as session:
            user = _user(session, name)
            user.password_hash, user.failed_logins, user.locked_until = hashed, 0, None
            if totp:
                user.totp_secret, user.totp_last_step = new_totp_secret(), None
            audit.record(session, "admin:user:password", "ok", **ADMIN,
                         parameters={"user": name, "new_totp": totp})
            session.commit()
            if totp:
                click.echo(provisioning_uri(user.totp_secret or "", name))

    @users.command("limit")
    @click.argument("name")
    @click.argument("rate")
    def users_limit(name: str, rate: str) -> None:
        """Set user NAME's search rate limit, e.g. "60/minute;1000/day" ("default" to clear)."""
        value = None if rate == "default" else rate
        if value is not None:
            try:
                parse_many(value)
            except ValueError as error:
                raise click.ClickException(f"not a rate limit: {rate!r} ({error})") from error
        with Session(engine()) as session:
            _user(session, name).rate_limit = value
            audit.record(session, "admin:user:limit", "ok", **ADMIN,
                         parameters={"user": name, "rate": value})
            session.commit()

    @tokens.command("revoke")
    @click.argument("name")
    def tokens_revoke(name: str) -> None:
        """Revoke every live API token of user NAME; print how many."""
        with Session(engine()) as session:
            user = _user(session, name)
            live = session.execute(select(ApiToken).where(
                ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))).scalars().all()
            for token in live:
                token.revoked_at = datetime.now(UTC)
            audit.record(session, "admin:token:revoke", "ok", **ADMIN,
                         parameters={"user": name, "revoked": len(live)})
            session.commit()
            click.echo(len(live))


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
        settings = _settings()
        keep = days if days is not None else settings.audit_retention_days
        with Session(engine()) as session:
            try:
                done = audit.prune(session, settings.audit_signing_key,
                                   datetime.now(UTC) - timedelta(days=keep))
            except (ValueError, audit.ChainBroken) as error:
                raise click.ClickException(str(error)) from error
            audit.record(session, "admin:audit:prune", "ok", **ADMIN, result_count=done.removed,
                         parameters={"days": keep, "anchor": done.anchor_event_id})
            session.commit()
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
