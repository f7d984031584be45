"""The record view: GET /api/v1/parties/<id>?case_id=… (investigators, under a case).

`<id>` is a party's registry id (`parties.id`, any of its versions), as the ownership views
take it. registry/records.py describes the answer.
"""

from __future__ import annotations

from flask import current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields

from registry.api import blueprint
from registry.api.fields import RowId
from registry.auth import allow
from registry.limits import rate_limited
from registry.records import RECORD_TAG, RecordService


class RecordRequest(Schema):
    case_id = RowId(required=True)


@blueprint.get("/parties/<int:party_id>")
@allow("investigator")
@rate_limited(RECORD_TAG)
def party_record(party_id: int) -> ResponseReturnValue:
    args = RecordRequest().load(request.args.to_dict())
    service = RecordService(current_app.extensions["registry"].session())
    return jsonify(service.party_record(g.caller, args["case_id"], party_id, request.remote_addr))
