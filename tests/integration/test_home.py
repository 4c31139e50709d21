"""The caseworker's home page: open cases, reviews due and overdue, tasks due, referrals awaiting
a decision, decisions on their referrals; other roles keep the start page."""

from __future__ import annotations

import datetime as dt

from casework.db import db
from casework.measures.periods import today_in_london
from casework.models import (
    Case,
    CaseKind,
    CaseStatus,
    CaseTask,
    Category,
    ReferralStatus,
    ReferralType,
)
from tests.conftest import Page
from tests.factories import AgencyFactory, PersonFactory, ReferralFactory, routed
from tests.fixtures_auth import make_user, sign_in


def _case(agency, worker, *, kind, review_in=None, status=CaseStatus.OPEN) -> Case:  # type: ignore[no-untyped-def]
    case = Case(kind=kind, owner_agency_id=agency.id, caseworker_id=worker.id if worker else None, status=status,
                review_on=today_in_london() + dt.timedelta(days=review_in) if review_in is not None else None)
    db.session.add(case)
    db.session.flush()
    return case


def test_the_caseworker_home_lists_their_work(app_ctx, home_agency):
    me, colleague = make_user(agency=home_agency), make_user(agency=home_agency)
    overdue = _case(home_agency, me, kind=CaseKind.STALKING, review_in=-2)
    later = _case(home_agency, me, kind=CaseKind.FRAUD, review_in=40)
    _case(home_agency, me, kind=CaseKind.ASB, review_in=-5, status=CaseStatus.CLOSED)
    theirs = _case(home_agency, colleague, kind=CaseKind.RURAL_CRIME, review_in=1)
    task = CaseTask(case_id=later.id, due_on=today_in_london() + dt.timedelta(days=2), owner_id=me.id)
    task.title = "Phone the housing officer"
    far = CaseTask(case_id=later.id, due_on=today_in_london() + dt.timedelta(days=30), owner_id=me.id)
    far.title = "Quarterly check"
    db.session.add_all([task, far])
    person = PersonFactory(owner_agency_id=home_agency.id)
    routed(ReferralType.IDVA, home_agency)
    routed(ReferralType.HRDA, home_agency)
    waiting = ReferralFactory(person_id=person.id, type=ReferralType.IDVA, receiving_agency_id=home_agency.id,
                              owner_agency_id=AgencyFactory().id, referred_on=today_in_london())
    ReferralFactory(person_id=person.id, type=ReferralType.HRDA, receiving_agency_id=home_agency.id,
                    owner_agency_id=home_agency.id)  # HRDA: for a chair, not a caseworker
    db.session.commit()
    page = Page(sign_in(app_ctx, me).get("/"))
    assert page.h1 == "Casework"
    assert [a["href"] for a in page.select("#my-cases tbody a")] == [f"/cases/{overdue.id}", f"/cases/{later.id}"]
    reviews = page.select_one("#reviews")
    assert f"/cases/{overdue.id}" in [a["href"] for a in reviews.select("a")] and "Overdue" in reviews.text
    assert f"/cases/{later.id}" not in [a["href"] for a in reviews.select("a")]
    assert f"/cases/{theirs.id}" not in [a["href"] for a in reviews.select("a")]
    tasks = page.select_one("#tasks").text
    assert "Phone the housing officer" in tasks and "Quarterly check" not in tasks
    assert [a["href"] for a in page.select("#awaiting a")] == [f"/referrals/{waiting.id}"]


def test_the_administrator_keeps_the_start_page(app_ctx, home_agency):
    page = Page(sign_in(app_ctx, make_user(roles=("admin",), agency=home_agency)).get("/"))
    assert page.status_code == 200 and page.h1 == "Casework"
    assert page.select_one("#my-cases") is None and page.select_one("#worsened") is None
    assert "Multi-agency case coordination" in page.text


