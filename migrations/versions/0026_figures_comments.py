"""figures: the derived tables' comments name the package that keeps them (casework.figures)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 07:00:00

The stored figures' upkeep moved into one package; migrations 0005, 0008, 0009 and 0011 now give
new databases these comments, and this one gives them to databases made before. SQLite keeps no
table comments: nothing to do there. A downgrade leaves them (they describe, nothing reads them).
"""

from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

COMMENTS = {
    'party_mark': "derived: the repeat rule's marks per party (casework.figures)",
    'person_year_mark': 'derived: party_mark summed per person and financial year (casework.figures)',
    'person_month_mark': 'derived: party_mark per person, month and locality (casework.figures)',
    'person_year_count': 'derived: person_year_mark counted per year, kind and role (casework.figures)',
    'measure_month': "derived: the measures' raw figures per month and locality (casework.figures)",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table, comment in COMMENTS.items():
        op.create_table_comment(table, comment)


def downgrade() -> None:
    pass
