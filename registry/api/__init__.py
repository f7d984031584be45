"""The JSON API, version 1. Views are thin: parse, call one service, serialise."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("api", __name__)

from registry.api import search  # noqa: E402,F401  (registers the routes)
from registry.api import extracts  # noqa: E402,F401
from registry.api import cooperation, oversight, session  # noqa: E402,F401
from registry.api import ownership  # noqa: E402,F401
from registry.api import cases, records  # noqa: E402,F401
from registry.api import openapi  # noqa: E402,F401
