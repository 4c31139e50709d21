"""`casework demo`: the partners and their extracts load through the importer; `--if-empty` leaves data alone;
the caseworkers' cases are opened for the people the incidents name."""

from __future__ import annotations

import datetime as dt
import json

from markupsafe import escape
from sqlalchemy import func, select, text

from casework.db import db
from casework.demo import PARTNERS
from casework.models import (
    Agency,
    Area,
    AuditEntry,
    Case,
    CaseKind,
    CaseStatus,
    Incident,
    Party,
    PartyRole,
    Person,
    PreventionActivity,
    RecordKind,
    Referral,
    SourceRef,
    User,
)

END = "2026-11-26"


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_demo_loads_the_partners_and_their_records(runner):
    assert _count(Incident) == 0
    result = runner.invoke(["demo", "--incidents", "500", "--seed", "3", "--end", END])
    assert result.exit_code == 0, result.output
    assert "Demo data loaded (500 incidents, seed 3)" in result.output
    names = set(db.session.scalars(select(Agency.name)))
    assert {p.name for p in PARTNERS} <= names
    assert _count(Incident) == 500
    assert _count(Area) == 28
    assert _count(Referral) > 0 and _count(PreventionActivity) > 0
    recorders = {kind.value for kind in db.session.scalars(select(Incident.recorded_by).distinct())}
    assert recorders == {"police", "council", "housing", "fire", "health"}
    surnames = [p.surname for p in db.session.scalars(select(Person))]
    assert any("'" in s or any(ord(c) > 127 for c in s) for s in surnames), "awkward names survive encryption"
    assert "Dorset Police: " in result.output
    # The board's material (issue 18): HRDA cases heard, equality information, one review after a death.
    from casework.models import DardrRecommendation, MeetingCase

    assert _count(MeetingCase) > 0 and _count(DardrRecommendation) == 4
    assert db.session.scalar(select(func.count()).select_from(Person).where(Person.equality_agreed_on.is_not(None)))


def test_if_empty_loads_nothing_when_there_are_incidents_and_loading_again_changes_nothing(runner):
    assert runner.invoke(["demo", "--if-empty", "--incidents", "300", "--end", END]).exit_code == 0
    counts = (_count(Incident), _count(Person), _count(Referral), _count(Agency))
    assert counts[0] == 300

    result = runner.invoke(["demo", "--if-empty", "--incidents", "300", "--end", END])
    assert result.exit_code == 0
    assert "already holds incidents" in result.output
    # Without --if-empty the same seed and end import the same records again: refs update, never duplicate.
    assert runner.invoke(["demo", "--incidents", "300", "--end", END]).exit_code == 0
    assert (_count(Incident), _count(Person), _count(Referral), _count(Agency)) == counts
    assert _count(Case) == 6  # no second case for a person who has one of that kind


def test_existing_partner_agencies_are_kept_not_duplicated(runner):
    assert runner.invoke(["agencies", "add", "Dorset Police", "--kind", "police"]).exit_code == 0
    result = runner.invoke(["demo", "--incidents", "50", "--end", END])
    assert result.exit_code == 0, result.output
    assert "Added agency Dorset Police" not in result.output
    assert "Added agency Dorset Council" in result.output
    assert db.session.scalar(select(func.count()).where(Agency.name == "Dorset Police")) == 1


def test_demo_data_gives_every_measure_something_to_count(runner):
    assert runner.invoke(["demo", "--incidents", "3000", "--seed", "1", "--end", END]).exit_code == 0
    result = runner.invoke(["measures", "--period", "2024/25", "--as-of", END, "--format", "json"])
    assert result.exit_code == 0, result.output
    measures = json.loads(result.output)["measures"]
    for measure_id, figure in measures.items():
        counted = figure.get("numerator", figure["value"])
        assert counted not in (0, "0.00", None), measure_id
        assert figure["previous"]["value"] is not None, measure_id


def test_a_demo_that_does_not_import_is_reported_and_loads_nothing(runner, monkeypatch):
    from casework.demo import loader

    real = loader.write_dataset

    def broken(directory, **kwargs):  # type: ignore[no-untyped-def]
        written = real(directory, **kwargs)
        with (written[0].directory / "incidents.csv").open("a", encoding="utf-8") as handle:
            handle.write("BROKEN1,2024-05-01,murder,n,police,Poole,,n,n,n,n,\r\n")
        return written

    monkeypatch.setattr(loader, "write_dataset", broken)
    result = runner.invoke(["demo", "--incidents", "40", "--end", END])
    assert result.exit_code != 0
    assert "did not import" in result.output and "incidents.csv:" in result.output and "murder" in result.output
    assert _count(Incident) == 0 and _count(Agency) == 0


def test_generate_writes_the_extracts_for_benchmarks(runner, tmp_path):
    target = tmp_path / "bench"
    result = runner.invoke(["demo", "generate", str(target), "--incidents", "200", "--seed", "2", "--end", END])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in target.iterdir()) == ["council", "fire", "health", "housing", "police"]
    assert "Dorset Police" in result.output
    assert _count(Incident) == 0

    again = runner.invoke(["demo", "generate", str(target), "--incidents", "200"])
    assert again.exit_code != 0 and "is not empty" in again.output


