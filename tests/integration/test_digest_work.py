"""The daily digest counts the orders' reviews and expiries of the holding agency (from today to 14
days ahead), the owner agency's ASB case review recommendations due or overdue, and the ASB case
review steps due or overdue for the coordinator and the applicant's caseworker: the queued
message's words say how many of each, never what they are about."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from casework.db import db
from casework.measures.periods import today_in_london
from casework.models import (
    ActionStatus,
    AgencyKind,
    Applicant,
    AsbRecommendation,
    AsbReview,
    MessageKind,
    OrderKind,
    OrderStatus,
    OutboxMessage,
    ThresholdDecision,
)
from casework.services import digest, orders
from tests.factories import AgencyFactory, PersonFactory
from tests.fixtures_auth import make_user

TODAY = today_in_london()


def _digests() -> dict[str, OutboxMessage]:
    return {m.recipient: m for m in db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == MessageKind.DAILY_DIGEST))}


def _body(message: OutboxMessage) -> str:
    return message.body.split("\n\n")[0]


@pytest.fixture()
def council(app_ctx):  # type: ignore[no-untyped-def]
    return AgencyFactory(name="Dorset Council", kind=AgencyKind.COUNCIL)


def test_the_holding_agency_digest_counts_order_reviews_and_expiries_within_14_days(app, council):
    worker = make_user(agency=council)
    colleague = make_user(agency=council)
    elsewhere = make_user(agency=AgencyFactory(name="Elsewhere"))
    person = PersonFactory(owner_agency_id=council.id, surname="Quorrelwood")

    def record(**dates: dt.date) -> None:
        orders.record(person, orders.OrderDetails(kind=OrderKind.CBO, agency_id=council.id, status=OrderStatus.IN_FORCE,
                                                  issued_on=TODAY - dt.timedelta(days=100), **dates),
                      by=worker, today=TODAY)

    record(review_on=TODAY + dt.timedelta(days=14))      # the 14th day: counted
    record(review_on=TODAY + dt.timedelta(days=15))      # the 15th: not yet
    record(expires_on=TODAY)                             # today: counted
    record(review_on=TODAY, expires_on=TODAY + dt.timedelta(days=3))  # both counted
    discharged = orders.OrderDetails(kind=OrderKind.CPN, agency_id=council.id, status=OrderStatus.DISCHARGED,
                                     issued_on=TODAY - dt.timedelta(days=10), review_on=TODAY + dt.timedelta(days=1))
    orders.record(person, discharged, by=worker, today=TODAY)  # not in force: not counted
    db.session.flush()

    assert digest.queue_digests(today=TODAY) == 2
    queued = _digests()
    assert set(queued) == {worker.email, colleague.email}
    assert elsewhere.email not in queued
    message = queued[worker.email]
    assert message.subject == "Your reviews and tasks due on Casework"
    assert _body(message) == "You have 2 order reviews and 2 order expiries due or overdue on Casework."
    assert message.link == "/"
    assert "Quorrelwood" not in message.body


def test_the_owner_agency_digest_counts_its_asb_recommendations_due_or_overdue(app, council):
    housing = AgencyFactory(name="Homes Housing", kind=AgencyKind.HOUSING)
    housing_worker = make_user(agency=housing)
    council_worker = make_user(agency=council)
    review = AsbReview(review_ref="ASB-DIGEST-1", person_id=PersonFactory(owner_agency_id=council.id).id,
                       received_on=TODAY - dt.timedelta(days=60), receiving_agency_id=council.id,
                       applicant=Applicant.VICTIM, behaviour="Noise", decision=ThresholdDecision.MET,
                       decided_on=TODAY - dt.timedelta(days=55), review_held_on=TODAY - dt.timedelta(days=40),
                       outcome_sent_on=TODAY - dt.timedelta(days=35))
    db.session.add(review)
    db.session.flush()
    days = app.config["REMINDER_DAYS_AHEAD"]
    for due, status in ((TODAY - dt.timedelta(days=1), ActionStatus.OPEN),        # overdue
                        (TODAY + dt.timedelta(days=days), ActionStatus.OPEN),     # the last day ahead
                        (TODAY + dt.timedelta(days=days + 1), ActionStatus.OPEN),  # not yet
                        (TODAY - dt.timedelta(days=5), ActionStatus.DONE)):       # done
        db.session.add(AsbRecommendation(review_id=review.id, text="Canary recommendation", owner_agency_id=housing.id,
                                         due_on=due, status=status))
    db.session.flush()

    digest.queue_digests(today=TODAY)
    queued = _digests()
    assert _body(queued[housing_worker.email]) == (
        "You have 2 ASB case review recommendations due or overdue on Casework.")
    assert council_worker.email not in queued
    assert "Canary" not in queued[housing_worker.email].body


def test_the_coordinator_and_the_caseworker_get_the_asb_review_steps_due_or_overdue(app, council):
    coordinator = make_user(roles=("asb_coordinator",), agency=council)
    recorder = make_user(agency=council)
    other_caseworker = make_user(agency=council)
    victim = PersonFactory(owner_agency_id=council.id)
    # Received 30 days ago, undecided: its decision (10 working days) is overdue.
    late = AsbReview(review_ref="ASB-DIGEST-2", person_id=victim.id, received_on=TODAY - dt.timedelta(days=30),
                     receiving_agency_id=council.id, caseworker_id=recorder.id, applicant=Applicant.VICTIM,
                     behaviour="Noise")
    # Received today: its decision is due in 10 working days, past the days ahead: not yet.
    fresh = AsbReview(review_ref="ASB-DIGEST-3", person_id=victim.id, received_on=TODAY,
                      receiving_agency_id=council.id, caseworker_id=recorder.id, applicant=Applicant.VICTIM,
                      behaviour="Noise")
    # Done with: nothing runs.
    closed = AsbReview(review_ref="ASB-DIGEST-4", person_id=victim.id, received_on=TODAY - dt.timedelta(days=40),
                       receiving_agency_id=council.id, caseworker_id=recorder.id, applicant=Applicant.VICTIM,
                       behaviour="Noise", decision=ThresholdDecision.NOT_MET, decided_on=TODAY - dt.timedelta(days=35),
                       outcome_sent_on=TODAY - dt.timedelta(days=34))
    db.session.add_all([late, fresh, closed])
    db.session.flush()

    digest.queue_digests(today=TODAY)
    queued = _digests()
    step = "You have 1 ASB case review step due or overdue on Casework."
    assert _body(queued[coordinator.email]) == step
    assert _body(queued[recorder.email]) == step
    assert other_caseworker.email not in queued


def test_the_digest_puts_every_kind_in_one_message_in_a_fixed_order():
    assert digest.due_phrase({"case_review": 1, "order_review": 1, "order_expiry": 2, "asb_recommendation": 1,
                              "asb_review_step": 3}) == (
        "1 case review, 1 order review, 2 order expiries, 1 ASB case review recommendation and "
        "3 ASB case review steps due or overdue")
