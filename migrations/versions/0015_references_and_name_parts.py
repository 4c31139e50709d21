"""short references for people, incidents, cases and referrals; blind indexes of a surname's parts and the first forename

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 00:50:00

Every existing person, incident, case and referral is given a reference (`P-`, `N-`, `C-`, `R-` and
ten characters of Crockford's base32, made here, not by the application's code, so this stays as it
is) before the column becomes required and unique.

Every person not merged away is given the indexes of their surname's parts and of their first
forename. A blind index is an HMAC under the keyring's keys over the decrypted name, so this step
uses the running app's keyring and `casework.crypto` (the one module that holds keys; no service
code): the same values `casework keys rotate --index` recomputes. Batches of 2,000
people, in the upgrade's one transaction.
"""

import contextlib
import secrets
import uuid
import warnings

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIXES = {"person": "P", "incident": "N", "case": "C", "referral": "R"}
NEW_INDEXES = ("surname_part1", "surname_part2", "surname_part3", "forename")
BATCH = 2000


def _reference(prefix: str) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(10))
    return f"{prefix}-{body[:5]}-{body[5:]}"


def _give_references(bind: sa.Connection, table: str, prefix: str) -> None:
    quoted = bind.dialect.identifier_preparer.quote(table)
    made: set[str] = set()
    while True:
        ids = bind.execute(sa.text(f"SELECT id FROM {quoted} WHERE reference IS NULL LIMIT {BATCH}")).scalars().all()
        if not ids:
            return
        rows = []
        for row_id in ids:
            ref = _reference(prefix)
            while ref in made:  # unique among those made here; the table had none before
                ref = _reference(prefix)
            made.add(ref)
            rows.append({"id": row_id, "ref": ref})
        bind.execute(sa.text(f"UPDATE {quoted} SET reference = :ref WHERE id = :id"), rows)


def _index_name_parts(bind: sa.Connection) -> None:
    from flask import current_app

    from casework import crypto

    ring = current_app.extensions["casework.keyring"]
    last = None
    while True:
        query = "SELECT id, surname, forenames FROM person WHERE merged_into_id IS NULL"
        rows = bind.execute(sa.text(query + (" AND id > :last" if last is not None else "")
                                    + f" ORDER BY id LIMIT {BATCH}"), {"last": last}).all()
        if not rows:
            return
        updates = []
        for row_id, surname, forenames in rows:
            key = row_id if isinstance(row_id, uuid.UUID) else uuid.UUID(str(row_id))
            plain = {name: (crypto.unseal(ring, bytes(sealed), table="person", column=name, row_id=key).decode("utf-8")
                            if sealed is not None else None)
                     for name, sealed in (("surname", surname), ("forenames", forenames))}
            idx = crypto.person_indexes(ring, surname=plain["surname"], forenames=plain["forenames"],
                                        date_of_birth=None, postcode=None)
            updates.append({"id": row_id, **{name: getattr(idx, name) for name in NEW_INDEXES}})
        bind.execute(sa.text("UPDATE person SET " + ", ".join(f"bi_{n} = :{n}" for n in NEW_INDEXES)
                             + " WHERE id = :id"), updates)
        last = rows[-1][0]


@contextlib.contextmanager
def _recreated(table: str):  # type: ignore[no-untyped-def]
    """A batch alteration (SQLite recreates the table). Reflecting its foreign keys reads `agency`,
    whose index on lower(name) SQLite's reflection skips with a warning: that table is not changed."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")
        with op.batch_alter_table(table, schema=None) as batch_op:
            yield batch_op


def upgrade() -> None:
    bind = op.get_bind()
    for table, prefix in PREFIXES.items():
        op.add_column(table, sa.Column('reference', sa.String(length=13), nullable=True))
        _give_references(bind, table, prefix)
        with _recreated(table) as batch_op:
            batch_op.alter_column('reference', existing_type=sa.String(length=13), nullable=False)
            batch_op.create_index(f'ix_{table}_reference', ['reference'], unique=True)
    for name in NEW_INDEXES:
        op.add_column('person', sa.Column(f'bi_{name}', sa.LargeBinary(length=8), nullable=True))
    _index_name_parts(bind)
    for name in NEW_INDEXES:
        # A surname's parts are there for a few people in a hundred: their indexes hold only those.
        sparse = {} if name == "forename" else {"sqlite_where": sa.text(f"bi_{name} IS NOT NULL"),
                                                "postgresql_where": sa.text(f"bi_{name} IS NOT NULL")}
        op.create_index(f'ix_person_bi_{name}', 'person', [f'bi_{name}', 'created_at', 'restricted'], unique=False,
                        **sparse)


def downgrade() -> None:
    for name in NEW_INDEXES:
        op.drop_index(f'ix_person_bi_{name}', table_name='person')
    with _recreated('person') as batch_op:
        for name in NEW_INDEXES:
            batch_op.drop_column(f'bi_{name}')
    for table in PREFIXES:
        with _recreated(table) as batch_op:
            batch_op.drop_index(f'ix_{table}_reference')
            batch_op.drop_column('reference')
