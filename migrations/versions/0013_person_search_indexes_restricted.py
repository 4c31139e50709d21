"""people search: the blind-index indexes carry whether the record is restricted, so a search's
counts, which leave out restricted people the user is not named on, still read the index alone

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 01:05:00
"""

from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

SEARCHED = ("surname", "full_name", "phonetic", "dob", "postcode")


def upgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        for name in SEARCHED:
            batch_op.drop_index(f'ix_person_bi_{name}')
            batch_op.create_index(f'ix_person_bi_{name}', [f'bi_{name}', 'created_at', 'restricted'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        for name in SEARCHED:
            batch_op.drop_index(f'ix_person_bi_{name}')
            batch_op.create_index(f'ix_person_bi_{name}', [f'bi_{name}', 'created_at'], unique=False)
