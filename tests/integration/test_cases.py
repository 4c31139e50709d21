"""Cases through their pages: opening, status flow (closing needs an outcome), encrypted notes as a
timeline, tasks, linking people and incidents, and optimistic locking."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select, text, update

from casework.db import db
from casework.measures.periods import today_in_london
from casework.models import Case, CaseKind, CaseNote, CaseStatus, CaseTask, PartyRole
from casework.services import cases, versioning
from tests.conftest import Page
from tests.factories import AgencyFactory, IncidentFactory, PartyFactory, PersonFactory
from tests.fixtures_auth import make_user, sign_in


@pytest.fixture()
def worker(app_ctx, home_agency):
    return make_user(agency=home_agency)


@pytest.fixture()
def client_of(app_ctx):
    return lambda user: sign_in(app_ctx, user)


def _date(name: str, day: dt.date) -> dict[str, str]:
    return {f"{name}-day": str(day.day), f"{name}-month": str(day.month), f"{name}-year": str(day.year)}


def _open(client, person, worker, **extra) -> Case:  # type: ignore[no-untyped-def]
    data = {"kind": "domestic_abuse", "role": "victim", "summary": "Referred by the police",
            "caseworker": str(worker.id), **extra}
    response = client.post(f"/people/{person.id}/cases/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.get(Case, uuid.UUID(response.headers["Location"].rsplit("/", 1)[-1].split("#")[0]))


def test_opening_a_case_for_a_person_links_them_with_their_role_and_caseworker(worker, client_of, home_agency):
    person = PersonFactory(owner_agency_id=home_agency.id)
    client = client_of(worker)
    review = today_in_london() + dt.timedelta(days=14)
    case = _open(client, person, worker, **_date("review_on", review))
    assert case.kind is CaseKind.DOMESTIC_ABUSE and case.status is CaseStatus.OPEN
    assert case.owner_agency_id == home_agency.id and case.caseworker_id == worker.id
    assert case.review_on == review and case.summary == "Referred by the police"
    assert [(p.person_id, p.role) for p in case.people] == [(person.id, PartyRole.VICTIM)]
    page = Page(client.get(f"/cases/{case.id}"))
    assert page.h1 == "Domestic abuse case"
    assert person.display_name in page.text and worker.name in page.text


def test_a_case_with_no_kind_is_refused_with_a_linked_error_and_nothing_saved(worker, client_of, home_agency):
    person = PersonFactory(owner_agency_id=home_agency.id)
    db.session.commit()
    before = len(db.session.scalars(select(Case.id)).all())
    page = Page(client_of(worker).post(f"/people/{person.id}/cases/new",
                                       data={"summary": "x", **_date("review_on", dt.date(2020, 1, 1))}))
    assert page.status_code == 400
    links = [a["href"] for a in page.select(".govuk-error-summary a")]
    assert "#kind" in links
    assert len(db.session.scalars(select(Case.id)).all()) == before


def test_a_review_date_in_the_past_is_refused(worker, client_of, home_agency):
    person = PersonFactory(owner_agency_id=home_agency.id)
    db.session.commit()
    page = Page(client_of(worker).post(f"/people/{person.id}/cases/new", data={
        "kind": "stalking", **_date("review_on", today_in_london() - dt.timedelta(days=1))}))
    assert page.status_code == 400
    assert "The review date must be today or in the future" in page.select_one(".govuk-error-summary").text
    assert db.session.scalar(select(Case.id).where(Case.kind == CaseKind.STALKING)) is None


def test_a_case_moves_from_open_to_active_to_closed_and_closing_needs_an_outcome(worker, client_of, home_agency):
    person = PersonFactory(owner_agency_id=home_agency.id)
    client = client_of(worker)
    case = _open(client, person, worker)
    assert client.post(f"/cases/{case.id}/status", data={"to": "active", "version": "1"}).status_code == 302
    db.session.refresh(case)
    assert case.status is CaseStatus.ACTIVE
    db.session.commit()
    page = Page(client.post(f"/cases/{case.id}/close", data={"outcome": "Typed", "version": str(case.version)}))
    assert page.status_code == 200 and "What will happen" in page.text  # not the confirmation page's button
    db.session.refresh(case)
    assert case.status is CaseStatus.ACTIVE
    page = Page(client.post(f"/cases/{case.id}/close", data={"outcome": "  ", "version": str(case.version),
                                                             "confirm": "yes"}))
    assert page.status_code == 400
    assert "Enter the outcome of the case" in page.select_one(".govuk-error-summary").text
    db.session.refresh(case)
    assert case.status is CaseStatus.ACTIVE and case.outcome is None
    response = client.post(f"/cases/{case.id}/close", data={"outcome": "Moved to a refuge; no further incidents",
                                                            "version": str(case.version), "confirm": "yes"})
    assert response.status_code == 302
    db.session.refresh(case)
    assert case.status is CaseStatus.CLOSED and case.closed_at is not None
    assert case.outcome == "Moved to a refuge; no further incidents"
    # Reopening makes it active again.
    assert client.post(f"/cases/{case.id}/status", data={"to": "active", "version": str(case.version)}).status_code == 302
    db.session.refresh(case)
    assert case.status is CaseStatus.ACTIVE and case.closed_at is None


def test_a_closed_case_cannot_go_back_to_open(worker, home_agency):
    case = cases.open_case(kind=CaseKind.FRAUD, by=worker, today=today_in_london())
    cases.change_status(case, to=CaseStatus.CLOSED, version=case.version, by=worker, outcome="Repaid")
    with pytest.raises(cases.CaseError, match="cannot become open"):
        cases.change_status(case, to=CaseStatus.OPEN, version=case.version, by=worker)


def test_notes_are_encrypted_at_rest_and_shown_as_a_timeline_in_order(worker, client_of, home_agency):
    person = PersonFactory(owner_agency_id=home_agency.id)
    client = client_of(worker)
    case = _open(client, person, worker)
    for body in ("First visit: Sam is staying with her sister", "Second call: injunction granted"):
        assert client.post(f"/cases/{case.id}/notes", data={"text": body}).status_code == 302
    raw = db.session.execute(text("SELECT text FROM case_note WHERE case_id = :c"),
                             {"c": case.id.hex if db.engine.dialect.name == "sqlite" else case.id}).scalars().all()
    assert len(raw) == 2
    assert all(b"Sam" not in bytes(r) and b"injunction" not in bytes(r) for r in raw)
    page = Page(client.get(f"/cases/{case.id}"))
    timeline = [p.get_text(strip=True) for p in page.select("#timeline .app-note")]
    assert timeline == ["First visit: Sam is staying with her sister", "Second call: injunction granted"]
    assert db.session.scalars(select(CaseNote).where(CaseNote.case_id == case.id)).first().author_id == worker.id


def test_an_empty_note_is_refused_and_nothing_saved(worker, client_of, home_agency):
    person = PersonFactory(owner_agency_id=home_agency.id)
    client = client_of(worker)
    case = _open(client, person, worker)
    db.session.commit()
    page = Page(client.post(f"/cases/{case.id}/notes", data={"text": "   "}))
    assert page.status_code == 400
    assert page.select_one(".govuk-error-summary a")["href"] == "#text"
    assert db.session.scalars(select(CaseNote).where(CaseNote.case_id == case.id)).all() == []


def test_tasks_have_a_due_date_and_an_owner_and_are_marked_done(worker, client_of, home_agency):
    colleague = make_user(agency=home_agency)
    person = PersonFactory(owner_agency_id=home_agency.id)
    client = client_of(worker)
    case = _open(client, person, worker)
    due = today_in_london() + dt.timedelta(days=3)
    response = client.post(f"/cases/{case.id}/tasks", data={"title": "Safety plan with Sam",
                                                            "owner": str(colleague.id), **_date("due_on", due)})
    assert response.status_code == 302
    task = db.session.scalars(select(CaseTask).where(CaseTask.case_id == case.id)).one()
    assert (task.title, task.due_on, task.owner_id, task.done_at) == ("Safety plan with Sam", due, colleague.id, None)
    assert client.post(f"/cases/{case.id}/tasks/done", data={"task": str(task.id)}).status_code == 302
    db.session.refresh(task)
    assert task.done_at is not None and task.done_by_id == worker.id


def test_a_task_needs_a_due_date_and_an_owner_of_the_agency(worker, client_of, home_agency):
    outsider = make_user(agency=AgencyFactory())
    person = PersonFactory(owner_agency_id=home_agency.id)
    client = client_of(worker)
    case = _open(client, person, worker)
    db.session.commit()
    page = Page(client.post(f"/cases/{case.id}/tasks", data={"title": "Call", "owner": str(worker.id)}))
    assert page.status_code == 400 and "Enter the date the task is due" in page.text
    page = Page(client.post(f"/cases/{case.id}/tasks", data={"title": "Call", "owner": str(outsider.id),
                                                             **_date("due_on", today_in_london())}))
    assert page.status_code == 400 and "Select who will do the task" in page.text
    assert db.session.scalars(select(CaseTask).where(CaseTask.case_id == case.id)).all() == []


def test_people_and_incidents_are_linked_from_the_case_incidents(worker, client_of, home_agency):
    victim = PersonFactory(owner_agency_id=home_agency.id)
    perpetrator = PersonFactory(owner_agency_id=home_agency.id)
    incident = IncidentFactory(owner_agency_id=home_agency.id, domestic_abuse=True)
    PartyFactory(incident=incident, person_id=victim.id, role=PartyRole.VICTIM)
    PartyFactory(incident=incident, person_id=perpetrator.id, role=PartyRole.PERPETRATOR)
    client = client_of(worker)
    case = _open(client, victim, worker)
    page = Page(client.get(f"/cases/{case.id}"))
    assert str(incident.id) in [o["value"] for o in page.select("#incident option")]
    assert client.post(f"/cases/{case.id}/incidents", data={"incident": str(incident.id)}).status_code == 302
    page = Page(client.get(f"/cases/{case.id}"))
    assert str(perpetrator.id) in [o["value"] for o in page.select("#person option")]
    response = client.post(f"/cases/{case.id}/people", data={"person": str(perpetrator.id), "role": "perpetrator"})
    assert response.status_code == 302
    db.session.refresh(case)
    assert {(p.person_id, p.role) for p in case.people} == {(victim.id, PartyRole.VICTIM),
                                                           (perpetrator.id, PartyRole.PERPETRATOR)}
    assert [i.incident_id for i in case.incidents] == [incident.id]


def test_a_person_of_another_agency_cannot_be_linked(worker, client_of, home_agency):
    stranger = PersonFactory(owner_agency_id=AgencyFactory().id)
    client = client_of(worker)
    case = _open(client, PersonFactory(owner_agency_id=home_agency.id), worker)
    db.session.commit()
    # Not told apart from a person who does not exist.
    assert client.post(f"/cases/{case.id}/people", data={"person": str(stranger.id)}).status_code == 404
    db.session.refresh(case)
    assert stranger.id not in {p.person_id for p in case.people}


def test_a_stale_save_is_refused_showing_what_changed_and_nothing_is_overwritten(worker, client_of, home_agency):
    other = make_user(agency=home_agency)
    client, other_client = client_of(worker), client_of(other)
    case = _open(client, PersonFactory(owner_agency_id=home_agency.id), worker)
    form = {"kind": "domestic_abuse", "caseworker": str(worker.id), "version": "1"}
    assert other_client.post(f"/cases/{case.id}/edit", data={**form, "summary": "Other's summary"}).status_code == 302
    db.session.commit()
    page = Page(client.post(f"/cases/{case.id}/edit", data={**form, "summary": "My summary"}))
    assert page.status_code == 409
    assert "Someone else changed this case" in page.h1
    assert "Summary" in page.text and "Other's summary" in page.text
    db.session.refresh(case)
    assert case.summary == "Other's summary" and case.version == 2


def test_a_save_racing_another_is_caught_by_the_version_counter(worker, home_agency):
    case = cases.open_case(kind=CaseKind.ASB, by=worker, today=today_in_london(), summary="Before")
    db.session.commit()
    # Someone else's save lands between loading the case and writing it.
    db.session.execute(update(Case).where(Case.id == case.id).values(version=Case.version + 1, review_on=None)
                       .execution_options(synchronize_session=False))
    with pytest.raises(versioning.StaleEdit):
        cases.update_case(case, version=1, kind=CaseKind.ASB, summary="Mine", review_on=None, caseworker_id=None,
                          by=worker)
    db.session.expire_all()
    assert db.session.get(Case, case.id).summary == "Before"


def test_another_agency_can_neither_see_nor_change_a_case(worker, client_of, home_agency):
    case = cases.open_case(kind=CaseKind.ASB, by=worker, today=today_in_london())
    outsider = make_user(agency=AgencyFactory())
    db.session.commit()
    client = client_of(outsider)
    assert client.get(f"/cases/{case.id}").status_code == 404
    assert client.post(f"/cases/{case.id}/notes", data={"text": "hello"}).status_code == 404
    assert db.session.scalars(select(CaseNote).where(CaseNote.case_id == case.id)).all() == []


def test_the_case_list_sorts_and_pages_on_the_server(worker, client_of, home_agency, app_ctx):
    app_ctx.config["PAGE_SIZE"] = 2
    try:
        for kind, review in ((CaseKind.FRAUD, 30), (CaseKind.ASB, 10), (CaseKind.STALKING, 20)):
            cases.open_case(kind=kind, by=worker, today=today_in_london(),
                            review_on=today_in_london() + dt.timedelta(days=review))
        client = client_of(worker)
        page = Page(client.get("/cases?sort=review"))
        kinds = [row.select("td")[1].text for row in page.select("tbody tr")]
        assert kinds == ["Anti-social behaviour", "Stalking"]
        page = Page(client.get("/cases?sort=review&page=2"))
        assert [row.select("td")[1].text for row in page.select("tbody tr")] == ["Fraud"]
        assert page.select_one(".govuk-pagination") is not None
    finally:
        app_ctx.config["PAGE_SIZE"] = 25


def test_a_note_shows_the_time_it_was_written_in_london_in_summer_and_winter(worker, client_of, home_agency):
    """Times are stored in UTC; the timeline used to show them so, marked "UTC"."""
    person = PersonFactory(owner_agency_id=home_agency.id)
    client = client_of(worker)
    case = _open(client, person, worker)
    for at, body in ((dt.datetime(2026, 1, 7, 8, 30, tzinfo=dt.UTC), "Winter call"),
                     (dt.datetime(2026, 7, 7, 8, 30, tzinfo=dt.UTC), "Summer call")):
        note = CaseNote(case_id=case.id, author_id=worker.id, at=at)
        note.text = body
        db.session.add(note)
    db.session.commit()
    page = Page(client.get(f"/cases/{case.id}"))
    stamps = [p.get_text(" ", strip=True) for p in page.select("#timeline p.govuk-body-s")]
    assert any(s.endswith("7 January 2026, 08:30") for s in stamps), stamps  # GMT
    assert any(s.endswith("7 July 2026, 09:30") for s in stamps), stamps  # BST: an hour ahead of UTC
    assert "UTC" not in page.select_one("#timeline").get_text()
