"""The declarative base: naming convention, UUID keys made by the application, timestamps, and
`Secret`, an attribute that reads and writes plain values while the column holds ciphertext."""

from __future__ import annotations

import datetime as dt
import enum
import os
import time
import uuid
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, overload

from sqlalchemy import DateTime, Enum, LargeBinary, MetaData, Table, TypeDecorator, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .. import crypto

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- record ids ---------------------------------------------------------------------------------
#
# Ids are UUIDs of version 7 (RFC 9562): the millisecond the id was made, then 74 random bits.
# Made in time order, new rows go to the end of every index that starts with an id (each table's
# primary key, a party's incident), not to a random page of it: at a million rows an import
# otherwise reads and writes back a random index page for nearly every row. The random part keeps
# them unguessable; the time part says when the record was made, as its `created_at` does.

_V7_VERSION_AND_VARIANT = (7 << 76) | (2 << 62)
_RAND_B = (1 << 62) - 1


def _uuid7_int(millisecond: int, random80: int) -> int:
    return ((millisecond & 0xFFFF_FFFF_FFFF) << 80) | _V7_VERSION_AND_VARIANT | (
        ((random80 >> 62) & 0xFFF) << 64) | (random80 & _RAND_B)


def new_id() -> uuid.UUID:
    """A new record id (UUID version 7)."""
    return uuid.UUID(int=_uuid7_int(time.time_ns() // 1_000_000, int.from_bytes(os.urandom(10))))


def new_ids(count: int, *, after_millisecond: int = 0) -> list[uuid.UUID]:
    """`count` new record ids in ascending order, from one read of the system's random source (for
    bulk writers: one `os.urandom` per id costs more than the rest of making it). With
    `after_millisecond`, their time part is later than it, so successive batches ascend too."""
    millisecond = max(time.time_ns() // 1_000_000, after_millisecond + 1)
    raw = os.urandom(10 * count)
    number = int.from_bytes
    return [uuid_of_int(n) for n in sorted(_uuid7_int(millisecond, number(raw[i:i + 10]))
                                            for i in range(0, len(raw), 10))]


_new_object, _set_slot, _unknown = object.__new__, object.__setattr__, uuid.SafeUUID.unknown


def uuid_of_int(n: int) -> uuid.UUID:
    """`uuid.UUID(int=n)` for an `n` known to be a valid 128-bit UUID (a UUID's own `.int`), without
    its checks (it fills the same two slots; a third of the time, at millions of ids)."""
    u = _new_object(uuid.UUID)
    _set_slot(u, "int", n)
    _set_slot(u, "is_safe", _unknown)
    return u


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in UTC on every database (SQLite hands back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


E = TypeVar("E", bound=enum.Enum)


def enum_column(kind: type[E], **kwargs: Any) -> Any:
    """An enum stored by its value as text (no native enum types: migrations stay simple)."""
    return mapped_column(
        Enum(kind, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e],
             validate_strings=True, create_constraint=False),
        **kwargs,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime, uuid.UUID: Uuid}
    if TYPE_CHECKING:
        # Every model is mapped to a Table (SQLAlchemy types `__table__` as any FromClause, which
        # insert(), update() and delete() do not all take).
        __table__: ClassVar[Table]

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __init__(self, **kwargs: Any) -> None:
        # The id comes first: encrypted attributes bind their ciphertext to it.
        self.id = kwargs.pop("id", None) or new_id()
        cls = type(self)
        for key, value in kwargs.items():
            if not hasattr(cls, key):
                raise TypeError(f"{key!r} is an invalid keyword argument for {cls.__name__}")
            setattr(self, key, value)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"


class ImportDigest:
    """A record the data exchange imports keeps a keyed digest of the row it was last imported from,
    so that importing the same row again is recognised without decrypting anything
    (`casework.exchange.digest`), and the `updated_at` the record had then (`import_digest_at`):
    any other change since moves `updated_at` on, and outdates the digest."""

    import_digest: Mapped[bytes | None] = mapped_column(LargeBinary(16), default=None)
    import_digest_at: Mapped[dt.datetime | None] = mapped_column(default=None)


T = TypeVar("T", str, dt.date)


class Secret(Generic[T]):
    """A personal value stored encrypted; it reads and writes like a plain attribute.

    The column (named like the attribute) holds the ciphertext, mapped as
    `<name>_sealed`. The value is sealed when it is set, with the row's table,
    column and id as associated data (ids are made by the application before
    any attribute is set). Setting the value it already has changes nothing,
    so re-importing unchanged data writes no new ciphertext.
    """

    def __init__(self, kind: type[T], *, nullable: bool = True) -> None:
        self.kind: type[T] = kind
        self.nullable = nullable

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.sealed_attr = f"{name}_sealed"
        setattr(owner, self.sealed_attr, mapped_column(name, LargeBinary, nullable=self.nullable))
        secrets_of = dict(getattr(owner, "__secrets__", {}))
        secrets_of[name] = self
        owner.__secrets__ = secrets_of  # type: ignore[attr-defined]

    @overload
    def __get__(self, instance: None, owner: type) -> Secret[T]: ...
    @overload
    def __get__(self, instance: object, owner: type) -> T | None: ...

    def __get__(self, instance: object | None, owner: type) -> Secret[T] | T | None:
        if instance is None:
            return self
        sealed = getattr(instance, self.sealed_attr)
        if sealed is None:
            return None
        cache: dict[str, tuple[bytes, Any]] = instance.__dict__.setdefault("_secret_plain", {})
        hit = cache.get(self.name)
        if hit is not None and hit[0] == sealed:
            known: T = hit[1]
            return known
        table = instance.__table__.name  # type: ignore[attr-defined]
        plain: T = crypto.decode_plain(
            crypto.unseal(crypto.current(), sealed, table=table, column=self.name, row_id=instance.id),  # type: ignore[attr-defined]
            self.kind,
        )
        cache[self.name] = (sealed, plain)
        return plain

    def __set__(self, instance: object, value: T | None) -> None:
        if value is not None and not isinstance(value, self.kind):
            raise TypeError(f"{self.name} takes a {self.kind.__name__}, not {type(value).__name__}")
        if isinstance(value, str) and value == "":
            value = None
        if value is None and not self.nullable:
            raise ValueError(f"{self.name} is required")
        if value == self.__get__(instance, type(instance)):
            return
        if value is None:
            setattr(instance, self.sealed_attr, None)
            return
        table = instance.__table__.name  # type: ignore[attr-defined]
        sealed = crypto.seal(crypto.current(), crypto.encode_plain(value),
                             table=table, column=self.name, row_id=instance.id)  # type: ignore[attr-defined]
        setattr(instance, self.sealed_attr, sealed)
        instance.__dict__.setdefault("_secret_plain", {})[self.name] = (sealed, value)


def secret_columns(model: type) -> dict[str, Secret[Any]]:
    """The encrypted attributes of a model, by name."""
    return dict(getattr(model, "__secrets__", {}))
