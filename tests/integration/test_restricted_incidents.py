"""Restricted incidents: restricted from the incident's page as people and cases are (the same
section, routes, rules and recovery; only the owning agency restricts one: test_restricted.py); hidden from those not named in the lists, the chronology and
the measures' record lists; an export keeps the row for the figures but withholds where it happened
and who was involved, and importing the export back changes none of it."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from casework import policy
from casework.db import db
from casework.exchange import export_dataset, import_dataset
from casework.measures.definitions import BY_ID
from casework.measures.periods import Period
from casework.models import (
    AgencyKind,
    AsbType,
    AuditEntry,
    Category,
    Incident,
    Order,
    Party,
    PartyRole,
    SourceRef,
)
from casework.services import chronology, measure_pages, restricted, users
from tests.conftest import Page
from tests.factories import AgencyFactory, IncidentFactory, PersonFactory
from tests.fixtures_auth import make_user, sign_in
from tests.integration.test_import_export import INCIDENT_HEADER, PEOPLE_HEADER, dataset
from tests.integration.test_orders_exchange import ORDER_HEADER


@pytest.fixture()
def world(app_ctx):  # type: ignore[no-untyped-def]
    police, council = AgencyFactory(name="Dorset Police"), AgencyFactory(name="Dorset Council")
    owner = make_user(agency=police, email="owner@example.org")
    person = PersonFactory(owner_agency_id=police.id)
    incident = IncidentFactory(owner_agency_id=police.id, occurred_on=dt.date(2024, 6, 3), category=Category.ASB,
                               asb_type=AsbType.NUISANCE, locality="Weymouth")
    db.session.add(Party(incident_id=incident.id, person_id=person.id, role=PartyRole.VICTIM))
    db.session.commit()
    return {"police": police, "council": council, "owner": owner, "person": person, "incident": incident,
            "colleague": make_user(agency=police, email="colleague@example.org"),
            "admin": make_user(roles=("admin",), agency=police)}


def test_an_incident_is_restricted_from_its_page_named_users_see_it_and_lifting_forgets_them(app_ctx, world):
    incident, owner, colleague = world["incident"], world["owner"], world["colleague"]
    url = f"/incidents/{incident.id}"
    client, colleague_client = sign_in(app_ctx, owner), sign_in(app_ctx, colleague)
    assert "Restrict this incident" in Page(client.get(url)).select_one("#restriction").text
    page = Page(client.post(f"{url}/restriction", data={}))
    assert page.status_code == 400 and "Confirm that only the users named will see it" in page.text
    response = client.post(f"{url}/restriction", data={"confirm": "y"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{url}#restriction")
    page = Page(client.get(url))
    assert page.status_code == 200 and [r.select("td")[0].get_text(" ", strip=True)
                                        for r in page.select("#named-users tbody tr")] == ["Test User (you)"]
    assert colleague_client.get(url).status_code == 404
    assert colleague_client.get(f"{url}/restriction").status_code == 404
    listing = colleague_client.get("/incidents?since=2024-01-01").get_data(as_text=True)
    assert str(incident.id) not in listing and str(incident.id) in client.get("/incidents?since=2024-01-01").get_data(as_text=True)

    assert client.post(f"{url}/restriction/users", data={"user": str(colleague.id)}).status_code == 302
    assert colleague_client.get(url).status_code == 200
    assert client.post(f"{url}/restriction/users/remove", data={"user": str(colleague.id)}).status_code == 302
    assert colleague_client.get(url).status_code == 404, "access ends at once"
    page = Page(client.post(f"{url}/restriction/users/remove", data={"user": str(owner.id)}))
    assert page.status_code == 400 and "You are the last person named who can manage this record" in page.text

    assert client.post(f"{url}/restriction/lift", data={"confirm": "y"}).status_code == 302
    db.session.expire_all()
    assert not incident.restricted and restricted.named_users(incident) == []
    assert colleague_client.get(url).status_code == 200
    actions = [e.action for e in db.session.scalars(select(AuditEntry).where(AuditEntry.record_id == incident.id)
                                                     .order_by(AuditEntry.position))]
    assert "incident.restrict" in actions and "incident.unrestrict" in actions
    change = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "incident.restrict"))
    assert json.loads(change.details)["fields"] == ["restricted"]


def test_a_restricted_incident_nobody_can_manage_is_recovered_by_its_agency(app_ctx, world):
    incident = world["incident"]
    restricted.restrict(incident, by=world["owner"])
    users.deactivate(user=world["owner"], by=world["admin"])
    db.session.commit()
    client = sign_in(app_ctx, world["colleague"])
    recover = f"/restricted-records/incident/{incident.id}/recover"
    assert Page(client.get("/restricted-records")).select_one(f"#orphaned a[href='{recover}']") is not None
    page = Page(client.get(recover))
    assert page.status_code == 200 and page.select_one("h1").text == "Recover a restricted incident"
    assert page.select_one(".govuk-caption-l").text == f"Incident {incident.reference}", "its reference, not its id"
    response = client.post(recover, data={"reason": "The officer has left"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/incidents/{incident.id}#restriction")
    db.session.expire_all()
    assert policy.can_view(world["colleague"], incident)


def test_the_chronology_and_the_measures_record_lists_show_it_only_to_those_named(app_ctx, world):
    incident, owner, colleague, person = world["incident"], world["owner"], world["colleague"], world["person"]
    restricted.restrict(incident, by=owner)
    db.session.commit()
    assert [i.link for i in chronology.of_person(person, viewer=owner).items] == [("incident", incident.id)]
    assert chronology.of_person(person, viewer=colleague).items == [], "not even its identity"

    def listed(viewer):  # type: ignore[no-untyped-def]
        found = measure_pages.records_behind(measure=BY_ID["ASB1"], part="value", period=Period(2024),
                                             viewer=viewer, page=1, size=25)
        return found.total, found.visible, [r.id for r in found.shown]

    assert listed(owner) == (1, 1, [incident.id])
    assert listed(colleague) == (1, 0, []), "counted in the figure, not listed"
    page = Page(sign_in(app_ctx, colleague).get("/measures/ASB1/records?period=2024/25&part=value"))
    assert page.status_code == 200 and str(incident.id) not in page.text and "Weymouth" not in page.text


def _rows(folder: Path, name: str) -> list[list[str]]:
    with (folder / name).open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))[1:]


def test_the_export_withholds_where_it_happened_and_who_was_involved_and_importing_it_back_changes_nothing(
        session, tmp_path):
    council = AgencyFactory(name="Dorset Council", kind=AgencyKind.COUNCIL)
    people = f"{PEOPLE_HEADER}\nP1,Harding,Alex,1980-02-03,,,n,n,n"
    incidents = (f"{INCIDENT_HEADER}\nI1,2025-01-02,asb,n,council,,,n,n,n,n,personal\n"
                 "I2,2025-01-05,asb,n,council,,,n,n,n,n,nuisance")
    parties = "incident_ref,person_ref,role,cj_status\nI1,P1,victim,\nI2,P1,victim,"
    orders = f"{ORDER_HEADER}\nO1,P1,cpw,in_force,,2025-01-10,2025-01-10,2026-01-09,,I1;I2"
    import_dataset(dataset(tmp_path, people=people, incidents=incidents, parties=parties, orders=orders),
                   agency=council)
    hidden = db.session.get(Incident, db.session.scalar(select(SourceRef.record_id).where(SourceRef.ref == "I1")))
    hidden.locality = "Weymouth"
    db.session.flush()
    restricted.restrict(hidden, by=make_user(agency=council))
    db.session.flush()

    for agency in (council, None):
        out = tmp_path / f"out-{agency is None}"
        export_dataset(out, agency=agency)
        i1 = [r for r in _rows(out, "incidents.csv") if r[0] in ("I1", f"casework:{hidden.id}")]
        assert len(i1) == 1 and i1[0][1:5] == ["2025-01-02", "asb", "n", "council"], "kept for the figures"
        assert i1[0][5:7] == ["", ""], "no locality or area"
        assert i1[0][0] not in {r[0] for r in _rows(out, "parties.csv")}
        assert all(i1[0][0] not in r[-1] for r in _rows(out, "orders.csv"))
        assert b"Weymouth" not in b"".join(p.read_bytes() for p in out.iterdir())

    report = import_dataset(tmp_path / "out-False", agency=council)
    assert report.files["incidents.csv"].protected == 1
    db.session.expire_all()
    assert (hidden.restricted, hidden.locality) == (True, "Weymouth")
    assert [p.role for p in db.session.scalars(select(Party).where(Party.incident_id == hidden.id))] == [PartyRole.VICTIM]
    order = db.session.scalar(select(Order))
    assert hidden.id in {link.incident_id for link in order.incidents} and len(order.incidents) == 2
