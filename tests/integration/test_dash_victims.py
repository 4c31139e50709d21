"""A DASH checklist and an HRDA referral only for a victim (issue 14, part 3): a victim in an incident
or on a case with the victim role. Pages offer neither for anyone else, and the service refuses either
with a 4xx and a clear message, writing nothing, whatever is posted."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from casework.db import db
from casework.measures.periods import today_in_london
from casework.models import (
    AssessmentStatus,
    AuditEntry,
    CaseKind,
    PartyRole,
    Referral,
    RiskAssessment,
)
from casework.risk.dash import QUESTIONS
from casework.services import cases
from tests.conftest import Page
from tests.factories import AgencyFactory, IncidentFactory, PartyFactory, PersonFactory
from tests.fixtures_auth import make_user, sign_in


@pytest.fixture()
def worker(app_ctx, home_agency):
    return make_user(agency=home_agency)


@pytest.fixture()
def client(app_ctx, worker):
    return sign_in(app_ctx, worker)


def _in_incident(home_agency, *roles_people):  # type: ignore[no-untyped-def]
    incident = IncidentFactory(owner_agency_id=home_agency.id, domestic_abuse=True)
    for role, person in roles_people:
        PartyFactory(incident=incident, person_id=person.id, role=role)
    return incident


@pytest.fixture()
def couple(app_ctx, home_agency):
    victim = PersonFactory(owner_agency_id=home_agency.id, forenames="Vera", surname="Vine")
    perpetrator = PersonFactory(owner_agency_id=home_agency.id, forenames="Paul", surname="Pike")
    _in_incident(home_agency, (PartyRole.VICTIM, victim), (PartyRole.PERPETRATOR, perpetrator))
    db.session.commit()
    return victim, perpetrator


def _checklist(**extra: str) -> dict[str, str]:
    return {**{f"q{n}": "yes" for n in QUESTIONS}, "action": "complete", **extra}


def _counts() -> tuple[int, int, int]:
    return (db.session.scalar(select(func.count()).select_from(RiskAssessment)),
            db.session.scalar(select(func.count()).select_from(Referral)),
            db.session.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.action.in_(["assessment.create", "assessment.update", "referral.create"]))))


def test_a_dash_checklist_for_a_perpetrator_is_refused_and_nothing_written(client, couple):
    _, perpetrator = couple
    before = _counts()
    response = client.post(f"/people/{perpetrator.id}/risk-assessments/new", data=_checklist())
    assert response.status_code == 409
    message = Page(response).select_one("#refused").text
    assert "Paul Pike is not recorded as a victim" in message and "only completed for a victim" in message
    assert client.get(f"/people/{perpetrator.id}/risk-assessments/new").status_code == 409
    assert _counts() == before


def test_an_hrda_referral_of_a_perpetrator_is_refused_whatever_is_posted(client, couple, home_agency):
    _, perpetrator = couple
    before = _counts()
    form = {"type": "hrda", "receiving_agency": str(home_agency.id), "consent": "given",
            "criteria": "professional_judgement", "reason": "Judged high", "children_in_household": "no", "dash_score": "20"}
    response = client.post(f"/people/{perpetrator.id}/referrals/new", data=form)
    assert response.status_code == 409
    assert "HRDA referral is only made for a victim" in Page(response).select_one("#refused").text
    assert client.get(f"/people/{perpetrator.id}/referrals/new?type=hrda").status_code == 409
    choose = Page(client.get(f"/people/{perpetrator.id}/referrals/new"))
    assert not choose.select("input[value=hrda]") and choose.select("input[value=mappa]")
    assert _counts() == before


def test_a_victim_in_an_incident_or_on_a_case_gets_a_checklist(client, couple, worker, home_agency):
    victim, _ = couple
    assert client.post(f"/people/{victim.id}/risk-assessments/new", data=_checklist()).status_code == 302
    on_case = PersonFactory(owner_agency_id=home_agency.id)
    cases.open_case(kind=CaseKind.DOMESTIC_ABUSE, by=worker, person=on_case, role=PartyRole.VICTIM,
                    today=today_in_london())
    db.session.commit()
    assert client.post(f"/people/{on_case.id}/risk-assessments/new", data=_checklist()).status_code == 302
    choose = Page(client.get(f"/people/{on_case.id}/referrals/new"))
    assert choose.select("input[value=hrda]")


def test_the_case_page_offers_the_checklist_only_for_the_victim(client, couple, worker):
    victim, perpetrator = couple
    case = cases.open_case(kind=CaseKind.DOMESTIC_ABUSE, by=worker, person=victim, role=PartyRole.VICTIM,
                           today=today_in_london())
    cases.link_person(case, person=perpetrator, role=PartyRole.PERPETRATOR, by=worker)
    db.session.commit()
    page = Page(client.get(f"/cases/{case.id}"))
    links = [a["href"] for a in page.select("#people a") if "risk-assessments/new" in a["href"]]
    assert links == [f"/people/{victim.id}/risk-assessments/new?case={case.id}"]
    person_page = Page(client.get(f"/people/{perpetrator.id}"))
    assert "Complete a DASH checklist" not in person_page.select_one("#risk-assessments").text
    assert "Complete a DASH checklist" in Page(client.get(f"/people/{victim.id}")).select_one("#risk-assessments").text


def test_an_old_draft_of_a_perpetrator_cannot_be_completed(client, couple, worker):
    _, perpetrator = couple
    draft = RiskAssessment(person_id=perpetrator.id, assessor_id=worker.id, owner_agency_id=worker.agency_id,
                           status=AssessmentStatus.DRAFT, assessed_on=today_in_london())
    draft.answers = '{"1": "yes"}'
    db.session.add(draft)
    db.session.commit()
    response = client.post(f"/risk-assessments/{draft.id}/edit", data=_checklist(version=str(draft.version)))
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(RiskAssessment, draft.id).status is AssessmentStatus.DRAFT


def test_another_agencys_victim_counts_too(app_ctx, client, home_agency):
    other = AgencyFactory()
    person = PersonFactory(owner_agency_id=home_agency.id)
    _in_incident(other, (PartyRole.VICTIM, person))
    db.session.commit()
    assert client.post(f"/people/{person.id}/risk-assessments/new", data=_checklist()).status_code == 302
