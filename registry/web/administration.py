"""Administrators' pages: users with their sign-in, API tokens and rate limits, and the
reporting institutions with their API keys. Supervisors may read the users page.

Each change is one `registry.directory.Directory` call, the same the command line makes, and
audited under the administrator's name. A secret the registry makes (a first password and
TOTP secret, an API token, an institution's key) is shown once, in the answer to the form
itself: never put in the session cookie or a URL, and the page is not cached. Other changes
redirect back to the list with a one-line message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from registry.auth import audit_fields, allow
from registry.directory import Directory, Enrolment
from registry.errors import Conflict, InvalidRequest, NotFound
from registry.models import ROLES
from registry.models.reporting import INSTITUTION_KINDS
from registry.web import blueprint
from registry.web.forms import (
    NewInstitutionForm,
    NewUserForm,
    RateLimitForm,
    TokenForm,
    error_text,
    filled,
)
from registry.web.supervision import SUPERVISION

ADMINISTRATOR = "administrator"
CORRECTABLE = (Conflict, InvalidRequest, NotFound, ValidationError)


def _directory() -> Directory:
    return Directory(current_app.extensions["registry"].session(), audit_fields(g.caller))


def _users_page(errors: dict[str, Any] | None = None, problem: str | None = None,
                status: int = 200) -> ResponseReturnValue:
    page = render_template("users.html", users=_directory().users(), roles=ROLES,
                           default_limit=current_app.extensions["registry"].settings.search_rate_limit,
                           form=request.form, errors=errors or {}, problem=problem)
    return page, status


def _shown_once(**values: Any) -> Response:
    response = Response(render_template("secret.html", **values), mimetype="text/html")
    # The secret must not outlive this page: not in the browser's cache, not in a proxy's.
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/admin/users")
@allow(*SUPERVISION)
def users() -> ResponseReturnValue:
    return _users_page()


@blueprint.post("/admin/users")
@allow(ADMINISTRATOR)
def user_create() -> ResponseReturnValue:
    try:
        args = NewUserForm().load(filled(request.form))
        enrolment = _directory().register_user(args["name"], args["role"], args["agency"])
    except ValidationError as invalid:
        return _users_page(errors=invalid.messages, status=422)
    except Conflict as refused:
        return _users_page(problem=refused.detail, status=409)
    return _enrolment_page(enrolment, created=True)


def _enrolment_page(enrolment: Enrolment, created: bool) -> Response:
    return _shown_once(kind="enrolment", enrolment=enrolment, created=created)


@blueprint.post("/admin/users/<int:user_id>/enrolment")
@allow(ADMINISTRATOR)
def user_enrol(user_id: int) -> ResponseReturnValue:
    """A new password and TOTP secret, for a user who lost theirs."""
    directory = _directory()
    return _enrolment_page(directory.enrol(directory.user(user_id)), created=False)


@blueprint.post("/admin/users/<int:user_id>/tokens")
@allow(ADMINISTRATOR)
def token_create(user_id: int) -> ResponseReturnValue:
    directory = _directory()
    user = directory.user(user_id)
    try:
        token, secret = directory.create_token(user, TokenForm().load(filled(request.form))["days"])
    except CORRECTABLE as refused:
        return _back(error_text(refused), "error")
    return _shown_once(kind="token", user=user.name, token=token, secret=secret)


def _back(message: str, category: str = "message") -> ResponseReturnValue:
    flash(message, category)
    return redirect(url_for("web.users"), 303)


def _change(act: Callable[[Directory], str]) -> ResponseReturnValue:
    try:
        message = act(_directory())
    except CORRECTABLE as refused:
        return _back(error_text(refused), "error")
    return _back(message)


@blueprint.post("/admin/users/<int:user_id>/tokens/<int:token_id>/revoke")
@allow(ADMINISTRATOR)
def token_revoke(user_id: int, token_id: int) -> ResponseReturnValue:
    def act(directory: Directory) -> str:
        user = directory.user(user_id)
        directory.revoke_tokens(user, token_id)
        return f"Token #{token_id} of {user.name} is revoked."
    return _change(act)


@blueprint.post("/admin/users/<int:user_id>/limit")
@allow(ADMINISTRATOR)
def user_limit(user_id: int) -> ResponseReturnValue:
    def act(directory: Directory) -> str:
        user = directory.user(user_id)
        directory.set_rate_limit(user, RateLimitForm().load(filled(request.form))["rate"])
        return f"{user.name} searches under {user.rate_limit or 'the default limit'}."
    return _change(act)


@blueprint.post("/admin/users/<int:user_id>/unlock")
@allow(ADMINISTRATOR)
def user_unlock(user_id: int) -> ResponseReturnValue:
    def act(directory: Directory) -> str:
        user = directory.user(user_id)
        directory.unlock(user)
        return f"{user.name} may sign in again."
    return _change(act)


def _institutions_page(errors: dict[str, Any] | None = None, problem: str | None = None,
                       status: int = 200) -> ResponseReturnValue:
    return render_template("institutions.html", institutions=_directory().institutions(),
                           kinds=INSTITUTION_KINDS, form=request.form, errors=errors or {},
                           problem=problem), status


@blueprint.get("/admin/institutions")
@allow(ADMINISTRATOR)
def institutions() -> ResponseReturnValue:
    return _institutions_page()


@blueprint.post("/admin/institutions")
@allow(ADMINISTRATOR)
def institution_add() -> ResponseReturnValue:
    try:
        args = NewInstitutionForm().load(filled(request.form))
        institution, key = _directory().add_institution(**args)
    except ValidationError as invalid:
        return _institutions_page(errors=invalid.messages, status=422)
    except Conflict as refused:
        return _institutions_page(problem=refused.detail, status=409)
    return _shown_once(kind="institution", institution=institution, secret=key, rekeyed=False)


@blueprint.post("/admin/institutions/<code>/key")
@allow(ADMINISTRATOR)
def institution_rekey(code: str) -> ResponseReturnValue:
    institution, key = _directory().rekey_institution(code)
    return _shown_once(kind="institution", institution=institution, secret=key, rekeyed=True)
