"""people search: the blind-index indexes carry the record's date (index-only counts, ordered pages)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 11:40:00
"""

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

SEARCHED = ("surname", "full_name", "phonetic", "dob", "postcode")


def upgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        for name in SEARCHED:
            batch_op.drop_index(f'ix_person_bi_{name}')
            batch_op.create_index(f'ix_person_bi_{name}', [f'bi_{name}', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        for name in SEARCHED:
            batch_op.drop_index(f'ix_person_bi_{name}')
            batch_op.create_index(f'ix_person_bi_{name}', [f'bi_{name}'], unique=False)
