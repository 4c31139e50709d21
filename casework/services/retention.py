"""Retention: erasing personal data whose time is up, or on a lawful request.

Erasing a record keeps the record and everything the measures count (incidents, parties,
referrals, dates, categories, flags) and removes what identifies or describes a person:

- every encrypted field of the record, and of the rows that belong to it (rows with a foreign
  key to it: a person's parties, referrals and assessments; a case's notes and tasks...), is
  erased: set to nothing, or to "(erased)" where the field is required;
- a person's blind indexes are removed, so no search finds them again;
- unencrypted free text about a person (`PLAIN_PERSONAL`) is cleared;
- the reasons given when it was shared, and the reminders about it, go;
- a person's merged duplicates are erased with them;
- the documents kept with the record (for a person, with their referrals and the HRDA meeting
  cases of those too) are deleted, their bytes with them;
- a request to share the person's record still waiting is declined, "The record was erased" (its
  reasons are erased as the person's rows are); a case's handovers (ids and times) stay with it.

An `Erasure` row and an audit entry record what was removed: the kinds, ids and field names,
never the values. Erasure cannot be undone (database backups still hold the data until they
expire: keep them no longer than the retention periods).

Rules (RETENTION in the configuration; a kind set to None is never swept):
- person: no incident, referral, case or ASB case review activity for `inactive_years` (an
  application's steps, or a change to it or its recommendations), no open case, and the person
  record itself unchanged as long; their ASB case review applications are erased with them
  (their recommendations' texts too), the dates, decisions and counts staying for the figures;
- case: closed, and unchanged for `closed_inactive_years`;
- incident: occurred more than `years` ago (it has personal fields only if a later version adds
  them; the parties' identities go with the people);
- asb_review: a community ASB case review application (for an area; a personal one goes with its
  victim) with no step in the last `years` and unchanged, with its recommendations, as long: its
  people affected, behaviour, applicant's name, decision reason and recommendations' texts go.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import Table, and_, exists, func, not_, or_, select, update

from .. import crypto
from ..db import db, rowcount
from ..models import (
    AsbRecommendation,
    AsbReview,
    Base,
    Case,
    CasePerson,
    CaseStatus,
    Erasure,
    Incident,
    MeetingCase,
    Order,
    Party,
    Person,
    Referral,
    Share,
    ShareRequest,
)
from ..models.base import utcnow
from ..models.person import INDEX_FIELDS
from ..models.share_request import DECLINED, WAITING
from . import audit, documents, reminders
from .keys import sealed_columns

ERASED = "(erased)"  # what a required personal field holds once erased
PLAIN_PERSONAL = {("case_person", "note")}  # unencrypted free text about a person
RECORDS: dict[str, type[Base]] = {"person": Person, "case": Case, "incident": Incident, "asb_review": AsbReview}
INDEX_COLUMNS = tuple(f"bi_{name}" for name in INDEX_FIELDS)  # every blind index of a person


class RetentionError(Exception):
    """An erasure was refused: no such record, or it is already erased."""


@dataclass
class Removed:
    """What one erasure removed, by table: field names (that held a value) and rows touched."""

    kind: str
    record_id: uuid.UUID
    fields: dict[str, list[str]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    merged: list[uuid.UUID] = field(default_factory=list)

    def note(self, table: str, names: set[str], rows: int) -> None:
        if names:
            self.fields[table] = sorted(set(self.fields.get(table, [])) | names)
        if rows:
            self.rows[table] = self.rows.get(table, 0) + rows


# --- which columns are personal -----------------------------------------------------------------


def _secret_columns_by_table() -> dict[str, list[tuple[str, bool]]]:
    """table name -> [(column name, nullable)] of the encrypted columns."""
    found: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for sc in sealed_columns():
        found[sc.table.name].append((sc.column.name, bool(sc.column.nullable)))
    return found


def _children(table: Table) -> list[tuple[Table, Any]]:
    """(table, column) pairs with a foreign key to `table.id`, the table itself left out."""
    found = []
    for other in Base.metadata.sorted_tables:
        if other is table:
            continue
        for fk in other.foreign_keys:
            if fk.column.table is table and fk.column.name == "id":
                found.append((other, fk.parent))
    return found


def _has_personal(table: Table) -> bool:
    secrets = _secret_columns_by_table()
    tables = [table] + [child for child, _ in _children(table)]
    return any(secrets.get(t.name) or any(t.name == name for name, _ in PLAIN_PERSONAL) for t in tables)


# --- erasing --------------------------------------------------------------------------------


def _erase_rows(table: Table, where: Any, removed: Removed, *, extra: dict[str, Any] | None = None) -> list[Any]:
    """Erase the personal columns of the rows of `table` matching `where`; returns their ids."""
    secrets = _secret_columns_by_table().get(table.name, [])
    plain = [name for t, name in PLAIN_PERSONAL if t == table.name]
    ids = list(db.session.scalars(select(table.c.id).where(where)))
    if not ids:
        return ids
    held: set[str] = set()
    for name in [n for n, _ in secrets] + plain:
        if db.session.scalar(select(func.count()).select_from(table).where(where, table.c[name].isnot(None))):
            held.add(name)
    values: dict[str, Any] = {name: None for name, nullable in secrets if nullable and name in held}
    values.update({name: None for name in plain if name in held})
    values.update(extra or {})
    if "updated_at" in table.c:
        values["updated_at"] = utcnow()
    if values:
        db.session.execute(update(table).where(where).values(**values))
    required = [name for name, nullable in secrets if not nullable and name in held]
    if required:
        ring = crypto.current()
        placeholder = crypto.encode_plain(ERASED)
        for row_id in ids:
            db.session.execute(update(table).where(table.c.id == row_id).values(**{
                name: crypto.seal(ring, placeholder, table=table.name, column=name, row_id=row_id)
                for name in required}))
    removed.note(table.name, held, len(ids) if (held or extra) else 0)
    return ids


def _erase_documents(kind: str, record_id: uuid.UUID, removed: Removed) -> None:
    """The documents kept with the record go, bytes and all; a person's go with those kept with
    their referrals and the HRDA meeting cases of those, and with their orders."""
    gone = documents.erase_for(kind, [record_id])
    if kind == "person":
        gone += documents.erase_for("order", db.session.scalars(select(Order.id).where(Order.person_id == record_id)))
        referral_ids = list(db.session.scalars(select(Referral.id).where(Referral.person_id == record_id)))
        gone += documents.erase_for("referral", referral_ids)
        if referral_ids:
            gone += documents.erase_for("meeting_case", db.session.scalars(
                select(MeetingCase.id).where(MeetingCase.referral_id.in_(referral_ids))))
    if gone:
        removed.rows["document (deleted)"] = removed.rows.get("document (deleted)", 0) + gone


def _erase(kind: str, record_id: uuid.UUID, removed: Removed) -> None:
    model = RECORDS[kind]
    _erase_documents(kind, record_id, removed)
    table: Table = model.__table__
    extra: dict[str, Any] = {}
    if kind == "person":
        held = {name.removeprefix("bi_") for name in INDEX_COLUMNS
                if db.session.scalar(select(table.c[name]).where(table.c.id == record_id)) is not None}
        extra = {name: None for name in INDEX_COLUMNS}
        # Bumped so that an edit begun before the erasure fails instead of writing the values back.
        extra["version"] = table.c.version + 1
        if held:
            removed.note("person (blind indexes)", held, 1)
    elif "version" in table.c:
        extra["version"] = table.c.version + 1
    _erase_rows(table, table.c.id == record_id, removed, extra=extra)
    for child, column in _children(table):
        ids = _erase_rows(child, column == record_id, removed)
        reminders.remove_for(record_kind=child.name, record_ids=ids)
    if kind == "person":
        # The recommendations of the person's ASB case review applications (the applications'
        # own personal fields went with the person's rows above) may describe them too.
        _erase_rows(AsbRecommendation.__table__, AsbRecommendation.review_id.in_(
            select(AsbReview.id).where(AsbReview.person_id == record_id)), removed)
        _close_share_requests(record_id, removed)
    share = Share.__table__
    shares = rowcount(db.session.execute(update(share).where(
        share.c.record_kind == kind, share.c.record_id == record_id, share.c.reason.isnot(None)
    ).values(reason=None))) or 0
    removed.note("share", {"reason"} if shares else set(), shares)
    gone = reminders.remove_for(record_kind=kind, record_ids=[record_id])
    if gone:
        removed.rows["reminder (deleted)"] = gone


SHARE_REQUEST_ERASED = "The record was erased"


def _close_share_requests(person_id: uuid.UUID, removed: Removed) -> None:
    """A request to share an erased person's record (its reasons already erased with the person's
    rows) is not left waiting for a manager to share what is gone: it is declined, saying why, which
    the requester sees. Decided requests keep their outcome. Case handovers hold no personal data
    (ids and times): they stay with the case, as its notes' authors do."""
    table = ShareRequest.__table__
    waiting = list(db.session.scalars(select(table.c.id).where(table.c.person_id == person_id,
                                                               table.c.status == WAITING)))
    if not waiting:
        return
    ring, text = crypto.current(), crypto.encode_plain(SHARE_REQUEST_ERASED)
    for request_id in waiting:
        db.session.execute(update(table).where(table.c.id == request_id).values(
            status=DECLINED, decided_at=utcnow(), updated_at=utcnow(),
            decline_reason=crypto.seal(ring, text, table=table.name, column="decline_reason", row_id=request_id)))
    removed.note("share_request (declined)", {"status", "decline_reason"}, len(waiting))


