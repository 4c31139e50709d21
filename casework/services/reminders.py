"""Reminders on users' home pages: case reviews due, tasks and HRDA actions overdue.

`refresh` (the reminders job) works out which reminders should exist from the records
themselves, adds the missing ones and removes those no longer due (the review was done and
moved, the task completed, the case closed). A reminder a user dismissed stays dismissed
until its due date changes. Each kind of reminder comes from a source function; a source
whose model does not exist in this version of the app gives nothing:

- case reviews: open cases whose `review_on` is within REMINDER_DAYS_AHEAD days (or past),
  for the case's caseworker (`Case.caseworker_id`), or, while a case has none, the active
  caseworkers of the owning agency;
- tasks: `CaseTask` rows past `due_on` and not done, for their owner;
- HRDA actions: the first of `HrdaAction`, `MeetingAction` or `ActionItem` that exists, read
  the same way as tasks (a due date, an owner, a completion time).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import and_, delete, select

from .. import models
from ..db import db, rowcount
from ..models import Case, CaseStatus, Reminder, Role, User, UserRole
from ..models.base import utcnow

KIND_TEXT = {"case_review": "Case review", "task": "Task", "hrda_action": "HRDA action"}


class Wanted(NamedTuple):
    user_id: uuid.UUID
    kind: str
    record_kind: str
    record_id: uuid.UUID
    due_on: dt.date


@dataclass(frozen=True)
class Refreshed:
    added: int
    removed: int
    open: int
    sources: tuple[str, ...]

    def __str__(self) -> str:
        return (f"{self.added} reminders added, {self.removed} removed, {self.open} open "
                f"(from {', '.join(self.sources) or 'no sources'})")


# --- sources ---------------------------------------------------------------------------------


def _case_reviews(today: dt.date) -> Iterable[Wanted]:
    ahead = today + dt.timedelta(days=int(current_app.config["REMINDER_DAYS_AHEAD"]))
    caseworker = getattr(Case, "caseworker_id", None)
    columns = [Case.id, Case.review_on, Case.owner_agency_id] + ([caseworker] if caseworker is not None else [])
    rows = db.session.execute(select(*columns).where(
        Case.review_on.isnot(None), Case.review_on <= ahead, Case.status != CaseStatus.CLOSED)).all()
    team: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in rows:
        assigned = row[3] if caseworker is not None else None
        if assigned is not None:
            recipients = [assigned]
        else:
            if row.owner_agency_id not in team:
                team[row.owner_agency_id] = list(db.session.scalars(
                    select(User.id).join(UserRole, UserRole.user_id == User.id)
                    .where(User.agency_id == row.owner_agency_id, User.active.is_(True),
                           UserRole.role == Role.CASEWORKER)))
            recipients = team[row.owner_agency_id]
        for user_id in recipients:
            yield Wanted(user_id, "case_review", "case", row.id, row.review_on)


def _first_attr(model: type, names: tuple[str, ...]) -> Any:
    for name in names:
        if hasattr(model, name):
            return getattr(model, name)
    return None


def _overdue_source(kind: str, model_names: tuple[str, ...]) -> Callable[[dt.date], Iterable[Wanted]] | None:
    """Overdue items of the first model named that exists with a due date, an owner and a completion time."""
    for name in model_names:
        model = getattr(models, name, None)
        if model is None:
            continue
        due = getattr(model, "due_on", None)
        owner = _first_attr(model, ("owner_id", "assigned_to_id", "assignee_id"))
        done = _first_attr(model, ("done_at", "completed_at"))
        if due is None or owner is None or done is None:
            continue
        record_kind = model.__tablename__

        def source(today: dt.date, model: Any = model, due: Any = due, owner: Any = owner, done: Any = done,
                   record_kind: str = record_kind) -> Iterable[Wanted]:
            for row in db.session.execute(select(model.id, due, owner).where(due < today, done.is_(None))):
                if row[2] is not None:
                    yield Wanted(row[2], kind, record_kind, row[0], row[1])

        return source
    return None


def sources() -> dict[str, Callable[[dt.date], Iterable[Wanted]]]:
    found: dict[str, Callable[[dt.date], Iterable[Wanted]]] = {"case reviews": _case_reviews}
    tasks = _overdue_source("task", ("CaseTask", "Task"))
    if tasks:
        found["tasks"] = tasks
    actions = _overdue_source("hrda_action", ("HrdaAction", "MeetingAction", "ActionItem"))
    if actions:
        found["HRDA actions"] = actions
    return found


# --- the job -------------------------------------------------------------------------------


def refresh(*, today: dt.date) -> Refreshed:
    """Make the reminders match the records (flushes; the caller commits)."""
    found = sources()
    wanted: set[Wanted] = set()
    for source in found.values():
        wanted.update(source(today))
    active = set(db.session.scalars(select(User.id).where(User.active.is_(True))))
    wanted = {w for w in wanted if w.user_id in active}
    existing = {Wanted(r.user_id, r.kind, r.record_kind, r.record_id, r.due_on): r.id
                for r in db.session.execute(select(Reminder.id, Reminder.user_id, Reminder.kind,
                                                   Reminder.record_kind, Reminder.record_id, Reminder.due_on))}
    stale = [rid for key, rid in existing.items() if key not in wanted]
    for chunk in range(0, len(stale), 500):
        db.session.execute(delete(Reminder).where(Reminder.id.in_(stale[chunk:chunk + 500])))
    added = 0
    for w in sorted(wanted - set(existing), key=lambda w: (w.due_on, str(w.user_id))):
        db.session.add(Reminder(user_id=w.user_id, kind=w.kind, record_kind=w.record_kind,
                                record_id=w.record_id, due_on=w.due_on, text=KIND_TEXT[w.kind]))
        added += 1
    db.session.flush()
    return Refreshed(added=added, removed=len(stale), open=len(wanted), sources=tuple(found))


# --- the home page -------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    id: uuid.UUID
    text: str
    due_on: dt.date
    overdue: bool
    href: str | None


def for_user(user: Any, *, today: dt.date, limit: int = 20) -> list[Shown]:
    """The user's reminders not dismissed, soonest first, with a link to the record where there is a page."""
    rows = db.session.scalars(select(Reminder).where(Reminder.user_id == user.id, Reminder.dismissed_at.is_(None))
                              .order_by(Reminder.due_on, Reminder.id).limit(limit)).all()
    return [Shown(r.id, r.text, r.due_on, r.due_on < today, _href(r)) for r in rows]


