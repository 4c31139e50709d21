"""The caseworker's work lists (issue 14 §5): open cases naming their people, overdue first; reviews
and tasks naming the person; each list paged at 25 on the home page with a link to the whole list;
a page's statement count does not grow with its rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from casework.db import db
from casework.measures.periods import today_in_london
from casework.models import Case, CaseKind, CasePerson, CaseStatus, CaseTask, PartyRole
from tests.conftest import Page
from tests.factories import AgencyFactory, PersonFactory
from tests.fixtures_auth import make_user, sign_in


def _case(agency, worker, *, kind=CaseKind.STALKING, review_in=None, people=(),  # type: ignore[no-untyped-def]
          status=CaseStatus.OPEN) -> Case:
    case = Case(kind=kind, owner_agency_id=agency.id, caseworker_id=worker.id if worker else None, status=status,
                review_on=today_in_london() + dt.timedelta(days=review_in) if review_in is not None else None)
    db.session.add(case)
    db.session.flush()
    for person in people:
        db.session.add(CasePerson(case_id=case.id, person_id=person.id, role=PartyRole.VICTIM))
    db.session.flush()
    return case


def _task(case, owner, *, due_in, title="Phone the housing officer") -> CaseTask:  # type: ignore[no-untyped-def]
    task = CaseTask(case_id=case.id, due_on=today_in_london() + dt.timedelta(days=due_in), owner_id=owner.id)
    task.title = title
    db.session.add(task)
    db.session.flush()
    return task


@contextmanager
def counting(app) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    engine = app.extensions["casework.engine"]
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def test_home_lists_open_cases_with_their_people_overdue_first(app_ctx, home_agency):
    me = make_user(agency=home_agency)
    ann = PersonFactory(owner_agency_id=home_agency.id, forenames="Ann", surname="Hardy")
    bob = PersonFactory(owner_agency_id=home_agency.id, forenames="Bob", surname="Dent")
    none_set = _case(home_agency, me, kind=CaseKind.FRAUD, people=[bob])
    later = _case(home_agency, me, kind=CaseKind.ASB, review_in=20, people=[bob])
    overdue = _case(home_agency, me, kind=CaseKind.STALKING, review_in=-3, people=[ann, bob])
    more_overdue = _case(home_agency, me, kind=CaseKind.RURAL_CRIME, review_in=-10)
    _case(home_agency, me, review_in=-30, people=[ann], status=CaseStatus.CLOSED)
    db.session.commit()
    page = Page(sign_in(app_ctx, me).get("/"))
    rows = page.select("#my-cases tbody tr")
    assert [r.select_one("a")["href"] for r in rows] == [
        f"/cases/{c.id}" for c in (more_overdue, overdue, later, none_set)]
    cells = [c.text.strip() for c in rows[1].select("td")]
    assert cells[0].startswith(CaseKind.STALKING.label)
    assert cells[1] == "Ann Hardy, Bob Dent" and "Overdue" in cells[3]
    assert [a["href"] for a in rows[1].select("td")[1].select("a")] == [f"/people/{ann.id}", f"/people/{bob.id}"]
    assert rows[0].select("td")[1].text.strip() == "No one linked"
    assert "Your open cases (4)" in page.select_one("#my-cases h2").text


def test_another_agencys_person_is_named_by_identity_only_and_a_restricted_one_not_at_all(app_ctx, home_agency):
    me, other_agency = make_user(agency=home_agency), AgencyFactory()
    theirs = PersonFactory(owner_agency_id=other_agency.id, forenames="Cara", surname="Lowe")
    hidden = PersonFactory(owner_agency_id=other_agency.id, forenames="Dora", surname="Secret", restricted=True)
    _case(home_agency, me, review_in=1, people=[theirs, hidden])
    db.session.commit()
    page = Page(sign_in(app_ctx, me).get("/"))
    cell = page.select_one("#my-cases tbody td:nth-of-type(2)")
    assert cell.text.strip() == "Cara Lowe, A restricted person"
    assert cell.select("a") == []
    assert "Secret" not in page.text and "Dora" not in page.text


def test_reviews_and_tasks_name_the_person(app_ctx, home_agency):
    me = make_user(agency=home_agency)
    ann = PersonFactory(owner_agency_id=home_agency.id, forenames="Ann", surname="Hardy")
    case = _case(home_agency, me, kind=CaseKind.DOMESTIC_ABUSE, review_in=-1, people=[ann])
    _task(case, me, due_in=-2)
    db.session.commit()
    page = Page(sign_in(app_ctx, me).get("/"))
    review = page.select_one("#reviews li")
    assert review.select_one("a").text.strip() == "Domestic abuse case about Ann Hardy"
    assert "Overdue" in review.text
    task = page.select_one("#tasks li")
    assert "Phone the housing officer" in task.text and "(Ann Hardy)" in task.text and "Overdue" in task.text


def test_each_list_shows_25_on_the_home_page_and_links_to_the_whole_list(app_ctx, home_agency):
    me = make_user(agency=home_agency)
    person = PersonFactory(owner_agency_id=home_agency.id)
    made = [_case(home_agency, me, review_in=-40 + n, people=[person]) for n in range(30)]
    for case in made:
        _task(case, me, due_in=1)
    db.session.commit()
    client = sign_in(app_ctx, me)
    page = Page(client.get("/"))
    for section, endpoint in (("my-cases", "/my-work/cases"), ("reviews", "/my-work/reviews"),
                              ("tasks", "/my-work/tasks")):
        shown = page.select(f"#{section} tbody tr") or page.select(f"#{section} li")
        assert len(shown) == 25, section
        link = page.select_one(f"#{section} a[href='{endpoint}']")
        assert link is not None and "See all 30" in link.text
    whole = Page(client.get("/my-work/cases"))
    assert whole.status_code == 200 and whole.h1 == "Your open cases (30)"
    assert len(whole.select("tbody tr")) == 25
    second = Page(client.get(whole.select_one(".govuk-pagination__next a")["href"]))
    assert [r.select_one("a")["href"] for r in second.select("tbody tr")] == [f"/cases/{c.id}" for c in made[25:]]
    tasks = Page(client.get("/my-work/tasks?page=2"))
    assert len(tasks.select("main ul.govuk-list li")) == 5 and tasks.h1 == "Tasks due (30)"


def test_few_cases_and_many_cases_take_the_same_statements(app_ctx, home_agency):
    me, other_agency = make_user(agency=home_agency), AgencyFactory()

    def add(n: int) -> None:
        for _ in range(n):
            mine = PersonFactory(owner_agency_id=home_agency.id)
            theirs = PersonFactory(owner_agency_id=other_agency.id)
            case = _case(home_agency, me, review_in=-1, people=[mine, theirs])
            _task(case, me, due_in=0)
        db.session.commit()

    client = sign_in(app_ctx, me)
    add(2)
    client.get("/")  # warm: the first request loads what every request shares
    with counting(app_ctx) as few:
        assert client.get("/").status_code == 200
    add(20)
    with counting(app_ctx) as many:
        assert len(Page(client.get("/")).select("#my-cases tbody tr")) == 22
    assert len(many) == len(few)
    with counting(app_ctx) as listed:
        assert client.get("/my-work/cases").status_code == 200
    add(1)
    with counting(app_ctx) as listed_more:
        assert client.get("/my-work/cases").status_code == 200
    assert len(listed) == len(listed_more)


def test_only_those_with_work_lists_see_them(app_ctx, home_agency):
    manager = sign_in(app_ctx, make_user(roles=("manager",), agency=home_agency))
    assert manager.get("/my-work/cases").status_code == 403


def _recommendations(agency, *, count: int, first_due: dt.date, done: int = 0) -> None:  # type: ignore[no-untyped-def]
    from casework.models import ActionStatus, Applicant, AsbRecommendation, AsbReview, ThresholdDecision

    today = today_in_london()
    review = AsbReview(review_ref=f"ASB-WL-{count}-{first_due:%m%d}", person_id=PersonFactory().id,
                       received_on=today - dt.timedelta(days=90), receiving_agency_id=agency.id,
                       applicant=Applicant.VICTIM, behaviour="Noise", decision=ThresholdDecision.MET,
                       decided_on=today - dt.timedelta(days=80), review_held_on=today - dt.timedelta(days=60))
    db.session.add(review)
    db.session.flush()
    for i in range(count + done):
        db.session.add(AsbRecommendation(review_id=review.id, text=f"Recommendation {i:02d}", owner_agency_id=agency.id,
                                         due_on=first_due + dt.timedelta(days=i),
                                         status=ActionStatus.DONE if i >= count else ActionStatus.OPEN))
    db.session.flush()


def test_the_owner_agency_recommendations_are_a_work_list_on_its_home_page_paged_overdue_first(app_ctx, home_agency):
    from casework.services import worklists

    today = today_in_london()
    housing = AgencyFactory(name="Homes Housing")
    worker = make_user(agency=housing)
    _recommendations(housing, count=27, first_due=today - dt.timedelta(days=2), done=3)
    _recommendations(home_agency, count=1, first_due=today)  # another agency's
    db.session.commit()

    listing = worklists.asb_recommendations(worker, today=today)
    assert (listing.total, len(listing.rows), listing.pages, listing.more) == (27, 25, 2, True)
    assert [r.overdue for r in listing.rows[:3]] == [True, True, False]
    assert listing.rows[0].review_ref.startswith("ASB-WL-27")

    client = sign_in(app_ctx, worker)
    section = Page(client.get("/")).select_one("#asb-recommendations")
    assert section.select_one("h2").text == "ASB case review recommendations for your agency (27)"
    items = [li.get_text(" ", strip=True) for li in section.select("li")]
    assert len(items) == 25
    assert items[0].startswith("Overdue Recommendation 00 (application ASB-WL-27")
    assert section.select_one("a[href='/asb-reviews/recommendations']").text == (
        "See all 27 recommendations for your agency")
    second = Page(client.get("/asb-reviews/recommendations?page=2"))
    assert [td.text for td in second.select("tbody tr td:first-child")] == ["Recommendation 25", "Recommendation 26"]
    assert "(page 2 of 2)" in second.select_one("title").text

    other = sign_in(app_ctx, make_user(agency=AgencyFactory(name="Nobody's")))
    assert Page(other.get("/")).select_one("#asb-recommendations") is None
    assert "Your agency has no open recommendations." in Page(other.get("/asb-reviews/recommendations")).text


def test_a_page_past_the_end_of_a_list_shows_the_last_page(app_ctx, home_agency):
    """However large the number in the address (one that no database takes as an offset included)."""
    me = make_user(agency=home_agency)
    made = [_case(home_agency, me, review_in=-40 + n) for n in range(30)]
    db.session.commit()
    client = sign_in(app_ctx, me)
    for asked in ("3", "99", str(10**19), str(2**63)):
        page = Page(client.get(f"/my-work/cases?page={asked}"))
        assert page.status_code == 200, asked
        assert page.h1 == "Your open cases (30)"
        assert [r.select_one("a")["href"] for r in page.select("tbody tr")] == [f"/cases/{c.id}" for c in made[25:]]
