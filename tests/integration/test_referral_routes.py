"""Referral routes (issue 14, part 1): each type goes to the services an administrator sets; the
referral form offers only those someone can act on; the last user who can decide along a route is
not deactivated or stripped of the role; the receiving team and the referrer see new and overdue
referrals on their home pages; referrals to an agency with no route are moved, audited."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from casework import policy
from casework.db import db
from casework.measures.periods import today_in_london
from casework.models import AuditEntry, Referral, ReferralRoute, ReferralStatus, ReferralType, User
from casework.services import referral_routes, users
from tests.conftest import Page
from tests.factories import AgencyFactory, PersonFactory, ReferralFactory, routed, victim
from tests.fixtures_auth import make_user, sign_in


@pytest.fixture()
def worker(app_ctx, home_agency):
    return make_user(agency=home_agency)


@pytest.fixture()
def client(app_ctx, worker):
    return sign_in(app_ctx, worker)


@pytest.fixture()
def person(app_ctx, home_agency):
    return victim(PersonFactory(owner_agency_id=home_agency.id))


def _routes() -> int:
    return db.session.scalar(select(func.count()).select_from(ReferralRoute))


def _referrals() -> int:
    return db.session.scalar(select(func.count()).select_from(Referral))


def test_the_cli_sets_and_lists_routes_and_refuses_a_route_nobody_can_act_on(runner, app_ctx):
    council = AgencyFactory(name="Routes Council")
    db.session.commit()
    result = runner.invoke(["referral-routes", "set", "hrda", "--agency", "Routes Council"])
    assert result.exit_code != 0 and "no active user with the role hrda chair" in result.output
    assert _routes() == 0
    make_user(roles=("hrda_chair",), agency=council)
    db.session.commit()
    result = runner.invoke(["referral-routes", "set", "hrda", "--agency", "Routes Council", "--role", "caseworker"])
    assert result.exit_code != 0 and "decided by a user with the role hrda chair" in result.output
    result = runner.invoke(["referral-routes", "set", "hrda", "--agency", "Routes Council"])
    assert result.exit_code == 0, result.output
    assert "Routed HRDA referrals to Routes Council (HRDA chair)" in result.output
    listed = runner.invoke(["referral-routes", "list"]).output
    assert "hrda\tRoutes Council\thrda_chair\t1 active decider(s)" in listed
    assert "idva\t(no route" in listed
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "referral_route.set")) == 1


def test_a_referral_cannot_be_made_to_a_service_nobody_can_act_on(client, person, home_agency):
    forum = AgencyFactory(name="Forum Nobody Acts")
    db.session.commit()
    form = {"type": "idva", "receiving_agency": str(forum.id), "consent": "given"}
    page = Page(client.post(f"/people/{person.id}/referrals/new", data=form))
    assert page.status_code == 400 and "No service can receive IDVA referrals now" in page.text
    route = routed("idva", forum)
    idva_service = routed("idva", AgencyFactory(name="IDVA Elsewhere"))
    for user in referral_routes.deciders(route):
        user.active = False  # as left by a leaver before routes existed
    db.session.commit()
    page = Page(client.post(f"/people/{person.id}/referrals/new", data=form))
    assert page.status_code == 400 and "Nobody at Forum Nobody Acts can decide IDVA referrals now" in page.text
    other = {**form, "receiving_agency": str(home_agency.id)}
    page = Page(client.post(f"/people/{person.id}/referrals/new", data=other))
    assert page.status_code == 400 and "does not receive IDVA referrals" in page.text
    assert _referrals() == 0
    # the form offers only the service someone can act on, by its name, with no choice to make
    shown = Page(client.get(f"/people/{person.id}/referrals/new?type=idva"))
    assert "IDVA Elsewhere" in shown.select_one("#receiving_agency").text
    assert not shown.select("input[type=radio][name=receiving_agency]")
    made = client.post(f"/people/{person.id}/referrals/new", data={"type": "idva", "consent": "given",
                                                                     "receiving_agency": str(idva_service.agency_id)})
    assert made.status_code == 302
    assert db.session.scalar(select(Referral.receiving_agency_id)) == idva_service.agency_id


def test_several_services_are_a_choice_by_name(client, person):
    routed("idva", AgencyFactory(name="North IDVA"))
    routed("idva", AgencyFactory(name="South IDVA"))
    db.session.commit()
    page = Page(client.get(f"/people/{person.id}/referrals/new?type=idva"))
    labels = [label.text.strip() for label in page.select("#receiving_agency-fieldset label, .govuk-radios label")
              if label.text.strip() in ("North IDVA", "South IDVA")]
    assert labels == ["North IDVA", "South IDVA"]


def test_the_last_user_who_can_decide_along_a_route_is_kept(app_ctx, home_agency):
    admin = make_user(roles=("admin",), agency=home_agency)
    forum = AgencyFactory(name="Kept Forum")
    route = routed("idva", forum)
    (last,) = referral_routes.deciders(route)
    db.session.commit()
    with pytest.raises(users.UserError, match="last active user who can decide IDVA referrals to Kept Forum"):
        users.deactivate(user=last, by=admin)
    with pytest.raises(users.UserError, match="IDVA referrals to Kept Forum \\(Caseworker\\)"):
        users.set_roles(user=last, roles=["manager"], by=admin)
    db.session.rollback()
    assert db.session.get(User, last.id).active
    other = make_user(agency=forum)
    db.session.commit()
    users.deactivate(user=last, by=admin)
    assert referral_routes.deciders(route) == [other]


def test_the_admin_page_refuses_deactivating_the_last_decider_naming_the_route(app_ctx, home_agency):
    admin = make_user(roles=("admin",), agency=home_agency)
    route = routed("hrda", AgencyFactory(name="Chair Council"))
    (chair,) = referral_routes.deciders(route)
    db.session.commit()
    page = Page(sign_in(app_ctx, admin).post(f"/admin/users/{chair.id}/deactivate"))
    assert page.status_code == 400 and "HRDA referrals to Chair Council (HRDA chair)" in page.text
    db.session.expire_all()
    assert db.session.get(User, chair.id).active


def test_a_new_referral_reaches_the_receiving_team_at_once_and_shows_overdue_to_both(
        app_ctx, client, person, worker):
    council = AgencyFactory(name="HRDA Council")
    route = routed("hrda", council)
    (chair,) = referral_routes.deciders(route)
    db.session.commit()
    made = client.post(f"/people/{person.id}/referrals/new", data={
        "type": "hrda", "consent": "given", "criteria": "professional_judgement", "reason": "Fear of harm",
        "children_in_household": "no"})
    assert made.status_code == 302, made.get_data(as_text=True)[:2000]
    referral = db.session.scalar(select(Referral))
    assert referral.receiving_agency_id == council.id
    chair_home = Page(sign_in(app_ctx, chair).get("/"))
    assert [a["href"] for a in chair_home.select("#awaiting a")] == [f"/referrals/{referral.id}"]
    assert "Overdue" not in chair_home.select_one("#awaiting").text
    assert "Overdue" not in Page(client.get("/")).select_one("#sent").text
    # three working days on, it is overdue (HRDA: 2 working days)
    referral.referred_on = _back(3)
    db.session.commit()
    assert "Overdue" in Page(sign_in(app_ctx, chair).get("/")).select_one("#awaiting").text
    assert "Overdue" in Page(client.get("/")).select_one("#sent").text


def _back(working_days: int) -> dt.date:
    """The date `working_days` working days before today (England and Wales)."""
    day = today_in_london()
    while referral_routes.add_working_days(day, working_days) > today_in_london():
        day -= dt.timedelta(days=1)
    return day


def test_working_days_skip_weekends_and_bank_holidays_of_england_and_wales(app_ctx):
    # Christmas Day 2026 is a Friday; Boxing Day a Saturday, so its bank holiday is Monday 28th
    assert referral_routes.add_working_days(dt.date(2026, 12, 24), 2) == dt.date(2026, 12, 30)
    hrda = ReferralFactory(type=ReferralType.HRDA, referred_on=dt.date(2026, 12, 24))
    idva = ReferralFactory(type=ReferralType.IDVA, referred_on=dt.date(2026, 12, 24))
    assert referral_routes.decision_due(hrda) == dt.date(2026, 12, 30)
    assert referral_routes.decision_due(idva) == dt.date(2027, 1, 5)  # New Year's Day a Friday
    assert not referral_routes.is_overdue(hrda, today=dt.date(2026, 12, 30))
    assert referral_routes.is_overdue(hrda, today=dt.date(2026, 12, 31))
    hrda.status = ReferralStatus.ACCEPTED
    assert not referral_routes.is_overdue(hrda, today=dt.date(2027, 3, 1))


def test_referrals_to_an_agency_with_no_route_are_listed_and_moved_with_an_audit(app_ctx, home_agency):
    admin = make_user(roles=("admin",), agency=home_agency)
    stray_agency = AgencyFactory(name="Dorset Domestic Abuse Forum")
    stray = ReferralFactory(type=ReferralType.HRDA, receiving_agency_id=stray_agency.id)
    ReferralFactory(type=ReferralType.HRDA, receiving_agency_id=stray_agency.id, imported=True,
                    status=ReferralStatus.CLOSED)
    route = routed("hrda", AgencyFactory(name="HRDA Host"))
    on_route = ReferralFactory(type=ReferralType.HRDA, receiving_agency_id=route.agency_id)
    db.session.commit()
    assert referral_routes.unrouted() == [stray]
    client = sign_in(app_ctx, admin)
    page = Page(client.get("/admin/referral-routes"))
    assert f"/admin/referral-routes/referrals/{stray.id}" in str(page.select_one("#unrouted"))
    moved = client.post(f"/admin/referral-routes/referrals/{stray.id}", data={"route": str(route.id)})
    assert moved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Referral, stray.id).receiving_agency_id == route.agency_id
    assert referral_routes.unrouted() == []
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "referral.reroute"))
    assert entry is not None and str(stray_agency.id) in str(entry.details)
    assert on_route.receiving_agency_id == route.agency_id


def test_the_demo_sets_dorsets_routes_each_with_someone_to_decide(app_ctx):
    from casework.demo import loader

    partners, _ = loader.ensure_partners()
    loader.add_demo_users(agencies=partners)
    db.session.commit()
    routes = {(r.type.value, r.agency.name, r.role.value) for r in referral_routes.listing()}
    assert routes == set(loader.DEMO_ROUTES)
    assert all(referral_routes.usable(r) for r in referral_routes.listing())


def test_the_chairs_queue_and_who_decides_follow_the_route_not_the_agency(app_ctx, home_agency):
    """The queue lists the HRDA referrals routed to the chair (the route of the type to the chair's
    agency, with a role the chair holds); a referral to the chair's agency with no route there waits
    for an administrator to move it, listed to no chair and decided by nobody."""
    host = AgencyFactory(name="Queue HRDA Host")
    route = routed("hrda", host)
    chair = db.session.scalar(select(User).where(User.agency_id == host.id))
    elsewhere = make_user(roles=("hrda_chair",), agency=AgencyFactory(name="Queue Elsewhere"))
    person = victim(PersonFactory(owner_agency_id=home_agency.id))
    on_route = ReferralFactory(type=ReferralType.HRDA, person_id=person.id, receiving_agency_id=host.id)
    stray = ReferralFactory(type=ReferralType.HRDA, person_id=person.id, receiving_agency_id=elsewhere.agency_id)
    db.session.commit()
    queue = Page(sign_in(app_ctx, chair).get("/hrda/referrals"))
    assert [a["href"] for a in queue.select("#queue tbody a")] == [f"/hrda/referrals/{on_route.id}"]
    assert Page(sign_in(app_ctx, elsewhere).get("/hrda/referrals")).select_one("#queue") is None
    assert (policy.can_decide_referral(chair, on_route), policy.can_decide_referral(elsewhere, stray)) == (True, False)
    assert referral_routes.unrouted() == [stray]  # an administrator moves it
    referral_routes.remove_route(route, by=None)
    assert not policy.can_decide_referral(chair, on_route)  # no route, no decider, whatever the role
