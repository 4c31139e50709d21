"""A person's or a case's whole story in one list: incidents, notes, DASH checklists, referrals and
their decisions, HRDA meetings and their actions, tasks, restrictions and merges, newest first.

Each kind is read with one query (whatever the number of items), with the viewer's visibility in
its SQL condition, so nothing the viewer may not see is ever fetched; then the kinds are merged,
sorted and paged here. Only the page's items are decrypted (encrypted values are read when shown).
What an item shows is `casework.policy`'s: an incident of another agency the viewer may not open
shows as "an incident recorded by <agency> on <date>" (`policy.incident_shown`); a record the viewer
may not see at all (a restricted one they are not named on, another agency's unshared case or
referral) adds nothing. See docs/visibility.md.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select, and_, or_, select

from .. import policy
from ..db import db
from ..models import (
    Agency,
    AuditEntry,
    Base,
    Case,
    CaseIncident,
    CaseNote,
    CasePerson,
    CaseTask,
    Document,
    Incident,
    Party,
    Person,
    Referral,
    ReferralStatus,
    RiskAssessment,
    User,
)
from ..models.assessment import AssessmentStatus
from ..models.meeting import Meeting, MeetingAction, MeetingAgency, MeetingCase
from ..models.order import Order, OrderBreach

LONDON = ZoneInfo("Europe/London")

# The kinds a chronology may be filtered by, in the order the filter lists them.
KINDS: dict[str, str] = {
    "incident": "Incidents",
    "note": "Notes",
    "dash": "DASH checklists",
    "referral": "Referrals and decisions",
    "meeting": "HRDA meetings and actions",
    "task": "Tasks",
    "restriction": "Restrictions",
    "merge": "Merges",
    "document": "Documents",
    "order": "Orders, powers and breaches",
}
PAGE_SIZE = 25


@dataclass(frozen=True)
class Item:
    """One entry: when, of which kind, what it says, and the record it links to (`link`: a record
    kind and id, None when the viewer may not open it). `sealed` names an encrypted value to show
    as its text (a note's, a task's, a decision's reason, an action's): only the page's are read and
    decrypted, one query a kind."""

    kind: str
    at: dt.datetime  # the sort key (UTC); a date alone is taken as its start
    on: dt.date  # the day shown
    title: str
    text: str | None = None
    link: tuple[str, uuid.UUID] | None = None
    identity_only: bool = False
    key: str = ""  # ties broken by it, so the order never changes between pages
    sealed: tuple[str, uuid.UUID] | None = None


@dataclass(frozen=True)
class Chronology:
    items: list[Item]  # this page's
    total: int
    page: int
    pages: int
    size: int
    kinds: frozenset[str]  # the kinds shown (every kind when not filtered)


def _day(value: dt.date) -> dt.datetime:
    return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)


def _local_day(value: dt.datetime) -> dt.date:
    return value.astimezone(LONDON).date()


def parse_kinds(values: Iterable[str]) -> frozenset[str]:
    """The kinds asked for (unknown ones ignored); every kind when none is."""
    chosen = frozenset(v for v in values if v in KINDS)
    return chosen or frozenset(KINDS)


@dataclass
class _Scope:
    """Whose story: the person's (`person_id`) or the case's (`case_id`)."""

    viewer: Any
    person_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    names: dict[uuid.UUID, str] = field(default_factory=dict)  # agency names

    @cached_property
    def visible_case_ids(self) -> Select[Any]:
        """The cases in scope the viewer may see."""
        query = select(Case.id).where(policy.visible_filter(self.viewer, Case))
        if self.case_id is not None:
            return query.where(Case.id == self.case_id)
        return query.where(Case.id.in_(select(CasePerson.case_id).where(CasePerson.person_id == self.person_id)))

    @cached_property
    def visible_referral_ids(self) -> Select[Any]:
        query = select(Referral.id).where(policy.visible_filter(self.viewer, Referral))
        if self.case_id is not None:
            return query.where(Referral.case_id == self.case_id)
        return query.where(Referral.person_id == self.person_id)

    def person_ids(self) -> Select[Any]:
        if self.case_id is not None:
            return select(CasePerson.person_id).where(CasePerson.case_id == self.case_id)
        return select(Person.id).where(Person.id == self.person_id)


def _incidents(scope: _Scope) -> list[Item]:
    """A person's incidents with their role in each; a case's, the incidents linked to it."""
    viewer = scope.viewer
    visible = policy.visible_filter(viewer, Incident)
    columns = (Incident.id, Incident.occurred_on, Incident.category, Incident.owner_agency_id, Incident.restricted,
               visible.label("visible"))
    query: Select[*tuple[Any, ...]]
    if scope.case_id is not None:
        query = (select(*columns).join(CaseIncident, CaseIncident.incident_id == Incident.id)
                 .where(CaseIncident.case_id == scope.case_id))
    else:
        query = (select(*columns, Party.role).join(Party, Party.incident_id == Incident.id)
                 .where(Party.person_id == scope.person_id))
    query = query.where(policy.incident_identity_filter(viewer, visible=visible))
    by_incident: dict[uuid.UUID, dict[str, Any]] = {}
    for row in db.session.execute(query):
        entry = by_incident.setdefault(row.id, {"row": row, "roles": set()})
        role = getattr(row, "role", None)
        if role is not None:
            entry["roles"].add(role)
    items = []
    for incident_id, entry in by_incident.items():
        row = entry["row"]
        shown = policy.incident_shown(viewer, visible=bool(row.visible), restricted=bool(row.restricted))
        if shown is None:
            continue
        date_text = f"{row.occurred_on.day} {row.occurred_on:%B %Y}"
        agency = scope.names.get(row.owner_agency_id, "another agency")
        if shown is policy.Shown.IDENTITY:
            items.append(Item(kind="incident", at=_day(row.occurred_on), on=row.occurred_on,
                              title=f"An incident recorded by {agency} on {date_text}", identity_only=True,
                              key=str(incident_id)))
            continue
        roles = " and ".join(sorted(r.label.lower() for r in entry["roles"]))
        title = f"Incident: {row.category.label}" + (f" (as {roles})" if roles else "")
        items.append(Item(kind="incident", at=_day(row.occurred_on), on=row.occurred_on, title=title,
                          text=f"Recorded by {agency}", link=("incident", incident_id),
                          key=str(incident_id)))
    return items


def _notes(scope: _Scope, users: dict[uuid.UUID, str]) -> list[Item]:
    rows = db.session.execute(select(CaseNote.id, CaseNote.at, CaseNote.author_id, CaseNote.case_id)
                              .where(CaseNote.case_id.in_(scope.visible_case_ids)))
    return [Item(kind="note", at=row.at, on=_local_day(row.at), title=f"Note by {users.get(row.author_id, 'someone')}",
                 link=("case", row.case_id), key=str(row.id), sealed=("note", row.id)) for row in rows]


def _assessments(scope: _Scope) -> list[Item]:
    query = (select(RiskAssessment.id, RiskAssessment.assessed_on, RiskAssessment.status, RiskAssessment.score,
                    RiskAssessment.level)
             .where(policy.assessment_filter(scope.viewer, RiskAssessment)))
    if scope.case_id is not None:
        query = query.where(RiskAssessment.case_id == scope.case_id)
    else:
        query = query.where(RiskAssessment.person_id == scope.person_id)
    items = []
    for row in db.session.execute(query):
        state = (f"complete, score {row.score}, {row.level.label.lower()} risk"
                 if row.status is AssessmentStatus.COMPLETE else "draft")
        items.append(Item(kind="dash", at=_day(row.assessed_on), on=row.assessed_on,
                          title=f"DASH checklist ({state})", link=("assessment", row.id), key=str(row.id)))
    return items


def _referrals(scope: _Scope) -> list[Item]:
    items = []
    rows = db.session.execute(select(Referral.id, Referral.type, Referral.referred_on, Referral.status,
                                     Referral.receiving_agency_id, Referral.decided_at)
                              .where(Referral.id.in_(scope.visible_referral_ids)))
    for row in rows:
        to = scope.names.get(row.receiving_agency_id) if row.receiving_agency_id else None
        items.append(Item(kind="referral", at=_day(row.referred_on), on=row.referred_on,
                          title=f"{row.type.label} referral made" + (f" to {to}" if to else ""),
                          text=f"Status: {row.status.label}", link=("referral", row.id), key=str(row.id)))
        if row.decided_at is not None and row.status in (ReferralStatus.ACCEPTED, ReferralStatus.DECLINED):
            items.append(Item(kind="referral", at=row.decided_at, on=_local_day(row.decided_at),
                              title=f"{row.type.label} referral {row.status.label.lower()}",
                              link=("referral", row.id), key=f"{row.id}-decision", sealed=("decision", row.id)))
    return items


def _meetings(scope: _Scope) -> list[Item]:
    """Each meeting a visible referral was heard at (its date); the actions agreed there for those who
    take part in the meeting (`policy.takes_part_in_meeting`), and to an agency given one, its own
    (the referring agency, even when not invited: docs/hrda.md)."""
    referral_ids = scope.visible_referral_ids
    items = []
    heard = db.session.execute(select(MeetingCase.id, MeetingCase.referral_id, Meeting.starts_at)
                               .join(Meeting, Meeting.id == MeetingCase.meeting_id)
                               .where(MeetingCase.referral_id.in_(referral_ids)))
    row: Row[*tuple[Any, ...]]  # (rows of two queries)
    for row in heard:
        on = _local_day(row.starts_at)
        items.append(Item(kind="meeting", at=row.starts_at, on=on,
                          title=f"Heard at the HRDA meeting on {on.day} {on:%B %Y}",
                          link=("referral", row.referral_id), key=str(row.id)))
    actions = db.session.execute(
        select(MeetingAction.id, MeetingAction.created_at, MeetingAction.agency_id, MeetingAction.due_on,
               MeetingAction.status)
        .join(MeetingCase, MeetingCase.id == MeetingAction.meeting_case_id)
        .join(Meeting, Meeting.id == MeetingCase.meeting_id)
        .where(MeetingCase.referral_id.in_(referral_ids),
               # the meeting's participants see every action; an agency given one (the referrer's,
               # even when not invited: docs/hrda.md) sees its own
               or_(policy.meeting_content_filter(scope.viewer, Meeting, MeetingAgency),
                   MeetingAction.agency_id == getattr(scope.viewer, "agency_id", None))))
    for row in actions:
        agency = scope.names.get(row.agency_id, "an agency")
        items.append(Item(kind="meeting", at=row.created_at, on=_local_day(row.created_at),
                          title=f"HRDA action for {agency}, due {row.due_on.day} {row.due_on:%B %Y} "
                                f"({row.status.label.lower()})",
                          key=str(row.id), sealed=("action", row.id)))
    return items


def _tasks(scope: _Scope, users: dict[uuid.UUID, str]) -> list[Item]:
    items = []
    rows = db.session.execute(select(CaseTask.id, CaseTask.created_at, CaseTask.due_on, CaseTask.done_at,
                                     CaseTask.owner_id, CaseTask.case_id)
                              .where(CaseTask.case_id.in_(scope.visible_case_ids)))
    for row in rows:
        state = "done" if row.done_at is not None else f"due {row.due_on.day} {row.due_on:%B %Y}"
        items.append(Item(kind="task", at=row.created_at, on=_local_day(row.created_at),
                          title=f"Task for {users.get(row.owner_id, 'someone')} ({state})",
                          link=("case", row.case_id), key=str(row.id), sealed=("task", row.id)))
    return items


def _orders(scope: _Scope) -> list[Item]:
    """The orders and powers of the person (of a case: of its people the viewer may see), on the day
    they were made or issued (or applied for), and each breach on its day. An order follows its
    person's visibility (`policy.order_filter`)."""
    people = select(Person.id).where(Person.id.in_(scope.person_ids()))
    visible = policy.order_filter(scope.viewer, Order)
    items = []
    row: Row[*tuple[Any, ...]]  # (rows of two queries)
    for row in db.session.execute(select(Order.id, Order.kind, Order.applied_on, Order.issued_on, Order.owner_agency_id)
                                  .where(Order.person_id.in_(people), visible)):
        on = row.issued_on or row.applied_on
        if on is None:
            continue
        agency = scope.names.get(row.owner_agency_id, "an agency")
        verb = "made or issued" if row.issued_on else "applied for"
        items.append(Item(kind="order", at=_day(on), on=on, title=f"{row.kind.label} {verb}",
                          text=f"Held by {agency}", link=("order", row.id), key=str(row.id)))
    for row in db.session.execute(select(OrderBreach.id, OrderBreach.breached_on, OrderBreach.order_id, Order.kind)
                                  .join(Order, Order.id == OrderBreach.order_id)
                                  .where(Order.person_id.in_(people), visible)):
        items.append(Item(kind="order", at=_day(row.breached_on), on=row.breached_on,
                          title=f"Breach of the {row.kind.label.lower()}", link=("order", row.order_id),
                          key=str(row.id), sealed=("breach", row.id)))
    return items


