"""A community ASB case review application through the pages: the area and the people affected
(required, one on each line, each named problem at once, kept encrypted, listed on the page), and a
threshold by rule that counts the victims of qualifying complaints on record in the area, at 2 and
3 people, whoever the application lists as affected (the spec: "whether or not the application
lists them as affected")."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from casework.db import db
from casework.measures.periods import today_in_london
from casework.models import AgencyKind, AsbReview, AsbType, Category, PartyRole
from tests.conftest import Page
from tests.factories import AgencyFactory, AreaFactory, IncidentFactory, PartyFactory, PersonFactory
from tests.fixtures_auth import make_user, sign_in

TODAY = today_in_london()


@pytest.fixture()
def world(app_ctx):  # type: ignore[no-untyped-def]
    council = AgencyFactory(name="Dorset Council", kind=AgencyKind.COUNCIL)
    area = AreaFactory(name="Elm Road estate", owner_agency_id=council.id)
    db.session.commit()
    return council, area


def _victims(council, area, count: int) -> None:  # type: ignore[no-untyped-def]
    """`count` different people, each the victim of one qualifying complaint in the area."""
    for i in range(count):
        incident = IncidentFactory(occurred_on=TODAY - dt.timedelta(days=10 + i), category=Category.ASB,
                                   asb_type=AsbType.NUISANCE, owner_agency_id=council.id, area_id=area.id,
                                   recorded_by=AgencyKind.COUNCIL)
        PartyFactory(incident=incident, person_id=PersonFactory(owner_agency_id=council.id).id,
                     role=PartyRole.VICTIM)
    db.session.commit()


def _form(council, area, affected: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"area": str(area.id), "affected_people": affected, "received_on-day": str(TODAY.day),
            "received_on-month": str(TODAY.month), "received_on-year": str(TODAY.year),
            "agency": str(council.id), "applicant": "victim", "behaviour": "Fireworks at the flats every night"}


def _apply(client, council, area, affected: str):  # type: ignore[no-untyped-def]
    return client.post("/asb-reviews/community", data=_form(council, area, affected))


def test_the_community_form_asks_for_the_people_affected_and_the_personal_one_does_not(app_ctx, world):
    council, _area = world
    client = sign_in(app_ctx, make_user(agency=council))
    page = Page(client.get("/asb-reviews/community"))
    assert page.select_one("label[for=affected_people]").text.strip() == "People affected"
    assert "One person on each line" in page.select_one("#affected_people-hint").text
    victim = PersonFactory(owner_agency_id=council.id)
    db.session.commit()
    assert Page(client.get(f"/people/{victim.id}/asb-review")).select_one("#affected_people") is None


@pytest.mark.parametrize(("affected", "message"), [
    ("", "Enter the people affected by the behaviour, one on each line"),
    ("  \n \n", "Enter the people affected by the behaviour, one on each line"),
    ("Ann Elm\n" + "B" * 201, "Person 2 of the people affected must be 200 characters or fewer"),
    ("\n".join(f"Person {i}" for i in range(201)), "List at most 200 people affected"),
])
def test_the_people_affected_are_refused_naming_what_is_wrong_with_the_other_errors_and_nothing_written(
        app_ctx, world, affected, message):
    council, area = world
    client = sign_in(app_ctx, make_user(agency=council))
    data = _form(council, area, affected) | {"behaviour": ""}
    response = client.post("/asb-reviews/community", data=data)
    assert response.status_code == 400
    page = Page(response)
    summary = [a.text for a in page.select(".govuk-error-summary a")]
    assert summary == [message, "Describe the behaviour"]
    assert page.select_one("a[href='#affected_people']") is not None
    assert message in page.select_one("#affected_people-error").text
    assert db.session.scalar(select(AsbReview.id)) is None


def test_the_people_affected_are_kept_encrypted_and_listed_on_the_application_page(app_ctx, world):
    council, area = world
    client = sign_in(app_ctx, make_user(agency=council))
    response = _apply(client, council, area, " Ann Quorrelwood, 4 Elm Road \n\nBob Quorrelwood\n")
    assert response.status_code == 302
    review = db.session.scalar(select(AsbReview))
    assert review.affected == ["Ann Quorrelwood, 4 Elm Road", "Bob Quorrelwood"]
    raw = db.session.execute(text("SELECT affected_people FROM asb_case_review")).scalar_one()
    assert b"Quorrelwood" not in bytes(raw)
    page = Page(client.get(response.location))
    row = next(r for r in page.select(".govuk-summary-list__row")
               if r.select_one("dt").text.strip() == "People affected (2)")
    assert [li.text for li in row.select("dd li")] == ["Ann Quorrelwood, 4 Elm Road", "Bob Quorrelwood"]


@pytest.mark.parametrize(("victims", "listed", "met"), [
    (2, 3, False),  # three listed as affected, two victims on record: not met
    (3, 1, True),   # one listed, three victims on record: met
    (3, 3, True),
    (2, 2, False),
])
def test_the_community_threshold_counts_the_victims_on_record_at_2_and_3_people_not_those_listed(
        app_ctx, world, victims, listed, met):
    council, area = world
    _victims(council, area, victims)
    client = sign_in(app_ctx, make_user(agency=council))
    response = _apply(client, council, area, "\n".join(f"Neighbour {i}" for i in range(listed)))
    assert response.status_code == 302
    page = Page(client.get(response.location))
    assert page.select_one("#threshold-heading").text == f"Threshold by rule: {'met' if met else 'not met'}"
    assert f"{victims} different people made qualifying complaints in the area; 3 are needed." in page.text
