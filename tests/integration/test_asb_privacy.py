"""ASB case review applications are personal data of their victim: a subject access request lists
them with their panel, recommendations and audit trail; erasing the victim erases their personal
fields (recommendations' texts too) and leaves the yearly figures as they were; an application's
activity keeps its victim from the retention sweep as a referral's does; and a community
application (no person record) is swept on its own, `years` after its last step."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from casework.db import db
from casework.models import (
    ActionStatus,
    Applicant,
    AsbRecommendation,
    AsbReview,
    AsbReviewPanel,
    Erasure,
    Person,
    ThresholdDecision,
)
from casework.services import asb_reviews, retention
from casework.services import subject_access as sar
from tests.factories import AgencyFactory, AreaFactory, PersonFactory
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


def _community(agency, last_step):  # type: ignore[no-untyped-def]
    """A community application whose last step (the appeal decided) is on `last_step`."""
    received_on = last_step - dt.timedelta(days=40)
    review = AsbReview(review_ref=f"ASB-C-{last_step}", area_id=AreaFactory(owner_agency_id=agency.id).id,
                       received_on=received_on, receiving_agency_id=agency.id, applicant=Applicant.VICTIM,
                       behaviour="Fireworks at the flats", affected_people=f"Ada {CANARY}\nBo {CANARY}",
                       decision=ThresholdDecision.MET, decided_on=received_on + dt.timedelta(days=5),
                       review_held_on=received_on + dt.timedelta(days=10),
                       appeal_received_on=received_on + dt.timedelta(days=20), appeal_decided_on=last_step,
                       appeal_upheld=False)
    review.recommendations.append(AsbRecommendation(text=f"Visit {CANARY}", owner_agency_id=agency.id,
                                                    due_on=last_step))
    db.session.add(review)
    db.session.flush()
    return review


def test_the_sweep_erases_a_community_application_years_after_its_last_step_and_keeps_its_figures(app_ctx):
    agency = AgencyFactory()
    cutoff = D(2034, 1, 1)  # FUTURE less 6 years
    on_cutoff, day_before = _community(agency, cutoff), _community(agency, cutoff - dt.timedelta(days=1))
    personal = _application(PersonFactory(), agency, received_on=D(2014, 6, 1))  # goes with its victim
    old = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    db.session.execute(AsbReview.__table__.update().values(updated_at=old))
    db.session.execute(AsbRecommendation.__table__.update().values(updated_at=old))
    years = ("2033/34", "2014/15")
    before = [asb_reviews.figures(year=y, as_of=FUTURE) for y in years]

    expired = set(db.session.scalars(retention.expired_query("asb_review", {"years": 6}, FUTURE)))
    swept = retention.sweep(today=FUTURE)
    db.session.commit()

    assert expired == {day_before.id}, "not on the cutoff, nor a personal application"
    assert swept.erased["asb_review"] == 1
    assert [asb_reviews.figures(year=y, as_of=FUTURE) for y in years] == before
    assert (before[0]["applications"], before[0]["appeals"], before[0]["reviews_with_recommendations"]) == (2, 2, 2)
    gone, kept = db.session.get(AsbReview, day_before.id), db.session.get(AsbReview, on_cutoff.id)
    assert [gone.affected_people, gone.decision_reason] == [None, None] and gone.behaviour is None
    assert [r.text for r in gone.recommendations] == [retention.ERASED]
    assert (gone.decision, gone.appeal_decided_on, gone.area_id) == (ThresholdDecision.MET, day_before.appeal_decided_on,
                                                                     day_before.area_id)
    assert kept.affected_people == f"Ada {CANARY}\nBo {CANARY}"
    assert db.session.get(AsbReview, personal.id).behaviour is None, "erased with its (inactive) victim"
    erasure = db.session.scalar(select(Erasure).where(Erasure.record_id == day_before.id))
    assert erasure.record_kind == "asb_review" and erasure.rule == "asb_review.years=6"
    assert json.loads(erasure.fields) == {"asb_case_review": ["affected_people", "behaviour"],
                                          "asb_recommendation": ["text"]}