# --- cases ----------------------------------------------------------------------------------------


def _refs(kind: RecordKind) -> dict:
    rows = db.session.execute(select(SourceRef.record_id, SourceRef.ref).where(SourceRef.kind == kind))
    return {record_id: ref for record_id, ref in rows}


def _signature() -> list[tuple]:
    """Every case as refs and values (ids differ from one load to the next)."""
    people, incidents = _refs(RecordKind.PERSON), _refs(RecordKind.INCIDENT)
    names = {agency_id: name for agency_id, name in db.session.execute(select(Agency.id, Agency.name))}
    return sorted(
        (c.kind.value, c.status.value, names[c.owner_agency_id], c.review_on, c.summary, c.outcome,
         tuple(sorted((people[p.person_id], p.role.value) for p in c.people)),
         tuple(sorted(incidents[i.incident_id] for i in c.incidents)),
         tuple(sorted((n.at, n.text) for n in c.notes)),
         tuple(sorted((t.due_on, t.title, t.done_at is not None) for t in c.tasks)))
        for c in db.session.scalars(select(Case)))


def test_demo_opens_cases_of_several_kinds_for_the_peoples_agencies(runner):
    result = runner.invoke(["demo", "--incidents", "1500", "--seed", "3", "--end", END])
    assert result.exit_code == 0, result.output
    assert "Cases: 30 opened" in result.output
    cases = list(db.session.scalars(select(Case)))
    assert len(cases) == 30
    assert len({c.kind for c in cases}) >= 4
    assert CaseKind.DOMESTIC_ABUSE in {c.kind for c in cases}
    today = dt.date.fromisoformat(END)
    for case in cases:
        victims = [link for link in case.people if link.role is PartyRole.VICTIM]
        assert len(victims) == 1
        for link in case.people:  # the victim and any perpetrator are the owning agency's people
            assert db.session.get(Person, link.person_id).owner_agency_id == case.owner_agency_id
        assert case.incidents
        for link in case.incidents:
            incident = db.session.get(Incident, link.incident_id)
            assert db.session.scalar(select(func.count()).where(
                Party.incident_id == incident.id, Party.person_id == victims[0].person_id,
                Party.role == PartyRole.VICTIM)) == 1
            assert incident.domestic_abuse is (case.kind is CaseKind.DOMESTIC_ABUSE)
        if case.caseworker_id is not None:
            assert db.session.get(User, case.caseworker_id).agency_id == case.owner_agency_id
        assert case.summary
        if case.status is CaseStatus.CLOSED:
            assert case.outcome and case.closed_at and case.review_on is None
        else:
            assert case.review_on is not None and case.outcome is None
        for note in case.notes:  # encrypted at rest, read back through the ORM
            assert isinstance(note.text, str) and note.text and note.text.encode() not in note.text_sealed
            assert db.session.get(User, note.author_id).agency_id == case.owner_agency_id
        for task in case.tasks:
            assert task.title and task.due_on
    police = db.session.scalar(select(Agency.id).where(Agency.name == "Dorset Police"))
    police_cases = [c for c in cases if c.owner_agency_id == police]
    assert police_cases and all(len(c.notes) >= 2 and c.tasks for c in police_cases)
    assert any(c.caseworker_id for c in police_cases)
    assert any(PartyRole.PERPETRATOR in {p.role for p in c.people} for c in cases)
    assert {c.status for c in cases} == set(CaseStatus)
    reviews = [c.review_on for c in cases if c.review_on]
    assert any(r < today for r in reviews) and any(r >= today for r in reviews)
    assert db.session.scalar(select(func.count()).where(AuditEntry.action == "case.create")) == 30


def test_demo_cases_are_the_same_for_the_same_seed(runner):
    from casework.demo.cases import make_cases

    assert runner.invoke(["demo", "--incidents", "1000", "--seed", "4", "--end", END]).exit_code == 0
    first = _signature()
    assert len(first) == 20
    db.session.execute(text("UPDATE referral SET case_id = NULL"))  # (the live referrals name their cases)
    for model in ("case_task", "case_note", "case_incident", "case_person", "case"):
        db.session.execute(text(f'DELETE FROM "{model}"'))
    made = make_cases(incidents=1000, seed=4, today=dt.date.fromisoformat(END))
    assert made.total() == 20
    db.session.expire_all()
    assert _signature() == first

    for model in ("case_task", "case_note", "case_incident", "case_person", "case"):
        db.session.execute(text(f'DELETE FROM "{model}"'))
    make_cases(incidents=1000, seed=5, today=dt.date.fromisoformat(END))
    db.session.expire_all()
    assert _signature() != first


def test_a_tiny_demo_makes_no_cases(runner):
    result = runner.invoke(["demo", "--incidents", "20", "--end", END])
    assert result.exit_code == 0, result.output
    assert "Cases: 0 opened" in result.output and _count(Case) == 0


