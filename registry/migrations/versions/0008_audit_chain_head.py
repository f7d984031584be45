"""take the audit chain's lock and read its head in one round trip

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29

Every audited request took the chain lock, then read the head in a second statement: two
round trips while the lock is held, each about 0.35 ms of CPU. `audit_chain_head(k)` does
both in one call. A plain `SELECT pg_advisory_xact_lock(k), (SELECT head ...)` would not
do: a statement reads the snapshot taken when it starts, before the lock is granted, and
could link to a head that another writer has since replaced. In a VOLATILE plpgsql
function each statement takes a fresh snapshot (READ COMMITTED), so the head is read after
the lock. With no event left (all pruned), the head is the latest prune anchor's hash.
Runs with the caller's rights (SECURITY INVOKER): it reads nothing the caller cannot. The
application's role is granted EXECUTE explicitly, as in 0005: a database that revokes it from
PUBLIC by default must not refuse every audited request.
"""

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

APP_ROLE = "registry_app"


def upgrade() -> None:
    op.execute("""
CREATE FUNCTION audit_chain_head(k bigint) RETURNS text
    LANGUAGE plpgsql VOLATILE SET search_path = public, pg_temp AS $$
DECLARE
    head text;
BEGIN
    PERFORM pg_advisory_xact_lock(k);
    SELECT chain_hash INTO head FROM audit_events ORDER BY id DESC LIMIT 1;
    IF head IS NULL THEN
        SELECT chain_hash INTO head FROM audit_checkpoints WHERE kind = 'prune'
            ORDER BY last_event_id DESC LIMIT 1;
    END IF;
    RETURN head;
END $$""")
    op.execute(f"GRANT EXECUTE ON FUNCTION audit_chain_head(bigint) TO {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP FUNCTION audit_chain_head(bigint)")
