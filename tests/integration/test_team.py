"""A manager's team page (issue 14 §5): each caseworker's open cases, overdue reviews and overdue tasks
for the manager's agency; handing selected cases to another caseworker in one step, all or none,
audited, and the new caseworker told on their home page."""

from __future__ import annotations

from sqlalchemy import select

from casework.db import db
from casework.models import AuditEntry, Case, CaseHandover, CaseKind, CaseStatus
from tests.conftest import Page
from tests.factories import AgencyFactory, PersonFactory
from tests.fixtures_auth import make_user, sign_in
from tests.integration.test_worklists import _case, _task, counting


def _team(home_agency):  # type: ignore[no-untyped-def]
    manager = make_user(roles=("manager",), agency=home_agency)
    ann, bob = make_user(agency=home_agency), make_user(agency=home_agency)
    ann.name, bob.name = "Ann Worker", "Bob Worker"
    outsider = make_user(agency=AgencyFactory())
    return manager, ann, bob, outsider


def test_the_team_page_counts_each_caseworkers_work(app_ctx, home_agency):
    manager, ann, _, outsider = _team(home_agency)
    late = _case(home_agency, ann, review_in=-3)
    _case(home_agency, ann, review_in=4)
    _case(home_agency, ann, review_in=-9, status=CaseStatus.CLOSED)
    _task(late, ann, due_in=-1)
    _task(late, ann, due_in=2)
    _case(AgencyFactory(), outsider, review_in=-3)
    db.session.commit()
    page = Page(sign_in(app_ctx, manager).get("/team"))
    assert page.h1 == "Your team"
    rows = {r.select_one("th").text.strip(): [c.text.strip() for c in r.select("td")] for r in page.select("#team tbody tr")}
    assert rows == {"Ann Worker": ["2", "1", "1"], "Bob Worker": ["0", "0", "0"]}
    assert page.select_one(f"#team a[href='/team/{ann.id}']") is not None
    home = Page(sign_in(app_ctx, manager).get("/"))
    assert "2 caseworkers, 2 open cases, 1 overdue reviews, 1 overdue tasks" in home.select_one("#team-summary").text


def test_a_manager_hands_selected_cases_on_and_the_new_caseworker_is_told(app_ctx, home_agency):
    manager, ann, bob, _ = _team(home_agency)
    person = PersonFactory(owner_agency_id=home_agency.id, forenames="Cara", surname="Lowe")
    first = _case(home_agency, ann, kind=CaseKind.FRAUD, review_in=-2, people=[person])
    second = _case(home_agency, ann, kind=CaseKind.ASB, review_in=3)
    kept = _case(home_agency, ann, kind=CaseKind.STALKING, review_in=5)
    db.session.commit()
    client = sign_in(app_ctx, manager)
    page = Page(client.get(f"/team/{ann.id}"))
    assert page.h1 == "Ann Worker's open cases (3)"
    assert [o.text for o in page.select("#to option")] == ["Select a caseworker", "Bob Worker"]
    response = client.post(f"/team/{ann.id}", data={"cases": [str(first.id), str(second.id)], "to": str(bob.id)})
    assert response.status_code == 302
    after = Page(client.get(response.headers["Location"]))
    assert "2 cases handed to Bob Worker" in after.text and after.h1 == "Ann Worker's open cases (1)"
    db.session.expire_all()
    assert {c.id: c.caseworker_id for c in db.session.scalars(select(Case))} == {
        first.id: bob.id, second.id: bob.id, kept.id: ann.id}
    audited = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "case.reassign")))
    assert {a.record_id for a in audited} == {first.id, second.id} and {a.user_id for a in audited} == {manager.id}
    bobs = sign_in(app_ctx, bob)
    home = Page(bobs.get("/"))
    told = home.select_one("#handed-to-me")
    assert "Fraud case about Cara Lowe" in told.text and "handed to you by Test User" in told.text
    assert len(told.select("li")) == 2
    seen = bobs.post("/my-work/handed-to-me/seen", data={})
    assert seen.status_code == 302
    assert Page(bobs.get("/")).select_one("#handed-to-me") is None


def test_handing_on_refuses_what_cannot_be_done_and_changes_nothing(app_ctx, home_agency):
    manager, ann, bob, outsider = _team(home_agency)
    mine = _case(home_agency, ann, review_in=1)
    bobs = _case(home_agency, bob, review_in=1)
    db.session.commit()
    client = sign_in(app_ctx, manager)
    for data, message in (
            ({"to": str(bob.id)}, "Select at least one case to hand on"),
            ({"cases": [str(mine.id)]}, "Select the caseworker to hand the cases to"),
            ({"cases": [str(mine.id)], "to": str(outsider.id)}, "Select the caseworker to hand the cases to"),
            ({"cases": [str(mine.id)], "to": str(ann.id)},
             "Select a caseworker other than the one who has the cases now"),
            ({"cases": [str(mine.id), str(bobs.id)], "to": str(bob.id)},
             "Some of the selected cases are no longer this caseworker's open cases"),
            ({"cases": [str(mine.id), "not-an-id"], "to": str(bob.id)},
             "Some of the selected cases are no longer this caseworker's open cases")):
        page = Page(client.post(f"/team/{ann.id}", data=data))
        assert page.status_code == 400, data
        assert message in page.select_one(".govuk-error-summary").text, data
    db.session.expire_all()
    assert db.session.get(Case, mine.id).caseworker_id == ann.id
    assert db.session.get(Case, bobs.id).caseworker_id == bob.id
    assert db.session.scalars(select(CaseHandover)).all() == []
    assert client.get(f"/team/{outsider.id}").status_code == 404


def test_only_a_manager_has_a_team_page(app_ctx, home_agency):
    _, ann, _, _ = _team(home_agency)
    db.session.commit()
    assert sign_in(app_ctx, ann).get("/team").status_code == 403


def test_the_team_page_takes_the_same_statements_for_a_small_and_a_large_team(app_ctx, home_agency):
    manager, *_ = _team(home_agency)
    db.session.commit()
    client = sign_in(app_ctx, manager)
    client.get("/team")
    with counting(app_ctx) as few:
        assert client.get("/team").status_code == 200
    for _ in range(10):
        worker = make_user(agency=home_agency)
        _task(_case(home_agency, worker, review_in=-1), worker, due_in=-1)
    db.session.commit()
    with counting(app_ctx) as many:
        assert len(Page(client.get("/team")).select("#team tbody tr")) == 12
    assert len(many) == len(few)


def test_the_open_cases_and_their_overdue_reviews_are_counted_in_one_pass(app_ctx, home_agency):
    """Two grouped counts in all: the cases once (open, and of those overdue for review), the tasks once.
    At the 1M demo each pass reads the agency's 18,000 cases, 5 ms on every manager's home page."""
    import datetime as dt

    from casework.services import team

    manager, ann, bob, _ = _team(home_agency)
    _task(_case(home_agency, ann, review_in=-3), ann, due_in=-1)
    _case(home_agency, ann, review_in=4)
    _case(home_agency, bob, review_in=-1)
    db.session.commit()
    with counting(app_ctx) as statements:
        found = {w.name: (w.open_cases, w.overdue_reviews, w.overdue_tasks)
                 for w in team.workload(manager, today=dt.date.today())}
    assert found == {"Ann Worker": (2, 1, 1), "Bob Worker": (1, 1, 0)}
    assert len([s for s in statements if "GROUP BY" in s]) == 2
