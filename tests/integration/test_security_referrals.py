"""Issue 20, findings 4 and 7: what the referral form and the DASH checklist page say of another
agency's open referral and draft checklist (docs/visibility.md).

Finding 4: a user who gets 404 on another agency's open referral was told its date and id by the
referral form and the DASH page. Now they are told only that it exists and which agency made it.
Finding 7: the referral form's GET took the DASH score of another agency's draft from
`?assessment=<id>`; now every path checks the checklist as the POST did."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from casework.db import db
from casework.models import ReferralType, RiskAssessment, Share
from tests.conftest import Page
from tests.factories import AgencyFactory, PersonFactory, ReferralFactory, victim
from tests.fixtures_auth import make_user, sign_in
from tests.integration.test_assessments import answers

MADE_ON = dt.date(2026, 12, 6)


@pytest.fixture()
def world(app_ctx, home_agency):  # type: ignore[no-untyped-def]
    """A person of the home agency shared with a second agency; a caseworker of each."""
    second = AgencyFactory(name="Dorset Probation")
    person = victim(PersonFactory(owner_agency_id=home_agency.id, surname="Ndlovu", forenames="Thandi"))
    db.session.add(Share(record_kind="person", record_id=person.id, agency_id=second.id, via="explicit"))
    mine = make_user(agency=home_agency)
    theirs = make_user(agency=second)
    db.session.commit()
    return {"app": app_ctx, "home": home_agency, "second": second, "person": person,
            "mine": sign_in(app_ctx, mine), "theirs": sign_in(app_ctx, theirs)}


def _their_referral(world, kind: ReferralType):  # type: ignore[no-untyped-def]
    """An open referral the second agency made to a third: the home agency may not see it."""
    referral = ReferralFactory(person_id=world["person"].id, type=kind, referred_on=MADE_ON,
                               owner_agency_id=world["second"].id, receiving_agency_id=AgencyFactory().id)
    db.session.commit()
    assert world["mine"].get(f"/referrals/{referral.id}").status_code == 404
    return referral


def _said(page: Page) -> str:
    existing = page.select_one("#existing")
    return existing.get_text(" ", strip=True) if existing is not None else ""


def test_the_referral_form_names_only_the_agency_of_a_hidden_open_referral(world):
    referral = _their_referral(world, ReferralType.PERPETRATOR_PROGRAMME)
    person = world["person"]
    page = Page(world["mine"].get(f"/people/{person.id}/referrals/new?type=perpetrator_programme"))
    assert page.status_code == 200
    said = _said(page)
    assert "already has an open Perpetrator programme referral, made by Dorset Probation" in said
    assert "contact Dorset Probation" in said
    body = page.response.get_data(as_text=True)
    assert str(referral.id) not in body and "6 December 2026" not in body and "2026" not in said
    # The refusal of a second one says no more.
    page = Page(world["mine"].post(f"/people/{person.id}/referrals/new", data={
        "type": "perpetrator_programme", "receiving_agency": str(world["second"].id), "consent": "given"}))
    assert page.status_code == 400
    summary = page.select_one(".govuk-error-summary").get_text(" ", strip=True)
    assert "made by Dorset Probation" in summary and "December" not in summary
    assert str(referral.id) not in page.response.get_data(as_text=True)


def test_the_referral_form_shows_a_visible_open_referral_with_its_date_and_link(world):
    referral = _their_referral(world, ReferralType.PERPETRATOR_PROGRAMME)
    page = Page(world["theirs"].get(f"/people/{world['person'].id}/referrals/new?type=perpetrator_programme"))
    assert "made 6 December 2026" in _said(page)
    assert page.select_one(f"#existing a[href='/referrals/{referral.id}']") is not None


def test_no_open_referral_says_nothing(world):
    page = Page(world["mine"].get(f"/people/{world['person'].id}/referrals/new?type=idva"))
    assert page.status_code == 200 and page.select_one("#existing") is None


def _checklist(client, person, yes: int, action: str) -> RiskAssessment:  # type: ignore[no-untyped-def]
    response = client.post(f"/people/{person.id}/risk-assessments/new", data=answers(yes, action=action))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return db.session.get(RiskAssessment, uuid.UUID(response.headers["Location"].rsplit("/", 1)[-1]))


def test_the_dash_page_names_only_the_agency_of_a_hidden_open_hrda_referral(world):
    referral = _their_referral(world, ReferralType.HRDA)
    assessment = _checklist(world["mine"], world["person"], 15, "complete")
    page = Page(world["mine"].get(f"/risk-assessments/{assessment.id}"))
    said = page.select_one("#open-hrda").get_text(" ", strip=True)
    assert "already has an open HRDA referral, made by Dorset Probation" in said and "2026" not in said
    assert str(referral.id) not in page.response.get_data(as_text=True)
    # Its own agency sees the date and the link.
    page = Page(world["theirs"].get(f"/risk-assessments/{assessment.id}"))
    assert "made 6 December 2026" in page.select_one("#open-hrda").get_text(" ", strip=True)
    assert page.select_one(f"#open-hrda a[href='/referrals/{referral.id}']") is not None


def _score_field(page: Page) -> str | None:
    field = page.select_one("input[name=dash_score]")
    return None if field is None else field.get("value", "")


def test_another_agencys_draft_checklist_does_not_fill_the_referral_form(world):
    person = world["person"]
    draft = _checklist(world["theirs"], person, 17, "draft")
    assert world["mine"].get(f"/risk-assessments/{draft.id}").status_code == 404
    page = Page(world["mine"].get(f"/people/{person.id}/referrals/new?type=hrda&assessment={draft.id}"))
    assert page.status_code == 200
    assert _score_field(page) == "", "the score box is empty, not the draft's score"
    assert "score 17" not in page.text and "DASH score: 17" not in page.text and "DASH checklist of" not in page.text
    # A draft fills no referral form, its own agency's included: only a completed one is referred on.
    page = Page(world["theirs"].get(f"/people/{person.id}/referrals/new?type=hrda&assessment={draft.id}"))
    assert _score_field(page) == ""


def test_a_visible_completed_checklist_fills_the_referral_form(world):
    person = world["person"]
    done = _checklist(world["theirs"], person, 16, "complete")
    page = Page(world["mine"].get(f"/people/{person.id}/referrals/new?type=hrda&assessment={done.id}"))
    assert _score_field(page) is None and "DASH score: 16 (from the checklist)" in page.text
