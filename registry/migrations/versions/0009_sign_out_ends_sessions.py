"""signing out ends the session on the server too

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29

Page sessions live in Flask's signed cookie; signing out only cleared the browser's copy, so
a copy taken before (a stolen cookie) stayed valid for `session_hours`. Each session now
carries a random id, and signing out records it here until the cookie would have expired
anyway; a cookie naming an ended session is refused.
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

APP_ROLE = "registry_app"


def upgrade() -> None:
    op.create_table(
        "ended_sessions",
        sa.Column("sid", sa.String(64), primary_key=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    # Tables made after 0002 are granted one by one.
    op.execute(f"GRANT SELECT, INSERT, DELETE ON ended_sessions TO {APP_ROLE}")


def downgrade() -> None:
    op.drop_table("ended_sessions")
