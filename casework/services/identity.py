"""Identity-only matches across the partnership, so that nobody creates a duplicate person.

Whoever may search people sees every match's identity (name, date of birth,
gender and which agencies know them), whatever agency owns it; a restricted
person they are not named on is never among the matches: a search by surname
adds "a restricted record may match; ask its owner" (`restricted_notices`),
which depends on the surname alone, so that adding a date of birth or postcode
to the terms confirms nothing. Each search shown such a notice is audited; a
user shown them in more searches than `RESTRICTED_NOTICE_LIMIT` allows is
shown no more until the window has passed, and the trail flags it once
(docs/visibility.md). Opening the full record still needs `policy.can_view`.
Finding the candidates (through the blind indexes) is the search's job; this
turns them into what the viewer may be shown.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_app_context
from limits import parse
from sqlalchemy import func, select

from .. import crypto, policy
from ..db import db
from ..models import Agency, AuditEntry, Person, Share, SourceRef
from ..models.base import utcnow
from ..models.vocab import RecordKind
from . import audit

NOTICE_ACTION = "search.restricted_notice"
PROBING_ACTION = "search.restricted_probing"
DEFAULT_NOTICE_LIMIT = "20 per hour"


def hidden_restricted(viewer: Any) -> Any:
    """A SQL condition on people true for the restricted ones `viewer` is not named on: never a
    match, only a notice."""
    return policy.hidden_restricted_filter(viewer, Person)


@dataclass
class RestrictedNotices:
    """What a search says of restricted people the viewer is not named on: one notice per owning
    agency, or none while `paused` (the viewer was shown too many lately)."""

    notices: list[policy.RestrictedMatch] = field(default_factory=list)
    paused: bool = False


def restricted_notices(*, viewer: Any, surname: str | None) -> RestrictedNotices:
    """The notices of restricted people with exactly this surname whom `viewer` may not see (nothing
    for a viewer who may not search people, or without a surname). Audited when shown; throttled
    per user (see the module's docstring)."""
    if not surname or not policy.can(viewer, policy.Permission.SEARCH_PEOPLE):
        return RestrictedNotices()
    index = crypto.index_of(crypto.current(), "surname", surname)
    if index is None:
        return RestrictedNotices()
    rows = db.session.execute(
        select(Person.id, Person.owner_agency_id).where(
            Person.bi_surname == index, Person.merged_into_id.is_(None), hidden_restricted(viewer))
        .order_by(Person.created_at).limit(100)).all()
    if not rows:
        return RestrictedNotices()
    limit = parse(_limit_setting())
    since = utcnow() - dt.timedelta(seconds=limit.get_expiry())
    shown = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.user_id == viewer.id, AuditEntry.action == NOTICE_ACTION, AuditEntry.at >= since)) or 0
    if shown >= limit.amount:
        flagged = db.session.scalar(select(AuditEntry.id).where(
            AuditEntry.user_id == viewer.id, AuditEntry.action == PROBING_ACTION, AuditEntry.at >= since).limit(1))
        if flagged is None:
            audit.record(PROBING_ACTION, user=viewer, record_kind="person",
                         details={"notices_shown": shown, "limit": str(limit)})
        return RestrictedNotices(paused=True)
    names = {row.id: row.name for row in db.session.execute(select(Agency.id, Agency.name))}
    owners = sorted({names.get(row.owner_agency_id, "") for row in rows})
    audit.record(NOTICE_ACTION, user=viewer, record_kind="person", result_count=len(rows),
                 details={"records": [str(row.id) for row in rows[:20]]})
    return RestrictedNotices(notices=[policy.RestrictedMatch(owner_agency=owner) for owner in owners])


def _limit_setting() -> str:
    if has_app_context():
        return str(current_app.config.get("RESTRICTED_NOTICE_LIMIT") or DEFAULT_NOTICE_LIMIT)
    return DEFAULT_NOTICE_LIMIT


def identity_matches(*, viewer: Any, people: Iterable[Person]) -> list[policy.IdentityMatch | policy.RestrictedMatch]:
    """What `viewer` may be shown of each candidate, in the order given (nothing for a viewer
    who may not search people)."""
    people = list(people)
    if not people or not policy.can(viewer, policy.Permission.SEARCH_PEOPLE):
        return []
    ids = [p.id for p in people]
    visible = set(db.session.scalars(select(Person.id).where(Person.id.in_(ids),
                                                            policy.visible_filter(viewer, Person))))
    known = _known_to(ids, {p.id: p.owner_agency_id for p in people})
    names = {row.id: row.name for row in db.session.execute(select(Agency.id, Agency.name))}
    shown = []
    for person in people:
        view = policy.identity_view(
            viewer, person, visible=person.id in visible, owner_agency=names.get(person.owner_agency_id, ""),
            known_to=tuple(sorted(names[a] for a in known[person.id] if a in names)))
        if view is not None:
            shown.append(view)
    return shown


def _known_to(ids: list[uuid.UUID], owners: dict[uuid.UUID, uuid.UUID]) -> dict[uuid.UUID, set[uuid.UUID]]:
    """The agencies that know each person: the owner, those whose own records refer to them, and
    those it has been shared with."""
    known: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for person_id, agency_id in owners.items():
        known[person_id].add(agency_id)
    for record_id, agency_id in db.session.execute(
            select(SourceRef.record_id, SourceRef.agency_id)
            .where(SourceRef.kind == RecordKind.PERSON, SourceRef.record_id.in_(ids))):
        known[record_id].add(agency_id)
    for record_id, agency_id in db.session.execute(
            select(Share.record_id, Share.agency_id)
            .where(Share.record_kind == "person", Share.record_id.in_(ids), Share.revoked_at.is_(None))):
        known[record_id].add(agency_id)
    return known
