"""ownership across reporters: party link keys, exclusive share bounds, declared indirect keys

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

- `party_link_keys(...)`: the keys on which records of one party at different institutions
  are taken to be the same party (docs/ownership.md, "One party across reporters"): an
  entity's LEI, or its registration number with its registration country; a person's national
  identifier or personal tax number with its country and the birth date. Never a name. One SQL
  function serves both the GIN index and the lookup, so the two cannot disagree. Identifier
  values are already compacted at load (search.names.normalise_identifier); the function also
  drops punctuation (Czech birth numbers are written with and without the slash).
- `share_*_exclusive` / `voting_*_exclusive`: a reported bound that is not itself included
  (BODS `exclusiveMinimum` / `exclusiveMaximum`: "more than 25 %"), kept rather than rounded
  to an inclusive one; "more than 50 %" is a majority, "50 % or more" is not.
- A declared indirect interest is a fact of its own beside a direct one between the same two
  parties (BODS mixed direct and indirect interests), so its `ref` becomes
  `owner|owned|indirect`. Existing rows are renamed to match what the loader now writes.
"""

from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

LINK_KEYS = r"""
CREATE FUNCTION party_link_keys(kind text, lei text, registration_number text,
                                registration_country text, identifiers jsonb, birth_date text)
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN kind = 'entity' THEN array_remove(ARRAY[
    'lei:' || nullif(upper(regexp_replace(lei, '[^[:alnum:]]', '', 'g')), ''),
    'reg:' || upper(registration_country) || ':'
        || nullif(upper(regexp_replace(registration_number, '[^[:alnum:]]', '', 'g')), '')
  ], NULL)
ELSE ARRAY(
  SELECT DISTINCT 'nid:' || upper(i ->> 'country') || ':'
      || upper(regexp_replace(i ->> 'value', '[^[:alnum:]]', '', 'g')) || ':' || birth_date
  FROM jsonb_array_elements(CASE WHEN jsonb_typeof(identifiers) = 'array'
                                 THEN identifiers ELSE '[]'::jsonb END) AS i
  WHERE birth_date IS NOT NULL AND i ->> 'scheme' IN ('national_id', 'tax_id')
    AND coalesce(i ->> 'country', '') <> ''
    AND regexp_replace(coalesce(i ->> 'value', ''), '[^[:alnum:]]', '', 'g') <> '')
END
$$
"""
LINK_INDEX = """
CREATE INDEX ix_parties_link_keys ON parties USING gin (party_link_keys(kind, lei,
    registration_number, registration_country, identifiers, birth_date))
    WHERE superseded_at IS NULL
"""
EXCLUSIVE = ("share_min_exclusive", "share_max_exclusive", "voting_min_exclusive",
             "voting_max_exclusive")


def upgrade() -> None:
    op.execute(LINK_KEYS)
    op.execute(LINK_INDEX)
    for column in EXCLUSIVE:
        op.add_column('ownership_interests', sa.Column(column, sa.Boolean(), nullable=False,
                                                       server_default=sa.false()))
    op.execute("UPDATE ownership_interests SET ref = ref || '|indirect' "
               "WHERE direct IS FALSE AND ref NOT LIKE '%|indirect'")


def downgrade() -> None:
    op.execute("UPDATE ownership_interests SET ref = left(ref, length(ref) - length('|indirect')) "
               "WHERE ref LIKE '%|indirect'")
    for column in EXCLUSIVE:
        op.drop_column('ownership_interests', column)
    op.execute("DROP INDEX IF EXISTS ix_parties_link_keys")
    op.execute("DROP FUNCTION IF EXISTS party_link_keys(text, text, text, text, jsonb, text)")
