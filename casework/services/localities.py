"""The partnership's localities: the list an incident's (or an area's) locality comes from.

The measures' breakdowns by locality are seen by every agency's managers, so what they show must
never be what someone typed: an incident names a locality of this list, or none. A name given in a
form or an import is matched whatever its case and spacing ("  west   MOORS" is West Moors) and
stored as the list spells it; a name that matches none is refused, naming it.

Values recorded before the list (migration 0017) that matched none of it stay on their records as
they were; the breakdowns count them as "Unrecognised locality" and never show their text
(`casework.measures.engine.by_locality`). `unrecognised` lists them for an administrator, and
`map_value` or `add` settles them. Records keep such a value when edited without changing it.

Administrators keep the list (`casework localities ...`); every change is audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, union_all, update
from sqlalchemy.exc import IntegrityError

from .. import figures
from ..db import db, rowcount
from ..measures.engine import NO_LOCALITY, UNRECOGNISED_LOCALITY
from ..models import Area, Incident, Locality, locality_key
from . import audit

NAME_MAX = 200
USERS = (Incident, Area)  # the records that name a locality
# The breakdowns' other rows: a locality of either name would be mistaken for them.
RESERVED = frozenset(locality_key(name) for name in (UNRECOGNISED_LOCALITY, NO_LOCALITY))


class LocalityError(Exception):
    """A locality could not be used, added or changed; the message says why, in the user's words."""

    def __init__(self, message: str, field: str | None = "locality") -> None:
        super().__init__(message)
        self.field = field


key = locality_key  # a name folded for matching: case and runs of spaces do not count


def names() -> list[str]:
    """The localities' names, in order (what a form offers)."""
    return list(db.session.scalars(select(Locality.name).order_by(Locality.key)))


def not_in_list(value: str) -> str:
    """The message for a locality that is not in the list (forms and imports say the same)."""
    return f"{value!r} is not a locality in the partnership's list: choose one from the list"


def resolve(value: str | None, *, keeping: str | None = None) -> str | None:
    """The list's name for `value` (None for a blank one). `keeping`: the record's current value,
    kept when `value` is the same even if it is not in the list (a record from before the list,
    edited without changing its locality). LocalityError when `value` matches no locality."""
    if value is None or not value.strip():
        return None
    if keeping is not None and value == keeping:
        return keeping
    name = db.session.scalar(select(Locality.name).where(Locality.key == key(value)))
    if name is None:
        raise LocalityError(not_in_list(" ".join(value.split())[:NAME_MAX]))
    return name


def listing() -> list[tuple[Locality, int]]:
    """Every locality with the number of incidents naming it, by name."""
    counts = dict(db.session.execute(select(Incident.locality, func.count()).group_by(Incident.locality)).all())
    return [(loc, counts.get(loc.name, 0)) for loc in db.session.scalars(select(Locality).order_by(Locality.key))]


def by_name(name: str) -> Locality | None:
    return db.session.scalar(select(Locality).where(Locality.key == key(name)))


def _clean_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise LocalityError("Enter the locality's name", "name")
    if len(name) > NAME_MAX:
        raise LocalityError(f"A locality's name must be {NAME_MAX} characters or fewer", "name")
    if not name.isprintable():
        raise LocalityError("A locality's name may hold printable characters only", "name")
    if locality_key(name) in RESERVED:
        raise LocalityError(f"{name} is what the measures call records outside the list: choose another name",
                            "name")
    return name


def _check_free(name: str, *, other_than: Locality | None = None) -> None:
    query = select(Locality.name).where(Locality.key == key(name))
    if other_than is not None:
        query = query.where(Locality.id != other_than.id)
    taken = db.session.scalar(query)
    if taken is not None:
        raise LocalityError(f"The locality {taken} is already in the list", "name")


def _saved(name: str, *, other_than: Locality | None = None) -> None:
    """Flush in a savepoint; the same name added at the same moment elsewhere is refused as
    `_check_free` refuses it."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        _check_free(name, other_than=other_than)
        raise


def add(*, name: str, by: Any = None) -> tuple[Locality, int]:
    """Add a locality to the list; records whose value is this name spelt another way (whatever its
    case and spacing) are given it. Returns the locality and the number of records given it."""
    name = _clean_name(name)
    _check_free(name)
    locality = Locality(name=name, key=key(name))
    db.session.add(locality)
    _saved(name)
    moved = sum(_rename_value(value, name) for value in _values_matching(locality.key) if value != name)
    audit.record("locality.create", user=by, record=locality, details={"fields": ["name"], "records_given_it": moved})
    return locality, moved


def rename(*, locality: Locality, name: str, by: Any = None) -> int:
    """Rename a locality; its records take the new name (the figures follow). Returns how many."""
    name = _clean_name(name)
    _check_free(name, other_than=locality)
    old = locality.name
    if name == old:
        return 0
    locality.name, locality.key = name, key(name)
    _saved(name, other_than=locality)
    moved = _rename_value(old, name)
    audit.record("locality.update", user=by, record=locality, details={"fields": ["name"], "records_given_it": moved})
    return moved


def remove(*, locality: Locality, by: Any = None) -> None:
    """Take a locality off the list; refused while any incident or area names it."""
    used = sum(db.session.scalar(select(func.count()).select_from(model).where(model.locality == locality.name)) or 0
               for model in USERS)
    if used:
        raise LocalityError(f"{locality.name} is the locality of {used} record{'s' if used != 1 else ''}: "
                            f"rename it, or map them to another, instead", "name")
    audit.record("locality.delete", user=by, record=locality, details={"fields": ["name"]})
    db.session.delete(locality)
    db.session.flush()


def unrecognised() -> list[tuple[str, int]]:
    """The values records hold that are not in the list (from before it), with how many records
    hold each, most first."""
    values = union_all(*(select(model.locality.label("value")).where(
        model.locality.is_not(None), model.locality != "", model.locality.not_in(select(Locality.name)))
        for model in USERS)).subquery()
    rows = db.session.execute(select(values.c.value, func.count()).group_by(values.c.value)
                              .order_by(func.count().desc(), values.c.value)).all()
    return [(value, count) for value, count in rows]


def map_value(*, value: str, to: Locality, by: Any = None) -> int:
    """Give the records holding `value` (one not in the list) the locality `to`; returns how many."""
    if value == to.name:
        return 0
    if db.session.scalar(select(Locality.id).where(Locality.name == value)) is not None:
        raise LocalityError(f"{value} is a locality of the list: rename it instead", "value")
    moved = _rename_value(value, to.name)
    if not moved:
        raise LocalityError(f"No record has the locality {value!r}: see `casework localities unrecognised`",
                            "value")
    audit.record("locality.map", user=by, record=to, details={"records_given_it": moved})
    return moved


def _values_matching(folded: str) -> set[str]:
    """The values records hold, not in the list, whose key is `folded`."""
    return {value for value, _ in unrecognised() if key(value) == folded}


def _rename_value(old: str, new: str) -> int:
    """Every record holding `old` takes `new`; the stored figures of those incidents (their months,
    their people's monthly marks, kept per locality) are refreshed with them. Returns how many."""
    moved = 0
    with figures.changing(db.session, incidents=select(Incident.id).where(Incident.locality == old)):
        for model in USERS:
            table = model.__table__
            result = db.session.execute(update(table).where(table.c.locality == old).values(locality=new))
            moved += rowcount(result)
    return moved