def erase(*, kind: str, record_id: uuid.UUID, cause: str, rule: str | None = None, reason: str | None = None,
          by: Any = None) -> Removed:
    """Erase one record's personal data (see the module docstring); flushes, the caller commits.

    `cause` is "retention" (the sweep, with the `rule` that expired it) or "request" (a lawful
    request, with its `reason`, which the audit trail keeps encrypted like search terms).
    """
    model = RECORDS.get(kind)
    if model is None:
        raise RetentionError(f"cannot erase a {kind}: only {', '.join(RECORDS)} records are erased")
    db.session.flush()
    if db.session.scalar(select(func.count()).select_from(model).where(model.id == record_id)) == 0:
        raise RetentionError(f"there is no {kind} with id {record_id}")
    done = db.session.scalar(select(Erasure).where(Erasure.record_kind == kind, Erasure.record_id == record_id))
    if done is not None:
        raise RetentionError(f"the {kind} {record_id} was already erased on {done.erased_at:%d %B %Y} "
                             f"({'on request' if done.cause == 'request' else 'by the retention sweep'})")
    removed = Removed(kind=kind, record_id=record_id)
    _erase(kind, record_id, removed)
    if kind == "person":
        removed.merged = _erase_merged(record_id, removed)
    db.session.add(Erasure(record_kind=kind, record_id=record_id, erased_at=utcnow(), cause=cause, rule=rule,
                           fields=json.dumps(removed.fields, sort_keys=True)))
    db.session.flush()
    # Objects loaded before the Core updates above would show the old values.
    db.session.expire_all()
    audit.record("retention.erase" if cause == "retention" else f"{kind}.erase", user=by, record_kind=kind,
                 record_id=record_id, terms=reason,
                 details={"cause": cause, "rule": rule, "fields": removed.fields, "rows": removed.rows,
                          "merged": [str(m) for m in removed.merged] or None})
    return removed


