"""import digests: person, incident, referral and prevention_activity get `import_digest`, a keyed
digest of a record's values as last imported (casework.exchange.digest), so a re-imported extract's
unchanged rows are recognised without decrypting anything

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 07:00:00

Nullable columns only: no existing data moves. A record without a digest (every record before this
migration) is compared in full by its next import, which stores its digest.
"""

import sqlalchemy as sa
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

TABLES = ('person', 'incident', 'referral', 'prevention_activity')


def upgrade() -> None:
    # Plain ADD / DROP COLUMN (both databases): a batch copy of `person` would lose its expression indexes.
    for table in TABLES:
        op.add_column(table, sa.Column('import_digest', sa.LargeBinary(length=16), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        op.execute(f'ALTER TABLE {table} DROP COLUMN import_digest')