# The encrypted value each kind of `Item.sealed` names.
SEALED: dict[str, tuple[type[Base], str]] = {"note": (CaseNote, "text"), "task": (CaseTask, "title"),
                                      "decision": (Referral, "decision_reason"), "action": (MeetingAction, "text"),
                                      "document": (Document, "title"), "breach": (OrderBreach, "details")}


def _unseal(items: list[Item]) -> list[Item]:
    """The page's items with their encrypted texts read: one query a kind of value, whatever the page's size."""
    wanted: dict[str, list[uuid.UUID]] = {}
    for item in items:
        if item.sealed is not None:
            wanted.setdefault(item.sealed[0], []).append(item.sealed[1])
    texts: dict[tuple[str, uuid.UUID], str | None] = {}
    for kind, ids in wanted.items():
        model, attribute = SEALED[kind]
        for record in db.session.scalars(select(model).where(model.id.in_(ids))):
            texts[(kind, record.id)] = getattr(record, attribute)
    return [replace(item, text=texts.get(item.sealed)) if item.sealed is not None else item for item in items]


RESTRICTION_ACTIONS = {"person.restrict": "Person's record restricted", "person.unrestrict": "Person's restriction lifted",
                       "case.restrict": "Case restricted", "case.unrestrict": "Case's restriction lifted"}


