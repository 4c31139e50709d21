"""A manager's team (issue 14 §5): for their agency, each caseworker's open cases, overdue reviews and
overdue tasks, and handing cases from one caseworker to another in one step (each case's change
audited as a case edit; the new caseworker is told on their home page until they say they have seen it).

A manager counts and lists only the cases they may see (`policy.visible_filter`): a restricted case
they are not named on is neither counted nor handed on here.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update

from .. import policy
from ..db import db, rowcount
from ..models import Case, CaseHandover, CaseStatus, CaseTask, User
from ..models.base import utcnow
from . import cases, versioning, worklists


class TeamError(Exception):
    """A hand-over that cannot be made: `field` names the form field at fault."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Workload:
    user_id: uuid.UUID
    name: str
    open_cases: int
    overdue_reviews: int
    overdue_tasks: int


def _open_cases(manager: Any) -> Any:
    return (Case.owner_agency_id == manager.agency_id, Case.status != CaseStatus.CLOSED,
            policy.visible_filter(manager, Case))


def _counts(rows: Iterable[Any]) -> dict[uuid.UUID, int]:
    return {key: count for key, count in rows}


def workload(manager: Any, *, today: dt.date) -> list[Workload]:
    """Each active caseworker of the manager's agency with their open cases, overdue reviews and
    overdue tasks (two grouped counts, whatever the size of the team: the open cases and their
    overdue reviews are counted in one pass over the cases)."""
    team = cases.caseworkers_of(manager.agency_id)
    ids = [u.id for u in team]
    if not ids:
        return []
    rows = db.session.execute(
        select(Case.caseworker_id, func.count(), func.count().filter(Case.review_on < today))
        .where(Case.caseworker_id.in_(ids), *_open_cases(manager)).group_by(Case.caseworker_id)).all()
    open_counts = _counts((caseworker_id, n) for caseworker_id, n, _overdue in rows)
    overdue_counts = _counts((caseworker_id, n) for caseworker_id, _open, n in rows)
    task_counts = _counts(db.session.execute(
        select(CaseTask.owner_id, func.count()).join(Case, Case.id == CaseTask.case_id)
        .where(CaseTask.owner_id.in_(ids), CaseTask.done_at.is_(None), CaseTask.due_on < today,
               policy.visible_filter(manager, Case))
        .group_by(CaseTask.owner_id)))
    return [Workload(user_id=u.id, name=u.name, open_cases=open_counts.get(u.id, 0),
                     overdue_reviews=overdue_counts.get(u.id, 0), overdue_tasks=task_counts.get(u.id, 0))
            for u in team]


def team_member(manager: Any, user_id: uuid.UUID) -> Any:
    """The caseworker of the manager's agency with this id (a row of `id` and `name`), or None."""
    return next((u for u in cases.caseworkers_of(manager.agency_id) if u.id == user_id), None)


def cases_of(manager: Any, caseworker_id: uuid.UUID, *, today: dt.date) -> list[worklists.CaseRow]:
    """A caseworker's open cases the manager may see, overdue reviews first, with their people."""
    found = list(db.session.scalars(
        select(Case).where(Case.caseworker_id == caseworker_id, *_open_cases(manager))
        .order_by(*worklists.overdue_first(Case.review_on, today), Case.created_at, Case.id)))
    people = worklists.people_of_cases((c.id for c in found), viewer=manager)
    return [worklists.CaseRow(case=c, people=people[c.id], overdue=c.review_on is not None and c.review_on < today)
            for c in found]


def reassign(*, case_ids: Iterable[uuid.UUID], from_id: uuid.UUID, to_id: uuid.UUID | None, by: Any) -> list[Case]:
    """Hand the selected open cases of one caseworker to another of the manager's agency, all or none:
    each case edit audited, and a hand-over the new caseworker sees on their home page."""
    if not policy.can(by, policy.Permission.MANAGE_TEAM):
        raise TeamError("You cannot hand cases on", "to")
    wanted = list(dict.fromkeys(case_ids))
    if not wanted:
        raise TeamError("Select at least one case to hand on", "cases")
    if to_id is None or team_member(by, to_id) is None:
        raise TeamError("Select the caseworker to hand the cases to", "to")
    if to_id == from_id:
        raise TeamError("Select a caseworker other than the one who has the cases now", "to")
    found = list(db.session.scalars(select(Case).where(Case.id.in_(wanted), Case.caseworker_id == from_id,
                                                       *_open_cases(by)).with_for_update()))
    if len(found) != len(wanted):
        raise TeamError("Some of the selected cases are no longer this caseworker's open cases: "
                        "look at the list again", "cases")
    now = utcnow()
    for case in sorted(found, key=lambda c: c.created_at):
        case.caseworker_id = to_id
        db.session.add(CaseHandover(case_id=case.id, from_user_id=from_id, to_user_id=to_id, by_user_id=by.id,
                                    at=now))
    db.session.flush()
    for case in found:
        versioning.record_edit(case, action="case.reassign", fields=["caseworker_id"], user=by)
    return found


# --- the new caseworker's home page --------------------------------------------------------------


@dataclass(frozen=True)
class HandedOver:
    case: Case
    people: list[Any]
    by: str
    at: dt.datetime


def handed_to(user: Any) -> list[HandedOver]:
    """The cases handed to the user that they have not yet said they have seen, newest first (those
    still theirs and that they may see), with their people and who handed them on."""
    rows = list(db.session.execute(
        select(CaseHandover, Case, User.name).join(Case, Case.id == CaseHandover.case_id)
        .join(User, User.id == CaseHandover.by_user_id)
        .where(CaseHandover.to_user_id == user.id, CaseHandover.seen_at.is_(None), Case.caseworker_id == user.id,
               policy.visible_filter(user, Case))
        .order_by(CaseHandover.at.desc(), CaseHandover.id).limit(worklists.PAGE_SIZE)))
    people = worklists.people_of_cases((case.id for _, case, _ in rows), viewer=user)
    return [HandedOver(case=case, people=people[case.id], by=name, at=handover.at) for handover, case, name in rows]


def mark_seen(user: Any) -> int:
    """The user has seen the cases handed to them: they leave the home page."""
    return rowcount(db.session.execute(update(CaseHandover).where(CaseHandover.to_user_id == user.id,
                                                        CaseHandover.seen_at.is_(None))
                              .values(seen_at=utcnow()))) or 0
