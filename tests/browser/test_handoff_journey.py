"""The whole HRDA handoff in Chromium, as its users walk it from the pages' links and buttons (no
address typed but the sign-in page's): a caseworker refers a victim on their case to HRDA; the chair
finds it in the queue, accepts it onto a meeting, starts the meeting and agrees an action for the
referrer's agency; the caseworker sees the decision on their home page, the meeting and the action on
the referral, and the action on the case's chronology. axe-core checks every page."""

from __future__ import annotations

import datetime as dt

import pytest

from casework.db import db
from casework.measures.periods import today_in_london
from tests.browser.test_caseworker_journey import refer_to_hrda
from tests.browser.test_hrda_journey import _as, _axe, _fill_date

pytestmark = pytest.mark.browser


@pytest.fixture()
def handoff_world(live_server):  # type: ignore[no-untyped-def]
    """Police (a caseworker with an open case of a victim), the HRDA team (its chair, HRDA routed to
    it, a meeting tomorrow inviting police and housing) and housing."""
    from casework.models import AgencyKind, Case, CaseKind, CasePerson, CaseStatus, PartyRole
    from casework.services import meetings
    from tests.factories import AgencyFactory, PersonFactory, routed
    from tests.fixtures_auth import PASSWORD, make_user

    stamp = int(dt.datetime.now().timestamp() * 1000)
    today = today_in_london()
    with live_server.app.app_context():
        police = AgencyFactory(name=f"Handoff Police {stamp}", kind=AgencyKind.POLICE)
        housing = AgencyFactory(name=f"Handoff Housing {stamp}", kind=AgencyKind.HOUSING)
        team = AgencyFactory(name=f"Handoff HRDA {stamp}", kind=AgencyKind.COUNCIL)
        chair = make_user(roles=("hrda_chair",), agency=team)
        routed("hrda", team)
        worker = make_user(agency=police)
        person = PersonFactory(owner_agency_id=police.id, forenames="Nia", surname=f"Handoff{stamp}")
        case = Case(kind=CaseKind.DOMESTIC_ABUSE, status=CaseStatus.OPEN, owner_agency_id=police.id,
                    caseworker_id=worker.id, review_on=today + dt.timedelta(days=14))
        db.session.add(case)
        db.session.flush()
        db.session.add(CasePerson(case_id=case.id, person_id=person.id, role=PartyRole.VICTIM))
        meetings.schedule(day=today + dt.timedelta(days=1), time=dt.time(10), place="Room 3", online=False,
                          agencies=[police, housing], by=chair, today=today)
        db.session.commit()
        return {"victim": person.display_name, "police": police.name, "team": team.name, "today": today,
                "worker": (worker.email, PASSWORD, worker.totp_secret),
                "chair": (chair.email, PASSWORD, chair.totp_secret)}


def test_an_hrda_referral_is_made_received_heard_and_its_action_comes_back_to_the_referrer(
        browser, live_server, handoff_world):
    w = handoff_world
    victim = w["victim"]

    # The caseworker refers the victim on their case, from their home page.
    context, worker = _as(browser, live_server, w["worker"])
    _axe(worker)
    worker.locator("#my-cases tr").filter(has_text=victim).locator("a:has-text('Domestic abuse')").click()
    worker.wait_for_selector("h1:has-text('Domestic abuse case')")
    _axe(worker)
    worker.click(f"#people a:has-text('{victim}')")
    refer_to_hrda(worker, w["team"], reason="Threats to kill last week; she fears for the children",
                  children="yes", axe=_axe, in_case=True)
    assert "Submitted" in worker.inner_text("main")
    _axe(worker)

    # The chair finds it in the queue, accepts it onto tomorrow's meeting, starts it, agrees an action.
    chair_context, chair = _as(browser, live_server, w["chair"])
    chair.click("a:has-text('HRDA referrals')")
    _axe(chair)
    chair.click(f"#queue a:has-text('{victim}')")
    chair.check("input[name=decision][value=accept]")
    chair.select_option("#meeting", index=1)
    _axe(chair)
    chair.click("main button:has-text('Save the decision')")
    chair.wait_for_selector("h1 >> text=/\\d{4}/")
    assert victim in chair.inner_text("#agenda")
    _axe(chair)
    chair.click("main a:has-text('Start the meeting')")
    chair.wait_for_selector("h1:has-text('Start the meeting?')")
    _axe(chair)
    chair.click("main button:has-text('Start the meeting')")
    case = chair.locator("#agenda > section").filter(has_text=victim)
    case.locator("summary:has-text('Add an action')").click()
    case.locator("textarea[name$='-text']").fill("Flag the address for an urgent response")
    case.locator("select[name$='-agency']").select_option(label=w["police"])
    _fill_date(case, "due_on", w["today"] + dt.timedelta(days=7))
    case.locator("button:has-text('Add the action')").click()
    chair.wait_for_selector("#agenda td:has-text('Flag the address')")
    _axe(chair)
    chair_context.close()

    # Back with the caseworker: the decision on the home page, the meeting and action on the referral,
    # the action on the case's chronology.
    worker.click("header a:has-text('Home'), nav a:has-text('Home')")
    decisions = worker.locator("#decisions")
    assert "Accepted" in decisions.inner_text()
    _axe(worker)
    decisions.locator(f"a:has-text('{victim}')").click()
    outcome = worker.inner_text("#outcome")
    assert "Heard at the HRDA meeting of" in outcome and "Flag the address for an urgent response" in outcome
    _axe(worker)
    worker.click("main a:has-text('Domestic abuse case')")
    worker.click("#chronology-link")
    worker.wait_for_selector(".app-chronology__item")
    chronology = worker.inner_text("main")
    assert f"HRDA action for {w['police']}" in chronology and "Heard at the HRDA meeting" in chronology
    _axe(worker)
    context.close()
