"""Local problem-solving (issue 18 §2): a locality group (a Partnership Co-ordinating Group) records
a problem in a place (a locality of the partnership's list, or a designated area), the partners
working on it and their actions, and closes it with an outcome. Beside it, the incidents in that
place by month, so the group sees whether its work made a difference.

The counts follow the measures' rules (docs/measures.md): every agency's incidents counted, restricted
ones included, by the month of `occurred_on`, a locality matched only as the list spells it; counts
only, never a record. Small numbers are not suppressed: the page is seen only inside the
partnership (docs/plan.md). The board pack reads `open_problems`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from .. import policy
from ..db import db
from ..measures.engine import month_of
from ..models import Agency, Area, Category, Incident, LocalProblem, LocalProblemAction, LocalProblemPartner
from ..policy import Permission
from . import audit
from . import localities as locality_list

MONTHS_BEFORE = 12  # the chart starts this many months before the problem did
MONTHS_AFTER_CLOSE = 6  # and runs this long after it closed (never past this month)
MONTHS_MOST = 48


class ProblemError(Exception):
    """A local problem could not be recorded or changed; the message says why."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotAllowed(ProblemError):
    pass


# --- months ---------------------------------------------------------------------------------------


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def chart_months(*, started_on: dt.date, closed_on: dt.date | None, today: dt.date) -> list[dt.date]:
    """The months a problem's chart shows: from `MONTHS_BEFORE` before the month it started to this
    month (or to `MONTHS_AFTER_CLOSE` after the month it closed, if sooner); at most `MONTHS_MOST`,
    the latest kept."""
    last = month_start(today)
    if closed_on is not None:
        last = min(last, add_months(month_start(closed_on), MONTHS_AFTER_CLOSE))
    first = add_months(month_start(started_on), -MONTHS_BEFORE)
    first = max(first, add_months(last, -(MONTHS_MOST - 1)))
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


# --- reading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProblemRow:
    problem: LocalProblem
    place: str
    open_actions: int
    overdue_actions: int


def place_of(problem: LocalProblem) -> str:
    if problem.area is not None:
        return f"{problem.area.name} (designated area)"
    return problem.locality or ""


def get(problem_id: uuid.UUID) -> LocalProblem | None:
    return db.session.get(LocalProblem, problem_id)


def _rows(problems: Iterable[LocalProblem], today: dt.date) -> list[ProblemRow]:
    return [ProblemRow(problem=p, place=place_of(p),
                       open_actions=sum(1 for a in p.actions if a.done_on is None),
                       overdue_actions=sum(1 for a in p.actions if a.done_on is None and a.due_on < today))
            for p in problems]


def open_problems(*, today: dt.date) -> list[ProblemRow]:
    """The problems not yet closed, the longest-standing first, with their open and overdue actions."""
    return _rows(db.session.scalars(select(LocalProblem).where(LocalProblem.closed_on.is_(None))
                                    .order_by(LocalProblem.started_on, LocalProblem.id)), today)


def closed_problems(*, today: dt.date) -> list[ProblemRow]:
    """The closed problems, the most recently closed first."""
    return _rows(db.session.scalars(select(LocalProblem).where(LocalProblem.closed_on.is_not(None))
                                    .order_by(LocalProblem.closed_on.desc(), LocalProblem.id)), today)


def incidents_by_month(problem: LocalProblem, *, today: dt.date) -> list[tuple[dt.date, int]]:
    """How many incidents there were in the problem's place each month of its chart (of its
    categories, when it names any): counts only, as the measures count them."""
    months = chart_months(started_on=problem.started_on, closed_on=problem.closed_on, today=today)
    first, last = months[0], add_months(months[-1], 1) - dt.timedelta(days=1)
    place = (Incident.area_id == problem.area_id if problem.area_id is not None
             else Incident.locality == problem.locality)
    query = (select(month_of(Incident.occurred_on), func.count())
             .where(place, Incident.occurred_on >= first, Incident.occurred_on <= last)
             .group_by(month_of(Incident.occurred_on)))
    if problem.category_values:
        query = query.where(Incident.category.in_([Category(c) for c in problem.category_values]))
    counts = {month: n for month, n in db.session.execute(query)}
    return [(m, counts.get(m.strftime("%Y-%m"), 0)) for m in months]


