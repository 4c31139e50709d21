"""Incidents: recording (date, category, ASB type rules), the people involved, repeat marks that
follow late entries, editing with optimistic locking, and what other agencies' users see."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select, update

from casework.db import db
from casework.models import AgencyKind, AsbType, Incident, Party, PartyRole
from tests.factories import AreaFactory
from tests.integration.people_support import (
    TODAY,
    audit_actions,
    dob_fields,
    make_world,
    text_of,
)

V, P = PartyRole.VICTIM, PartyRole.PERPETRATOR


@pytest.fixture()
def world(app_ctx):  # type: ignore[no-untyped-def]
    return make_world(app_ctx)


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Incident)) or 0


def _form(on: dt.date, **extra: object) -> dict[str, object]:
    return {**dob_fields(on, "occurred_on"), "category": "violence_with_injury", **extra}


def test_recording_an_incident_for_the_users_agency(world):
    world.own.kind = AgencyKind.HOUSING
    area = AreaFactory(owner_agency_id=world.own.id)
    db.session.commit()
    response = world.post("/incidents/new", _form(dt.date(2024, 5, 1), domestic_abuse="y", locality="Weymouth",
                                                  area=str(area.id), rural="y", factors=["alcohol", "drugs"]))
    assert response.status_code == 302
    incident = db.session.scalar(select(Incident).order_by(Incident.created_at.desc()).limit(1))
    assert response.headers["Location"].endswith(f"/incidents/{incident.id}")
    assert incident.owner_agency_id == world.own.id and incident.recorded_by == AgencyKind.HOUSING
    assert (incident.domestic_abuse, incident.rural, incident.alcohol, incident.drugs, incident.mental_health) == \
        (True, True, True, True, False)
    assert incident.area_id == area.id and incident.locality == "Weymouth"
    assert audit_actions(incident.id)[0][0] == "incident.create"


@pytest.mark.parametrize("extra,field,message", [
    ({"category": "asb"}, "asb_type", "Select the type of anti-social behaviour"),
    ({"category": ""}, "category", "Select the category"),
])
def test_asb_type_is_required_for_asb_and_refused_otherwise(world, extra, field, message):
    db.session.commit()
    before = _count()
    response = world.post("/incidents/new", _form(dt.date(2024, 5, 1), **extra))
    assert response.status_code == 400
    from bs4 import BeautifulSoup

    link = BeautifulSoup(response.get_data(as_text=True), "html.parser").select_one(".govuk-error-summary a")
    assert message in link.text and link["href"] == f"#{field}"
    assert _count() == before


@pytest.mark.parametrize("category,stored", [("asb", AsbType.NUISANCE), ("robbery", None)])
def test_the_asb_type_is_stored_only_under_asb(world, category, stored):
    """The ASB type is a reveal under the category ASB: posted under another category it is ignored."""
    response = world.post("/incidents/new", _form(dt.date(2024, 5, 1), category=category, asb_type="nuisance"))
    assert response.status_code == 302
    incident = db.session.scalar(select(Incident).order_by(Incident.created_at.desc()).limit(1))
    assert incident.category.value == category and incident.asb_type == stored


def test_the_asb_type_is_revealed_under_its_category(world):
    status, soup = world.page("/incidents/new")
    assert status == 200
    asb = soup.select_one("input[name=category][value=asb]")
    reveal = soup.select_one(f"#{asb['data-aria-controls']}")
    assert reveal.select("input[name=asb_type]") and soup.select_one("input[name=category]")["id"] == "category"


def test_the_day_reported_is_kept_and_never_before_the_incident(world):
    db.session.commit()
    before = _count()
    refused = world.post("/incidents/new", {**_form(dt.date(2024, 5, 1), category="asb", asb_type="personal"),
                                            **dob_fields(dt.date(2024, 4, 30), "reported_on")})
    assert refused.status_code == 400
    assert "The date reported must be the same as or after" in refused.get_data(as_text=True)
    assert _count() == before
    response = world.post("/incidents/new", {**_form(dt.date(2024, 5, 1), category="asb", asb_type="personal"),
                                             **dob_fields(dt.date(2024, 6, 1), "reported_on")})
    assert response.status_code == 302
    incident = db.session.scalar(select(Incident).order_by(Incident.created_at.desc()).limit(1))
    assert incident.reported_on == dt.date(2024, 6, 1)


def test_a_date_in_the_future_or_missing_is_refused(world):
    db.session.commit()
    before = _count()
    response = world.post("/incidents/new", _form(TODAY + dt.timedelta(days=1)))
    assert response.status_code == 400 and "must be today or in the past" in response.get_data(as_text=True)
    response = world.post("/incidents/new", {"category": "robbery"})
    assert response.status_code == 400 and "Enter the date of the incident" in response.get_data(as_text=True)
    assert _count() == before


def test_adding_people_through_search_and_removing_one(world):
    incident = world.incident(on=dt.date(2024, 5, 1))
    person = world.person(surname="Victim", forenames="Vera")
    db.session.commit()
    status, soup = world.page(f"/incidents/{incident.id}/people?role=victim&surname=victim")
    assert status == 200
    link = soup.select_one("tbody a.govuk-link")["href"]
    assert link.startswith(f"/incidents/{incident.id}/people/{person.id}") and "role=victim" in link
    status, soup = world.page(link)
    assert soup.select_one("input[name=role][value=victim]").has_attr("checked")
    response = world.post(f"/incidents/{incident.id}/people/{person.id}", {"role": "victim", "cj_status": "entered"})
    assert response.status_code == 302
    party = db.session.scalar(select(Party).where(Party.incident_id == incident.id))
    assert (party.person_id, party.role, party.cj_status.value) == (person.id, V, "entered")
    again = world.post(f"/incidents/{incident.id}/people/{person.id}", {"role": "victim"})
    assert again.status_code == 400 and "already a victim" in again.get_data(as_text=True)
    assert world.post(f"/incidents/{incident.id}/people/{person.id}", {}).status_code == 400
    response = world.post(f"/incidents/{incident.id}/parties/{party.id}/remove", {"confirm": "yes"})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Party).where(Party.incident_id == incident.id)) == 0


def test_another_agencys_person_cannot_be_added_until_shared(world):
    incident = world.incident(on=dt.date(2024, 5, 1))
    theirs = world.person(agency=world.other, surname="Elsewhere")
    db.session.commit()
    assert world.post(f"/incidents/{incident.id}/people/{theirs.id}", {"role": "victim"}).status_code == 404
    _s, soup = world.page(f"/incidents/{incident.id}/people?surname=elsewhere")
    assert "Known to Dorset Council" in text_of(soup)
    # No link to the record or to adding them: only the way to ask the owner to share it.
    assert [a["href"].startswith("/share-requests/new/") for a in soup.select("tbody a.govuk-link")] == [True]


def test_another_agencys_incident_is_not_found(world):
    theirs = world.incident(on=dt.date(2024, 5, 1), agency=world.other)
    db.session.commit()
    assert world.client.get(f"/incidents/{theirs.id}").status_code == 404
    _s, soup = world.page("/incidents")
    assert f"/incidents/{theirs.id}" not in str(soup)


def test_incident_page_shows_repeat_events_per_person_and_kind(world):
    victim, other_victim, perpetrator = world.person(surname="A"), world.person(surname="B"), world.person(surname="C")
    world.incident(on=dt.date(2024, 1, 1), parties=((victim, V),), domestic_abuse=True)
    later = world.incident(on=dt.date(2024, 6, 1), parties=((victim, V), (other_victim, V), (perpetrator, P)),
                           domestic_abuse=True)
    db.session.commit()
    _s, soup = world.page(f"/incidents/{later.id}")
    tags = [t.get_text(strip=True) for t in soup.select("#repeats .govuk-tag")]
    assert tags == ["Repeat victim event: domestic abuse"]
    assert "Not a repeat perpetrator event" in text_of(soup.select_one("#repeats"))
    rows = {r.select("td")[0].get_text(strip=True): r.select("td")[3].get_text(" ", strip=True)
            for r in soup.select("#people tbody tr")}
    assert rows == {"Jane A": "domestic abuse", "Jane B": "No", "Jane C": "No"}


def test_an_incident_entered_late_changes_the_marks_of_later_incidents(world):
    person = world.person(surname="Late")
    first = world.incident(on=dt.date(2024, 3, 1), parties=((person, V),), domestic_abuse=True)
    second = world.incident(on=dt.date(2024, 6, 1), parties=((person, V),), domestic_abuse=True)
    db.session.commit()

    def marks(incident):  # type: ignore[no-untyped-def]
        _s, soup = world.page(f"/incidents/{incident.id}")
        return [t.get_text(strip=True) for t in soup.select("#repeats .govuk-tag")]

    assert marks(first) == [] and marks(second) == ["Repeat victim event: domestic abuse"]
    late = world.post("/incidents/new", _form(dt.date(2024, 1, 15), domestic_abuse="y"))
    late_incident = db.session.get(Incident, uuid.UUID(late.headers["Location"].rsplit("/", 1)[1]))
    world.post(f"/incidents/{late_incident.id}/people/{person.id}", {"role": "victim"})
    assert marks(late_incident) == []
    assert marks(first) == ["Repeat victim event: domestic abuse"], "now the 15 January incident came before it"
    assert marks(second) == ["Repeat victim event: domestic abuse"]


def test_editing_an_incident_and_a_stale_edit_is_refused(world):
    incident = world.incident(on=dt.date(2024, 5, 1), locality="Dorchester")
    db.session.commit()
    _s, soup = world.page(f"/incidents/{incident.id}/edit")
    version = soup.select_one("input[name=version]")["value"]
    assert soup.select_one("#occurred_on-day")["value"] == "1"
    response = world.post(f"/incidents/{incident.id}/edit", _form(dt.date(2024, 5, 2), locality="Weymouth",
                                                                   version=version))
    assert response.status_code == 302
    db.session.refresh(incident)
    assert incident.locality == "Weymouth" and incident.occurred_on == dt.date(2024, 5, 2)
    stale = world.post(f"/incidents/{incident.id}/edit", _form(dt.date(2024, 5, 3), locality="Bridport",
                                                                version=version))
    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    assert "Someone else changed this incident" in page and "Locality" in page and "Weymouth" in page
    db.session.refresh(incident)
    assert incident.locality == "Weymouth", "nothing overwritten"


def test_a_concurrent_save_caught_by_the_version_counter_is_refused(world):
    incident = world.incident(on=dt.date(2024, 5, 1), locality="Dorchester")
    db.session.commit()
    from casework.services import incidents, versioning

    details = incidents.IncidentDetails.of(incident)
    details.locality = "Weymouth"
    # Someone else's save lands between the version check and the UPDATE.
    db.session.execute(update(Incident).where(Incident.id == incident.id).values(version=Incident.version + 1)
                       .execution_options(synchronize_session=False))
    with pytest.raises(versioning.StaleEdit):
        incidents.update(incident=incident, details=details, version=incident.version, by=world.user)
    assert db.session.get(Incident, incident.id).locality == "Dorchester"
