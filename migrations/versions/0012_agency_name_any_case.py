"""agencies: names unique whatever their case (a unique index on lower(name))

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 10:00:00

The service always refused a name that differs from another only in case, but two added at the same
moment could both be saved. Such a pair stops the upgrade with a message naming them, before anything
is changed: which one to rename is for an administrator to decide (`casework agencies rename`).
"""

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def clashing_names(connection: sa.Connection) -> list[list[str]]:
    """The agencies' names that are the same whatever their case, in groups (none: the index can be made)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for key, name in connection.execute(sa.text(
            "SELECT lower(name), name FROM agency WHERE lower(name) IN "
            "(SELECT lower(name) FROM agency GROUP BY lower(name) HAVING count(*) > 1)")):
        groups[key].append(name)  # the database's lower(), as the index will use
    return [sorted(names) for _, names in sorted(groups.items())]


def upgrade() -> None:
    clashes = clashing_names(op.get_bind())
    if clashes:
        pairs = "; ".join(" and ".join(repr(name) for name in names) for names in clashes)
        raise SystemExit(
            f"Migration 0012 stopped, nothing changed: agency names must be unique whatever their case, and "
            f"these differ only in case: {pairs}. Rename all but one of each "
            f"(casework agencies rename OLD NEW), then run `casework db upgrade` again.")
    op.create_index('uq_agency_lower_name', 'agency', [sa.text('lower(name)')], unique=True)


def downgrade() -> None:
    op.drop_index('uq_agency_lower_name', table_name='agency')