def test_the_demo_caseworker_sees_their_cases(runner, login):
    assert runner.invoke(["demo", "--incidents", "1000", "--seed", "2", "--end", END]).exit_code == 0
    casey = db.session.scalar(select(User).where(User.email == "caseworker@demo.casework.test"))
    case = db.session.scalar(select(Case).where(Case.caseworker_id == casey.id, Case.status != CaseStatus.CLOSED)
                             .order_by(Case.review_on).limit(1))
    client = login(casey)
    page = client.get(f"/cases/{case.id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert case.notes and all(str(escape(note.text)) in body for note in case.notes)
    home = client.get("/").get_data(as_text=True)
    assert f"/cases/{case.id}" in home


def test_the_demo_leaves_live_referrals_waiting_for_the_chair_and_the_idva(runner):
    # The extracts' referrals are imported history (closed): without live ones every queue is empty and
    # a newcomer cannot walk the referral journey from the demo.
    from casework.models import ReferralStatus, ReferralType
    from casework.risk.working_days import working_days_before
    from casework.services import referral_routes, referrals, users

    result = runner.invoke(["demo", "--incidents", "2000", "--seed", "1", "--end", END])
    assert result.exit_code == 0, result.output
    end = dt.date.fromisoformat(END)
    worker, chair, idva = (users.by_email(f"{who}@demo.casework.test") for who in ("caseworker", "chair", "idva"))
    hrda = referrals.awaiting_decision(chair)
    assert [(r.type, r.referred_on) for r in hrda] == [
        (ReferralType.HRDA, working_days_before(end, days)) for days in (4, 1, 0)]
    assert [referral_routes.is_overdue(r, today=end) for r in hrda] == [True, False, False]
    waiting = referrals.awaiting_decision(idva)
    assert [(r.type, referral_routes.is_overdue(r, today=end)) for r in waiting] == [
        (ReferralType.IDVA, True), (ReferralType.IDVA, False)]
    assert {r.id for r in referrals.awaiting_from(worker)} == {r.id for r in hrda + waiting}
    [accepted] = db.session.scalars(select(Referral).where(Referral.status == ReferralStatus.ACCEPTED,
                                                           Referral.imported.is_(False))).all()
    assert accepted.referred_by_id == worker.id and accepted.decided_by_id == chair.id
    # ... onto the next meeting: planned, the first after the demo's last day in the fortnightly round of
    # the meetings that heard the imported referrals, the partners invited.
    from casework.models import Meeting, MeetingCase, MeetingState
    from casework.services import meetings

    [planned] = db.session.scalars(select(Meeting).where(Meeting.state == MeetingState.PLANNED)).all()
    last_heard = db.session.scalar(select(func.max(Meeting.starts_at)).where(Meeting.state == MeetingState.CLOSED))
    gap = (planned.starts_at - last_heard).days
    assert gap % 14 == 0 and (planned.starts_at - dt.timedelta(days=14)).date() <= end < planned.starts_at.date()
    assert meetings.local_time(planned).weekday() == 3 and meetings.local_time(planned).hour == 10
    assert db.session.scalar(select(MeetingCase.meeting_id).where(MeetingCase.referral_id == accepted.id)) == planned.id
    assert {a.id for a in db.session.scalars(select(Agency).where(Agency.name.in_([p.name for p in PARTNERS])))} \
        == meetings.participant_agency_ids(planned)
    assert all(r.case_id is not None and r.referred_by_id == worker.id for r in hrda + waiting)
    # Loading again makes no more, and lists none of them on a meeting that heard the imported ones.
    live = select(func.count()).select_from(Referral).where(Referral.imported.is_(False))
    heard = (select(func.count()).select_from(MeetingCase).join(Referral, Referral.id == MeetingCase.referral_id)
             .join(Meeting, Meeting.id == MeetingCase.meeting_id)
             .where(Referral.imported.is_(False), Meeting.state == MeetingState.CLOSED))
    assert (db.session.scalar(live), db.session.scalar(heard)) == (6, 0)
    assert runner.invoke(["demo", "--incidents", "2000", "--seed", "1", "--end", END]).exit_code == 0
    assert (db.session.scalar(live), db.session.scalar(heard)) == (6, 0)
    assert db.session.scalar(select(func.count()).select_from(Meeting).where(Meeting.state == MeetingState.PLANNED)) == 1


def test_working_days_before_skips_weekends_and_bank_holidays():
    from casework.risk.working_days import working_days_before

    monday = dt.date(2026, 12, 7)
    assert [working_days_before(monday, n) for n in (0, 1, 5)] == [
        monday, dt.date(2026, 12, 4), dt.date(2026, 11, 30)]
    # Saturday counts from the Friday before; the Tuesday after Christmas 2026 skips Christmas Day and
    # Boxing Day's substitute (Monday 28 December).
    assert working_days_before(dt.date(2026, 12, 5), 0) == dt.date(2026, 12, 4)
    assert working_days_before(dt.date(2026, 12, 29), 1) == dt.date(2026, 12, 24)
