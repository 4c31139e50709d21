"""import digests of rows: `import_digest_at` beside each `import_digest`, and an incident's
`parties_digest` and `parties_at`, so that a re-import recognises unchanged rows in one query
(casework.exchange.unchanged)

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 10:00:00

A digest now covers the row an import read (its cells, as the file gave them) rather than the
values made of it, and the record's `updated_at` is kept beside it instead of inside it. The
digests of 0028 mean nothing under the new rule: they are cleared (without moving `updated_at`),
and the next import of each record compares it in full, once, and stores its new digest.
"""

import sqlalchemy as sa
from alembic import op

from casework.models.base import UTCDateTime

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

TABLES = ('person', 'incident', 'referral', 'prevention_activity')


def upgrade() -> None:
    # Plain ADD / DROP COLUMN (both databases): a batch copy of `person` would lose its expression indexes.
    for table in TABLES:
        op.add_column(table, sa.Column('import_digest_at', UTCDateTime(timezone=True), nullable=True))
        op.execute(f'UPDATE {table} SET import_digest = NULL WHERE import_digest IS NOT NULL')
    op.add_column('incident', sa.Column('parties_digest', sa.LargeBinary(length=16), nullable=True))
    op.add_column('incident', sa.Column('parties_at', UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.execute('ALTER TABLE incident DROP COLUMN parties_at')
    op.execute('ALTER TABLE incident DROP COLUMN parties_digest')
    for table in TABLES:
        op.execute(f'UPDATE {table} SET import_digest = NULL WHERE import_digest IS NOT NULL')
        op.execute(f'ALTER TABLE {table} DROP COLUMN import_digest_at')
