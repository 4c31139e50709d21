"""Retention: the sweep and `casework erase` remove personal data, keep what the measures count,
and the audit trail says what went without keeping it."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import func, select

from casework import crypto
from casework.db import db
from casework.measures import engine
from casework.measures.periods import Period
from casework.models import (
    AuditEntry,
    Case,
    CaseKind,
    CaseNote,
    CasePerson,
    CaseStatus,
    CaseTask,
    Erasure,
    Party,
    PartyRole,
    Person,
    Referral,
    ReferralType,
    Reminder,
    Share,
)
from casework.services import retention
from tests.factories import (
    AgencyFactory,
    IncidentFactory,
    PartyFactory,
    PersonFactory,
    ReferralFactory,
)

CANARY = "Quorrelwood"
FUTURE = dt.date(2040, 1, 1)  # every record made by these tests is past its retention by then
PERSON_FIELDS = ["address", "date_of_birth", "email", "forenames", "phone", "postcode", "safe_contact", "surname"]


def _old_person(**kwargs) -> Person:  # type: ignore[no-untyped-def]
    person = PersonFactory(surname=CANARY, forenames="Ada", address="1 Canary Row", phone="07700 900123",
                           email="ada@example.org", safe_contact="Mornings only", **kwargs)
    db.session.flush()
    return person


def _raw(person_id: uuid.UUID) -> object:
    return db.session.execute(select(Person.__table__).where(Person.__table__.c.id == person_id)).one()


def _audit_entries(record_id: uuid.UUID) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.record_id == record_id,
                                                            AuditEntry.action.like("%erase"))))


def test_the_sweep_erases_an_inactive_persons_identity_and_keeps_their_records(app_ctx):
    person = _old_person()
    party = PartyFactory(person_id=person.id, incident=IncidentFactory(occurred_on=dt.date(2015, 5, 1)))
    referral = ReferralFactory(person_id=person.id, referred_on=dt.date(2015, 6, 1))
    referral_id = referral.id
    share = Share(record_kind="person", record_id=person.id, agency_id=AgencyFactory().id, via="explicit",
                  reason=f"Shared about {CANARY}")
    db.session.add(share)
    db.session.flush()

    swept = retention.sweep(today=FUTURE)
    db.session.commit()

    assert swept.erased["person"] >= 1
    db.session.expire_all()
    again = db.session.get(Person, person.id)
    assert again.surname == retention.ERASED
    assert [again.forenames, again.date_of_birth, again.postcode, again.address, again.phone, again.email,
            again.safe_contact] == [None] * 7
    raw = _raw(person.id)
    assert all(getattr(raw, name) is None for name in retention.INDEX_COLUMNS), "blind indexes removed"
    assert db.session.get(Party, party.id) is not None, "the party row stays for the measures"
    assert db.session.get(Referral, referral_id).type == ReferralType.HRDA
    assert db.session.get(Share, share.id).reason is None
    erasure = db.session.scalar(select(Erasure).where(Erasure.record_id == person.id))
    assert erasure.cause == "retention" and erasure.rule == "person.inactive_years=6"
    (entry,) = _audit_entries(person.id)
    details = json.loads(entry.details)
    assert entry.action == "retention.erase" and entry.user_id is None
    assert details["fields"]["person"] == PERSON_FIELDS
    assert details["fields"]["share"] == ["reason"]
    assert CANARY not in entry.details and CANARY.lower() not in entry.details
    assert crypto.index_of(crypto.current(), "surname", CANARY) not in {
        bytes(b) for b in db.session.scalars(select(Person.bi_surname).where(Person.bi_surname.isnot(None)))}


def test_recent_activity_or_an_open_case_keeps_a_person(app_ctx):
    recent = _old_person()
    PartyFactory(person_id=recent.id, incident=IncidentFactory(occurred_on=FUTURE - dt.timedelta(days=300)))
    on_open_case = _old_person()
    case = Case(kind=next(iter(CaseKind)), status=CaseStatus.OPEN, owner_agency_id=on_open_case.owner_agency_id)
    db.session.add(case)
    db.session.flush()
    db.session.add(CasePerson(case_id=case.id, person_id=on_open_case.id))
    inactive = _old_person()
    db.session.flush()

    expired = set(db.session.scalars(retention.expired_query("person", {"inactive_years": 6}, FUTURE)))

    assert inactive.id in expired
    assert recent.id not in expired and on_open_case.id not in expired


def test_measures_count_the_same_after_a_sweep(app_ctx):
    victim, perpetrator = _old_person(), _old_person()
    for day in (dt.date(2015, 5, 1), dt.date(2015, 8, 1), dt.date(2015, 11, 1)):
        incident = IncidentFactory(occurred_on=day, domestic_abuse=True)
        PartyFactory(incident=incident, person_id=victim.id, role=PartyRole.VICTIM)
        PartyFactory(incident=incident, person_id=perpetrator.id, role=PartyRole.PERPETRATOR)
    for day in (dt.date(2015, 6, 1), dt.date(2016, 1, 1)):
        ReferralFactory(person_id=victim.id, referred_on=day, dash_score=16)
    db.session.flush()
    periods = [Period(2015)]
    before = engine.compute(db.session, periods)

    swept = retention.sweep(today=FUTURE)
    db.session.flush()
    db.session.expire_all()

    assert swept.erased["person"] >= 2
    assert engine.compute(db.session, periods) == before
    assert any(f.value for f in before[Period(2015)].values()), "the period has figures to compare"


def test_a_closed_inactive_case_loses_its_summary_notes_and_task_titles(app_ctx, user_factory):
    user = user_factory()
    person = _old_person()
    case = Case(kind=next(iter(CaseKind)), status=CaseStatus.CLOSED, owner_agency_id=person.owner_agency_id,
                summary=f"About {CANARY}", outcome="Moved away")
    db.session.add(case)
    db.session.flush()
    note = CaseNote(case_id=case.id, author_id=user.id, text=f"Met {CANARY}")
    task = CaseTask(case_id=case.id, title=f"Call {CANARY}", due_on=dt.date(2016, 1, 1), owner_id=user.id)
    db.session.add_all([note, task, CasePerson(case_id=case.id, person_id=person.id, note="Sister")])
    db.session.add(Reminder(user_id=user.id, kind="task", record_kind="case_task", record_id=task.id,
                            due_on=task.due_on, text="Task"))
    db.session.flush()

    removed = retention.erase(kind="case", record_id=case.id, cause="retention", rule="case.closed_inactive_years=6")
    db.session.expire_all()

    again = db.session.get(Case, case.id)
    assert (again.summary, again.outcome, again.status) == (None, None, CaseStatus.CLOSED)
    assert db.session.get(CaseNote, note.id).text == retention.ERASED
    assert db.session.get(CaseTask, task.id).title == retention.ERASED
    assert db.session.scalar(select(CasePerson.note).where(CasePerson.case_id == case.id)) is None
    assert db.session.scalar(select(func.count()).select_from(Reminder).where(Reminder.record_id == task.id)) == 0
    assert removed.fields == {"case": ["outcome", "summary"], "case_note": ["text"], "case_person": ["note"],
                              "case_task": ["title"]}
    assert db.session.get(Person, person.id).surname == CANARY, "the people on it are kept by their own rule"


def test_erase_on_request_works_like_the_sweep_and_audits_the_reason(app_ctx, runner):
    person = _old_person()
    duplicate = _old_person(merged_into_id=person.id)
    db.session.commit()

    result = runner.invoke(["erase", str(person.id), "--reason", "Article 17 request ref E-17", "--yes"])

    assert result.exit_code == 0, result.output
    assert "Also erased 1 merged duplicate" in result.output
    db.session.expire_all()
    for pid in (person.id, duplicate.id):
        assert db.session.get(Person, pid).surname == retention.ERASED
        assert _raw(pid).bi_surname is None
    (entry,) = _audit_entries(person.id)
    assert entry.action == "person.erase" and entry.terms == "Article 17 request ref E-17"
    assert json.loads(entry.details)["merged"] == [str(duplicate.id)]
    again = runner.invoke(["erase", str(person.id), "--reason", "again", "--yes"])
    assert again.exit_code != 0 and "already erased" in again.output


@pytest.mark.parametrize(("argument", "message"), [
    ("not-an-id", "is not a person id"),
    ("00000000-0000-4000-8000-000000000000", "there is no person with id"),
])
def test_erase_refuses_what_it_cannot_erase_and_changes_nothing(app_ctx, runner, argument, message):
    before = db.session.scalar(select(func.count()).select_from(Erasure))
    result = runner.invoke(["erase", argument, "--reason", "x", "--yes"])
    assert result.exit_code != 0 and message in result.output
    assert db.session.scalar(select(func.count()).select_from(Erasure)) == before


def test_a_second_sweep_finds_nothing_left_to_erase(app_ctx):
    _old_person()
    retention.sweep(today=FUTURE)
    assert retention.sweep(today=FUTURE).erased.get("person") == 0
    assert retention.sweep(today=FUTURE, dry_run=True).erased.get("person") == 0


def test_an_erasure_moves_the_persons_version_on_so_an_edit_begun_before_it_fails(app_ctx):
    person = _old_person()
    version = _raw(person.id).version
    retention.erase(kind="person", record_id=person.id, cause="request", reason="r")
    assert _raw(person.id).version == version + 1
