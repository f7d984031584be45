"""access, audit checkpoints, pruning, application role

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

- `audit_checkpoints`: signed statements of the chain head, append-only like the log.
- Pruning under the retention rule: DELETE on `audit_events` is refused unless it runs inside
  `prune_audit_events(upto)`, which only deletes up to an existing prune anchor (a signed
  checkpoint; `registry audit verify` checks the signature, the database cannot).
  The function sets a transaction-local setting that the triggers look for. Anyone owning
  the table could set it too, or drop the trigger: the owner is trusted with the schema,
  which is why the chain and the signed checkpoints exist. The application's role cannot
  delete at all (below).
- `registry_app`: the role the application is meant to connect as. It may read and write
  the registry but only SELECT and INSERT the audit log and checkpoints, and may not call
  the pruning function. The role is cluster-wide, so it is created if missing and never
  dropped by a downgrade (other databases of the cluster may use it). New tables in later
  migrations must be granted to it explicitly; no default privileges, so that a future
  append-only table is not given UPDATE by accident.
- `sensitive_names` (searches for them are flagged) and `users.totp_last_step` (a TOTP code
  is accepted once).
"""

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

APP_ROLE = "registry_app"

AUDIT_PRUNE_GUARD = """
CREATE OR REPLACE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('registry.audit_prune', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE FUNCTION refuse_pruning_past_anchor() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM audit_checkpoints
                   WHERE kind = 'prune' AND last_event_id >= OLD.id) THEN
        RAISE EXCEPTION 'audit event % is not covered by a prune anchor', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER audit_events_prune_anchored BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION refuse_pruning_past_anchor();

CREATE FUNCTION prune_audit_events(upto bigint) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    removed bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM audit_checkpoints WHERE kind = 'prune' AND last_event_id = upto) THEN
        RAISE EXCEPTION 'no prune anchor at audit event %', upto
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM set_config('registry.audit_prune', 'on', true);
    DELETE FROM audit_events WHERE id <= upto;
    GET DIAGNOSTICS removed = ROW_COUNT;
    PERFORM set_config('registry.audit_prune', 'off', true);
    RETURN removed;
END $$;
REVOKE ALL ON FUNCTION prune_audit_events(bigint) FROM PUBLIC;

CREATE FUNCTION refuse_checkpoint_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_checkpoints is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
    ON audit_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION refuse_checkpoint_change();
"""

AUDIT_PRUNE_GUARD_DOWN = """
DROP TRIGGER IF EXISTS audit_checkpoints_append_only ON audit_checkpoints;
DROP FUNCTION IF EXISTS refuse_checkpoint_change();
DROP FUNCTION IF EXISTS prune_audit_events(bigint);
DROP TRIGGER IF EXISTS audit_events_prune_anchored ON audit_events;
DROP FUNCTION IF EXISTS refuse_pruning_past_anchor();
CREATE OR REPLACE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""

APP_ROLE_GRANTS = f"""
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
        CREATE ROLE {APP_ROLE} NOLOGIN;
    END IF;
END $$;
GRANT USAGE ON SCHEMA public TO {APP_ROLE};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE};
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events, audit_checkpoints FROM {APP_ROLE};
REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {APP_ROLE};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE};
"""

APP_ROLE_REVOKE = f"""
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP_ROLE};
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP_ROLE};
REVOKE USAGE ON SCHEMA public FROM {APP_ROLE};
"""


def upgrade() -> None:
    op.add_column('users', sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
    op.create_table('sensitive_names',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('folded', sa.Text(), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sensitive_names'))
    )
    op.create_index(op.f('ix_sensitive_names_folded'), 'sensitive_names', ['folded'], unique=False)
    op.create_table('audit_checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('last_event_id', sa.BigInteger(), nullable=False),
    sa.Column('chain_hash', sa.String(length=64), nullable=False),
    sa.Column('event_count', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('signature', sa.String(length=64), nullable=False),
    sa.CheckConstraint("kind IN ('checkpoint', 'prune')", name=op.f('ck_audit_checkpoints_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoints'))
    )
    op.create_index(op.f('ix_audit_checkpoints_last_event_id'), 'audit_checkpoints', ['last_event_id'], unique=False)
    op.execute(AUDIT_PRUNE_GUARD)
    op.execute(APP_ROLE_GRANTS)


def downgrade() -> None:
    op.execute(APP_ROLE_REVOKE)
    op.execute(AUDIT_PRUNE_GUARD_DOWN)
    op.drop_index(op.f('ix_audit_checkpoints_last_event_id'), table_name='audit_checkpoints')
    op.drop_table('audit_checkpoints')
    op.drop_index(op.f('ix_sensitive_names_folded'), table_name='sensitive_names')
    op.drop_table('sensitive_names')
    op.drop_column('users', 'totp_last_step')
