"""DASH checklists through their pages: the 13/14 boundary, drafts, professional judgement, the HRDA
referral proposal and its reasons, encryption at rest, the person's history."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select, text

from casework.db import db
from casework.measures.periods import today_in_london
from casework.models import AssessmentStatus, PartyRole, ReferralType, RiskAssessment
from casework.risk.dash import QUESTIONS, Criterion
from casework.services import assessments
from tests.conftest import Page
from tests.factories import (
    AgencyFactory,
    IncidentFactory,
    PartyFactory,
    PersonFactory,
    ReferralFactory,
    victim,
)
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


def answers(yes: int, *, answered: int = 24, **extra: str) -> dict[str, str]:
    """A checklist form: the first `yes` questions yes, the rest of the first `answered` no."""
    data = {f"q{n}": ("yes" if n <= yes else "no") for n in QUESTIONS if n <= answered}
    data.update(extra)
    return data


def _assessment(response) -> RiskAssessment:  # type: ignore[no-untyped-def]
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return db.session.get(RiskAssessment, uuid.UUID(response.headers["Location"].rsplit("/", 1)[-1]))


@pytest.mark.parametrize("yes,level,proposed", [(13, "Medium risk", False), (14, "High risk", True)])
def test_the_high_risk_boundary_is_14_yes_answers_through_the_page(client, person, yes, level, proposed):
    assessment = _assessment(client.post(f"/people/{person.id}/risk-assessments/new",
                                         data=answers(yes, action="complete")))
    assert assessment.status is AssessmentStatus.COMPLETE and assessment.score == yes
    page = Page(client.get(f"/risk-assessments/{assessment.id}"))
    assert level in page.text
    assert ("Casework proposes a referral to HRDA" in page.text) is proposed
    if proposed:
        assert "visible high risk: a DASH score of 14 (14 or more)" in page.select_one("#proposal").text


def test_9_is_standard_and_10_medium(client, person):
    for yes, level in ((9, "standard"), (10, "medium")):
        assessment = _assessment(client.post(f"/people/{person.id}/risk-assessments/new",
                                             data=answers(yes, action="complete")))
        assert assessment.level.value == level


def test_the_bands_come_from_configuration(client, person, app_ctx):
    app_ctx.config["DASH_HIGH_FROM"] = 12
    try:
        assessment = _assessment(client.post(f"/people/{person.id}/risk-assessments/new",
                                             data=answers(12, action="complete")))
    finally:
        app_ctx.config["DASH_HIGH_FROM"] = 14
    assert assessment.level.value == "high"


def test_a_half_filled_checklist_is_saved_as_a_draft_and_completed_later(client, person, worker):
    draft = _assessment(client.post(f"/people/{person.id}/risk-assessments/new",
                                    data=answers(3, answered=6, action="draft", n2="She is very scared")))
    assert draft.status is AssessmentStatus.DRAFT and draft.score == 3
    assert draft.checklist.notes == {2: "She is very scared"}
    page = Page(client.get(f"/risk-assessments/{draft.id}/edit"))
    assert page.select_one("#q2")["checked"] is not None and "She is very scared" in page.text
    version = page.select_one("input[name=version]")["value"]
    response = client.post(f"/risk-assessments/{draft.id}/edit",
                           data=answers(15, action="complete", version=version))
    assert response.status_code == 302
    db.session.refresh(draft)
    assert draft.status is AssessmentStatus.COMPLETE and draft.score == 15 and draft.level.value == "high"
    assert draft.assessor_id == worker.id and draft.assessed_on == today_in_london()


def test_completing_with_unanswered_questions_is_refused_and_nothing_saved(client, person):
    db.session.commit()
    page = Page(client.post(f"/people/{person.id}/risk-assessments/new",
                            data=answers(2, answered=22, action="complete")))
    assert page.status_code == 400
    summary = page.select_one(".govuk-error-summary")
    assert "unanswered: 23, 24" in summary.text and summary.select_one("a")["href"] == "#q23"
    assert db.session.scalars(select(RiskAssessment).where(RiskAssessment.person_id == person.id)).all() == []


def test_an_empty_checklist_is_not_saved_even_as_a_draft(client, person):
    db.session.commit()
    assert client.post(f"/people/{person.id}/risk-assessments/new", data={"action": "draft"}).status_code == 400
    assert db.session.scalars(select(RiskAssessment).where(RiskAssessment.person_id == person.id)).all() == []


def test_professional_judgement_raises_to_high_only_with_a_reason(client, person):
    db.session.commit()
    page = Page(client.post(f"/people/{person.id}/risk-assessments/new",
                            data=answers(5, action="complete", judged_high="y")))
    assert page.status_code == 400
    assert page.select_one(".govuk-error-summary a")["href"] == "#reason"
    assessment = _assessment(client.post(f"/people/{person.id}/risk-assessments/new", data=answers(
        5, action="complete", judged_high="y", reason="He has bought a knife and knows her new address")))
    assert (assessment.score, assessment.scored_level.value, assessment.level.value) == (5, "standard", "high")
    page = Page(client.get(f"/risk-assessments/{assessment.id}"))
    assert "professional judgement that the risk is high: He has bought a knife" in page.select_one("#proposal").text


def test_answers_notes_and_reason_are_encrypted_at_rest(client, person):
    assessment = _assessment(client.post(f"/people/{person.id}/risk-assessments/new", data=answers(
        15, action="complete", n9="Baby born in March", judged_high="y", reason="Threats with a crossbow")))
    key = assessment.id.hex if db.engine.dialect.name == "sqlite" else assessment.id
    row = db.session.execute(text("SELECT answers, notes, judgement_reason FROM risk_assessment WHERE id = :i"),
                             {"i": key}).one()
    stored = b"".join(bytes(v) for v in row)
    assert b"Baby" not in stored and b"crossbow" not in stored and b'"yes"' not in stored


def _da_incident(person_id, on: dt.date, agency_id) -> None:  # type: ignore[no-untyped-def]
    PartyFactory(incident=IncidentFactory(occurred_on=on, domestic_abuse=True, owner_agency_id=agency_id),
                 person_id=person_id, role=PartyRole.VICTIM)


def test_escalation_and_repeat_propose_a_referral_whatever_the_score(client, person, home_agency):
    today = today_in_london()
    for days in (200, 100, 5):
        _da_incident(person.id, today - dt.timedelta(days=days), home_agency.id)
    ReferralFactory(person_id=person.id, type=ReferralType.HRDA, referred_on=today - dt.timedelta(days=300),
                    owner_agency_id=home_agency.id, imported=True)
    assessment = _assessment(client.post(f"/people/{person.id}/risk-assessments/new",
                                         data=answers(4, action="complete")))
    proposal = assessments.hrda_proposal(person, assessment=assessment, today=today)
    assert proposal.criteria == (Criterion.ESCALATION, Criterion.REPEAT)
    text_ = Page(client.get(f"/risk-assessments/{assessment.id}")).select_one("#proposal").text
    assert "potential escalation: 3 domestic abuse incidents as victim within 365 days" in text_
    assert "repeat: the previous HRDA referral was 300 days before" in text_


def test_two_incidents_and_an_old_referral_propose_nothing(client, person, home_agency):
    today = today_in_london()
    for days in (200, 5):
        _da_incident(person.id, today - dt.timedelta(days=days), home_agency.id)
    _da_incident(person.id, today - dt.timedelta(days=600), home_agency.id)
    ReferralFactory(person_id=person.id, type=ReferralType.HRDA, referred_on=today - dt.timedelta(days=366),
                    owner_agency_id=home_agency.id)
    proposal = assessments.hrda_proposal(person, assessment=None, today=today)
    assert proposal.criteria == ()
    assert assessments.escalation_count(person.id, today=today) == 2


def test_a_completed_checklist_is_kept_as_it_was(client, person):
    assessment = _assessment(client.post(f"/people/{person.id}/risk-assessments/new",
                                         data=answers(3, action="complete")))
    response = client.post(f"/risk-assessments/{assessment.id}/edit",
                           data=answers(20, action="complete", version=str(assessment.version)))
    assert response.status_code == 302
    db.session.refresh(assessment)
    assert assessment.score == 3


def test_the_person_page_shows_the_history_with_date_and_assessor(client, person, worker):
    first = _assessment(client.post(f"/people/{person.id}/risk-assessments/new", data=answers(8, action="complete")))
    second = _assessment(client.post(f"/people/{person.id}/risk-assessments/new", data=answers(16, action="complete")))
    page = Page(client.get(f"/people/{person.id}"))
    rows = page.select("#risk-assessments tbody tr")
    assert [r.select_one("a")["href"].rsplit("/", 1)[-1] for r in rows] in (
        [str(second.id), str(first.id)], [str(first.id), str(second.id)])
    assert all(worker.name in r.text for r in rows)
    assert "High risk" in page.select_one("#risk-assessments").text
    assert page.select_one(f"#risk-assessments a[href='/people/{person.id}/risk-assessments/new']") is not None


def test_a_draft_stays_with_its_agency_and_other_agencies_see_nothing(client, person, app_ctx):
    draft = _assessment(client.post(f"/people/{person.id}/risk-assessments/new",
                                    data=answers(2, answered=3, action="draft")))
    outsider = make_user(agency=AgencyFactory())
    db.session.commit()
    assert sign_in(app_ctx, outsider).get(f"/risk-assessments/{draft.id}").status_code == 404
