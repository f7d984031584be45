"""cooperation requests belong to an agency

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

Mutual-legal-assistance requests are confidential: a supervisor reads and updates only the
requests of their own agency (auditors read all; statistics count all). Existing requests
take the agency of their case, where they have one.
"""

from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cooperation_requests", sa.Column("agency_id", sa.Integer(),
                                                    sa.ForeignKey("agencies.id"), nullable=True))
    op.execute("UPDATE cooperation_requests r SET agency_id = c.agency_id FROM cases c WHERE c.id = r.case_id")
    op.create_index("ix_cooperation_requests_agency", "cooperation_requests", ["agency_id"])


def downgrade() -> None:
    op.drop_index("ix_cooperation_requests_agency", "cooperation_requests")
    op.drop_column("cooperation_requests", "agency_id")
