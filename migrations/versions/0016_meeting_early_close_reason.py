"""meetings: why the chair closed a meeting before its date (meeting.early_close_reason, sealed)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 00:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A sealed value (casework.crypto), like the meeting's other free text: nullable, no existing rows to fill.
    # Plain ALTER TABLE on both databases (SQLite 3.35+ drops a column too): a batch copy of the table
    # would reflect its neighbours, whose expression indexes SQLAlchemy cannot reflect.
    op.add_column('meeting', sa.Column('early_close_reason', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column('meeting', 'early_close_reason')
