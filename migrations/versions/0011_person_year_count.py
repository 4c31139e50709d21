"""measures: person_year_mark counted per financial year, kind and role (person_year_count)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 14:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'person_year_count',
        sa.Column('start_year', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('role', sa.Enum('victim', 'perpetrator', name='partyrole', native_enum=False, length=32,
                                  create_constraint=False), nullable=False),
        sa.Column('people', sa.BigInteger(), nullable=False),
        sa.Column('repeats', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('start_year', 'kind', 'role', name=op.f('pk_person_year_count')),
        comment='derived: person_year_mark counted per year, kind and role (casework.figures)',
    )
    # Left empty: the stored figures are derived from the records by today's definitions, which a
    # migration must not import (they change after it). `casework db upgrade` builds them once the
    # last migration has run (docs/figures.md).


def downgrade() -> None:
    op.drop_table('person_year_count')
