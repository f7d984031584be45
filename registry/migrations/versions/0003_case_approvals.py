"""case approvals of sensitive searches

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

- `case_approvals`: a supervisor's approval to search a name marked sensitive under a case
  (docs/access.md). Granted to `registry_app` explicitly, as 0002 asks of every new table.
"""

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

APP_ROLE = "registry_app"


def upgrade() -> None:
    op.create_table('case_approvals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('folded', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_case_approvals_approved_by_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_approvals_case_id_cases')),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['users.id'], name=op.f('fk_case_approvals_withdrawn_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_approvals'))
    )
    op.create_index(op.f('ix_case_approvals_case_id'), 'case_approvals', ['case_id'], unique=False)
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON case_approvals TO {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON SEQUENCE case_approvals_id_seq TO {APP_ROLE}")


def downgrade() -> None:
    op.drop_index(op.f('ix_case_approvals_case_id'), table_name='case_approvals')
    op.drop_table('case_approvals')
