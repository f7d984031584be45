"""Fields the API's and the pages' request schemas share."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from registry.models.base import MAX_ROW_ID


class RowId(fields.Integer):
    """The id of a row: a positive number that fits Postgres's bigint. A larger one is no
    row, and said so as a 422, not an overflow inside the database."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Range(1, MAX_ROW_ID), **kwargs)
