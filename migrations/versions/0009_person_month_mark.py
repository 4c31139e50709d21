"""measures: per-person monthly marks by locality (person_month_mark), for the charts and breakdowns

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 12:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'person_month_mark',
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('locality', sa.String(length=200), nullable=False),
        sa.Column('person_id', sa.Uuid(), nullable=False),
        sa.Column('role', sa.Enum('victim', 'perpetrator', name='partyrole', native_enum=False, length=32,
                                  create_constraint=False), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('repeat', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('kind', 'role', 'month', 'locality', 'person_id', name=op.f('pk_person_month_mark')),
        comment='derived: party_mark per person, month and locality (casework.figures)',
    )
    with op.batch_alter_table('person_month_mark', schema=None) as batch_op:
        batch_op.create_index('ix_person_month_mark_person_id', ['person_id'], unique=False)
    # Left empty: the stored figures are derived from the records by today's definitions, which a
    # migration must not import (they change after it). `casework db upgrade` builds them once the
    # last migration has run (docs/figures.md).


def downgrade() -> None:
    with op.batch_alter_table('person_month_mark', schema=None) as batch_op:
        batch_op.drop_index('ix_person_month_mark_person_id')
    op.drop_table('person_month_mark')
