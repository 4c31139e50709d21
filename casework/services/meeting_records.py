"""What an HRDA meeting records about each case on its agenda: each invited agency's research
(facts apart from opinion), the chair's minutes and the actions agreed, and the actions' progress
afterwards. Once the meeting is closed only its chair changes the minutes and actions, each change
audited as a correction; the last open action of a closed meeting's case ends the agencies' access
to it (`meetings.release`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from .. import policy
from ..db import db
from ..models import (
    ActionStatus,
    Agency,
    Meeting,
    MeetingAction,
    MeetingCase,
    MeetingState,
    MessageKind,
    Research,
)
from ..models.base import utcnow
from . import audit, meetings, outbox
from .meetings import MeetingError, NotAllowed

# --- research, minutes and actions -----------------------------------------------------------


def save_research(item: MeetingCase, *, facts: str | None, opinion: str | None, checked_on: dt.date | None,
                  by: Any, today: dt.date) -> Research:
    """The user's agency's research on a case: facts apart from opinion, and the date checked. One
    entry an agency, which it may revise until the meeting is closed."""
    meeting = meetings.meeting_of(item)
    if not policy.takes_part_in_meeting(by, meeting) or by.agency_id not in meetings.participant_agency_ids(meeting):
        raise NotAllowed("Only an invited agency records research")
    if meeting.state is MeetingState.CLOSED:
        raise MeetingError("The meeting is closed: research can no longer change", "facts")
    facts = meetings.clean_text(facts, what="what your agency knows (facts)", field="facts")
    opinion = meetings.clean_text(opinion, what="your agency's opinion", field="opinion")
    if not facts and not opinion:
        raise MeetingError("Enter the facts your agency holds, or its opinion", "facts")
    if checked_on is None:
        raise MeetingError("Enter the date your agency's records were checked", "checked_on")
    if checked_on > today:
        raise MeetingError("The date checked cannot be in the future", "checked_on")
    entry = db.session.scalar(select(Research).where(Research.meeting_case_id == item.id,
                                                     Research.agency_id == by.agency_id))
    if entry is None:
        entry = Research(meeting_case_id=item.id, agency_id=by.agency_id, author_id=by.id, checked_on=checked_on)
        db.session.add(entry)
    entry.facts, entry.opinion, entry.checked_on, entry.author_id = facts, opinion, checked_on, by.id
    fields = audit.changed_fields(entry) or ["facts"]
    db.session.flush()
    audit.record_change(entry, action="meeting.research", fields=fields, user=by)
    return entry


def _minutes_change(meeting: Meeting, obj: Any, *, action: str, by: Any) -> None:
    """Audit a change to the minutes; after the meeting is closed it is a correction (chair only)."""
    fields = audit.changed_fields(obj)
    db.session.flush()
    closed = meeting.state is MeetingState.CLOSED
    audit.record_change(obj, action=f"meeting.correction.{action}" if closed else f"meeting.{action}",
                        fields=fields or ["id"], user=by)


def record_minutes(item: MeetingCase, *, discussion: str | None, safety_plan: str | None, by: Any) -> MeetingCase:
    """The chair's discussion summary and safety plan for a case (a correction once closed)."""
    meeting = meetings.meeting_of(item)
    meetings.check_chair(meeting, by)
    item.discussion = meetings.clean_text(discussion, what="the discussion summary", field="discussion")
    item.safety_plan = meetings.clean_text(safety_plan, what="the safety plan", field="safety_plan")
    _minutes_change(meeting, item, action="minutes", by=by)
    return item