def _erase_merged(survivor: uuid.UUID, removed: Removed) -> list[uuid.UUID]:
    """Duplicates merged into a person carry the same identity: erase them too (and theirs)."""
    merged, queue = [], [survivor]
    while queue:
        parent = queue.pop()
        for child in db.session.scalars(select(Person.id).where(Person.merged_into_id == parent)):
            if db.session.scalar(select(Erasure.id).where(Erasure.record_kind == "person",
                                                          Erasure.record_id == child)) is None:
                _erase("person", child, removed)
                db.session.add(Erasure(record_kind="person", record_id=child, erased_at=utcnow(),
                                       cause="merged", rule=None, fields=None))
                merged.append(child)
            queue.append(child)
    return merged


# --- the sweep ----------------------------------------------------------------------------


def _years_before(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _not_erased(kind: str, id_column: Any) -> Any:
    return not_(exists().where(Erasure.record_kind == kind, Erasure.record_id == id_column))


def expired_query(kind: str, rule: dict[str, int], today: dt.date) -> Any:
    """The ids of `kind` records whose retention has run out under `rule` and are not yet erased."""
    if kind == "person":
        cutoff = _years_before(today, int(rule["inactive_years"]))
        since = _start_of(cutoff)
        recent_incident = exists().where(Party.person_id == Person.id, Party.incident_id == Incident.id,
                                         Incident.occurred_on >= cutoff)
        recent_referral = exists().where(Referral.person_id == Person.id, or_(
            Referral.referred_on >= cutoff, Referral.ended_on >= cutoff, Referral.updated_at >= since))
        live_case = exists().where(CasePerson.person_id == Person.id, CasePerson.case_id == Case.id, or_(
            Case.status != CaseStatus.CLOSED, Case.updated_at >= since))
        recent_asb_review = exists().where(AsbReview.person_id == Person.id, _asb_review_active(cutoff, since))
        return select(Person.id).where(
            Person.merged_into_id.is_(None), Person.updated_at < since, _not_erased("person", Person.id),
            not_(recent_incident), not_(recent_referral), not_(live_case), not_(recent_asb_review)
        ).order_by(Person.id)
    if kind == "case":
        since = _start_of(_years_before(today, int(rule["closed_inactive_years"])))
        conditions = [Case.status == CaseStatus.CLOSED, Case.updated_at < since, _not_erased("case", Case.id)]
        closed_at = getattr(Case, "closed_at", None)
        if closed_at is not None:
            conditions.append(or_(closed_at.is_(None), closed_at < since))
        return select(Case.id).where(and_(*conditions)).order_by(Case.id)
    if kind == "incident":
        cutoff = _years_before(today, int(rule["years"]))
        return select(Incident.id).where(Incident.occurred_on < cutoff,
                                         _not_erased("incident", Incident.id)).order_by(Incident.id)
    if kind == "asb_review":
        cutoff = _years_before(today, int(rule["years"]))
        return select(AsbReview.id).where(AsbReview.area_id.isnot(None), not_(
            _asb_review_active(cutoff, _start_of(cutoff))), _not_erased("asb_review", AsbReview.id)
        ).order_by(AsbReview.id)
    raise RetentionError(f"no retention rule is known for {kind!r} records")


def _asb_review_active(cutoff: dt.date, since: dt.datetime) -> Any:
    """An ASB case review application with a step on or after `cutoff`, or a change to it or its
    recommendations since `since`."""
    steps = (AsbReview.received_on, AsbReview.decided_on, AsbReview.review_held_on, AsbReview.outcome_sent_on,
             AsbReview.appeal_received_on, AsbReview.appeal_decided_on)
    # Null-safe (a step not taken is not recent), as it is negated for community applications.
    return or_(*(and_(day.isnot(None), day >= cutoff) for day in steps), AsbReview.updated_at >= since,
               exists().where(AsbRecommendation.review_id == AsbReview.id, AsbRecommendation.updated_at >= since))


def rules() -> dict[str, dict[str, int]]:
    configured = current_app.config.get("RETENTION") or {}
    unknown = set(configured) - set(RECORDS)
    if unknown:
        raise RetentionError(f"RETENTION names record kinds Casework does not have: {', '.join(sorted(unknown))}")
    return {kind: rule for kind, rule in configured.items() if rule}


def _rule_text(kind: str, rule: dict[str, int]) -> str:
    return ", ".join(f"{kind}.{k}={v}" for k, v in sorted(rule.items()))[:64]


@dataclass
class Swept:
    erased: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # kinds with nothing personal to erase

    @property
    def total(self) -> int:
        return sum(self.erased.values())

    def __str__(self) -> str:
        parts = [f"{n} {kind} records" for kind, n in sorted(self.erased.items())] or ["nothing"]
        note = f"; no personal fields on {', '.join(self.skipped)} records" if self.skipped else ""
        return f"erased {', '.join(parts)}{note}"


def sweep(*, today: dt.date, limit: int = 500, dry_run: bool = False) -> Swept:
    """Erase up to `limit` expired records of each kind (flushes; call again until it erases none).

    With `dry_run`, count what has expired and change nothing.
    """
    result = Swept()
    for kind, rule in rules().items():
        model = RECORDS[kind]
        if not _has_personal(model.__table__):
            result.skipped.append(kind)
            continue
        query = expired_query(kind, rule, today)
        if dry_run:
            result.erased[kind] = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
            continue
        ids = list(db.session.scalars(query.limit(limit)))
        for record_id in ids:
            erase(kind=kind, record_id=record_id, cause="retention", rule=_rule_text(kind, rule))
        result.erased[kind] = len(ids)
    return result
