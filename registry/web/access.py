"""Signing in and out on the pages: users with password and TOTP, banks with their API key.

The session is the same cookie the API's `POST /api/v1/session` sets. Before sign-in the
form carries a token of the (still anonymous) session, so another site cannot sign someone
in under an account of its choosing (login CSRF).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from registry.auth import PUBLIC, allow, credential_fingerprint, end_session, start_session
from registry.credentials import LockoutPolicy, SignInRefused, SignInService, csrf_matches, new_csrf_token
from registry.errors import RegistryError, Unavailable
from registry.web import blueprint
from registry.web.forms import BankSignInForm, SignInForm, filled
from registry.web.services import BankSignIn

HOME = {"investigator": "web.cases", "supervisor": "web.supervision_cases",
        "administrator": "web.users", "auditor": "web.audit_log", "institution": "web.extracts"}


class FormExpired(RegistryError):
    status = 400
    title = "The form has expired"


@blueprint.get("/")
@allow(PUBLIC)
def home() -> ResponseReturnValue:
    role = session.get("role")
    if role in HOME and (session.get("uid") or session.get("inst")):
        return redirect(url_for(HOME[role]))
    return redirect(url_for("web.sign_in"))


def _form_token() -> str:
    if not session.get("csrf"):
        session["csrf"] = new_csrf_token()
    return str(session["csrf"])


def _check_form_token() -> None:
    if not csrf_matches(session.get("csrf"), request.form.get("csrf_token")):
        raise FormExpired("Reload the page and send the form again.")


@blueprint.get("/sign-in")
@allow(PUBLIC)
def sign_in() -> ResponseReturnValue:
    _form_token()
    return render_template("sign_in.html", error=None)


@blueprint.post("/sign-in")
@allow(PUBLIC)
def sign_in_submit() -> ResponseReturnValue:
    _check_form_token()
    if not current_app.secret_key:
        raise Unavailable("Signing in needs REGISTRY_SECRET_KEY to be set.")
    args = SignInForm().load(filled(request.form))
    ext = current_app.extensions["registry"]
    try:
        user = SignInService(ext.session(), LockoutPolicy.from_settings(ext.settings)).sign_in(
            args["name"], args["password"], args["totp"], request.remote_addr, datetime.now(UTC))
    except SignInRefused as refused:
        return render_template("sign_in.html", error=str(refused), name=args["name"]), 401
    start_session(uid=user.id, name=user.name, role=user.role, cred=credential_fingerprint(user))
    return redirect(url_for(HOME[user.role]), 303)


@blueprint.get("/bank/sign-in")
@allow(PUBLIC)
def bank_sign_in() -> ResponseReturnValue:
    _form_token()
    return render_template("bank_sign_in.html", error=None)


@blueprint.post("/bank/sign-in")
@allow(PUBLIC)
def bank_sign_in_submit() -> ResponseReturnValue:
    _check_form_token()
    args = BankSignInForm().load(filled(request.form))
    ext = current_app.extensions["registry"]
    found = BankSignIn(ext.session()).sign_in(args["code"], args["key"], request.remote_addr)
    if found is None:
        return render_template("bank_sign_in.html", error="Code or key is wrong.",
                               code=args["code"]), 401
    institution, fingerprint = found
    start_session(inst=institution.id, key=fingerprint, name=institution.code, role="institution")
    return redirect(url_for("web.extracts"), 303)


@blueprint.post("/sign-out")
@allow(PUBLIC)
def sign_out() -> ResponseReturnValue:
    _check_form_token()
    end_session(current_app.extensions["registry"].session(), session, request.remote_addr)
    session.clear()
    return redirect(url_for("web.sign_in"), 303)
