"""Managing agencies: the admin pages (add, rename, change kind, deactivate, reactivate), what an
inactive agency means elsewhere (not offered, refused by services, its records kept), the CLI and
the audit trail."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from casework import policy
from casework.db import db
from casework.models import Agency, AgencyKind, AuditEntry, User
from casework.services import agencies, meetings, referrals, sharing, users
from tests.conftest import Page
from tests.factories import AgencyFactory, PersonFactory, routed, victim
from tests.fixtures_auth import make_user


def _entries(action: str, agency: Agency) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action,
                                                            AuditEntry.record_id == agency.id)))


def _option_values(page: Page, name: str) -> set[str]:
    return {o.get("value") for o in page.select(f"select[name={name}] option")} | {
        i.get("value") for i in page.select(f"input[name={name}]")}


def test_an_admin_renames_an_agency_and_changes_its_kind(admin_client):
    agency = AgencyFactory(name="Dorset CCG", kind=AgencyKind.HEALTH)
    db.session.commit()
    page = Page(admin_client.get(f"/admin/agencies/{agency.id}"))
    assert page.status_code == 200 and page.h1 == "Dorset CCG"
    assert page.select_one("#name")["value"] == "Dorset CCG"
    response = admin_client.post(f"/admin/agencies/{agency.id}", data={"name": "  NHS   Dorset ", "kind": "other"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (agency.name, agency.kind) == ("NHS Dorset", AgencyKind.OTHER)
    [entry] = _entries("agency.update", agency)
    assert json.loads(entry.details) == {"fields": ["name", "kind"]}
    assert "NHS" not in entry.details, "field names, never values"


def test_saving_an_agency_unchanged_writes_nothing(admin_client):
    agency = AgencyFactory(name="Dorset Police", kind=AgencyKind.POLICE)
    db.session.commit()
    response = admin_client.post(f"/admin/agencies/{agency.id}", data={"name": "Dorset Police", "kind": "police"})
    assert response.status_code == 302
    assert _entries("agency.update", agency) == []


@pytest.mark.parametrize("name,kind,message", [
    ("", "police", "Enter the agency's name"),
    ("   ", "police", "Enter the agency's name"),
    ("dorset COUNCIL", "police", "An agency called dorset COUNCIL already exists"),
    ("x" * 121, "police", "120 characters or fewer"),
    ("Fine name", "", "Select the kind of agency"),
    ("Fine name", "spaceship", "Not a valid choice"),
])
def test_bad_agency_changes_are_refused_with_a_message(admin_client, name, kind, message):
    AgencyFactory(name="Dorset Council")
    agency = AgencyFactory(name="Dorset Police")
    db.session.commit()
    page = Page(admin_client.post(f"/admin/agencies/{agency.id}", data={"name": name, "kind": kind}))
    assert page.status_code == 400 and message in page.text
    assert page.select(".govuk-error-summary a"), "the error summary links to the field"
    db.session.expire_all()
    assert agency.name == "Dorset Police"
    assert _entries("agency.update", agency) == []


def test_an_agency_renamed_to_its_own_name_in_another_case_is_allowed(admin_client):
    agency = AgencyFactory(name="Dorset police")
    db.session.commit()
    assert admin_client.post(f"/admin/agencies/{agency.id}", data={"name": "Dorset Police",
                                                                    "kind": "police"}).status_code == 302
    db.session.expire_all()
    assert agency.name == "Dorset Police"


def test_an_agency_with_active_users_is_not_deactivated(admin_client):
    agency = AgencyFactory(name="Wessex Housing")
    make_user(agency=agency)
    make_user(agency=agency)
    make_user(agency=agency, active=False)
    page = Page(admin_client.post(f"/admin/agencies/{agency.id}/deactivate"))
    assert page.status_code == 400
    assert "Wessex Housing still has 2 active users: deactivate them first" in page.text
    db.session.expire_all()
    assert agency.active and _entries("agency.deactivate", agency) == []


def test_an_agency_is_deactivated_and_reactivated_and_each_change_is_audited(admin_client):
    agency = AgencyFactory(name="Wessex Housing")
    db.session.commit()
    assert admin_client.post(f"/admin/agencies/{agency.id}/deactivate").status_code == 302
    db.session.expire_all()
    assert not agency.active
    listing = Page(admin_client.get("/admin/agencies"))
    row = next(r for r in listing.select("tbody tr") if "Wessex Housing" in r.text)
    assert "Inactive" in row.text
    again = Page(admin_client.post(f"/admin/agencies/{agency.id}/deactivate"))
    assert again.status_code == 400 and "already inactive" in again.text
    assert admin_client.post(f"/admin/agencies/{agency.id}/reactivate").status_code == 302
    db.session.expire_all()
    assert agency.active
    assert len(_entries("agency.deactivate", agency)) == 1 and len(_entries("agency.reactivate", agency)) == 1


def test_adding_an_agency_is_audited(admin_client):
    assert admin_client.post("/admin/agencies", data={"name": "NHS Dorset", "kind": "health"}).status_code == 302
    agency = agencies.by_name("nhs dorset")
    [entry] = _entries("agency.create", agency)
    assert json.loads(entry.details) == {"fields": ["kind", "name"]}


def test_an_unknown_agency_is_404(admin_client):
    assert admin_client.get("/admin/agencies/00000000-0000-4000-8000-000000000000").status_code == 404


def _inactive(name: str = "Gone Agency") -> Agency:
    agency = AgencyFactory(name=name)
    agencies.deactivate(agency=agency)
    db.session.commit()
    return agency


def test_an_inactive_agency_is_not_offered_for_a_new_user_and_is_refused(admin_client):
    gone, kept = _inactive(), AgencyFactory(name="Kept Agency")
    db.session.commit()
    page = Page(admin_client.get("/admin/users/new"))
    offered = _option_values(page, "agency")
    assert str(kept.id) in offered and str(gone.id) not in offered
    posted = Page(admin_client.post("/admin/users/new", data={
        "email": "new@example.org", "name": "New", "agency": str(gone.id), "roles": ["caseworker"]}))
    assert posted.status_code == 400
    assert db.session.scalar(select(User).where(User.email == "new@example.org")) is None
    with pytest.raises(users.UserError, match="no longer an active agency"):
        users.create(email="new@example.org", name="New", agency=gone, roles=["caseworker"])


def test_a_user_of_an_inactive_agency_is_not_reactivated(app_ctx):
    agency = AgencyFactory(name="Gone Agency")
    user = make_user(agency=agency, active=False)
    agencies.deactivate(agency=agency)
    with pytest.raises(users.UserError, match="reactivate the agency first"):
        users.reactivate(user=user)


def test_an_inactive_agency_is_not_offered_for_referrals_or_meetings(app_ctx, home_agency):
    from tests.fixtures_auth import sign_in

    gone, kept = _inactive(), AgencyFactory(name="Kept Agency")
    routed("idva", kept)
    routed("idva", gone)  # a route left to an agency that then left the partnership
    caseworker = make_user(roles=("caseworker",), agency=home_agency)
    chair = make_user(roles=("hrda_chair",), agency=home_agency)
    person = victim(PersonFactory(owner_agency_id=home_agency.id))
    db.session.commit()
    page = Page(sign_in(app_ctx, caseworker).get(f"/people/{person.id}/referrals/new?type=idva"))
    offered = _option_values(page, "receiving_agency")
    assert str(kept.id) in offered and str(gone.id) not in offered
    page = Page(sign_in(app_ctx, chair).get("/meetings/new"))
    offered = _option_values(page, "agencies")
    assert str(kept.id) in offered and str(gone.id) not in offered


def test_services_refuse_an_inactive_agency_where_one_is_chosen(app_ctx, home_agency):
    import datetime as dt

    from casework.models import Consent, ReferralType

    gone = _inactive()
    routed("idva", gone)
    routed("idva", AgencyFactory(name="Still Here"))
    caseworker = make_user(roles=("caseworker",), agency=home_agency)
    chair = make_user(roles=("hrda_chair",), agency=home_agency)
    person = PersonFactory(owner_agency_id=home_agency.id)
    with pytest.raises(referrals.ReferralError, match="no longer an active agency"):
        referrals.refer(person, kind=ReferralType.IDVA, receiving_agency=gone, consent=Consent.GIVEN,
                        lawful_basis=None, reason="Needs support", by=caseworker, today=dt.date(2025, 1, 6))
    with pytest.raises(meetings.MeetingError, match="Gone Agency is no longer active"):
        meetings.schedule(day=dt.date(2030, 1, 7), time=dt.time(10), place="Room 1", online=False,
                          agencies=[home_agency, gone], by=chair, today=dt.date(2025, 1, 6))
    with pytest.raises(sharing.SharingError, match="no longer an active agency"):
        sharing.share(record=person, agency=gone, via="explicit", by=caseworker, reason="Moved")


def test_an_inactive_agencys_records_and_shares_stay(app_ctx, home_agency):
    other = AgencyFactory(name="Leaving Agency")
    person = PersonFactory(owner_agency_id=other.id)
    sharing.share(record=person, agency=home_agency, via="referral")
    agencies.deactivate(agency=other)
    reader = make_user(agency=home_agency)
    assert policy.can_view(reader, person)
    assert db.session.get(Agency, other.id).name == "Leaving Agency"


def test_cli_renames_deactivates_and_reactivates_an_agency(runner, app_ctx):
    agency = AgencyFactory(name="Dorset CCG", kind=AgencyKind.HEALTH)
    db.session.commit()
    result = runner.invoke(["agencies", "rename", "dorset ccg", "NHS Dorset"])
    assert result.exit_code == 0 and "name changed" in result.output, result.output
    result = runner.invoke(["agencies", "rename", "NHS Dorset", "NHS Dorset", "--kind", "other"])
    assert result.exit_code == 0 and "kind changed" in result.output, result.output
    make_user(agency=agency)
    result = runner.invoke(["agencies", "deactivate", "NHS Dorset"])
    assert result.exit_code == 1 and "still has 1 active user: deactivate that user first" in result.output
    db.session.execute(User.__table__.update().where(User.agency_id == agency.id).values(active=False))
    db.session.commit()
    assert runner.invoke(["agencies", "deactivate", "NHS Dorset"]).exit_code == 0
    assert "NHS Dorset\tother\tinactive" in runner.invoke(["agencies", "list"]).output
    assert runner.invoke(["agencies", "reactivate", "NHS Dorset"]).exit_code == 0
    assert runner.invoke(["agencies", "deactivate", "Nobody"]).exit_code == 1
    db.session.expire_all()
    assert agency.active and (agency.name, agency.kind) == ("NHS Dorset", AgencyKind.OTHER)
    assert [e.action for e in db.session.scalars(select(AuditEntry).where(AuditEntry.record_id == agency.id)
                                                 .order_by(AuditEntry.position))] == [
        "agency.update", "agency.update", "agency.deactivate", "agency.reactivate"]


def _in_a_request_of_its_own(app, work, *, done, then=None):  # type: ignore[no-untyped-def]
    """Run `work()` as a request would: its own session and transaction, committed unless refused.
    `done` (an Event) is set once the work is flushed; `then` runs before the commit."""
    with app.app_context():
        try:
            work()
            db.session.flush()
            done.set()
            if then is not None:
                then()
            db.session.commit()
            return "done"
        except (agencies.AgencyError, users.UserError) as e:
            db.session.rollback()
            return f"refused: {e}"
        finally:
            done.set()


@pytest.mark.parametrize("second", ["create", "reactivate"])
def test_an_agency_deactivated_while_a_user_is_added_or_reactivated_never_keeps_an_active_user(durable_app, second):
    """Each check alone keeps the rule (an inactive agency has no active user); at once, each reading
    the other's state before its commit, the agency ended inactive with an active user (PostgreSQL)."""
    import threading
    import time
    import uuid

    tag = uuid.uuid4().hex[:8]
    with durable_app.app_context():
        agency = agencies.add(name=f"Leaving {tag}", kind="other")
        if second == "reactivate":
            make_user(roles=("caseworker",), agency=agency, email=f"leaver-{tag}@example.org", active=False)
        db.session.commit()
        agency_id = agency.id
    deactivated, added = threading.Event(), threading.Event()
    results: dict[str, str] = {}

    def deactivate() -> None:
        results["deactivate"] = _in_a_request_of_its_own(
            durable_app, lambda: agencies.deactivate(agency=db.session.get(Agency, agency_id)),
            done=deactivated, then=lambda: time.sleep(1.0))

    def add_user() -> None:
        deactivated.wait(10)
        if second == "create":
            def work() -> None:
                users.create(email=f"joiner-{tag}@example.org", name="Joiner", agency=db.session.get(Agency, agency_id),
                             roles=["caseworker"])
        else:
            def work() -> None:
                users.reactivate(user=users.by_email(f"leaver-{tag}@example.org"))
        results["user"] = _in_a_request_of_its_own(durable_app, work, done=added)

    threads = [threading.Thread(target=deactivate), threading.Thread(target=add_user)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results["deactivate"] == "done"
    assert results["user"].startswith("refused"), results
    with durable_app.app_context():
        agency = db.session.get(Agency, agency_id)
        assert not agency.active and agencies.active_user_count(agency) == 0