def test_the_manager_home_shows_worsened_measures_overdue_reviews_and_waiting_referrals_first(app_ctx, home_agency):
    """It was one sentence."""
    from casework.services.measure_pages import current_period
    from tests.integration.test_measures_engine import Records

    last_year = current_period().previous
    mine = Records(db.session)
    mine.agency = home_agency
    mine.incident(last_year.previous.first_day, category=Category.ASB)
    for _ in range(3):  # ASB1 (to reduce) rose from 1 to 3: worsened
        mine.incident(last_year.first_day, category=Category.ASB)
    worker = make_user(agency=home_agency)
    overdue = _case(home_agency, worker, kind=CaseKind.STALKING, review_in=-9)
    _case(home_agency, worker, kind=CaseKind.ASB, review_in=3)  # not yet due
    _case(AgencyFactory(), None, kind=CaseKind.FRAUD, review_in=-30)  # another agency's
    person = PersonFactory(owner_agency_id=home_agency.id)
    waiting = ReferralFactory(person_id=person.id, type=ReferralType.IDVA, receiving_agency_id=home_agency.id,
                              owner_agency_id=AgencyFactory(name="Dorset Police").id,
                              referred_on=today_in_london() - dt.timedelta(days=4))
    ReferralFactory(person_id=person.id, type=ReferralType.MAPPA, receiving_agency_id=home_agency.id,
                    owner_agency_id=home_agency.id, status=ReferralStatus.ACCEPTED)  # decided
    db.session.commit()
    page = Page(sign_in(app_ctx, make_user(roles=("manager",), agency=home_agency)).get("/"))
    assert page.status_code == 200
    worsened = page.select_one("#worsened")
    assert "ASB1" in " ".join(a["href"] for a in worsened.select("li a"))
    assert "Anti-social behaviour reported to the police" in worsened.text
    reviews = page.select_one("#overdue-reviews")
    assert [a["href"] for a in reviews.select("li a")] == [f"/cases/{overdue.id}"]
    assert overdue.reference in reviews.text and "9 days ago" in reviews.text
    assert reviews.select_one("li a .app-reference").text == overdue.reference  # never broken at its hyphens
    referrals_waiting = page.select_one("#waiting")
    assert [a["href"] for a in referrals_waiting.select("li a")] == [f"/referrals/{waiting.id}"]
    assert "Dorset Police, waiting 4 days" in referrals_waiting.text


def test_a_referral_already_decided_leaves_the_queue(app_ctx, home_agency):
    me = make_user(agency=home_agency)
    routed(ReferralType.MAPPA, home_agency)
    person = PersonFactory(owner_agency_id=home_agency.id)
    ReferralFactory(person_id=person.id, type=ReferralType.MAPPA, receiving_agency_id=home_agency.id,
                    owner_agency_id=home_agency.id, status=ReferralStatus.ACCEPTED)
    db.session.commit()
    assert Page(sign_in(app_ctx, me).get("/")).select("#awaiting tbody tr") == []


def test_the_manager_sees_what_needs_attention_before_the_partnership_links(app_ctx, home_agency):
    page = Page(sign_in(app_ctx, make_user(roles=("manager",), agency=home_agency)).get("/"))
    ids = [section["id"] for section in page.select("section[id]")]
    assert "partnership" in ids and "worsened" in ids
    assert ids.index("worsened") < ids.index("waiting") < ids.index("partnership")


def test_a_caseworker_sees_their_own_work_before_the_agencys_and_the_partnerships_sections(app_ctx, home_agency):
    # A caseworker with 150 open cases opens the page for them: the links to reviews after a death,
    # the agency's orders and the like come after their work (a manager's order is the test above's).
    from casework.models import OrderKind, OrderStatus
    from casework.services import orders

    me = make_user(agency=home_agency)
    _case(home_agency, me, kind=CaseKind.STALKING, review_in=-2)
    today = today_in_london()
    orders.record(PersonFactory(owner_agency_id=home_agency.id),
                  orders.OrderDetails(kind=OrderKind.CBO, agency_id=home_agency.id, status=OrderStatus.IN_FORCE,
                                      issued_on=today - dt.timedelta(days=100), review_on=today + dt.timedelta(days=3)),
                  by=me, today=today)
    db.session.commit()
    page = Page(sign_in(app_ctx, me).get("/"))
    ids = [section["id"] for section in page.select("section[id]")]
    assert ids.index("awaiting") < ids.index("my-cases") < ids.index("decisions") < ids.index("orders-due"), ids
