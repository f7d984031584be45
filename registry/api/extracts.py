"""Banks upload extracts and follow them: POST /extracts, GET /extracts[/<id>]."""

from __future__ import annotations

import functools

from flask import Response, current_app, g, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from loaders.errors import ErrorReport, Problem
from loaders.sources import describe_line
from registry.api import blueprint
from registry.auth import INSTITUTION, allow
from registry.extracts import ExtractService, describe, store_upload, upload_format


@blueprint.post("/extracts")
@allow(INSTITUTION)
def upload_extract() -> ResponseReturnValue:
    ext = current_app.extensions["registry"]
    declared = upload_format(request.args.get("format"))
    path, digest, size = store_upload(request.stream, ext.settings.upload_dir,
                                      ext.settings.max_upload_bytes)
    try:
        extract = ExtractService(ext.session()).receive(g.caller.id, path, digest, size, declared)
    except Exception:
        # No row points at the file: nobody would ever read or remove it.
        path.unlink(missing_ok=True)
        raise
    response = jsonify(describe(extract))
    response.status_code = 202
    response.headers["Location"] = url_for("api.get_extract", extract_id=extract.id)
    return response


@blueprint.get("/extracts")
@allow(INSTITUTION)
def list_extracts() -> ResponseReturnValue:
    service = ExtractService(current_app.extensions["registry"].session())
    # The book is the institution's as its extracts left it, not one extract's.
    return jsonify({"extracts": [describe(e) for e in service.list(g.caller.id)],
                    "book": service.book(g.caller.id)})


@blueprint.get("/extracts/<int:extract_id>")
@allow(INSTITUTION)
def get_extract(extract_id: int) -> ResponseReturnValue:
    extract = ExtractService(current_app.extensions["registry"].session()).get(g.caller.id, extract_id)
    if request.args.get("format") == "text" or request.accept_mimetypes.best == "text/plain":
        return Response(_report_text(extract.errors, extract.format), mimetype="text/plain")
    return jsonify(describe(extract))


def _report_text(errors: dict | None, fmt: str | None) -> str:  # type: ignore[type-arg]
    if not errors:
        return "no problems\n"
    report = ErrorReport(total=errors["total"], by_kind=errors["by_kind"])
    report.problems = [Problem(**p) for p in errors["problems"]]
    return report.as_text(functools.partial(describe_line, fmt)) + "\n"
