"""Checks of a restored database against its backup's manifest: integrity, migration, rows, decryption.

Also the table listing and row counts the manifest records when a backup is made,
so a backup and its verification count the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Connection, Table, func, select, text

from .. import crypto
from ..migrate import head_revision

SAMPLE_PER_COLUMN = 25


@dataclass(frozen=True)
class Check:
    """One verification: what was checked, whether it held, and what was found (never a personal value)."""

    name: str
    ok: bool
    detail: str


def verify(conn: Connection, *, row_counts: Mapping[str, int], ring: crypto.Keyring) -> list[Check]:
    """Check a database against a backup's manifest: integrity, migration head, row counts, decryption."""
    return [_integrity(conn), _migration_check(conn), _counts_check(conn, row_counts),
            sample_decrypts(conn, ring=ring)]


def _integrity(conn: Connection) -> Check:
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("PRAGMA integrity_check").scalars().all()
        ok = rows == ["ok"]
        return Check("integrity", ok, "PRAGMA integrity_check: ok" if ok else "; ".join(map(str, rows[:5])))
    # pg_restore builds every constraint and index after the data; an invalid one means it did not hold.
    invalid = conn.execute(text(
        "SELECT (SELECT count(*) FROM pg_constraint WHERE NOT convalidated) "
        "+ (SELECT count(*) FROM pg_index WHERE NOT indisvalid)")).scalar_one()
    detail = "every constraint and index is valid" if invalid == 0 else f"{invalid} invalid constraints or indexes"
    return Check("integrity", invalid == 0, detail)


def _migration_check(conn: Connection) -> Check:
    current, head = migration_of(conn), head_revision()
    return Check("migration", current == head, f"database at {current}, code at {head}")


def _counts_check(conn: Connection, expected: Mapping[str, int]) -> Check:
    counts = row_counts(conn)
    wrong = [f"{t}: {counts.get(t, 'missing')} rows, backup had {n}"
             for t, n in sorted(expected.items()) if counts.get(t) != n]
    wrong += [f"{t}: not in the backup" for t in sorted(set(counts) - set(expected))]
    if wrong:
        return Check("row counts", False, "; ".join(wrong))
    return Check("row counts", True, f"{len(counts)} tables, {sum(counts.values())} rows, as in the backup")


def sample_decrypts(conn: Connection, *, ring: crypto.Keyring, per_column: int = SAMPLE_PER_COLUMN) -> Check:
    """Decrypt a random sample of every encrypted column with `ring` (values are never shown)."""
    from ..models import Base, secret_columns

    sampled, failures = 0, []
    for mapper in sorted(Base.registry.mappers, key=lambda m: m.class_.__name__):
        table = cast(Table, mapper.local_table)  # (every model is mapped to a table)
        for name in secret_columns(mapper.class_):
            column = table.c[name]
            rows = conn.execute(select(table.c.id, column).where(column.is_not(None))
                                .order_by(func.random()).limit(per_column)).all()
            for row_id, sealed in rows:
                sampled += 1
                try:
                    crypto.unseal(ring, sealed, table=table.name, column=name, row_id=row_id)
                except crypto.DecryptionError:
                    failures.append(f"{table.name}.{name} of row {row_id}")
    if failures:
        return Check("decryption", False, f"{len(failures)} of {sampled} sampled values do not decrypt with "
                     f"this keyring, e.g. {', '.join(failures[:3])}")
    if not sampled:
        return Check("decryption", True, "no encrypted values to sample")
    return Check("decryption", True, f"{sampled} sampled encrypted values decrypt with this keyring")


def migration_of(conn: Connection) -> str | None:
    """The database's Alembic revision (None for a database never migrated)."""
    if "alembic_version" not in table_names(conn):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def table_names(conn: Connection) -> list[str]:
    """Every table, including alembic_version (outside `public` on PostgreSQL: schema-qualified)."""
    if conn.dialect.name == "sqlite":
        return list(conn.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )).scalars())
    rows = conn.execute(text(
        "SELECT schemaname, tablename FROM pg_tables "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') "
        "ORDER BY schemaname, tablename")).all()
    return [t if s == "public" else f"{s}.{t}" for s, t in rows]


def row_counts(conn: Connection) -> dict[str, int]:
    """The number of rows in every table."""
    quote = conn.dialect.identifier_preparer.quote
    counts = {}
    for name in table_names(conn):
        quoted = ".".join(quote(part) for part in name.split(".", 1))
        counts[name] = int(conn.exec_driver_sql(f"SELECT count(*) FROM {quoted}").scalar_one())
    return counts
