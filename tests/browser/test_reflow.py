"""Reflow (WCAG 1.4.10): every page of the caseworker's, the HRDA chair's and the manager's journeys,
reached through the pages' links and buttons as in their journey tests, is checked at 320 CSS pixels
(the page does not scroll sideways; a chart's labels are 14 pixels or more) and axe-core finds no
violation on it at 320 pixels or at a desktop's 1280."""

from __future__ import annotations

import datetime as dt

import pytest

from casework.db import db
from casework.measures.periods import today_in_london
from casework.models import Category
from tests.browser.test_caseworker_journey import (  # noqa: F401  (journey_setup is a fixture)
    _add_new_person,
    _axe,
    _fill_date,
    _record_incident,
    _sign_in,
    choose_service,
    journey_setup,
)
from tests.browser.test_hrda_journey import _as, hrda_world  # noqa: F401  (hrda_world is a fixture)

pytestmark = pytest.mark.browser

NARROW, DESKTOP = 320, 1280
# The rendered size of each chart label that shows: its font size in the drawing's units times the
# drawing's scale on the screen.
CHART_LABELS = """() => [...document.querySelectorAll('main svg[role=img]')]
  .filter((svg) => svg.getBoundingClientRect().width > 0)
  .flatMap((svg) => [...svg.querySelectorAll('text')].map(
    (t) => parseFloat(t.getAttribute('font-size')) * svg.getScreenCTM().a))"""


# The innermost elements reaching past the window's right edge: what a failure names.
WIDEST = """() => [...document.querySelectorAll('main *')]
  .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
    && ![...e.children].some((c) => c.getBoundingClientRect().right > document.documentElement.clientWidth + 1))
  .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}: ${e.textContent.trim().slice(0, 60)}`)"""


def follow(page, selector: str) -> None:  # type: ignore[no-untyped-def]
    """Click a link and wait for the page it leads to: a check made before the new page has loaded
    measures the old one, or no document at all."""
    with page.expect_navigation():
        page.click(selector)