def _restrictions(scope: _Scope, users: dict[uuid.UUID, str]) -> list[Item]:
    record_id = scope.case_id or scope.person_id
    rows = db.session.execute(select(AuditEntry.id, AuditEntry.at, AuditEntry.action, AuditEntry.user_id)
                              .where(AuditEntry.record_id == record_id,
                                     AuditEntry.action.in_(RESTRICTION_ACTIONS)))
    return [Item(kind="restriction", at=row.at, on=_local_day(row.at),
                 title=f"{RESTRICTION_ACTIONS[row.action]} by {users.get(row.user_id, 'someone')}",
                 key=str(row.id)) for row in rows]


def _merges(scope: _Scope, users: dict[uuid.UUID, str]) -> list[Item]:
    visible_people = select(Person.id).where(Person.id.in_(scope.person_ids()),
                                             policy.visible_filter(scope.viewer, Person))
    rows = db.session.execute(select(AuditEntry.id, AuditEntry.at, AuditEntry.user_id, AuditEntry.record_id)
                              .where(AuditEntry.action == "person.merge",
                                     AuditEntry.record_id.in_(visible_people)))
    return [Item(kind="merge", at=row.at, on=_local_day(row.at),
                 title=f"Another record of this person merged into theirs by {users.get(row.user_id, 'someone')}",
                 link=("person", row.record_id), key=str(row.id)) for row in rows]


