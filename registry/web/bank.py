"""A bank's pages: upload an extract, follow it, read its error report and scorecard.

The upload form works without a script (the browser posts it and lands on the extract's
page); static/upload.js sends the same form over XHR to show a progress bar and then goes
to the same page. Either way the file is streamed to disk like an API upload.
"""

from __future__ import annotations

import functools
from typing import Any

from flask import current_app, g, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from loaders.sources import describe_line
from registry.auth import INSTITUTION, allow
from registry.extracts import EmptyUpload, ExtractService, describe, store_upload
from registry.web import blueprint

FINAL = ("applied", "rejected", "duplicate")
SCORECARD_LABELS = {
    "parties_without_identifiers": "customers that can only be found by name (no identifier)",
    "ownership_above_100_percent": "entities owned directly more than 100 % in total",
    "parties_without_role": "customers with neither a current account role nor a current "
                            "ownership interest",
    "accounts_without_holder": "open accounts without a holder",
}


def _service() -> ExtractService:
    return ExtractService(current_app.extensions["registry"].session())


@blueprint.get("/bank/extracts")
@allow(INSTITUTION)
def extracts() -> ResponseReturnValue:
    service = _service()
    listed = [describe(e) for e in service.list(g.caller.id)]
    return render_template("extracts.html", extracts=listed, final=FINAL,
                           book=service.book(g.caller.id), labels=SCORECARD_LABELS)


@blueprint.post("/bank/extracts")
@allow(INSTITUTION)
def upload() -> ResponseReturnValue:
    ext = current_app.extensions["registry"]
    sent = request.files.get("extract")
    if sent is None or not sent.filename:
        raise EmptyUpload("Choose the extract file to upload.")
    path, digest, size = store_upload(sent.stream, ext.settings.upload_dir,
                                      ext.settings.max_upload_bytes)
    extract = _service().receive(g.caller.id, path, digest, size, "auto")
    location = url_for("web.extract", extract_id=extract.id)
    if request.accept_mimetypes.best == "application/json":  # the progress-bar script
        return jsonify({"id": extract.id, "location": location}), 202
    return redirect(location, 303)


@blueprint.get("/bank/extracts/<int:extract_id>")
@allow(INSTITUTION)
def extract(extract_id: int) -> ResponseReturnValue:
    shown: dict[str, Any] = describe(_service().get(g.caller.id, extract_id))
    counts = dict(shown["counts"] or {})
    card = counts.pop("scorecard", None)
    return render_template("extract.html", extract=shown, counts=counts, card=card,
                           labels=SCORECARD_LABELS, final=shown["status"] in FINAL,
                           where=functools.partial(describe_line, shown["format"]))
