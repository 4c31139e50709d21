"""A person's and a case's chronology: every kind, newest first, the filter, paging, what each viewer
is shown (their agency's records, another agency's incident by identity only, nothing of a restricted
record they are not named on), the audit entry, and a statement count that does not grow with items."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import event, select

from casework.db import db
from casework.models import (
    AuditEntry,
    Case,
    CaseIncident,
    CaseKind,
    CaseNote,
    CasePerson,
    CaseTask,
    Category,
    Incident,
    Party,
    PartyRole,
    Person,
    Referral,
    ReferralStatus,
    ReferralType,
    RiskAssessment,
)
from casework.models.assessment import AssessmentStatus
from casework.models.base import utcnow
from casework.models.meeting import Meeting, MeetingAction, MeetingAgency, MeetingCase
from casework.services import chronology, restricted, sharing
from tests.conftest import Page
from tests.factories import AgencyFactory, IncidentFactory, PersonFactory
from tests.fixtures_auth import make_user, sign_in


@pytest.fixture()
def dorset(app_ctx):  # type: ignore[no-untyped-def]
    return AgencyFactory(name="Dorset Police")


@pytest.fixture()
def ours(app_ctx):  # type: ignore[no-untyped-def]
    return AgencyFactory(name="Weymouth Outreach")


@pytest.fixture()
def worker(ours):  # type: ignore[no-untyped-def]
    return make_user(roles=("caseworker",), agency=ours)


@pytest.fixture()
def person(ours):  # type: ignore[no-untyped-def]
    return PersonFactory(owner_agency_id=ours.id, surname="Harding", forenames="Alex")


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


def _incident(person, agency, day, *, role=PartyRole.VICTIM, restricted_=False):  # type: ignore[no-untyped-def]
    incident = IncidentFactory(owner_agency_id=agency.id, occurred_on=day, restricted=restricted_,
                               category=Category.VIOLENCE_WITH_INJURY)
    db.session.add(Party(incident_id=incident.id, person_id=person.id, role=role))
    db.session.flush()
    return incident


def _case(person, agency, worker, **kw):  # type: ignore[no-untyped-def]
    case = Case(kind=CaseKind.DOMESTIC_ABUSE,
                owner_agency_id=agency.id, caseworker_id=worker.id, **kw)
    db.session.add(case)
    db.session.flush()
    db.session.add(CasePerson(case_id=case.id, person_id=person.id, role=PartyRole.VICTIM))
    db.session.flush()
    return case


def _note(case, worker, at, text="Spoke to Alex by phone"):  # type: ignore[no-untyped-def]
    note = CaseNote(case_id=case.id, author_id=worker.id, at=at)
    note.text = text
    db.session.add(note)
    db.session.flush()
    return note


def _everything(person, ours, worker):  # type: ignore[no-untyped-def]
    """One item of each kind, on distinct days, so the order is known."""
    _incident(person, ours, dt.date(2025, 1, 1))
    case = _case(person, ours, worker)
    _note(case, worker, _at(dt.date(2025, 1, 2)))
    assessment = RiskAssessment(person_id=person.id, case_id=case.id, assessor_id=worker.id, owner_agency_id=ours.id,
                                assessed_on=dt.date(2025, 1, 3), status=AssessmentStatus.COMPLETE, score=15)
    db.session.add(assessment)
    referral = Referral(person_id=person.id, type=ReferralType.HRDA, referred_on=dt.date(2025, 1, 4),
                        status=ReferralStatus.ACCEPTED, owner_agency_id=ours.id, receiving_agency_id=ours.id,
                        referred_by_id=worker.id, case_id=case.id, decided_by_id=worker.id,
                        decided_at=_at(dt.date(2025, 1, 5)))
    db.session.add(referral)
    db.session.flush()
    referral.decision_reason = "Meets the threshold"
    meeting = Meeting(agency_id=ours.id, starts_at=_at(dt.date(2025, 1, 6), 10))
    db.session.add(meeting)
    db.session.flush()
    db.session.add(MeetingAgency(meeting_id=meeting.id, agency_id=ours.id))
    item = MeetingCase(meeting_id=meeting.id, referral_id=referral.id)
    db.session.add(item)
    db.session.flush()
    action = MeetingAction(meeting_case_id=item.id, agency_id=ours.id, due_on=dt.date(2025, 2, 1),
                           created_at=_at(dt.date(2025, 1, 6), 11))
    action.text = "Fit a door alarm"
    db.session.add(action)
    task = CaseTask(case_id=case.id, due_on=dt.date(2025, 3, 1), owner_id=worker.id,
                    created_at=_at(dt.date(2025, 1, 7)))
    task.title = "Call back about housing"
    db.session.add(task)
    db.session.flush()
    return case


KIND_ORDER = ["task", "meeting", "meeting", "referral", "referral", "dash", "note", "incident"]


def test_every_kind_is_listed_newest_first(app_ctx, person, ours, worker):  # type: ignore[no-untyped-def]
    _everything(person, ours, worker)
    built = chronology.of_person(person, viewer=worker)
    assert [i.kind for i in built.items] == KIND_ORDER
    titles = [i.title for i in built.items]
    assert titles[0].startswith("Task for Test User (due 1 March 2025)")
    assert "HRDA action for Weymouth Outreach, due 1 February 2025 (open)" in titles
    assert "Heard at the HRDA meeting on 6 January 2025" in titles
    assert "HRDA referral accepted" in titles and "HRDA referral made to Weymouth Outreach" in titles
    assert titles[-1] == "Incident: Violence with injury (as victim)"
    texts = {i.kind + i.title: i.text for i in built.items}
    assert "Fit a door alarm" in texts.values() and "Meets the threshold" in texts.values()
    assert "Spoke to Alex by phone" in texts.values() and "Call back about housing" in texts.values()


def test_restrictions_and_merges_are_listed(app_ctx, person, ours, worker):  # type: ignore[no-untyped-def]
    from casework.services import merge

    other = PersonFactory(owner_agency_id=ours.id, surname="Harding", forenames="Alex")
    merge.merge(survivor=person, merged=other, choices={}, survivor_version=person.version,
                merged_version=other.version, by=worker)
    restricted.restrict(person, by=worker)
    restricted.lift(person, by=worker)
    db.session.flush()
    kinds = [i.kind for i in chronology.of_person(person, viewer=worker).items]
    assert sorted(kinds) == ["merge", "restriction", "restriction"]
    titles = [i.title for i in chronology.of_person(person, viewer=worker).items]
    assert any(t.startswith("Person's record restricted by Test User") for t in titles)
    assert any(t.startswith("Person's restriction lifted") for t in titles)
    assert any(t.startswith("Another record of this person merged") for t in titles)


def test_the_case_chronology_holds_the_case_s_records(app_ctx, person, ours, worker):  # type: ignore[no-untyped-def]
    case = _everything(person, ours, worker)
    incident = db.session.scalar(select(Incident).join(Party).where(Party.person_id == person.id))
    db.session.add(CaseIncident(case_id=case.id, incident_id=incident.id))
    other_case = _case(person, ours, worker)
    _note(other_case, worker, _at(dt.date(2025, 1, 8)), "Another case's note")
    db.session.flush()
    built = chronology.of_case(case, viewer=worker)
    assert [i.kind for i in built.items] == KIND_ORDER
    assert "Another case's note" not in [i.text for i in built.items]
    assert len(chronology.of_person(person, viewer=worker).items) == len(KIND_ORDER) + 1


def test_the_filter_keeps_only_the_kinds_chosen(app_ctx, person, ours, worker):  # type: ignore[no-untyped-def]
    _everything(person, ours, worker)
    built = chronology.of_person(person, viewer=worker, kinds=chronology.parse_kinds(["note", "task", "bogus"]))
    assert [i.kind for i in built.items] == ["task", "note"]
    assert chronology.parse_kinds(["bogus"]) == frozenset(chronology.KINDS)


def test_pages_follow_on_without_gaps_or_repeats(app_ctx, person, ours, worker):  # type: ignore[no-untyped-def]
    case = _case(person, ours, worker)
    same = _at(dt.date(2025, 5, 5))
    for n in range(7):  # same time: the order must still be stable across pages
        _note(case, worker, same, f"note {n}")
    for n in range(5):
        _incident(person, ours, dt.date(2024, 1, 1) + dt.timedelta(days=n))
    pages = [chronology.of_person(person, viewer=worker, page=n, size=5) for n in (1, 2, 3)]
    assert [p.pages for p in pages] == [3, 3, 3] and pages[0].total == 12
    keys = [i.key for p in pages for i in p.items]
    assert len(keys) == 12 and len(set(keys)) == 12
    assert [i.kind for i in pages[2].items] == ["incident"] * 2
    assert chronology.of_person(person, viewer=worker, page=99, size=5).page == 3


def test_another_agency_s_incident_is_shown_by_identity_only(app_ctx, person, ours, dorset, worker):  # type: ignore[no-untyped-def]
    _incident(person, dorset, dt.date(2025, 5, 3))
    [item] = chronology.of_person(person, viewer=worker).items
    assert item.title == "An incident recorded by Dorset Police on 3 May 2025"
    assert item.identity_only and item.link is None and item.text is None


def test_an_incident_shared_with_the_viewer_s_agency_is_shown_whole(app_ctx, person, ours, dorset, worker):  # type: ignore[no-untyped-def]
    incident = _incident(person, dorset, dt.date(2025, 5, 3))
    sharing.share(record=incident, agency=ours, via="explicit", reason="Joint work",
                  by=make_user(roles=("caseworker",), agency=dorset))
    [item] = chronology.of_person(person, viewer=worker).items
    assert item.title.startswith("Incident: ") and item.link == ("incident", incident.id)


def test_a_restricted_record_the_viewer_is_not_named_on_adds_nothing(app_ctx, person, ours, dorset, worker):  # type: ignore[no-untyped-def]
    _incident(person, dorset, dt.date(2025, 5, 3), restricted_=True)
    _incident(person, ours, dt.date(2025, 5, 4), restricted_=True)
    colleague = make_user(roles=("caseworker",), agency=ours)
    case = _case(person, ours, colleague)
    _note(case, colleague, _at(dt.date(2025, 5, 5)), "Hidden note")
    restricted.restrict(case, by=colleague)
    db.session.flush()
    assert chronology.of_person(person, viewer=worker).items == []
    # The colleague named on the case sees its note and the restriction, but not the others' incidents.
    seen = chronology.of_person(person, viewer=colleague).items
    assert [i.kind for i in seen] == ["note"]
    assert [i.kind for i in chronology.of_case(case, viewer=colleague).items] == ["restriction", "note"]


def test_another_agency_s_case_and_referral_add_nothing(app_ctx, person, ours, dorset, worker):  # type: ignore[no-untyped-def]
    theirs = make_user(roles=("caseworker",), agency=dorset)
    case = _case(person, dorset, theirs)
    _note(case, theirs, _at(dt.date(2025, 5, 5)))
    db.session.add(Referral(person_id=person.id, type=ReferralType.IDVA, referred_on=dt.date(2025, 5, 6),
                            owner_agency_id=dorset.id, receiving_agency_id=dorset.id))
    db.session.flush()
    assert chronology.of_person(person, viewer=worker).items == []


def test_actions_are_shown_only_to_those_who_take_part_in_the_meeting(app_ctx, person, ours, dorset, worker):  # type: ignore[no-untyped-def]
    _everything(person, ours, worker)
    db.session.execute(MeetingAgency.__table__.delete())
    meeting = db.session.scalar(select(Meeting))
    meeting.agency_id = dorset.id
    db.session.flush()
    kinds = [i.title for i in chronology.of_person(person, viewer=worker).items if i.kind == "meeting"]
    # the action given to the worker's agency shows, though it does not take part (docs/hrda.md)
    assert sorted(k.split(",")[0] for k in kinds) == ["HRDA action for Weymouth Outreach",
                                                      "Heard at the HRDA meeting on 6 January 2025"]
    for action in db.session.scalars(select(MeetingAction)):
        action.agency_id = dorset.id  # given to another agency: not shown to one not taking part
    db.session.flush()
    kinds = [i.title for i in chronology.of_person(person, viewer=worker).items if i.kind == "meeting"]
    assert kinds == ["Heard at the HRDA meeting on 6 January 2025"]


def _sign_in(app_ctx, user):  # type: ignore[no-untyped-def]
    return sign_in(app_ctx, user)


def test_the_page_is_audited_as_a_view_of_the_person(app_ctx, person, ours, worker):  # type: ignore[no-untyped-def]
    _everything(person, ours, worker)
    client = _sign_in(app_ctx, worker)
    page = Page(client.get(f"/people/{person.id}/chronology"))
    assert page.status_code == 200
    assert page.h1 == "Alex Harding"
    assert len(page.select(".app-chronology__item")) == len(KIND_ORDER)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.record_id == person.id,
                                                        AuditEntry.action == "record.view")
                               .order_by(AuditEntry.position.desc())).first()
    assert entry is not None and json.loads(entry.details) == {"part": "chronology"}
    assert entry.user_id == worker.id and entry.record_kind == "person"


def test_the_case_page_links_to_an_audited_case_chronology(app_ctx, person, ours, worker):  # type: ignore[no-untyped-def]
    case = _everything(person, ours, worker)
    client = _sign_in(app_ctx, worker)
    link = Page(client.get(f"/cases/{case.id}")).select_one("#chronology-link")["href"]
    page = Page(client.get(link))
    assert page.status_code == 200 and len(page.select(".app-chronology__item")) == len(KIND_ORDER) - 1
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.record_id == case.id,
                                                        AuditEntry.action == "record.view")
                               .order_by(AuditEntry.position.desc())).first()
    assert entry is not None and json.loads(entry.details) == {"part": "chronology"}


def test_the_filter_and_pages_are_links_that_keep_each_other(app_ctx, person, ours, worker):  # type: ignore[no-untyped-def]
    case = _case(person, ours, worker)
    for n in range(30):
        _note(case, worker, _at(dt.date(2025, 1, 1)) + dt.timedelta(hours=n), f"note {n}")
    _incident(person, ours, dt.date(2025, 6, 1))
    client = _sign_in(app_ctx, worker)
    page = Page(client.get(f"/people/{person.id}/chronology?kind=note&kind=task"))
    assert [li["data-kind"] for li in page.select(".app-chronology__item")] == ["note"] * 25
    assert page.select_one("input[value=note]").has_attr("checked")
    assert not page.select_one("input[value=incident]").has_attr("checked")
    next_link = page.select_one(".govuk-pagination__next a")["href"]
    assert "kind=note" in next_link and "kind=task" in next_link and "page=2" in next_link
    second = Page(client.get(next_link))
    assert len(second.select(".app-chronology__item")) == 5
    printing = Page(client.get(page.select_one("a[href*='view=print']")["href"]))
    assert len(printing.select(".app-chronology__item")) == 30
    assert printing.select_one(".govuk-pagination") is None


def test_a_merged_record_s_chronology_is_the_kept_record_s(app_ctx, person, ours, worker):  # type: ignore[no-untyped-def]
    from casework.services import merge

    other = PersonFactory(owner_agency_id=ours.id, surname="Harding", forenames="Alex")
    merge.merge(survivor=person, merged=other, choices={}, survivor_version=person.version,
                merged_version=other.version, by=worker)
    client = _sign_in(app_ctx, worker)
    response = client.get(f"/people/{other.id}/chronology?kind=merge")
    assert response.status_code == 302
    assert response.location.endswith(f"/people/{person.id}/chronology?kind=merge")


def test_a_person_the_viewer_may_not_see_has_no_chronology(app_ctx, person, dorset):  # type: ignore[no-untyped-def]
    stranger = make_user(roles=("caseworker",), agency=dorset)
    client = _sign_in(app_ctx, stranger)
    assert client.get(f"/people/{person.id}/chronology").status_code == 404
    admin = make_user(roles=("admin",), agency=dorset)
    assert _sign_in(app_ctx, admin).get(f"/people/{person.id}/chronology").status_code in (403, 404)


def test_the_number_of_statements_does_not_grow_with_items(app_ctx, person, ours, dorset, worker):  # type: ignore[no-untyped-def]
    def count(n: int) -> int:
        case = _case(person, ours, worker)
        for k in range(n):
            _incident(person, ours if k % 2 else dorset, dt.date(2024, 1, 1) + dt.timedelta(days=k))
            author = make_user(agency=ours, password=None, enrolled=False)  # a lazy load would show per author
            _note(case, author, _at(dt.date(2024, 1, 1)) + dt.timedelta(days=k))
            task = CaseTask(case_id=case.id, due_on=dt.date(2025, 1, 1), owner_id=worker.id)
            task.title = "A task"
            db.session.add(task)
            db.session.add(Referral(person_id=person.id, type=ReferralType.IDVA, referred_on=dt.date(2024, 2, 1),
                                    owner_agency_id=ours.id, status=ReferralStatus.DECLINED,
                                    decided_at=utcnow()))
        db.session.flush()
        db.session.expire_all()
        statements: list[str] = []
        engine = db.session.get_bind()

        def seen(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", seen)
        try:
            built = chronology.of_person(db.session.get(Person, person.id), viewer=worker, size=1000)
            [i.text for i in built.items]  # the page's details, as the template reads them
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        assert built.total >= 4 * n
        return len(statements)

    few = count(2)
    many = count(40)
    assert many == few