def _documents(scope: _Scope, users: dict[uuid.UUID, str]) -> list[Item]:
    """"Document added" for the documents kept with the person (or the case), and with the cases and
    referrals in scope the viewer may see; the title shows as the item's text."""
    own = ("case", scope.case_id) if scope.case_id is not None else ("person", scope.person_id)
    where = [Document.record_kind == own[0], Document.record_id == own[1]]
    conditions = [and_(*where), and_(Document.record_kind == "referral",
                                     Document.record_id.in_(scope.visible_referral_ids))]
    if scope.case_id is None:
        conditions.append(and_(Document.record_kind == "case", Document.record_id.in_(scope.visible_case_ids)))
    rows = db.session.execute(select(Document.id, Document.created_at, Document.added_by_id, Document.record_kind,
                                     Document.record_id).where(or_(*conditions)))
    return [Item(kind="document", at=row.created_at, on=_local_day(row.created_at),
                 title=f"Document added to the {row.record_kind} by {users.get(row.added_by_id, 'someone')}",
                 link=(row.record_kind, row.record_id), key=str(row.id), sealed=("document", row.id))
            for row in rows]


def _build(scope: _Scope, *, kinds: frozenset[str], page: int, size: int) -> Chronology:
    scope.names = {i: n for i, n in db.session.execute(select(Agency.id, Agency.name))}
    users: dict[uuid.UUID, str] = {}
    if kinds & {"note", "task", "restriction", "merge", "document"}:
        # The names of who wrote, owns or did something, in one query whatever the number of items
        # (a user's name is no case data; the partnership has hundreds of users, not millions).
        users = {i: n for i, n in db.session.execute(select(User.id, User.name))}
    readers: dict[str, Callable[[], list[Item]]] = {
        "incident": lambda: _incidents(scope),
        "note": lambda: _notes(scope, users),
        "dash": lambda: _assessments(scope),
        "referral": lambda: _referrals(scope),
        "meeting": lambda: _meetings(scope),
        "task": lambda: _tasks(scope, users),
        "restriction": lambda: _restrictions(scope, users),
        "merge": lambda: _merges(scope, users),
        "document": lambda: _documents(scope, users),
        "order": lambda: _orders(scope),
    }
    items: list[Item] = []
    for kind in KINDS:
        if kind in kinds:
            items.extend(readers[kind]())
    items.sort(key=lambda i: (i.at, i.kind, i.key), reverse=True)
    total = len(items)
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    return Chronology(items=_unseal(items[(page - 1) * size:page * size]), total=total, page=page, pages=pages, size=size,
                      kinds=kinds)


def of_person(person: Person, *, viewer: Any, kinds: frozenset[str] | None = None, page: int = 1,
              size: int = PAGE_SIZE) -> Chronology:
    """The chronology of `person` as `viewer` may see it (the caller has checked they may see the
    person): every kind, or those in `kinds`, newest first, page `page` of `size` items."""
    if not policy.can_view(viewer, person):
        raise PermissionError("The viewer may not see this person")
    return _build(_Scope(viewer=viewer, person_id=person.id), kinds=kinds or frozenset(KINDS), page=page, size=size)


def of_case(case: Case, *, viewer: Any, kinds: frozenset[str] | None = None, page: int = 1,
            size: int = PAGE_SIZE) -> Chronology:
    """The chronology of `case` as `viewer` may see it: its incidents, notes, DASH checklists,
    referrals and their meetings, tasks, its restrictions and the merges of its people."""
    if not policy.can_view(viewer, case):
        raise PermissionError("The viewer may not see this case")
    return _build(_Scope(viewer=viewer, case_id=case.id), kinds=kinds or frozenset(KINDS), page=page, size=size)
