"""measures: stored monthly figures (measure_month) and per-person yearly marks (person_year_mark)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 12:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'person_year_mark',
        sa.Column('start_year', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Uuid(), nullable=False),
        sa.Column('role', sa.Enum('victim', 'perpetrator', name='partyrole', native_enum=False, length=32,
                                  create_constraint=False), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('repeat', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('start_year', 'kind', 'role', 'person_id', name=op.f('pk_person_year_mark')),
        comment='derived: party_mark summed per person and financial year (casework.figures)',
    )
    with op.batch_alter_table('person_year_mark', schema=None) as batch_op:
        batch_op.create_index('ix_person_year_mark_person_id', ['person_id'], unique=False)
    op.create_table(
        'measure_month',
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('locality', sa.String(length=200), nullable=False),
        sa.Column('figure', sa.String(length=40), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('month', 'figure', 'locality', name=op.f('pk_measure_month')),
        comment="derived: the measures' raw figures per month and locality (casework.figures)",
    )
    # Left empty: the stored figures are derived from the records by today's definitions, which a
    # migration must not import (they change after it). `casework db upgrade` builds them once the
    # last migration has run (docs/figures.md).


def downgrade() -> None:
    op.drop_table('measure_month')
    with op.batch_alter_table('person_year_mark', schema=None) as batch_op:
        batch_op.drop_index('ix_person_year_mark_person_id')
    op.drop_table('person_year_mark')
