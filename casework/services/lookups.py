"""Small reads the pages share: names for ids (agencies, users), the designated areas a form offers,
one page of a sorted listing, a record read again after someone else changed it, and where a
merged person's record went. Reads only: what the signed-in user may see is checked by the page's
own service (`policy`, `visible_or_404`) before any of these is shown."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, func, select

from ..db import db
from ..models import Agency, Area, Incident, Party, Person, User

T = TypeVar("T")


def agency_names() -> dict[uuid.UUID, str]:
    """Every agency's name by its id (read once a GET request: a page and its sections ask again)."""
    from flask import has_request_context, request

    kept = has_request_context() and request.method in ("GET", "HEAD")
    if kept and "casework.agency_names" in request.environ:
        return dict(request.environ["casework.agency_names"])
    names = {i: name for i, name in db.session.execute(select(Agency.id, Agency.name))}
    if kept:
        request.environ["casework.agency_names"] = dict(names)
    return names


def agency_choices() -> list[tuple[uuid.UUID, str]]:
    """Every agency's id and name, by name (a filter's options)."""
    return [(i, name) for i, name in db.session.execute(select(Agency.id, Agency.name).order_by(Agency.name))]


def areas() -> list[Area]:
    """The designated areas, by name."""
    return list(db.session.scalars(select(Area).order_by(Area.name)))


def area_choices() -> list[tuple[uuid.UUID, str]]:
    """The designated areas' ids and names, by name (a filter's options)."""
    return [(i, name) for i, name in db.session.execute(select(Area.id, Area.name).order_by(Area.name))]


def user_names(ids: set[Any]) -> dict[Any, str]:
    """The names of these users by id (None ignored)."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    # Ids and names only: a whole User would bring its agency and its roles too.
    return {i: name for i, name in db.session.execute(select(User.id, User.name).where(User.id.in_(ids)))}


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    total: int
    page: int  # the page asked for, or the last when it asked for one past the end
    pages: int


def page_of(query: Select[Any], *, order: list[Any], page: int, size: int) -> Page:
    """One page of `query`'s rows in `order` (the first entity's id breaks ties), and their total."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, math.ceil(total / size))
    page = min(page, pages)
    entity = query.column_descriptions[0]["entity"]
    rows = list(db.session.scalars(query.order_by(*order, entity.id).limit(size).offset((page - 1) * size)))
    return Page(rows=rows, total=total, page=page, pages=pages)


_LAST_PAGE_ASKED = 2**62  # rows: a page asked for past this is taken as this one (then past the end)


def bounded_page(query: Select[Any], *, page: int, size: int) -> Page:
    """One page of `query`'s rows in its order, and their total, in one statement (the total a window
    count over the rows): for lists bounded by one person or one user's work (a person's incidents, a
    caseworker's cases; an agency's open ASB case review recommendations, a few for each review), where
    the database reads every row to sort them anyway. Not for whole tables: there the count and an
    index-ordered page are cheaper apart (`page_of`). A page past the end gives the last one (however
    large the number asked for: its offset is kept within the databases' integers)."""
    page = min(max(1, page), _LAST_PAGE_ASKED // size)
    found = db.session.execute(query.add_columns(func.count().over()).limit(size).offset((page - 1) * size)).all()
    if found or page == 1:
        total = found[0][-1] if found else 0
        return Page(rows=[row[0] for row in found], total=total, page=page, pages=max(1, math.ceil(total / size)))
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, math.ceil(total / size))
    return Page(rows=list(db.session.scalars(query.limit(size).offset((pages - 1) * size))), total=total,
                page=pages, pages=pages)


def reread(record: Any) -> None:
    """Read the record again from the database (after a stale save: what someone else saved)."""
    db.session.refresh(record)


def survivor_of(person: Person) -> Person | None:
    """The record a merged person was merged into (None for one not merged, or gone)."""
    if person.merged_into_id is None:
        return None
    return db.session.get(Person, person.merged_into_id)


def party_of(incident: Incident, party_id: uuid.UUID) -> Party | None:
    """The incident's party with this id (None for another incident's, or none)."""
    party = db.session.get(Party, party_id)
    return party if party is not None and party.incident_id == incident.id else None


def person(person_id: uuid.UUID) -> Person | None:
    return db.session.get(Person, person_id)


def record(model: type[T], record_id: Any) -> T | None:
    """The record of this kind with this id, or None; whether the user may see it is the caller's to
    check (a page's record is found with `visible_or_404`, which does)."""
    return db.session.get(model, record_id)


def agencies() -> list[Agency]:
    return list(db.session.scalars(select(Agency)))


def active_agencies() -> list[Agency]:
    """The agencies still offered as a choice, by name."""
    return list(db.session.scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.name)))


def active_users() -> list[User]:
    """The users who may sign in, by name."""
    return list(db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name)))


def agency_name(agency_id: uuid.UUID) -> str:
    return db.session.scalar(select(Agency.name).where(Agency.id == agency_id)) or ""


def user_name(user_id: uuid.UUID | None) -> str | None:
    return db.session.scalar(select(User.name).where(User.id == user_id))
