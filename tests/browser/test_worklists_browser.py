"""Work lists in the browser (issue 14 §5), through the pages' links and buttons: a caseworker's home
page, their whole list of cases, the cases list searched by a person's name and the incidents list
filtered; a manager's team page handing cases to another caseworker, who is told on their home page.
Each new page is checked with axe and at 320 CSS pixels (no sideways scrolling)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from casework.db import db
from casework.measures.periods import today_in_london
from casework.models import Case, CaseKind, CasePerson, CaseStatus, CaseTask, Category, PartyRole
from tests.browser.test_caseworker_journey import _sign_in
from tests.browser.test_reflow import check

pytestmark = pytest.mark.browser


def _world(live_server):  # type: ignore[no-untyped-def]
    from tests.factories import AgencyFactory, IncidentFactory, PartyFactory, PersonFactory
    from tests.fixtures_auth import PASSWORD, make_user

    with live_server.app.app_context():
        agency = AgencyFactory(name=f"Work Lists Agency {dt.datetime.now().timestamp()}")
        manager = make_user(roles=("manager",), agency=agency)
        ann, bob = make_user(agency=agency), make_user(agency=agency)
        ann.name, bob.name, manager.name = "Ann Worker", "Bob Worker", "Mia Manager"
        today = today_in_london()
        for n in range(30):
            person = PersonFactory(owner_agency_id=agency.id, forenames="Pat", surname=f"Longsurname{n:02d}son")
            case = Case(kind=CaseKind.DOMESTIC_ABUSE, status=CaseStatus.OPEN, owner_agency_id=agency.id,
                        caseworker_id=ann.id, review_on=today + dt.timedelta(days=n % 12 - 5))
            db.session.add(case)
            db.session.flush()
            db.session.add(CasePerson(case_id=case.id, person_id=person.id, role=PartyRole.VICTIM))
            task = CaseTask(case_id=case.id, due_on=today + dt.timedelta(days=n % 3 - 1), owner_id=ann.id)
            task.title = f"Call Pat about the safety plan {n}"
            db.session.add(task)
            incident = IncidentFactory(owner_agency_id=agency.id, occurred_on=dt.date(2025, 5, 1 + n % 28),
                                       category=Category.CRIMINAL_DAMAGE if n % 2 else Category.ASB,
                                       locality="Weymouth")
            PartyFactory(incident=incident, person=person, role=PartyRole.VICTIM)
        db.session.commit()
        return {name: (u.email, PASSWORD, u.totp_secret) for name, u in
                (("manager", manager), ("ann", ann), ("bob", bob))}


def _as(browser, live_server, user):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.set_viewport_size({"width": 1280, "height": 800})
    _sign_in(page, *user)
    return context, page


def test_work_lists_and_handing_cases_on_through_the_pages(browser, live_server):
    users = _world(live_server)
    seen: list[str] = []

    context, ann = _as(browser, live_server, users["ann"])
    assert ann.locator("#my-cases tbody tr").count() == 25
    assert "Longsurname00son" in ann.locator("#my-cases tbody tr").first.inner_text()  # the most overdue first
    assert "Pat Longsurname" in ann.locator("#tasks li").first.inner_text()
    check(ann, seen)  # home
    ann.click("#my-cases a:has-text('See all 30 your open cases')")
    ann.wait_for_selector("h1:has-text('Your open cases (30)')")
    check(ann, seen)  # the whole list
    ann.click(".govuk-pagination__next a")
    assert ann.locator("tbody tr").count() == 5
    ann.click("a.govuk-back-link")
    ann.click("#reviews a:has-text('See all')")
    ann.wait_for_selector("h1:has-text('Reviews due and overdue')")
    check(ann, seen)
    ann.goto("/")
    ann.click("#tasks a:has-text('See all')")
    ann.wait_for_selector("h1:has-text('Tasks due')")
    check(ann, seen)
    ann.click("header a:has-text('Cases'), nav a:has-text('Cases')")
    ann.fill("#surname", "Longsurname07son")
    ann.select_option("#status", "open")
    ann.click("button:has-text('Show cases')")
    ann.wait_for_selector("#results:has-text('1 case')")
    assert "surname=Longsurname07son" in ann.url and "status=open" in ann.url
    assert "Pat Longsurname07son" in ann.locator("tbody").inner_text()
    check(ann, seen)  # the cases list, searched
    ann.fill("#surname", "")
    ann.select_option("#status", "")
    ann.check("#overdue")
    ann.click("button:has-text('Show cases')")
    ann.wait_for_selector("#results:has-text('15 cases')")
    ann.click("header a:has-text('Incidents'), nav a:has-text('Incidents')")
    ann.fill("#since-day", "1")
    ann.fill("#since-month", "5")
    ann.fill("#since-year", "2025")
    ann.fill("#until-day", "10")
    ann.fill("#until-month", "5")
    ann.fill("#until-year", "2025")
    ann.select_option("#category", "criminal_damage")
    ann.click("button:has-text('Show incidents')")
    ann.wait_for_selector("#results")
    assert "category=criminal_damage" in ann.url
    check(ann, seen)  # the incidents list, filtered
    ann.fill("#until-year", "2024")
    ann.click("button:has-text('Show incidents')")
    ann.wait_for_selector(".govuk-error-summary")
    check(ann, seen)  # a date range that ends before it starts
    context.close()

    context, manager = _as(browser, live_server, users["manager"])
    manager.click("#team-summary a")
    manager.wait_for_selector("h1:has-text('Your team')")
    check(manager, seen)  # the team page
    manager.click("#team a:has-text('Ann Worker')")
    manager.wait_for_selector("h1:has-text(\"Ann Worker's open cases (30)\")")
    check(manager, seen)  # a caseworker's cases
    manager.click("button:has-text('Hand on the selected cases')")
    manager.wait_for_selector(".govuk-error-summary")
    check(manager, seen)  # nothing selected
    manager.locator("tbody input[type=checkbox]").nth(0).check()
    manager.locator("tbody input[type=checkbox]").nth(1).check()
    manager.select_option("#to", label="Bob Worker")
    manager.click("button:has-text('Hand on the selected cases')")
    manager.wait_for_selector("text=2 cases handed to Bob Worker")
    assert "(28)" in manager.locator("h1").inner_text()
    context.close()

    context, bob = _as(browser, live_server, users["bob"])
    told = bob.locator("#handed-to-me")
    assert told.locator("li").count() == 2 and "handed to you by Mia Manager" in told.inner_text()
    check(bob, seen)  # home with the cases handed over
    bob.click("button:has-text('I have seen these cases')")
    bob.wait_for_selector("text=Cases handed to you marked as seen")
    assert bob.locator("#handed-to-me").count() == 0
    assert bob.locator("#my-cases tbody tr").count() == 2
    context.close()
    assert len(seen) == 11


def test_asking_another_agency_to_share_a_record_through_the_pages(browser, live_server):
    from tests.factories import AgencyFactory, PersonFactory
    from tests.fixtures_auth import PASSWORD, make_user

    stamp = uuid.uuid4().hex[:6]
    with live_server.app.app_context():
        asking, owning = AgencyFactory(name=f"Asking Agency {stamp}"), AgencyFactory(name=f"Owning Agency {stamp}")
        asker = make_user(agency=asking)
        manager = make_user(roles=("manager",), agency=owning)
        PersonFactory(owner_agency_id=owning.id, forenames="Cara", surname="Sharewanted")
        db.session.commit()
        users = {name: (u.email, PASSWORD, u.totp_secret) for name, u in (("asker", asker), ("manager", manager))}
    seen: list[str] = []

    context, page = _as(browser, live_server, users["asker"])
    page.click("header a:has-text('People'), nav a:has-text('People')")
    page.fill("#surname", "Sharewanted")
    page.click("main button:has-text('Search')")
    page.click("a:has-text('ask them to share the record')")
    page.wait_for_selector("h1:has-text('Ask Owning Agency')")
    check(page, seen)  # the request form
    page.click("button:has-text('Send the request')")
    page.wait_for_selector(".govuk-error-summary")
    check(page, seen)  # no reason given
    page.fill("#reason", "She is a victim in our stalking case")
    page.click("button:has-text('Send the request')")
    page.wait_for_selector("#my-share-requests")
    assert "Waiting" in page.locator("#my-share-requests").inner_text()
    check(page, seen)  # home with the request waiting
    context.close()

    context, boss = _as(browser, live_server, users["manager"])
    boss.click("#share-requests a")
    boss.wait_for_selector("h1:has-text('asks you to share a record')")
    check(boss, seen)  # the decision page
    boss.check("input[value=decline]")
    boss.click("button:has-text('Save the decision')")
    boss.wait_for_selector(".govuk-error-summary")
    check(boss, seen)  # declined without a reason
    boss.check("input[value=accept]")
    boss.click("button:has-text('Save the decision')")
    boss.wait_for_selector("text=The record is now shared with Asking Agency")
    assert boss.locator("#share-requests").count() == 0
    context.close()
    assert len(seen) == 5
