"""The cases and incidents lists, filtered, sorted and paged: the cases by the name of a person on
them (through the blind indexes: `people_search.name_condition`), kind, status, caseworker and overdue
review; the incidents by date range, category, locality, area and recording agency. A page costs the
same few queries whatever its length (its count, its rows, and for cases one query for their people).
A search of the cases by a person's name is audited as a search, its terms encrypted."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from .. import policy
from ..db import db
from ..models import Case, CaseKind, CasePerson, CaseStatus, Category, Incident, Person
from . import audit, people_search, worklists

UNASSIGNED = "none"  # the caseworker filter's value for cases nobody is assigned to


class FilterError(Exception):
    """A filter that cannot be used: `field` names the box at fault."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Listing:
    rows: list[Any]
    total: int
    page: int
    pages: int
    sort: str


CASE_SORTS: dict[str, Any] = {"opened": Case.created_at, "kind": Case.kind, "status": Case.status,
                              "review": Case.review_on}
INCIDENT_SORTS: dict[str, tuple[Any, ...]] = {
    "date": (Incident.occurred_on.asc(), Incident.id),
    "-date": (Incident.occurred_on.desc(), Incident.id),
    "category": (Incident.category.asc(), Incident.occurred_on.desc(), Incident.id),
    "-category": (Incident.category.desc(), Incident.occurred_on.desc(), Incident.id),
}


def _page(query: Select[Any], order: tuple[Any, ...], *, page: int, size: int) -> tuple[list[Any], int, int, int]:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, math.ceil(total / size))
    page = min(max(1, page), pages)
    rows = list(db.session.scalars(query.order_by(*order).limit(size).offset((page - 1) * size)))
    return rows, total, page, pages


# --- cases -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFilters:
    surname: str | None = None
    forenames: str | None = None
    kind: CaseKind | None = None
    status: CaseStatus | None = None
    caseworker: uuid.UUID | str | None = None  # a user's id, or UNASSIGNED
    overdue: bool = False

    def described(self) -> str:
        """The name searched for, as the audit trail keeps it (encrypted there)."""
        return "; ".join(f"{label}: {value}" for label, value in (
            ("surname", self.surname), ("forenames", self.forenames)) if value)


def find_cases(*, viewer: Any, filters: CaseFilters, today: dt.date, sort: str = "-opened", page: int = 1,
               size: int = 25) -> Listing:
    """One page of the cases `viewer` may see that pass every filter, each as a `worklists.CaseRow`
    with the people on it as the viewer may see them. FilterError for a name that cannot be searched."""
    query = select(Case).where(policy.visible_filter(viewer, Case))
    if filters.forenames and not filters.surname:
        raise FilterError("Enter a surname to search by name", "surname")
    if filters.surname:
        try:
            named = people_search.name_condition(viewer=viewer, surname=filters.surname,
                                                 forenames=filters.forenames)
        except people_search.SearchError as e:
            raise FilterError(str(e), e.field or "surname") from e
        query = query.where(Case.id.in_(
            select(CasePerson.case_id).join(Person, Person.id == CasePerson.person_id).where(named)))
    if filters.kind is not None:
        query = query.where(Case.kind == filters.kind)
    if filters.status is not None:
        query = query.where(Case.status == filters.status)
    if filters.caseworker == UNASSIGNED:
        query = query.where(Case.caseworker_id.is_(None))
    elif filters.caseworker is not None:
        query = query.where(Case.caseworker_id == filters.caseworker)
    if filters.overdue:
        query = query.where(Case.status != CaseStatus.CLOSED, Case.review_on < today)
    key = sort.removeprefix("-")
    if key not in CASE_SORTS:
        sort, key = "-opened", "opened"
    column = CASE_SORTS[key]
    order = (column.desc() if sort.startswith("-") else column.asc(), Case.id)
    cases, total, page, pages = _page(query, order, page=page, size=size)
    if filters.surname:
        audit.record_search(kind="case", terms=filters.described(), result_count=total)
    people = worklists.people_of_cases((c.id for c in cases), viewer=viewer)
    rows = [worklists.CaseRow(case=c, people=people[c.id],
                              overdue=c.status != CaseStatus.CLOSED and c.review_on is not None
                              and c.review_on < today) for c in cases]
    return Listing(rows=rows, total=total, page=page, pages=pages, sort=sort)


# --- incidents ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentFilters:
    since: dt.date | None = None
    until: dt.date | None = None
    category: Category | None = None
    locality: str | None = None
    area_id: uuid.UUID | None = None
    agency_id: uuid.UUID | None = None  # the recording agency


def find_incidents(*, viewer: Any, filters: IncidentFilters, sort: str = "-date", page: int = 1,
                   size: int = 25) -> Listing:
    """One page of the incidents `viewer` may see that pass every filter (dates inclusive; the
    locality matched whole, ignoring case). FilterError for a date range that ends before it starts."""
    if filters.since and filters.until and filters.until < filters.since:
        raise FilterError("The end of the date range must be the same as or after its start", "until")
    query = select(Incident).where(policy.visible_filter(viewer, Incident))
    if filters.since:
        query = query.where(Incident.occurred_on >= filters.since)
    if filters.until:
        query = query.where(Incident.occurred_on <= filters.until)
    if filters.category is not None:
        query = query.where(Incident.category == filters.category)
    locality = (filters.locality or "").strip()
    if locality:
        query = query.where(func.lower(Incident.locality) == locality.lower())
    if filters.area_id is not None:
        query = query.where(Incident.area_id == filters.area_id)
    if filters.agency_id is not None:
        query = query.where(Incident.owner_agency_id == filters.agency_id)
    if sort not in INCIDENT_SORTS:
        sort = "-date"
    rows, total, page, pages = _page(query, INCIDENT_SORTS[sort], page=page, size=size)
    return Listing(rows=rows, total=total, page=page, pages=pages, sort=sort)