def add_action(item: MeetingCase, *, text: str | None, agency: Agency | None, person_name: str | None,
               due_on: dt.date | None, by: Any, today: dt.date) -> MeetingAction:
    """An action agreed for a case, for an agency taking part in the meeting or the agency that
    referred the case (`action_agency_ids`), and a person of it, if known. The referring agency,
    when not invited, sees only the actions agreed for it (docs/hrda.md)."""
    meeting = meetings.meeting_of(item)
    meetings.check_chair(meeting, by)
    text = meetings.clean_text(text, what="the action", field="text", required=True)
    if agency is None or agency.id not in action_agency_ids(item):
        raise MeetingError("Select an agency taking part in the meeting, or the agency that referred the case",
                           "agency")
    if not agency.active:
        raise MeetingError(f"{agency.name} is no longer an active agency: choose another", "agency")
    person_name = meetings.clean_text(person_name, what="the person's name", field="person_name")
    if due_on is None:
        raise MeetingError("Enter the date the action is due", "due_on")
    if due_on < meetings.local_time(meeting).date() and due_on < today:
        raise MeetingError("The due date cannot be before the meeting", "due_on")
    action = MeetingAction(meeting_case_id=item.id, agency_id=agency.id, due_on=due_on, status=ActionStatus.OPEN)
    action.text, action.person_name = text, person_name
    db.session.add(action)
    if meeting.state is MeetingState.CLOSED:
        # A late correction: the agency must see the case again while the action is open.
        meetings.share_case(meeting, item.referral, by=by)
    _minutes_change(meeting, action, action="action", by=by)
    outbox.queue_many(MessageKind.HRDA_ACTION, to=outbox.agency_users([agency.id], policy.Permission.ATTEND_HRDA),
                      endpoint="meetings.my_actions")
    db.session.refresh(item, ["actions"])
    return action


def action_agency_ids(item: MeetingCase) -> set[Any]:
    """The agencies an action on a case may be agreed for: those taking part in the meeting and the
    agency that referred the case, invited or not."""
    return meetings.participant_agency_ids(meetings.meeting_of(item)) | {item.referral.owner_agency_id}


def referrer_not_invited(item: MeetingCase) -> Any | None:
    """The id of the agency that referred the case when it is not taking part in the meeting (the
    chair's page warns: it sees only the actions agreed for it), else None."""
    owner = item.referral.owner_agency_id
    return None if owner in meetings.participant_agency_ids(meetings.meeting_of(item)) else owner


# --- the actions' progress ---------------------------------------------------------------------


def may_update_action(user: Any, action: MeetingAction) -> bool:
    """The meeting's chair, or a participant of the agency given the action."""
    meeting = meetings.meeting_of(action.meeting_case)
    return policy.chairs_meeting(user, meeting) or (
        policy.can(user, policy.Permission.ATTEND_HRDA) and user.agency_id == action.agency_id)


def update_action(action: MeetingAction, *, progress: str | None, done: bool, by: Any) -> MeetingAction:
    """The action's agency records progress, or marks it done; the last open action of a closed
    meeting's case ends the agencies' access to it."""
    if not may_update_action(by, action):
        raise NotAllowed("Only the agency given the action updates it")
    if action.status is ActionStatus.DONE:
        raise MeetingError("This action is already done", "progress")
    action.progress = meetings.clean_text(progress, what="the progress", field="progress")
    if done:
        action.status, action.done_at, action.done_by_id = ActionStatus.DONE, utcnow(), by.id
    fields = audit.changed_fields(action)
    if not fields:
        raise MeetingError("Enter the progress, or mark the action done", "progress")
    db.session.flush()
    audit.record_change(action, action="meeting.action_update", fields=fields, user=by)
    if done and meetings.meeting_of(action.meeting_case).state is MeetingState.CLOSED:
        meetings.release(action.meeting_case, by=by)
    return action


def open_actions(agency_id: Any) -> list[MeetingAction]:
    """An agency's open HRDA actions, soonest due first."""
    return list(db.session.scalars(select(MeetingAction).where(
        MeetingAction.agency_id == agency_id, MeetingAction.status == ActionStatus.OPEN)
        .order_by(MeetingAction.due_on, MeetingAction.id)))


def overdue_actions(agency_id: Any, *, today: dt.date) -> list[MeetingAction]:
    return [a for a in open_actions(agency_id) if a.due_on < today]


def outstanding_actions(chair_agency_id: Any) -> list[MeetingAction]:
    """Every open action of every meeting the chair's agency runs, soonest due first."""
    return list(db.session.scalars(
        select(MeetingAction).join(MeetingCase, MeetingCase.id == MeetingAction.meeting_case_id)
        .join(Meeting, Meeting.id == MeetingCase.meeting_id)
        .where(Meeting.agency_id == chair_agency_id, MeetingAction.status == ActionStatus.OPEN)
        .order_by(MeetingAction.due_on, MeetingAction.id)))
