"""The Community Safety Plan and its delivery (issue 18 §1): reading the plan with each activity's
latest progress, writing progress updates, keeping the activities, and refreshing the plan for a new
year (a copy: the earlier year's plan and its updates are kept, and a copied activity's history runs
back through them).

An activity with no update for `STALE_DAYS` days is flagged to its lead agency (`stale_for_agency`,
on the home page). The board pack reads `delivery_summary`. See docs/plan.md.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from .. import policy
from ..db import db
from ..models import (
    ActivityStatus,
    ActivityUpdate,
    Agency,
    Plan,
    PlanActivity,
    PlanActivityPartner,
    PlanIssue,
    PlanPriority,
)
from ..policy import Permission
from . import audit, lookups

STALE_DAYS = 90
NARRATIVE_MAX = 2000


class PlanError(Exception):
    """A change to the plan was refused; the message says why in the user's words."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotAllowed(PlanError):
    pass


# --- pure rules ---------------------------------------------------------------------------------


def days_since(day: dt.date | None, today: dt.date) -> int | None:
    return None if day is None else (today - day).days


def is_stale(*, last_update_on: dt.date | None, added_on: dt.date, status: ActivityStatus | None,
             today: dt.date) -> bool:
    """Whether an activity is flagged for having no update for `STALE_DAYS` days: counted from its
    latest update (from the day it was added to the plan when it has none); 89 days is not, 90 is.
    A completed activity is never flagged: there is nothing left to report."""
    if status is ActivityStatus.COMPLETE:
        return False
    since = last_update_on if last_update_on is not None else added_on
    return (today - since).days >= STALE_DAYS


def needs_attention(status: ActivityStatus | None) -> bool:
    """At risk or off track: what the plan page's first filter shows."""
    return status in (ActivityStatus.AT_RISK, ActivityStatus.OFF_TRACK)


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityRow:
    """An activity as the plan page and the board pack show it."""

    activity: PlanActivity
    lead: str
    partners: list[str]
    latest: ActivityUpdate | None
    age_days: int | None  # of the latest update
    stale: bool

    @property
    def status(self) -> ActivityStatus | None:
        return self.latest.status if self.latest else None

    @property
    def attention(self) -> bool:
        return needs_attention(self.status)


@dataclass(frozen=True)
class PriorityDelivery:
    priority: PlanPriority
    rows: list[ActivityRow]
    counts: dict[ActivityStatus | None, int] = field(default_factory=dict)  # None: no update yet


def plans() -> list[Plan]:
    """Every version of every plan, the newest year first."""
    return list(db.session.scalars(select(Plan).order_by(Plan.year.desc(), Plan.title)))


def current() -> Plan | None:
    """The newest year's plan (the one updates go on)."""
    return db.session.scalar(select(Plan).order_by(Plan.year.desc(), Plan.created_at.desc()).limit(1))


def get_plan(plan_id: uuid.UUID) -> Plan | None:
    return db.session.get(Plan, plan_id)


def get_activity(activity_id: uuid.UUID) -> PlanActivity | None:
    return db.session.get(PlanActivity, activity_id)


def is_current(plan: Plan) -> bool:
    latest = current()
    return latest is not None and latest.id == plan.id


def plan_of(activity: PlanActivity) -> Plan:
    return activity.priority.plan


