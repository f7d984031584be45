"""statistics after a load, and account numbers found by their normalised form

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

- `analyze_reported_tables()`: after a big load the planner's statistics are stale and the
  next diff or scorecard picks nested loops over millions of rows. Only a table's owner may
  ANALYZE it, and the loader runs as the application's role; this SECURITY DEFINER function
  lets it refresh statistics on exactly the reported tables and nothing else.
- An expression index on current accounts' normalised number: account search by number
  (registry/account_search.py) compares `upper(regexp_replace(number, '[\\s./-]', '', 'g'))`
  and would otherwise read every account.
"""

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

APP_ROLE = "registry_app"
# Must stay the expression registry/account_search.py builds, or the index is never used.
NORMALISED_NUMBER = r"upper(regexp_replace(number, '[\s./-]', '', 'g'))"


def upgrade() -> None:
    op.execute("""
CREATE FUNCTION analyze_reported_tables() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    ANALYZE parties, accounts, account_roles, ownership_interests;
END $$""")
    op.execute("REVOKE ALL ON FUNCTION analyze_reported_tables() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION analyze_reported_tables() TO {APP_ROLE}")
    op.execute(f"CREATE INDEX accounts_normalised_number ON accounts ({NORMALISED_NUMBER}) "
               "WHERE superseded_at IS NULL")


def downgrade() -> None:
    op.execute("DROP INDEX accounts_normalised_number")
    op.execute("DROP FUNCTION analyze_reported_tables()")
