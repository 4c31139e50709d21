"""Referral routes in Chromium (issue 14, part 1): an administrator sets the HRDA route through the
admin pages, and a caseworker's HRDA referral, whose destination follows from the route, reaches the
chair's home page at once. axe-core checks the new pages."""

from __future__ import annotations

import datetime as dt

import pytest

from casework.db import db
from tests.browser.test_caseworker_journey import refer_to_hrda
from tests.browser.test_hrda_journey import _as, _axe

pytestmark = pytest.mark.browser


@pytest.fixture()
def routes_world(live_server):  # type: ignore[no-untyped-def]
    """An administrator, a council with an HRDA chair (no route yet), a police caseworker and a victim."""
    from casework.models import AgencyKind, PartyRole
    from tests.factories import AgencyFactory, IncidentFactory, PartyFactory, PersonFactory
    from tests.fixtures_auth import PASSWORD, make_user

    stamp = int(dt.datetime.now().timestamp() * 1000)
    with live_server.app.app_context():
        police = AgencyFactory(name=f"Police R{stamp}", kind=AgencyKind.POLICE)
        council = AgencyFactory(name=f"Council R{stamp}", kind=AgencyKind.COUNCIL)
        users = {"admin": make_user(roles=("admin",), agency=council),
                 "chair": make_user(roles=("hrda_chair",), agency=council),
                 "caseworker": make_user(roles=("caseworker",), agency=police)}
        person = PersonFactory(owner_agency_id=police.id, forenames="Rhona", surname=f"Route{stamp}")
        PartyFactory(incident=IncidentFactory(owner_agency_id=police.id, domestic_abuse=True),
                     person_id=person.id, role=PartyRole.VICTIM)
        db.session.commit()
        return {"council": council.name, "council_id": str(council.id), "person_id": person.id,
                "person": person.display_name,
                **{k: (u.email, PASSWORD, u.totp_secret) for k, u in users.items()}}


def test_an_admin_routes_hrda_and_a_caseworkers_referral_reaches_the_chair(browser, live_server, routes_world):
    w = routes_world
    admin_context, admin = _as(browser, live_server, w["admin"])
    admin.click("a:has-text('Referral routes')")
    admin.wait_for_selector("h1:has-text('Referral routes')")
    _axe(admin)
    admin.check("input[name=type][value=hrda]")
    admin.select_option("#agency", label=w["council"])
    admin.click("main button:has-text('Set the route')")
    admin.wait_for_selector(f"text=Routed HRDA referrals to {w['council']} (HRDA chair)")
    row = admin.locator("#routes tr").filter(has_text=w["council"])
    assert "HRDA chair" in row.inner_text() and "1" in row.inner_text()
    admin_context.close()

    worker_context, worker = _as(browser, live_server, w["caseworker"])
    worker.goto(f"/people/{w['person_id']}")
    refer_to_hrda(worker, w["council"], reason="She fears for her life", children="no", axe=_axe)
    referral_url = worker.url
    worker_context.close()

    chair_context, chair = _as(browser, live_server, w["chair"])
    awaiting = chair.locator("#awaiting")
    assert "HRDA" in awaiting.inner_text()
    assert any(referral_url.endswith(a.get_attribute("href")) for a in awaiting.locator("a").all())
    chair_context.close()