def areas() -> list[Area]:
    return list(db.session.scalars(select(Area).order_by(Area.name)))


# --- writing --------------------------------------------------------------------------------------


def _agency(agency_id: uuid.UUID | None, message: str, field: str) -> uuid.UUID:
    if agency_id is None or db.session.get(Agency, agency_id) is None:
        raise ProblemError(message, field)
    return agency_id


def record(*, group_name: str, title: str, description: str, locality: str | None, area_id: uuid.UUID | None,
           categories: Iterable[str], started_on: dt.date, partner_ids: Iterable[uuid.UUID], by: Any,
           today: dt.date) -> LocalProblem:
    """Record a local problem in a locality of the list or a designated area (one of them). The
    recording user's agency is always one of the partners."""
    if not policy.can(by, Permission.RECORD_LOCAL_PROBLEMS):
        raise NotAllowed("You may not record local problems")
    if (locality is None) == (area_id is None):
        raise ProblemError("Select a locality or a designated area", "place")
    if locality is not None:
        try:
            locality = locality_list.resolve(locality)
        except locality_list.LocalityError as e:
            raise ProblemError(str(e), "locality") from e
    if area_id is not None and db.session.get(Area, area_id) is None:
        raise ProblemError("Select a designated area from the list", "area")
    if started_on > today:
        raise ProblemError("When the problem started must be today or in the past", "started_on")
    chosen = [Category(c).value for c in dict.fromkeys(categories)]
    problem = LocalProblem(group_name=" ".join(group_name.split()), title=" ".join(title.split()),
                           description=description.strip(), locality=locality, area_id=area_id,
                           categories=" ".join(chosen), started_on=started_on, recorded_by_id=by.id)
    partners = dict.fromkeys([by.agency_id, *partner_ids])
    problem.partners = [LocalProblemPartner(agency_id=_agency(i, "Select the partner agencies", "partners"))
                        for i in partners]
    db.session.add(problem)
    db.session.flush()
    audit.record("local_problem.record", user=by, record=problem)
    return problem


def _require_change(problem: LocalProblem, by: Any) -> None:
    if not policy.can_change_local_problem(by, problem):
        raise NotAllowed("Only the group's partner agencies change this problem")
    if problem.closed_on is not None:
        raise ProblemError("The problem is closed")


def add_action(problem: LocalProblem, *, text: str, owner_agency_id: uuid.UUID | None, due_on: dt.date,
               by: Any) -> LocalProblemAction:
    """An action agreed by the group, owned by one agency (a partner of the group)."""
    _require_change(problem, by)
    owner = _agency(owner_agency_id, "Select the agency that owns the action", "owner")
    if owner not in problem.partner_ids:
        raise ProblemError("The action's owner must be one of the group's partner agencies", "owner")
    action = LocalProblemAction(problem_id=problem.id, text=text.strip(), owner_agency_id=owner, due_on=due_on)
    problem.actions.append(action)
    db.session.flush()
    audit.record("local_problem.action_add", user=by, record=action)
    return action


def complete_action(action: LocalProblemAction, *, by: Any, today: dt.date) -> None:
    problem = db.session.get(LocalProblem, action.problem_id)
    assert problem is not None
    _require_change(problem, by)
    if action.done_on is None:
        action.done_on = today
        db.session.flush()
        audit.record("local_problem.action_done", user=by, record=action)


def close(problem: LocalProblem, *, outcome: str, closed_on: dt.date, by: Any, today: dt.date) -> None:
    """Close a problem with what came of the group's work."""
    _require_change(problem, by)
    if not outcome.strip():
        raise ProblemError("Enter the outcome", "outcome")
    if closed_on > today or closed_on < problem.started_on:
        raise ProblemError("The date closed must be between the date it started and today", "closed_on")
    problem.outcome = outcome.strip()
    problem.closed_on = closed_on
    db.session.flush()
    audit.record("local_problem.close", user=by, record=problem)


def partner_rows(problem: LocalProblem) -> list[str]:
    names = dict(db.session.execute(select(Agency.id, Agency.name)
                                    .where(Agency.id.in_(problem.partner_ids))).all())
    return sorted(names.values())

