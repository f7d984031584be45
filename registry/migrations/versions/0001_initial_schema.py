"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-29

The registry's tables, and a trigger that makes the audit log append-only in the database
itself, whatever role writes to it.
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


AUDIT_APPEND_ONLY = """
CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();
"""


def upgrade() -> None:
    op.create_table('agencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agencies')),
    sa.UniqueConstraint('name', name=op.f('uq_agencies_name'))
    )
    op.create_table('institutions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('api_key_hash', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('bank', 'company_register', 'payment_institution', 'other')", name=op.f('ck_institutions_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institutions')),
    sa.UniqueConstraint('api_key_hash', name=op.f('uq_institutions_api_key_hash')),
    sa.UniqueConstraint('code', name=op.f('uq_institutions_code'))
    )
    op.create_table('extracts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=True),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=True),
    sa.Column('as_of', sa.Date(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('counts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('timings', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('errors', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('full', 'delta', 'bods')", name=op.f('ck_extracts_kind')),
    sa.CheckConstraint("status IN ('received', 'validating', 'applying', 'applied', 'rejected', 'duplicate')", name=op.f('ck_extracts_status')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_extracts_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extracts'))
    )
    op.create_index(op.f('ix_extracts_content_hash'), 'extracts', ['content_hash'], unique=False)
    op.create_index(op.f('ix_extracts_institution_id'), 'extracts', ['institution_id'], unique=False)
    op.create_index('uq_extracts_applied_sequence', 'extracts', ['institution_id', 'sequence'], unique=True, postgresql_where=sa.text("status = 'applied'"))
    op.create_table('search_outbox',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('party_ref', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_search_outbox_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_outbox'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('password_hash', sa.Text(), nullable=True),
    sa.Column('totp_secret', sa.String(length=64), nullable=True),
    sa.Column('rate_limit', sa.String(length=100), nullable=True),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role IN ('investigator', 'supervisor', 'auditor', 'administrator')", name=op.f('ck_users_role')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_users_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('name', name=op.f('uq_users_name'))
    )
    op.create_table('account_roles',
    sa.Column('account_ref', sa.String(length=200), nullable=False),
    sa.Column('party_ref', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=200), nullable=False),
    sa.Column('extract_id', sa.Integer(), nullable=False),
    sa.Column('record_hash', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('superseded_by_extract_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("role IN ('holder', 'co_holder', 'authorised_signatory', 'legal_representative', 'beneficial_owner', 'box_lessee')", name=op.f('ck_account_roles_role')),
    sa.ForeignKeyConstraint(['extract_id'], ['extracts.id'], name=op.f('fk_account_roles_extract_id_extracts')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_account_roles_institution_id_institutions')),
    sa.ForeignKeyConstraint(['superseded_by_extract_id'], ['extracts.id'], name=op.f('fk_account_roles_superseded_by_extract_id_extracts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_roles'))
    )
    op.create_index('ix_account_roles_account', 'account_roles', ['institution_id', 'account_ref'], unique=False, postgresql_where=sa.text('superseded_at IS NULL'))
    op.create_index(op.f('ix_account_roles_institution_id'), 'account_roles', ['institution_id'], unique=False)
    op.create_index('ix_account_roles_party', 'account_roles', ['institution_id', 'party_ref'], unique=False, postgresql_where=sa.text('superseded_at IS NULL'))
    op.create_index('uq_account_roles_current', 'account_roles', ['institution_id', 'ref'], unique=True, postgresql_where=sa.text('superseded_at IS NULL'))
    op.create_table('accounts',
    sa.Column('iban', sa.String(length=34), nullable=True),
    sa.Column('number', sa.String(length=64), nullable=True),
    sa.Column('bic', sa.String(length=11), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=200), nullable=False),
    sa.Column('extract_id', sa.Integer(), nullable=False),
    sa.Column('record_hash', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('superseded_by_extract_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("type IN ('current', 'savings', 'deposit', 'securities', 'loan', 'payment', 'e_money', 'crypto', 'safe_deposit_box')", name=op.f('ck_accounts_type')),
    sa.CheckConstraint('iban IS NOT NULL OR number IS NOT NULL', name=op.f('ck_accounts_iban_or_number')),
    sa.ForeignKeyConstraint(['extract_id'], ['extracts.id'], name=op.f('fk_accounts_extract_id_extracts')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_accounts_institution_id_institutions')),
    sa.ForeignKeyConstraint(['superseded_by_extract_id'], ['extracts.id'], name=op.f('fk_accounts_superseded_by_extract_id_extracts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts'))
    )
    op.create_index('ix_accounts_iban_current', 'accounts', ['iban'], unique=False, postgresql_where=sa.text('superseded_at IS NULL'))
    op.create_index(op.f('ix_accounts_institution_id'), 'accounts', ['institution_id'], unique=False)
    op.create_index('uq_accounts_current', 'accounts', ['institution_id', 'ref'], unique=True, postgresql_where=sa.text('superseded_at IS NULL'))
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_index(op.f('ix_api_tokens_user_id'), 'api_tokens', ['user_id'], unique=False)
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('legal_basis', sa.String(length=60), nullable=False),
    sa.Column('requesting_state', sa.String(length=2), nullable=True),
    sa.Column('offence', sa.String(length=60), nullable=False),
    sa.Column('subjects', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_cases_status')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_cases_agency_id_agencies')),
    sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'], name=op.f('fk_cases_opened_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('reference', name=op.f('uq_cases_reference'))
    )
    op.create_table('ownership_interests',
    sa.Column('owner_ref', sa.String(length=200), nullable=False),
    sa.Column('owned_ref', sa.String(length=200), nullable=False),
    sa.Column('share_min', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('share_max', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('voting_min', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('voting_max', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('interests', postgresql.ARRAY(sa.String(length=60)), nullable=False),
    sa.Column('direct', sa.Boolean(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=200), nullable=False),
    sa.Column('extract_id', sa.Integer(), nullable=False),
    sa.Column('record_hash', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('superseded_by_extract_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('share_min >= 0 AND share_max <= 100', name=op.f('ck_ownership_interests_share_bounds')),
    sa.CheckConstraint('share_min IS NULL OR share_max IS NULL OR share_min <= share_max', name=op.f('ck_ownership_interests_share_range')),
    sa.ForeignKeyConstraint(['extract_id'], ['extracts.id'], name=op.f('fk_ownership_interests_extract_id_extracts')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_ownership_interests_institution_id_institutions')),
    sa.ForeignKeyConstraint(['superseded_by_extract_id'], ['extracts.id'], name=op.f('fk_ownership_interests_superseded_by_extract_id_extracts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ownership_interests'))
    )
    op.create_index(op.f('ix_ownership_interests_institution_id'), 'ownership_interests', ['institution_id'], unique=False)
    op.create_index('ix_ownership_owned', 'ownership_interests', ['institution_id', 'owned_ref'], unique=False, postgresql_where=sa.text('superseded_at IS NULL'))
    op.create_index('ix_ownership_owner', 'ownership_interests', ['institution_id', 'owner_ref'], unique=False, postgresql_where=sa.text('superseded_at IS NULL'))
    op.create_index('uq_ownership_interests_current', 'ownership_interests', ['institution_id', 'ref'], unique=True, postgresql_where=sa.text('superseded_at IS NULL'))
    op.create_table('parties',
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('full_name', sa.Text(), nullable=False),
    sa.Column('given_names', sa.Text(), nullable=True),
    sa.Column('family_name', sa.Text(), nullable=True),
    sa.Column('other_names', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('birth_date', sa.String(length=10), nullable=True),
    sa.Column('birth_place', sa.Text(), nullable=True),
    sa.Column('nationalities', postgresql.ARRAY(sa.String(length=2)), nullable=False),
    sa.Column('residence_country', sa.String(length=2), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('identifiers', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('pep', sa.Boolean(), nullable=False),
    sa.Column('legal_form', sa.Text(), nullable=True),
    sa.Column('registration_number', sa.Text(), nullable=True),
    sa.Column('registration_country', sa.String(length=2), nullable=True),
    sa.Column('lei', sa.String(length=20), nullable=True),
    sa.Column('incorporated_on', sa.Date(), nullable=True),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=200), nullable=False),
    sa.Column('extract_id', sa.Integer(), nullable=False),
    sa.Column('record_hash', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('superseded_by_extract_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('person', 'entity')", name=op.f('ck_parties_kind')),
    sa.ForeignKeyConstraint(['extract_id'], ['extracts.id'], name=op.f('fk_parties_extract_id_extracts')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_parties_institution_id_institutions')),
    sa.ForeignKeyConstraint(['superseded_by_extract_id'], ['extracts.id'], name=op.f('fk_parties_superseded_by_extract_id_extracts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parties'))
    )
    op.create_index(op.f('ix_parties_institution_id'), 'parties', ['institution_id'], unique=False)
    op.create_index('uq_parties_current', 'parties', ['institution_id', 'ref'], unique=True, postgresql_where=sa.text('superseded_at IS NULL'))
    op.create_table('audit_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('tag', sa.String(length=80), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=True),
    sa.Column('role', sa.String(length=30), nullable=True),
    sa.Column('agency', sa.String(length=200), nullable=True),
    sa.Column('client_address', sa.String(length=64), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('legal_basis', sa.String(length=60), nullable=True),
    sa.Column('parameters', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('result_count', sa.Integer(), nullable=True),
    sa.Column('result_ids', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=True),
    sa.Column('chain_hash', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_audit_events_case_id_cases')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    op.create_index(op.f('ix_audit_events_case_id'), 'audit_events', ['case_id'], unique=False)
    op.create_index(op.f('ix_audit_events_tag'), 'audit_events', ['tag'], unique=False)
    op.create_index(op.f('ix_audit_events_user_id'), 'audit_events', ['user_id'], unique=False)
    op.create_table('case_assignments',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_assignments_case_id_cases')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_case_assignments_user_id_users')),
    sa.PrimaryKeyConstraint('case_id', 'user_id', name=op.f('pk_case_assignments'))
    )
    op.create_table('cooperation_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=10), nullable=False),
    sa.Column('counterpart_state', sa.String(length=2), nullable=False),
    sa.Column('assistance_type', sa.String(length=60), nullable=False),
    sa.Column('legal_basis', sa.String(length=60), nullable=False),
    sa.Column('offence', sa.String(length=60), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('received_on', sa.Date(), nullable=True),
    sa.Column('acknowledged_on', sa.Date(), nullable=True),
    sa.Column('executed_on', sa.Date(), nullable=True),
    sa.Column('refused_on', sa.Date(), nullable=True),
    sa.Column('refusal_reason', sa.Text(), nullable=True),
    sa.Column('confidential', sa.Boolean(), nullable=False),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.CheckConstraint("direction IN ('received', 'sent')", name=op.f('ck_cooperation_requests_direction')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_cooperation_requests_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cooperation_requests'))
    )


    op.execute(AUDIT_APPEND_ONLY)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
    op.execute("DROP FUNCTION IF EXISTS refuse_audit_change()")
    op.drop_table('cooperation_requests')
    op.drop_table('case_assignments')
    op.drop_index(op.f('ix_audit_events_user_id'), table_name='audit_events')
    op.drop_index(op.f('ix_audit_events_tag'), table_name='audit_events')
    op.drop_index(op.f('ix_audit_events_case_id'), table_name='audit_events')
    op.drop_table('audit_events')
    op.drop_index('uq_parties_current', table_name='parties', postgresql_where=sa.text('superseded_at IS NULL'))
    op.drop_index(op.f('ix_parties_institution_id'), table_name='parties')
    op.drop_table('parties')
    op.drop_index('uq_ownership_interests_current', table_name='ownership_interests', postgresql_where=sa.text('superseded_at IS NULL'))
    op.drop_index('ix_ownership_owner', table_name='ownership_interests', postgresql_where=sa.text('superseded_at IS NULL'))
    op.drop_index('ix_ownership_owned', table_name='ownership_interests', postgresql_where=sa.text('superseded_at IS NULL'))
    op.drop_index(op.f('ix_ownership_interests_institution_id'), table_name='ownership_interests')
    op.drop_table('ownership_interests')
    op.drop_table('cases')
    op.drop_index(op.f('ix_api_tokens_user_id'), table_name='api_tokens')
    op.drop_table('api_tokens')
    op.drop_index('uq_accounts_current', table_name='accounts', postgresql_where=sa.text('superseded_at IS NULL'))
    op.drop_index(op.f('ix_accounts_institution_id'), table_name='accounts')
    op.drop_index('ix_accounts_iban_current', table_name='accounts', postgresql_where=sa.text('superseded_at IS NULL'))
    op.drop_table('accounts')
    op.drop_index('uq_account_roles_current', table_name='account_roles', postgresql_where=sa.text('superseded_at IS NULL'))
    op.drop_index('ix_account_roles_party', table_name='account_roles', postgresql_where=sa.text('superseded_at IS NULL'))
    op.drop_index(op.f('ix_account_roles_institution_id'), table_name='account_roles')
    op.drop_index('ix_account_roles_account', table_name='account_roles', postgresql_where=sa.text('superseded_at IS NULL'))
    op.drop_table('account_roles')
    op.drop_table('users')
    op.drop_table('search_outbox')
    op.drop_index('uq_extracts_applied_sequence', table_name='extracts', postgresql_where=sa.text("status = 'applied'"))
    op.drop_index(op.f('ix_extracts_institution_id'), table_name='extracts')
    op.drop_index(op.f('ix_extracts_content_hash'), table_name='extracts')
    op.drop_table('extracts')
    op.drop_table('institutions')
    op.drop_table('agencies')