def _href(reminder: Reminder) -> str | None:
    from flask import url_for
    from werkzeug.routing import BuildError

    record_id: uuid.UUID | None
    kind, record_id = reminder.record_kind, reminder.record_id
    if kind == "case_task":
        case_id = db.session.scalar(select(models.CaseTask.case_id).where(models.CaseTask.id == record_id)) \
            if hasattr(models, "CaseTask") else None
        kind, record_id = "case", case_id
    if record_id is None:
        return None
    for endpoint in (f"{kind}s.show", f"{kind}s.view", f"{kind}.show"):
        try:
            values: dict[str, Any] = {f"{kind}_id": record_id}
            return url_for(endpoint, **values)
        except BuildError:
            continue
    return None


def dismiss(*, reminder_id: uuid.UUID, user: Any) -> bool:
    """Dismiss one of the user's own reminders; False if there is no such reminder of theirs."""
    reminder = db.session.scalar(select(Reminder).where(Reminder.id == reminder_id, Reminder.user_id == user.id))
    if reminder is None:
        return False
    reminder.dismissed_at = utcnow()
    db.session.flush()
    return True


def remove_for(*, record_kind: str, record_ids: Iterable[uuid.UUID]) -> int:
    """Delete the reminders about records (their personal data is being erased)."""
    ids = list(record_ids)
    if not ids:
        return 0
    return rowcount(db.session.execute(delete(Reminder).where(
        and_(Reminder.record_kind == record_kind, Reminder.record_id.in_(ids))))) or 0

