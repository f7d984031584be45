"""an index on the superseded versions of parties

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29

A party's search document carries the names its earlier versions had (a maiden name a bank
replaced, say), read per party when it is indexed. Only superseded versions are asked, so a
partial index on them is small, and it is written only when a version is superseded.
"""

from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_parties_superseded ON parties (institution_id, ref) "
               "WHERE superseded_at IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP INDEX ix_parties_superseded")
