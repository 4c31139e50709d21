"""ASB case review applications are personal data of their victim: a subject access request lists
them with their panel, recommendations and audit trail; erasing the victim erases their personal
fields (recommendations' texts too) and leaves the yearly figures as they were; and an application's
activity keeps its victim from the retention sweep as a referral's does."""

from __future__ import annotations

import datetime as dt
import json

from casework.db import db
from casework.models import (
    ActionStatus,
    Applicant,
    AsbRecommendation,
    AsbReview,
    AsbReviewPanel,
    Person,
    ThresholdDecision,
)
from casework.services import asb_reviews, retention
from casework.services import subject_access as sar
from tests.factories import AgencyFactory, PersonFactory
from tests.fixtures_auth import make_user

D = dt.date
CANARY = "Quorrelwood"
YEAR = "2015/16"
FUTURE = dt.date(2040, 1, 1)
RECEIVED = D(2015, 6, 1)


def _application(person, agency, received_on=RECEIVED, **kwargs):  # type: ignore[no-untyped-def]
    review = AsbReview(review_ref=f"ASB-{received_on}-{person.id.hex[-10:]}", person_id=person.id,
                       received_on=received_on, receiving_agency_id=agency.id, applicant=Applicant.RELATIVE,
                       applicant_name=f"Bo {CANARY}", victim_consent=True,
                       behaviour=f"Stones at {CANARY}'s windows", decision=ThresholdDecision.MET,
                       decided_on=received_on + dt.timedelta(days=7),
                       decision_reason=f"{CANARY} is vulnerable", threshold_by_rule=False,
                       review_held_on=received_on + dt.timedelta(days=20),
                       outcome_sent_on=received_on + dt.timedelta(days=25),
                       appeal_received_on=received_on + dt.timedelta(days=30), **kwargs)
    review.recommendations.append(AsbRecommendation(text=f"Move {CANARY} to a safer flat", owner_agency_id=agency.id,
                                                    due_on=received_on + dt.timedelta(days=60),
                                                    status=ActionStatus.OPEN))
    review.panel.append(AsbReviewPanel(agency_id=agency.id))
    db.session.add(review)
    db.session.flush()
    return review


def test_subject_access_lists_the_victims_applications_with_their_recommendations_and_audit(app_ctx):
    agency = AgencyFactory()
    coordinator = make_user(roles=("asb_coordinator",), agency=agency)
    victim, other = PersonFactory(surname=CANARY), PersonFactory(surname="Thirdparty")
    merged = PersonFactory(surname="Quorelwood", merged_into_id=victim.id)
    review = _application(victim, agency)
    earlier = _application(merged, agency, received_on=D(2014, 6, 1))
    _application(other, agency)
    db.session.flush()
    asb_reviews.send_outcome(review, sent_on=review.outcome_sent_on, by=coordinator, today=D(2026, 12, 7))

    doc = json.loads(sar.to_json(sar.document(person_id=victim.id)))

    held = doc["held_with_the_person"]["asb_case_review"]
    assert sorted(r["review_ref"] for r in held) == sorted([review.review_ref, earlier.review_ref])
    mine = next(r for r in held if r["id"] == str(review.id))
    assert mine["behaviour"] == f"Stones at {CANARY}'s windows" and mine["applicant_name"] == f"Bo {CANARY}"
    assert mine["decision_reason"] == f"{CANARY} is vulnerable" and mine["victim_consent"] is True
    assert mine["decision"] == "met" and mine["received_on"] == "2015-06-01"
    assert "bi_surname" not in json.dumps(held)
    apps = doc["held_with_the_asb_case_reviews"]
    assert sorted(r["text"] for r in apps["asb_recommendation"]) == [f"Move {CANARY} to a safer flat"] * 2
    assert {r["agency_id"] for r in apps["asb_review_panel"]} == {str(agency.id)}
    assert [(a["action"], a["record_id"]) for a in doc["audit"] if a["record_kind"] == "asb_review"] == [
        ("asb_review.outcome_sent", str(review.id))]
    assert "Thirdparty" not in json.dumps(doc), "another victim's application is not theirs"


def test_erasing_the_victim_erases_their_applications_and_keeps_the_yearly_figures(app_ctx):
    agency = AgencyFactory()
    victim, bystander = PersonFactory(surname=CANARY), PersonFactory(surname="Keepme")
    merged = PersonFactory(merged_into_id=victim.id)
    reviews = [_application(victim, agency), _application(merged, agency, received_on=D(2015, 9, 1))]
    kept = _application(bystander, agency, received_on=D(2015, 7, 1))
    db.session.flush()
    before = asb_reviews.figures(year=YEAR, as_of=D(2026, 12, 7))

    removed = retention.erase(kind="person", record_id=victim.id, cause="request", reason="Article 17")
    db.session.commit()

    assert asb_reviews.figures(year=YEAR, as_of=D(2026, 12, 7)) == before
    assert before["applications"] == 3 and before["reviews_with_recommendations"] == 3
    for review in reviews:
        again = db.session.get(AsbReview, review.id)
        assert [again.applicant_name, again.behaviour, again.decision_reason, again.affected_people] == [None] * 4
        assert [r.text for r in again.recommendations] == [retention.ERASED]
        assert (again.received_on, again.decision, again.review_held_on, again.applicant) == (
            review.received_on, ThresholdDecision.MET, review.review_held_on, Applicant.RELATIVE)
        assert len(again.panel) == 1
    assert removed.fields["asb_case_review"] == ["applicant_name", "behaviour", "decision_reason"]
    assert removed.fields["asb_recommendation"] == ["text"]
    assert removed.rows["asb_recommendation"] == 2
    other = db.session.get(AsbReview, kept.id)
    assert other.behaviour == f"Stones at {CANARY}'s windows"
    assert [r.text for r in other.recommendations] == [f"Move {CANARY} to a safer flat"]


def test_an_application_keeps_its_victim_from_the_sweep_as_long_as_a_referral_would(app_ctx):
    agency = AgencyFactory()
    cutoff = D(2034, 1, 1)  # FUTURE less 6 years
    people = {}
    for name, received_on in (("on the cutoff", cutoff), ("the day before", cutoff - dt.timedelta(days=1))):
        person = PersonFactory()
        review = _application(person, agency, received_on=received_on - dt.timedelta(days=30))
        review.appeal_decided_on = received_on  # the application's latest step
        people[name] = person.id
    db.session.flush()
    db.session.execute(AsbReview.__table__.update().values(updated_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)))
    db.session.execute(AsbRecommendation.__table__.update().values(updated_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)))
    db.session.execute(Person.__table__.update().values(updated_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)))

    expired = set(db.session.scalars(retention.expired_query("person", {"inactive_years": 6}, FUTURE)))

    assert people["the day before"] in expired
    assert people["on the cutoff"] not in expired
