"""The reminders job: case reviews due and tasks overdue appear on their users' home pages."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from casework.db import db
from casework.models import Case, CaseKind, CaseStatus, CaseTask, Reminder
from casework.models.base import utcnow
from casework.services import reminders
from tests.conftest import Page
from tests.fixtures_auth import sign_in

TODAY = dt.date(2025, 3, 10)


def _case(agency_id, **kwargs) -> Case:  # type: ignore[no-untyped-def]
    case = Case(kind=next(iter(CaseKind)), status=kwargs.pop("status", CaseStatus.OPEN), owner_agency_id=agency_id,
                **kwargs)
    db.session.add(case)
    db.session.flush()
    return case


def _mine(user) -> list[tuple[str, dt.date]]:  # type: ignore[no-untyped-def]
    return sorted((r.kind, r.due_on) for r in db.session.scalars(select(Reminder).where(Reminder.user_id == user.id)))


def test_reviews_due_and_overdue_tasks_become_reminders_for_the_right_people(app_ctx, user_factory, home_agency):
    worker = user_factory(agency=home_agency)
    colleague = user_factory(agency=home_agency)
    assigned = _case(home_agency.id, review_on=TODAY + dt.timedelta(days=3), caseworker_id=worker.id)
    _case(home_agency.id, review_on=TODAY - dt.timedelta(days=1))  # nobody's: the agency's caseworkers
    _case(home_agency.id, review_on=TODAY + dt.timedelta(days=30), caseworker_id=worker.id)  # not yet
    _case(home_agency.id, review_on=TODAY, caseworker_id=worker.id, status=CaseStatus.CLOSED)
    db.session.add_all([
        CaseTask(case_id=assigned.id, title="Call", due_on=TODAY - dt.timedelta(days=2), owner_id=worker.id),
        CaseTask(case_id=assigned.id, title="Write", due_on=TODAY + dt.timedelta(days=2), owner_id=worker.id),
        CaseTask(case_id=assigned.id, title="Done", due_on=TODAY - dt.timedelta(days=5), owner_id=worker.id,
                 done_at=utcnow()),
    ])
    db.session.flush()

    result = reminders.refresh(today=TODAY)

    assert _mine(worker) == [("case_review", TODAY - dt.timedelta(days=1)), ("case_review", TODAY + dt.timedelta(days=3)),
                             ("task", TODAY - dt.timedelta(days=2))]
    assert _mine(colleague) == [("case_review", TODAY - dt.timedelta(days=1))]
    assert "tasks" in result.sources
    again = reminders.refresh(today=TODAY)
    assert (again.added, again.removed) == (0, 0), "idempotent"


def test_a_dismissed_reminder_stays_dismissed_and_one_no_longer_due_goes(app_ctx, user_factory, home_agency):
    worker = user_factory(agency=home_agency)
    case = _case(home_agency.id, review_on=TODAY, caseworker_id=worker.id)
    task = CaseTask(case_id=case.id, title="Call", due_on=TODAY - dt.timedelta(days=1), owner_id=worker.id)
    db.session.add(task)
    db.session.flush()
    reminders.refresh(today=TODAY)
    review = db.session.scalar(select(Reminder).where(Reminder.user_id == worker.id, Reminder.kind == "case_review"))
    assert reminders.dismiss(reminder_id=review.id, user=worker)

    task.done_at = utcnow()
    db.session.flush()
    result = reminders.refresh(today=TODAY)

    assert result.removed == 1
    assert [(r.kind, r.dismissed_at is not None) for r in
            db.session.scalars(select(Reminder).where(Reminder.user_id == worker.id))] == [("case_review", True)]
    assert reminders.for_user(worker, today=TODAY) == []


def test_reminders_show_on_the_home_page_and_can_be_dismissed_by_their_user_only(app_ctx, user_factory, home_agency):
    worker = user_factory(agency=home_agency)
    other = user_factory(agency=home_agency)
    case = _case(home_agency.id, review_on=dt.date.today() - dt.timedelta(days=1), caseworker_id=worker.id)
    reminders.refresh(today=dt.date.today())
    db.session.commit()
    client = sign_in(app_ctx, worker)

    page = Page(client.get("/"))

    (item,) = page.select("#reminders + ul li")
    assert "Overdue" in item.get_text() and "Case review" in item.get_text()
    assert item.select_one("a")["href"].endswith(str(case.id))
    reminder_id = db.session.scalar(select(Reminder.id).where(Reminder.user_id == worker.id))
    assert sign_in(app_ctx, other).post(f"/reminders/{reminder_id}/dismiss").status_code == 404
    response = client.post(f"/reminders/{reminder_id}/dismiss")
    assert response.status_code == 302
    assert Page(client.get("/")).select("#reminders") == []
