"""measures: stored repeat marks per party (party_mark), built for existing records after the upgrade

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 11:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

KINDS = ("da", "personal_asb", "asb", "sv")


def upgrade() -> None:
    op.create_table(
        'party_mark',
        sa.Column('incident_id', sa.Uuid(), nullable=False),
        sa.Column('person_id', sa.Uuid(), nullable=False),
        sa.Column('role', sa.Enum('victim', 'perpetrator', name='partyrole', native_enum=False, length=32,
                                  create_constraint=False), nullable=False),
        sa.Column('occurred_on', sa.Date(), nullable=False),
        *(sa.Column(f'is_{kind}', sa.Boolean(), nullable=False) for kind in KINDS),
        *(sa.Column(f'repeat_{kind}', sa.Boolean(), nullable=False) for kind in KINDS),
        sa.PrimaryKeyConstraint('incident_id', 'person_id', 'role', name=op.f('pk_party_mark')),
        comment='derived: the repeat rule\'s marks per party (casework.figures)',
    )
    with op.batch_alter_table('party_mark', schema=None) as batch_op:
        batch_op.create_index('ix_party_mark_person_id', ['person_id'], unique=False)
        batch_op.create_index('ix_party_mark_occurred_on', ['occurred_on'], unique=False)
    # Left empty: the stored figures are derived from the records by today's definitions, which a
    # migration must not import (they change after it). `casework db upgrade` builds them once the
    # last migration has run (docs/figures.md).


def downgrade() -> None:
    with op.batch_alter_table('party_mark', schema=None) as batch_op:
        batch_op.drop_index('ix_party_mark_occurred_on')
        batch_op.drop_index('ix_party_mark_person_id')
    op.drop_table('party_mark')
