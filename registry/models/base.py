"""Declarative base and the time columns every reported fact carries.

Two clocks (a bitemporal model, kept simple): the period a fact was valid *as the
institution reported it* (valid_from / valid_to, or opened_on / closed_on for accounts), and
the period the registry *held* that version (recorded_at / superseded_at). A change never
updates a version in place: it sets superseded_at on the old row and inserts a new one, so
"who held this account on 3 March 2021, as we knew it then" always has an answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import (JSON, BigInteger, ColumnElement, DateTime, ForeignKey, Integer, MetaData, String,
                        Text, bindparam, func, select, tuple_)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so Alembic migrations can name what they drop.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Row ids are bigint: a number beyond it names no row (and must not reach a query as one).
MAX_ROW_ID = 2**63 - 1


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        dict[str, Any]: JSON().with_variant(JSONB(), "postgresql"),
        datetime: DateTime(timezone=True),
    }


class ReportedFact:
    """Columns shared by every versioned row an institution reports."""

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    # The institution's own reference: customer id, account id.
    ref: Mapped[str] = mapped_column(String(200))
    extract_id: Mapped[int] = mapped_column(ForeignKey("extracts.id"))
    # Hash of the record as reported: an unchanged record is not written again.
    record_hash: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())
    superseded_at: Mapped[datetime | None]
    superseded_by_extract_id: Mapped[int | None] = mapped_column(ForeignKey("extracts.id"))


def as_of_clause(valid_from: Any, valid_to: Any, day: date) -> Any:
    """SQL condition: the reported period contains `day` (open ends are unbounded)."""
    return ((valid_from.is_(None)) | (valid_from <= day)) & ((valid_to.is_(None)) | (valid_to > day))


def keys_in(institution_id: Any, ref: Any) -> ColumnElement[bool]:
    """`(institution_id, ref) IN keys`, the keys bound as two arrays (`key_arrays`). A list
    of tuples would be spelled out as one parameter pair per key, a different statement for
    every count, which neither SQLAlchemy nor Postgres can cache; a search sends fifty."""
    pairs = func.unnest(bindparam("key_institutions", type_=ARRAY(Integer)),
                        bindparam("key_refs", type_=ARRAY(Text)),
                        ).table_valued("institution_id", "ref").render_derived()
    return tuple_(institution_id, ref).in_(select(pairs.c.institution_id, pairs.c.ref))


def key_arrays(keys: Iterable[tuple[int, str]]) -> dict[str, list[Any]]:
    """The parameters of a `keys_in` condition."""
    wanted = list(keys)
    return {"key_institutions": [k[0] for k in wanted], "key_refs": [k[1] for k in wanted]}
