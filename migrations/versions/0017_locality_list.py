"""localities: the partnership's list of localities (towns and parishes); incidents and areas name them

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 00:30:00

The measures' breakdowns by locality showed an incident's locality as it was typed, to every
agency's managers: free text (a street, a name) with a count of 1. Localities now come from a list
kept by administrators (`casework localities`), which starts with Dorset's towns and larger parishes
below. Each locality already recorded on an incident or an area that is one of them whatever its
case and spacing ("  weymouth") becomes that locality's name, and the stored monthly figures and
per-person monthly marks keyed by it move with it (summed, and a repeat kept), so the figures stay
exact. A value that matches no locality is kept as it was on its record (its agency's users still
see it there); the breakdowns count it under "Unrecognised locality" and never show its text.
`casework localities unrecognised` lists such values, and `casework localities map` or `add`
settles them.
"""

import sqlalchemy as sa
from alembic import op

import casework.models.base

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

# Dorset's towns and larger parishes (Bournemouth, Christchurch and Poole; Dorset Council's area).
LOCALITIES = (
    "Beaminster", "Bere Regis", "Blandford Forum", "Bournemouth", "Bridport", "Broadstone", "Charmouth",
    "Chickerell", "Christchurch", "Colehill", "Corfe Mullen", "Cranborne", "Crossways", "Dorchester",
    "Ferndown", "Gillingham", "Highcliffe", "Lyme Regis", "Lytchett Matravers", "Maiden Newton",
    "Poole", "Portland", "Puddletown", "Shaftesbury", "Sherborne", "Sixpenny Handley", "Stalbridge",
    "St Leonards and St Ives", "Sturminster Newton", "Swanage", "Upton", "Verwood", "Wareham",
    "West Moors", "Weymouth", "Wimborne Minster", "Wool",
)


def key(name: str) -> str:
    """A name folded for matching, as the localities service's `key` folds it."""
    return " ".join(name.split()).casefold()


def upgrade() -> None:
    op.create_table(
        'locality',
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', casework.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', casework.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_locality')),
        sa.UniqueConstraint('key', name=op.f('uq_locality_key')),
        sa.UniqueConstraint('name', name=op.f('uq_locality_name')),
    )
    connection = op.get_bind()
    now = casework.models.base.utcnow()
    rows = [{"id": casework.models.base.new_id(), "name": name, "key": key(name), "created_at": now,
             "updated_at": now} for name in LOCALITIES]
    when = casework.models.base.UTCDateTime(timezone=True)
    table = sa.table('locality', sa.column('id', sa.Uuid()), sa.column('name', sa.String()),
                     sa.column('key', sa.String()), sa.column('created_at', when), sa.column('updated_at', when))
    op.bulk_insert(table, rows)
    known = {key(name): name for name in LOCALITIES}
    for old, new in mappings(connection, known).items():
        move(connection, old, new)


def mappings(connection: sa.Connection, known: dict[str, str]) -> dict[str, str]:
    """The values recorded that are a known locality spelt another way, with that locality's name."""
    found: dict[str, str] = {}
    for table in ("incident", "area"):
        for (value,) in connection.execute(sa.text(f"SELECT DISTINCT locality FROM {table} "
                                                   f"WHERE locality IS NOT NULL")):
            name = known.get(key(value))
            if name is not None and name != value:
                found[value] = name
    return found


def move(connection: sa.Connection, old: str, new: str) -> None:
    """Give the records of locality `old` the name `new`, and move the derived rows keyed by it: the
    monthly figures add to those already under `new`; a person's monthly mark joins theirs."""
    params = {"old": old, "new": new, "yes": True}
    for table in ("incident", "area"):
        connection.execute(sa.text(f"UPDATE {table} SET locality = :new WHERE locality = :old"), params)
    same_figure = "o.month = measure_month.month AND o.figure = measure_month.figure"
    connection.execute(sa.text(
        f"UPDATE measure_month SET value = value + (SELECT o.value FROM measure_month o WHERE {same_figure} "
        f"AND o.locality = :old) WHERE locality = :new AND EXISTS "
        f"(SELECT 1 FROM measure_month o WHERE {same_figure} AND o.locality = :old)"), params)
    connection.execute(sa.text(
        f"DELETE FROM measure_month WHERE locality = :old AND EXISTS "
        f"(SELECT 1 FROM measure_month o WHERE {same_figure} AND o.locality = :new)"), params)
    connection.execute(sa.text("UPDATE measure_month SET locality = :new WHERE locality = :old"), params)
    same_mark = ("o.kind = person_month_mark.kind AND o.role = person_month_mark.role "
                 "AND o.month = person_month_mark.month AND o.person_id = person_month_mark.person_id")
    connection.execute(sa.text(
        f"UPDATE person_month_mark SET repeat = :yes WHERE locality = :new AND EXISTS "
        f"(SELECT 1 FROM person_month_mark o WHERE {same_mark} AND o.locality = :old AND o.repeat = :yes)"), params)
    connection.execute(sa.text(
        f"DELETE FROM person_month_mark WHERE locality = :old AND EXISTS "
        f"(SELECT 1 FROM person_month_mark o WHERE {same_mark} AND o.locality = :new)"), params)
    connection.execute(sa.text("UPDATE person_month_mark SET locality = :new WHERE locality = :old"), params)


def downgrade() -> None:
    # The values given a locality's name keep it: each is the same place, spelt as the list spells it.
    op.drop_table('locality')

