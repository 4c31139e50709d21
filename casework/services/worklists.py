"""A user's work lists: their open cases, the reviews and the tasks falling to them, each naming the
people it is about (as the user may see them: `services.person_names`), and their agency's open ASB
case review recommendations (its action list), paged. A page costs the same
few queries whatever its length: the page with its count (`lookups.bounded_page`), and one query for
the people of all its cases.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, case, or_, select
from sqlalchemy.orm import joinedload

from .. import policy
from ..db import db
from ..models import ActionStatus, AsbRecommendation, Case, CasePerson, CaseStatus, CaseTask, Person
from . import lookups, person_names

PAGE_SIZE = 25


@dataclass(frozen=True)
class CaseRow:
    case: Case
    people: list[person_names.PersonName]
    overdue: bool


@dataclass(frozen=True)
class TaskRow:
    task: CaseTask
    people: list[person_names.PersonName]
    overdue: bool


@dataclass(frozen=True)
class WorkPage:
    rows: list[Any]
    total: int
    page: int
    pages: int

    @property
    def more(self) -> bool:
        return self.total > len(self.rows)


def people_of_cases(case_ids: Iterable[uuid.UUID], *, viewer: Any) -> dict[uuid.UUID, list[person_names.PersonName]]:
    """What `viewer` is shown of each case's people, by case id, in two queries for all the cases (a
    merged record shows as the record it was merged into is not followed: the link names who was linked)."""
    ids = list(dict.fromkeys(case_ids))
    if not ids:
        return {}
    links = list(db.session.execute(
        select(CasePerson.case_id, Person).join(Person, Person.id == CasePerson.person_id)
        .where(CasePerson.case_id.in_(ids)).order_by(CasePerson.created_at, CasePerson.id)))
    shown = person_names.many_for_viewer(viewer, (person for _, person in links))
    found: dict[uuid.UUID, list[person_names.PersonName]] = defaultdict(list)
    for case_id, person in links:
        found[case_id].append(shown[person.id])
    return {case_id: found.get(case_id, []) for case_id in ids}


def _page(query: Select[Any], *, page: int, size: int) -> tuple[list[Any], int, int, int]:
    found = lookups.bounded_page(query, page=page, size=size)
    return found.rows, found.total, found.page, found.pages


def overdue_first(column: Any, today: dt.date) -> list[Any]:
    """Overdue dates first (the longest overdue at the top), then the rest by date, none last."""
    return [case((column < today, 0), (column.is_(None), 2), else_=1), column]


def open_cases(user: Any, *, today: dt.date, page: int = 1, size: int = PAGE_SIZE) -> WorkPage:
    """The user's cases that are not closed, with their people: overdue reviews first, then by review
    date, cases with no review date last."""
    query = (select(Case).where(Case.caseworker_id == user.id, Case.status != CaseStatus.CLOSED,
                                policy.visible_filter(user, Case))
             .order_by(*overdue_first(Case.review_on, today), Case.created_at, Case.id))
    cases, total, page, pages = _page(query, page=page, size=size)
    people = people_of_cases((c.id for c in cases), viewer=user)
    rows = [CaseRow(case=c, people=people[c.id], overdue=c.review_on is not None and c.review_on < today)
            for c in cases]
    return WorkPage(rows=rows, total=total, page=page, pages=pages)


def reviews_due(user: Any, *, today: dt.date, within_days: int, page: int = 1,
                size: int = PAGE_SIZE) -> WorkPage:
    """The user's cases (and their agency's unassigned ones) due for review within `within_days`,
    overdue ones included, earliest first, with their people."""
    query = (select(Case).where(
        Case.status != CaseStatus.CLOSED, Case.review_on.is_not(None),
        Case.review_on <= today + dt.timedelta(days=within_days),
        or_(Case.caseworker_id == user.id,
            and_(Case.caseworker_id.is_(None), Case.owner_agency_id == user.agency_id)),
        policy.visible_filter(user, Case)).order_by(Case.review_on, Case.created_at, Case.id))
    cases, total, page, pages = _page(query, page=page, size=size)
    people = people_of_cases((c.id for c in cases), viewer=user)
    rows = [CaseRow(case=c, people=people[c.id], overdue=c.review_on is not None and c.review_on < today)
            for c in cases]
    return WorkPage(rows=rows, total=total, page=page, pages=pages)


def tasks_due(user: Any, *, today: dt.date, within_days: int, page: int = 1, size: int = PAGE_SIZE) -> WorkPage:
    """The user's open tasks due within `within_days` (overdue ones included), earliest first, each
    with the people of its case."""
    query = (select(CaseTask).join(Case, Case.id == CaseTask.case_id)
             .where(CaseTask.owner_id == user.id, CaseTask.done_at.is_(None),
                    CaseTask.due_on <= today + dt.timedelta(days=within_days),
                    policy.visible_filter(user, Case))
             .order_by(CaseTask.due_on, CaseTask.created_at, CaseTask.id))
    tasks, total, page, pages = _page(query, page=page, size=size)
    people = people_of_cases((t.case_id for t in tasks), viewer=user)
    rows = [TaskRow(task=t, people=people[t.case_id], overdue=t.due_on < today) for t in tasks]
    return WorkPage(rows=rows, total=total, page=page, pages=pages)


@dataclass(frozen=True)
class RecommendationRow:
    recommendation: AsbRecommendation
    review_ref: str
    overdue: bool


def asb_recommendations(user: Any, *, today: dt.date, page: int = 1, size: int = PAGE_SIZE) -> WorkPage:
    """The open ASB case review recommendations the user's agency owns (its action list, whoever
    recorded them), earliest due first, so the overdue ones lead; for those who view records. A row
    names its application by reference only: the text says what the agency must do."""
    if not policy.can(user, policy.Permission.VIEW_RECORDS):
        return WorkPage(rows=[], total=0, page=1, pages=1)
    query = (select(AsbRecommendation).options(joinedload(AsbRecommendation.review))
             .where(AsbRecommendation.owner_agency_id == user.agency_id,
                    AsbRecommendation.status == ActionStatus.OPEN)
             .order_by(AsbRecommendation.due_on, AsbRecommendation.created_at, AsbRecommendation.id))
    found, total, page, pages = _page(query, page=page, size=size)
    rows = [RecommendationRow(recommendation=r, review_ref=r.review.review_ref, overdue=r.due_on < today)
            for r in found]
    return WorkPage(rows=rows, total=total, page=page, pages=pages)
