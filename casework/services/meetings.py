"""HRDA meetings: scheduling (one meeting or a weekly pattern), starting, the agenda, closing, and
the shares that let invited agencies see the cases listed. What the meeting records about each
case (research, minutes, actions and their progress) is `services.meeting_records`.

Who sees what is `policy.takes_part_in_meeting`: the meeting's chairs and the caseworkers and
chairs of the invited agencies. Listing a case at a meeting shares the person (and the case) with
the invited agencies (`via="hrda_meeting"`); the share ends once the meeting is closed and none of
the case's actions is open, unless another meeting still needs it. Shares rather than a dynamic
rule in `policy.visible_filter`: every other record check (lists, searches, the url-map test)
already reads shares, and the trail shows when access began and ended.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from .. import policy
from ..db import db
from ..models import (
    ActionStatus,
    Agency,
    Case,
    Meeting,
    MeetingAction,
    MeetingAgency,
    MeetingCase,
    MeetingState,
    MessageKind,
    Person,
    Referral,
)
from ..models.base import utcnow
from . import audit, outbox, sharing

LONDON = ZoneInfo("Europe/London")
TEXT_MAX = 4000
MAX_SERIES = 120  # meetings one pattern may create


class MeetingError(Exception):
    """Something that cannot be done to a meeting; `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotAllowed(Exception):
    """The user takes no part in this meeting, or may not do this in it."""


def clean_text(value: str | None, *, what: str, field: str, required: bool = False) -> str | None:
    """A text box's value trimmed (None when empty); MeetingError when required and empty, or too long."""
    value = (value or "").strip()
    if required and not value:
        raise MeetingError(f"Enter {what}", field)
    if len(value) > TEXT_MAX:
        raise MeetingError(f"{what[0].upper()}{what[1:]} must be {TEXT_MAX} characters or fewer", field)
    return value or None


def local_time(meeting: Meeting) -> dt.datetime:
    return meeting.starts_at.astimezone(LONDON)


def meeting_of(item: MeetingCase) -> Meeting:
    """The meeting a case is listed at."""
    meeting = db.session.get(Meeting, item.meeting_id)
    assert meeting is not None  # the foreign key
    return meeting


# --- scheduling ------------------------------------------------------------------------------


def schedule(*, day: dt.date | None, time: dt.time | None, place: str | None, online: bool,
             agencies: Sequence[Agency], by: Any, weekdays: Iterable[int] = (),
             until: dt.date | None = None, today: dt.date) -> list[Meeting]:
    """Schedule a meeting, or with `weekdays` (0 = Monday) and `until` one on each of those weekdays
    from `day` to `until`, all at the same local time, place and invited agencies."""
    if not policy.can(by, policy.Permission.CHAIR_HRDA):
        raise NotAllowed("Only an HRDA chair schedules meetings")
    if day is None:
        raise MeetingError("Enter the date of the meeting", "day")
    if day < today:
        raise MeetingError("The date of the meeting must be today or later", "day")
    if time is None:
        raise MeetingError("Enter the time of the meeting, like 10:00", "time")
    place = clean_text(place, what="the place", field="place")
    if place and len(place) > 200:
        raise MeetingError("The place must be 200 characters or fewer", "place")
    if not place and not online:
        raise MeetingError("Enter the place, or say the meeting is online", "place")
    if not agencies:
        raise MeetingError("Select the agencies invited", "agencies")
    inactive = sorted(a.name for a in agencies if not a.active)
    if inactive:
        raise MeetingError(f"{', '.join(inactive)} {'is' if len(inactive) == 1 else 'are'} no longer active: "
                           "invite active agencies only", "agencies")
    weekdays = sorted(set(weekdays))
    if any(not 0 <= w <= 6 for w in weekdays):
        raise MeetingError("Select weekdays from the list", "weekdays")
    if weekdays and until is None:
        raise MeetingError("Enter the date the pattern ends", "until")
    if until is not None and not weekdays:
        raise MeetingError("Select the weekdays the meetings are held on", "weekdays")
    days = [day]
    if weekdays:
        assert until is not None
        if until < day:
            raise MeetingError("The pattern must end on or after the first meeting", "until")
        days = [day + dt.timedelta(days=n) for n in range((until - day).days + 1)]
        days = [d for d in days if d.weekday() in weekdays]
        if not days:
            raise MeetingError("No day between the first meeting and the end is one of the weekdays", "weekdays")
        if len(days) > MAX_SERIES:
            raise MeetingError(f"A pattern may create at most {MAX_SERIES} meetings; choose an earlier end",
                               "until")
    series = uuid.uuid4() if len(days) > 1 or weekdays else None
    made = []
    for d in days:
        meeting = Meeting(agency_id=by.agency_id, starts_at=dt.datetime.combine(d, time, LONDON).astimezone(dt.UTC),
                          place=place, online=online, state=MeetingState.PLANNED, series_id=series,
                          created_by_id=by.id)
        meeting.invited = [MeetingAgency(agency_id=a.id) for a in {a.id: a for a in agencies}.values()]
        db.session.add(meeting)
        made.append(meeting)
    db.session.flush()
    for meeting in made:
        audit.record_change(meeting, action="meeting.schedule", fields=["starts_at", "place", "online", "invited"],
                            user=by)
    return made


def get(meeting_id: Any, *, viewer: Any) -> Meeting:
    """The meeting, for one who takes part in it (the view is audited); NotAllowed otherwise."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not policy.takes_part_in_meeting(viewer, meeting):
        if meeting is not None:
            audit.record("access.refused", user=viewer, record=meeting, details={"reason": "not a participant"})
        raise NotAllowed("No such meeting")
    return meeting


def meetings_of(user: Any, *, upcoming: bool, now: dt.datetime | None = None, limit: int = 100) -> list[Meeting]:
    """The meetings the user takes part in: planned or in progress (soonest first) or past ones."""
    if not policy.can(user, policy.Permission.ATTEND_HRDA):
        return []
    invited = select(MeetingAgency.meeting_id).where(MeetingAgency.agency_id == user.agency_id)
    mine = Meeting.id.in_(invited)
    if policy.can(user, policy.Permission.CHAIR_HRDA):
        mine = mine | (Meeting.agency_id == user.agency_id)
    query = select(Meeting).where(mine)
    if upcoming:
        query = query.where(Meeting.state != MeetingState.CLOSED).order_by(Meeting.starts_at)
    else:
        query = query.where(Meeting.state == MeetingState.CLOSED).order_by(Meeting.starts_at.desc())
    return list(db.session.scalars(query.limit(limit)))


def next_planned(agency_id: Any, *, after: dt.datetime | None = None) -> Meeting | None:
    """The agency's next planned meeting (the default meeting for a repeat referral)."""
    return db.session.scalar(select(Meeting).where(
        Meeting.agency_id == agency_id, Meeting.state == MeetingState.PLANNED,
        Meeting.starts_at >= (after or utcnow())).order_by(Meeting.starts_at).limit(1))


def open_meetings(agency_id: Any) -> list[Meeting]:
    """Meetings a referral may be accepted onto: planned or in progress, soonest first."""
    return list(db.session.scalars(select(Meeting).where(
        Meeting.agency_id == agency_id, Meeting.state != MeetingState.CLOSED).order_by(Meeting.starts_at)))


def check_chair(meeting: Meeting, by: Any) -> None:
    """NotAllowed unless the user chairs the meeting."""
    if not policy.chairs_meeting(by, meeting):
        raise NotAllowed("Only the meeting's chair does this")


def participant_agency_ids(meeting: Meeting) -> set[Any]:
    """The chairing agency and the agencies invited."""
    return {meeting.agency_id} | {i.agency_id for i in meeting.invited}


def publish_agenda(meeting: Meeting, *, by: Any) -> int:
    """The chair tells the invited agencies' participants, by email, that the agenda is ready (again
    after a change, if the chair wishes); returns how many people are told."""
    check_chair(meeting, by)
    if meeting.state is MeetingState.CLOSED:
        raise MeetingError("The meeting is closed: its agenda is no longer sent", "state")
    if not meeting.cases:
        raise MeetingError("The agenda has no cases yet: list a case before sending it", "state")
    people = [u for u in outbox.agency_users({i.agency_id for i in meeting.invited}, policy.Permission.ATTEND_HRDA)
              if u.id != by.id]
    told = outbox.queue_many(MessageKind.AGENDA_PUBLISHED, to=people, endpoint="meetings.show",
                             values={"meeting_id": meeting.id})
    audit.record("meeting.agenda_published", user=by, record=meeting, details={"told": told})
    return told


def start(meeting: Meeting, *, by: Any) -> Meeting:
    """The chair opens the meeting (planned to in progress)."""
    check_chair(meeting, by)
    if meeting.state is not MeetingState.PLANNED:
        raise MeetingError(f"The meeting is {meeting.state.label.lower()}", "state")
    meeting.state = MeetingState.IN_PROGRESS
    db.session.flush()
    audit.record_change(meeting, action="meeting.start", fields=["state"], user=by)
    return meeting


# --- the agenda ------------------------------------------------------------------------------


def list_case(meeting: Meeting, referral: Referral, *, by: Any) -> MeetingCase:
    """Put an accepted HRDA referral on the meeting's agenda (last) and share its person and case
    with every invited agency."""
    check_chair(meeting, by)
    if meeting.state is MeetingState.CLOSED:
        raise MeetingError("The meeting is closed; choose another", "meeting")
    if db.session.scalar(select(MeetingCase.id).where(MeetingCase.referral_id == referral.id)) is not None:
        raise MeetingError("This referral is already on a meeting's agenda", "meeting")
    last = db.session.scalar(select(func.max(MeetingCase.position)).where(MeetingCase.meeting_id == meeting.id))
    item = MeetingCase(meeting_id=meeting.id, referral_id=referral.id, position=(last or 0) + 1)
    db.session.add(item)
    db.session.flush()
    db.session.refresh(meeting, ["cases"])
    audit.record_change(item, action="meeting.list_case", fields=["referral_id"], user=by)
    share_case(meeting, referral, by=by)
    return item


def _records_of(referral: Referral) -> list[Any]:
    records: list[Any] = [db.session.get(Person, referral.person_id)]
    if referral.case_id is not None:
        records.append(db.session.get(Case, referral.case_id))
    return records


def share_case(meeting: Meeting, referral: Referral, *, by: Any) -> None:
    """Share the referral's person (and case) with every agency invited to the meeting."""
    for invited in meeting.invited:
        agency = db.session.get_one(Agency, invited.agency_id)
        for record in _records_of(referral):
            sharing.share(record=record, agency=agency, via="hrda_meeting", by=by)


def reorder(meeting: Meeting, *, order: Sequence[Any], by: Any) -> None:
    """Set the agenda's order: `order` lists every case of the meeting (MeetingCase ids) once."""
    check_chair(meeting, by)
    if meeting.state is MeetingState.CLOSED:
        raise MeetingError("The meeting is closed: its agenda cannot change", "order")
    items = {str(c.id): c for c in meeting.cases}
    wanted = [str(o) for o in order]
    if sorted(wanted) != sorted(items):
        raise MeetingError("Give every case of the agenda once", "order")
    for position, key in enumerate(wanted, start=1):
        items[key].position = position
    db.session.flush()
    db.session.refresh(meeting, ["cases"])
    audit.record_change(meeting, action="meeting.reorder", fields=["position"], user=by)


def move(item: MeetingCase, *, up: bool, by: Any) -> None:
    """Move a case one place up or down the agenda."""
    meeting = meeting_of(item)
    ids = [c.id for c in meeting.cases]
    at = ids.index(item.id)
    to = at - 1 if up else at + 1
    if 0 <= to < len(ids):
        ids[at], ids[to] = ids[to], ids[at]
    reorder(meeting, order=ids, by=by)


def previous_case(item: MeetingCase) -> MeetingCase | None:
    """The same victim's case at their latest earlier meeting (for a repeat: its actions)."""
    meeting = meeting_of(item)
    return db.session.scalar(
        select(MeetingCase).join(Meeting, Meeting.id == MeetingCase.meeting_id)
        .join(Referral, Referral.id == MeetingCase.referral_id)
        .where(Referral.person_id == item.referral.person_id, MeetingCase.id != item.id,
               Meeting.starts_at < meeting.starts_at)
        .order_by(Meeting.starts_at.desc()).limit(1))


# --- closing, and the end of the meeting's shares ------------------------------------------------


def closing_early(meeting: Meeting, *, today: dt.date) -> bool:
    """Whether closing the meeting now is closing it before its date (which needs a reason)."""
    return today < local_time(meeting).date()


def close(meeting: Meeting, *, by: Any, today: dt.date, reason: str | None = None) -> Meeting:
    """Close the meeting: its records lock (only the chair corrects them, audited) and invited
    agencies keep the shared records only while a case has an open action for them. Closing it
    before its date needs the `reason`, kept on the meeting (encrypted) and named in the audit."""
    check_chair(meeting, by)
    if meeting.state is MeetingState.CLOSED:
        raise MeetingError("The meeting is already closed", "state")
    fields = ["state", "closed_at"]
    if closing_early(meeting, today=today):
        meeting.early_close_reason = clean_text(reason, what="the reason for closing the meeting before its date",
                                                field="reason", required=True)
        fields.append("early_close_reason")
    meeting.state = MeetingState.CLOSED
    meeting.closed_at, meeting.closed_by_id = utcnow(), by.id
    db.session.flush()
    audit.record_change(meeting, action="meeting.close", fields=fields, user=by)
    for item in meeting.cases:
        release(item, by=by)
    return meeting


def _still_needed(person_id: Any, agency_id: Any) -> bool:
    """Whether some meeting still gives the agency reason to see the person: a meeting it is
    invited to that is not closed, or an open action on the person's case."""
    cases_of_person = (select(MeetingCase.id).join(Referral, Referral.id == MeetingCase.referral_id)
                       .where(Referral.person_id == person_id))
    not_closed = select(Meeting.id).join(MeetingAgency, MeetingAgency.meeting_id == Meeting.id).join(
        MeetingCase, MeetingCase.meeting_id == Meeting.id).where(
        MeetingCase.id.in_(cases_of_person), MeetingAgency.agency_id == agency_id,
        Meeting.state != MeetingState.CLOSED)
    open_action = select(MeetingAction.id).where(MeetingAction.meeting_case_id.in_(cases_of_person),
                                                 MeetingAction.status == ActionStatus.OPEN)
    return db.session.scalar(select(not_closed.exists() | open_action.exists())) or False


def release(item: MeetingCase, *, by: Any) -> None:
    """End the meeting's shares of a case's records with agencies that no longer need them."""
    meeting = meeting_of(item)
    for invited in meeting.invited:
        if _still_needed(item.referral.person_id, invited.agency_id):
            continue
        agency = db.session.get_one(Agency, invited.agency_id)
        for record in _records_of(item.referral):
            sharing.unshare(record=record, agency=agency, via="hrda_meeting", by=by)
