"""the people affected of a community ASB case review application (asb_case_review.affected_people,
sealed)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 06:40:00

A nullable column only: no existing data moves.
"""

import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD / DROP COLUMN (both databases), as 0025: a batch copy reflects every table's indexes.
    op.add_column('asb_case_review', sa.Column('affected_people', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.execute('ALTER TABLE asb_case_review DROP COLUMN affected_people')