def _lineages(ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Each activity with the ones it was copied from, year by year (the plan has hundreds of
    activities at most: one query for all of them)."""
    parent = dict(db.session.execute(select(PlanActivity.id, PlanActivity.copied_from_id)).all())
    found = {}
    for activity_id in ids:
        chain, seen = [activity_id], {activity_id}
        while (up := parent.get(chain[-1])) is not None and up not in seen:
            chain.append(up)
            seen.add(up)
        found[activity_id] = chain
    return found


def _latest(lineages: dict[uuid.UUID, list[uuid.UUID]], as_of: dt.date) -> dict[uuid.UUID, ActivityUpdate]:
    every = {i for chain in lineages.values() for i in chain}
    if not every:
        return {}
    newest: dict[uuid.UUID, ActivityUpdate] = {}
    for update in db.session.scalars(select(ActivityUpdate).where(
            ActivityUpdate.activity_id.in_(every), ActivityUpdate.updated_on <= as_of)
            .order_by(ActivityUpdate.updated_on, ActivityUpdate.created_at)):
        newest[update.activity_id] = update  # the last in order wins
    latest = {}
    for activity_id, chain in lineages.items():
        candidates = [newest[i] for i in chain if i in newest]
        if candidates:
            latest[activity_id] = max(candidates, key=lambda u: (u.updated_on, u.created_at))
    return latest


def _added_on(activities: Sequence[PlanActivity],
              lineages: dict[uuid.UUID, list[uuid.UUID]]) -> dict[uuid.UUID, dt.date]:
    """When each activity (or the first year's activity it was copied from) was added to the plan:
    one query for the first years' activities, not one each."""
    firsts = {lineages[a.id][-1] for a in activities if len(lineages[a.id]) > 1}
    created = dict(db.session.execute(select(PlanActivity.id, PlanActivity.created_at)
                                      .where(PlanActivity.id.in_(firsts))).all()) if firsts else {}
    return {a.id: created.get(lineages[a.id][-1], a.created_at).date() for a in activities}


def rows_for(activities: Sequence[PlanActivity], *, as_of: dt.date) -> list[ActivityRow]:
    names = lookups.agency_names()
    lineages = _lineages(a.id for a in activities)
    latest = _latest(lineages, as_of)
    added_on = _added_on(activities, lineages)
    rows = []
    for activity in activities:
        update = latest.get(activity.id)
        rows.append(ActivityRow(
            activity=activity, lead=names.get(activity.lead_agency_id, ""),
            partners=sorted(names.get(i, "") for i in activity.partner_ids), latest=update,
            age_days=days_since(update.updated_on if update else None, as_of),
            stale=is_stale(last_update_on=update.updated_on if update else None,
                           added_on=added_on[activity.id],
                           status=update.status if update else None, today=as_of)))
    return rows


def delivery_summary(plan: Plan, *, as_of: dt.date) -> list[PriorityDelivery]:
    """For each priority of `plan`, in order: its activities with their latest update as of `as_of`
    (its age, and whether it is flagged for no update for 90 days), and how many are at each status
    (None: no update yet). What the plan page and the board pack show."""
    activities = [a for p in plan.priorities for a in p.activities]
    by_id = {row.activity.id: row for row in rows_for(activities, as_of=as_of)}
    summary = []
    for priority in plan.priorities:
        rows = [by_id[a.id] for a in priority.activities]
        counts: dict[ActivityStatus | None, int] = {}
        for row in rows:
            counts[row.status] = counts.get(row.status, 0) + 1
        summary.append(PriorityDelivery(priority=priority, rows=rows, counts=counts))
    return summary


def history(activity: PlanActivity) -> list[tuple[ActivityUpdate, Plan | None]]:
    """Every update on the activity and on the earlier years' activities it was copied from, the
    newest first, each with the plan (year) it was written in."""
    chain = _lineages([activity.id])[activity.id]
    plan_of_activity = dict(db.session.execute(
        select(PlanActivity.id, Plan).join(PlanPriority, PlanPriority.id == PlanActivity.priority_id)
        .join(Plan, Plan.id == PlanPriority.plan_id).where(PlanActivity.id.in_(chain))).all())
    updates = db.session.scalars(select(ActivityUpdate).where(ActivityUpdate.activity_id.in_(chain))
                                 .order_by(ActivityUpdate.updated_on.desc(), ActivityUpdate.created_at.desc()))
    return [(u, plan_of_activity.get(u.activity_id)) for u in updates]


def stale_for_agency(agency_id: uuid.UUID, *, today: dt.date) -> list[ActivityRow]:
    """The current plan's activities led by the agency with no update for 90 days (none complete),
    the longest without one first: what its home page flags."""
    plan = current()
    if plan is None:
        return []
    # The agency's activities in one query (with their partners), not each priority's in turn.
    led = list(db.session.scalars(
        select(PlanActivity).join(PlanPriority, PlanPriority.id == PlanActivity.priority_id)
        .where(PlanPriority.plan_id == plan.id, PlanActivity.lead_agency_id == agency_id)
        .order_by(PlanPriority.position, PlanActivity.position, PlanActivity.id)))
    rows = [r for r in rows_for(led, as_of=today) if r.stale]
    return sorted(rows, key=lambda r: -(r.age_days if r.age_days is not None else 10**6))


# --- writing ------------------------------------------------------------------------------------


def _require_edit(by: Any) -> None:
    if not policy.can(by, Permission.EDIT_PLAN):
        raise NotAllowed("Only administrators and board officers change the plan")


def _require_current(plan: Plan) -> None:
    if not is_current(plan):
        raise PlanError(f"This is the {plan.year_name} plan, kept as it was: change the current year's plan")


def add_update(activity: PlanActivity, *, status: ActivityStatus, narrative: str, updated_on: dt.date,
               by: Any, today: dt.date) -> ActivityUpdate:
    """Record progress on an activity of the current plan, written by a user of its lead or a
    partner agency, dated today or earlier."""
    if not policy.can_update_activity(by, activity):
        raise NotAllowed("Only users of the activity's lead and partner agencies write its updates")
    _require_current(plan_of(activity))
    narrative = (narrative or "").strip()
    if not narrative:
        raise PlanError("Enter what has been done and what happens next", "narrative")
    if len(narrative) > NARRATIVE_MAX:
        raise PlanError(f"The update must be {NARRATIVE_MAX:,} characters or fewer: it is for the board's pack",
                        "narrative")
    if updated_on > today:
        raise PlanError("The date of the update must be today or in the past", "updated_on")
    update = ActivityUpdate(activity_id=activity.id, status=status, narrative=narrative,
                            updated_on=updated_on, written_by_id=by.id, agency_id=by.agency_id)
    db.session.add(update)
    db.session.flush()
    audit.record("plan.activity_update", user=by, record=update, details={"status": status.value})
    return update


def _set_partners(activity: PlanActivity, partner_ids: Iterable[uuid.UUID]) -> None:
    wanted = [i for i in dict.fromkeys(partner_ids) if i != activity.lead_agency_id]
    if wanted and len(db.session.scalars(select(Agency.id).where(Agency.id.in_(wanted))).all()) != len(wanted):
        raise PlanError("Select the partner agencies from the list", "partners")
    keep = [p for p in activity.partners if p.agency_id in wanted]
    have = {p.agency_id for p in keep}
    activity.partners = keep + [PlanActivityPartner(agency_id=i) for i in wanted if i not in have]


def _check_activity(title: str, lead_agency_id: uuid.UUID | None) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise PlanError("Enter the activity", "title")
    if lead_agency_id is None or db.session.get(Agency, lead_agency_id) is None:
        raise PlanError("Select the lead agency", "lead")
    return title


def add_activity(priority: PlanPriority, *, title: str, lead_agency_id: uuid.UUID,
                 partner_ids: Iterable[uuid.UUID], due_on: dt.date | None, by: Any) -> PlanActivity:
    """Add an activity under a priority of the current plan (`due_on` None: ongoing)."""
    _require_edit(by)
    _require_current(priority.plan)
    title = _check_activity(title, lead_agency_id)
    position = max((a.position for a in priority.activities), default=0) + 1
    activity = PlanActivity(priority_id=priority.id, position=position, title=title,
                            lead_agency_id=lead_agency_id, due_on=due_on)
    priority.activities.append(activity)
    _set_partners(activity, partner_ids)
    db.session.flush()
    audit.record("plan.activity_add", user=by, record=activity)
    return activity


def change_activity(activity: PlanActivity, *, title: str, lead_agency_id: uuid.UUID,
                    partner_ids: Iterable[uuid.UUID], due_on: dt.date | None, by: Any) -> None:
    _require_edit(by)
    _require_current(plan_of(activity))
    activity.title = _check_activity(title, lead_agency_id)
    activity.lead_agency_id = lead_agency_id
    activity.due_on = due_on
    _set_partners(activity, partner_ids)
    db.session.flush()
    audit.record("plan.activity_change", user=by, record=activity)


def refresh(plan: Plan, *, by: Any, today: dt.date) -> Plan:
    """The plan for the next year: a copy of the current one (priorities, cross-cutting issues, and
    the activities not yet complete, each naming the one it was copied from so its history carries
    on). The year refreshed is kept as it was, with its updates."""
    _require_edit(by)
    _require_current(plan)
    new = copy_to_next_year(plan, today=today)
    audit.record("plan.refresh", user=by, record=new, details={"from": str(plan.id), "year": new.year})
    return new


def copy_to_next_year(plan: Plan, *, today: dt.date) -> Plan:
    """The copy `refresh` makes, without its checks of who asks (the demo builds its years with it).
    The period is lengthened when the new year falls past its end."""
    year = plan.year + 1
    if db.session.scalar(select(Plan.id).where(Plan.title == plan.title, Plan.year == year)) is not None:
        raise PlanError(f"The plan for {year}/{(year + 1) % 100:02d} exists already")
    activities = [a for p in plan.priorities for a in p.activities]
    status = {r.activity.id: r.status for r in rows_for(activities, as_of=today)}
    new = Plan(title=plan.title, first_year=plan.first_year, last_year=max(plan.last_year, year + 1), year=year,
               copied_from_id=plan.id)
    new.issues = [PlanIssue(position=i.position, name=i.name, description=i.description) for i in plan.issues]
    for priority in plan.priorities:
        copy = PlanPriority(position=priority.position, name=priority.name, aim=priority.aim,
                            measure_ids=priority.measure_ids)
        for activity in priority.activities:
            if status[activity.id] is ActivityStatus.COMPLETE:
                continue
            copied = PlanActivity(position=activity.position, title=activity.title,
                                  lead_agency_id=activity.lead_agency_id, due_on=activity.due_on,
                                  copied_from_id=activity.id)
            copied.partners = [PlanActivityPartner(agency_id=i) for i in activity.partner_ids]
            copy.activities.append(copied)
        new.priorities.append(copy)
    db.session.add(new)
    db.session.flush()
    return new


def create(*, title: str, first_year: int, last_year: int, year: int,
           priorities: Sequence[tuple[str, str | None, str]], issues: Sequence[tuple[str, str | None]],
           by: Any = None) -> Plan:
    """A new plan with its priorities (name, aim, measure ids) and cross-cutting issues (name,
    description): the demo's, or a new period's."""
    plan = Plan(title=title, first_year=first_year, last_year=last_year, year=year)
    plan.priorities = [PlanPriority(position=n, name=name, aim=aim, measure_ids=measures)
                       for n, (name, aim, measures) in enumerate(priorities, start=1)]
    plan.issues = [PlanIssue(position=n, name=name, description=description)
                   for n, (name, description) in enumerate(issues, start=1)]
    db.session.add(plan)
    db.session.flush()
    audit.record("plan.create", user=by, record=plan)
    return plan
