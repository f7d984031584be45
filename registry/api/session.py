"""POST /api/v1/session (sign in with password and TOTP) and DELETE /api/v1/session.

The session cookie it sets authenticates the pages (and the API, for a signed-in user);
requests that change something must echo the CSRF token returned here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, jsonify, request, session
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields, validate

from registry.api import blueprint
from registry.auth import PUBLIC, allow, credential_fingerprint, end_session, start_session
from registry.credentials import LockoutPolicy, SignInRefused, SignInService
from registry.errors import Unauthorized, Unavailable


class SignInRequest(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    totp = fields.String(required=True, validate=validate.Length(min=6, max=10))


@blueprint.post("/session")
@allow(PUBLIC)
def create_session() -> ResponseReturnValue:
    if not current_app.secret_key:
        raise Unavailable("Signing in needs REGISTRY_SECRET_KEY to be set.")
    args = SignInRequest().load(request.get_json(silent=True) or {})
    ext = current_app.extensions["registry"]
    try:
        user = SignInService(ext.session(), LockoutPolicy.from_settings(ext.settings)).sign_in(
            args["name"], args["password"], args["totp"], request.remote_addr, datetime.now(UTC))
    except SignInRefused as refused:
        raise Unauthorized(str(refused)) from refused
    csrf = start_session(uid=user.id, cred=credential_fingerprint(user))
    return jsonify({"user": user.name, "role": user.role, "csrf_token": csrf}), 201


@blueprint.delete("/session")
@allow(PUBLIC)
def delete_session() -> ResponseReturnValue:
    end_session(current_app.extensions["registry"].session(), session, request.remote_addr)
    session.clear()
    return "", 204