def check(page, visited: list[str]) -> None:  # type: ignore[no-untyped-def]
    """The page as it is now: at 320 pixels no sideways scrolling, every chart label 14 pixels or more,
    no axe violation; at 1280 no axe violation."""
    page.wait_for_load_state("load")
    page.set_viewport_size({"width": NARROW, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(WIDEST) if width > NARROW else []
    assert width <= NARROW, f"{page.url} is {width} pixels wide at {NARROW}: {wide}"
    small = [round(size, 1) for size in page.evaluate(CHART_LABELS) if size < 14]
    assert not small, f"{page.url}: chart labels of {small} pixels at {NARROW}"
    _axe(page)
    page.set_viewport_size({"width": DESKTOP, "height": 800})
    assert not [size for size in page.evaluate(CHART_LABELS) if size < 14], page.url
    _axe(page)
    visited.append(page.url)


def test_a_caseworkers_pages_reflow_at_320_pixels(page, journey_setup):  # noqa: F811
    email, password, secret, hrda_name = journey_setup
    seen: list[str] = []
    page.set_viewport_size({"width": DESKTOP, "height": 800})
    _sign_in(page, email, password, secret)
    check(page, seen)  # home
    page.goto("/incidents/new")
    page.click("main button:has-text('Save')")  # nothing filled in: the errors
    page.wait_for_selector(".govuk-error-summary")
    check(page, seen)
    _record_incident(page, today_in_london() - dt.timedelta(days=30))
    check(page, seen)  # the incident
    follow(page, "a:has-text('Add a victim')")
    check(page, seen)  # find a person
    follow(page, "a:has-text('Record a new person')")
    check(page, seen)  # a new person
    page.go_back()
    page.go_back()
    _add_new_person(page, "victim", surname="Whitcombe", forenames="Jayne", born=dt.date(1990, 4, 12),
                    expect_duplicate=True)
    check(page, seen)  # the incident with its victim
    follow(page, "#people a:has-text('Jayne Whitcombe')")
    check(page, seen)  # the person
    follow(page, "#risk-assessments a:has-text('Complete a DASH checklist')")
    check(page, seen)
    for n in range(1, 25):
        page.check(f"input[name=q{n}][value={'yes' if n <= 15 else 'no'}]")
    page.click("button:has-text('Complete the checklist')")
    page.wait_for_selector("#proposal")
    check(page, seen)  # the checklist's result
    follow(page, "#proposal a")
    check(page, seen)  # the referral form
    choose_service(page, hrda_name)
    page.check("input[name=consent][value=given]")
    page.check("input[name=children_in_household][value=yes]")
    page.click("main button:has-text('Make the referral')")
    page.wait_for_url("**/referrals/*")
    check(page, seen)  # the referral
    follow(page, "main a:has-text('Jayne Whitcombe')")
    follow(page, "#cases a:has-text('Open a case')")
    check(page, seen)  # a new case
    page.check("input[name=kind][value=domestic_abuse]")
    _fill_date(page, "review_on", today_in_london() + dt.timedelta(days=14))
    page.click("main button:has-text('Open the case')")
    page.wait_for_url("**/cases/*")
    page.select_option("#incident", index=1)
    page.click("main button:has-text('Link the incident')")
    page.fill("#text", "Spoke to Jayne: staying with her sister")
    page.click("main button:has-text('Add the note')")
    page.fill("#title", "Safety plan review")
    _fill_date(page, "due_on", today_in_london() + dt.timedelta(days=3))
    page.click("main button:has-text('Add the task')")
    page.wait_for_selector("#timeline")
    check(page, seen)  # the case, with an incident, a note and a task
    page.fill("#people #surname", "Whitcombe")
    page.click("#people button:has-text('Search')")
    page.wait_for_url("**/people/find*")
    check(page, seen)  # people to link to the case
    for path in ("/", "/cases", "/incidents", "/referrals?box=sent", "/people?surname=Whitcombe", "/account",
                 "/measures"):
        page.goto(path)
        check(page, seen)
    assert len(seen) == 21


def test_an_hrda_chairs_pages_reflow_at_320_pixels(browser, live_server, hrda_world):  # noqa: F811
    w = hrda_world
    seen: list[str] = []
    context, chair = _as(browser, live_server, w["chair"])
    check(chair, seen)  # home
    chair.goto("/hrda/referrals")
    check(chair, seen)
    follow(chair, f"#queue a:has-text('{w['first']}')")
    check(chair, seen)  # a referral to review
    chair.check("input[name=decision][value=accept]")
    chair.select_option("#meeting", str(w["meeting_id"]))
    chair.click("main button:has-text('Save the decision')")
    chair.wait_for_url(f"**/meetings/{w['meeting_id']}")
    check(chair, seen)  # the meeting, its agenda with the case
    for summary in chair.locator("#agenda > section").nth(0).locator("summary").all():
        summary.click()
    check(chair, seen)  # every part of the case opened (research, minutes, actions)
    chair.goto(f"/meetings/{w['meeting_id']}/agenda")
    check(chair, seen)
    chair.goto(f"/meetings/{w['meeting_id']}/figures")
    check(chair, seen)
    for path in ("/meetings", "/meetings/new", "/hrda/actions", "/hrda/figures", "/hrda-actions", "/"):
        chair.goto(path)
        check(chair, seen)
    context.close()
    context, police = _as(browser, live_server, w["police"])
    police.goto(f"/meetings/{w['meeting_id']}")
    police.locator("#agenda > section").nth(0).locator("summary:has-text('Your agency')").click()
    check(police, seen)  # an invited agency's research form
    context.close()
    assert len(seen) == 14


def test_a_managers_measures_pages_reflow_at_320_pixels(page, live_server, live_user):
    from tests.factories import AgencyFactory
    from tests.integration.test_measures_engine import Records

    with live_server.app.app_context():
        agency = AgencyFactory(name=f"Reflow Measures Agency {dt.datetime.now().timestamp()}")
        records = Records(db.session)
        records.agency = agency
        for month in (5, 6, 7, 11):
            records.incident(dt.date(2024, month, 3), category=Category.ASB, locality="Sturminster Newton")
        db.session.commit()
    email, password, secret = live_user(roles=("manager",), agency=agency)
    seen: list[str] = []
    _sign_in(page, email, password, secret)
    check(page, seen)  # home
    page.goto("/measures?period=2024/25")
    check(page, seen)
    follow(page, "#measure-ASB1 th a")
    page.wait_for_selector("figure svg[role=img]", state="attached")
    check(page, seen)  # a measure: its chart and tables
    follow(page, "[data-figure=current] a")
    page.wait_for_selector("#records")
    check(page, seen)  # the records behind a figure
    assert len(seen) == 4
