"""Email through the outbox (issue 16, part 1), against a real SMTP server (aiosmtpd) started here:
queued with the change (a rolled-back change sends nothing), sent once, retried when the server is
down until it comes back, failures on the jobs page; every kind of message free of personal data;
development's log and admin page without the links' secrets; two senders never send one twice."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid

import pytest
from sqlalchemy import delete, func, select

from casework import scheduler
from casework.db import db
from casework.measures.periods import today_in_london
from casework.models import (
    AgencyKind,
    MessageKind,
    MessageState,
    OutboxMessage,
    Referral,
    Reminder,
    User,
)
from casework.models.base import utcnow
from casework.services import digest, meeting_records, meetings, outbox, referral_routes, referrals, users
from tests.conftest import Page
from tests.factories import AgencyFactory, PersonFactory, routed, victim
from tests.fixtures_auth import make_user, sign_in
from tests.smtp_support import SmtpServer

CANARIES = ("Quorrelwood", "Zephyrine", "1961", "DT9 9ZZ", "Canarylane", "canary-free-text", "Canaryworker")


@pytest.fixture(scope="module")
def smtp():  # type: ignore[no-untyped-def]
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture()
def mail(app, smtp, monkeypatch):  # type: ignore[no-untyped-def]
    """The app sends to the test's SMTP server; its inbox starts empty."""
    for key, value in smtp.settings().items():
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://casework.example.org")
    smtp.inbox.clear()
    return smtp.inbox


def _send(**kwargs):  # type: ignore[no-untyped-def]
    result = outbox.send_due(**kwargs)
    db.session.expire_all()
    return result


def _queued() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)))


def test_a_rolled_back_change_sends_nothing_and_a_committed_one_is_sent_once(app_ctx, mail):
    kept, dropped = make_user(), make_user()
    with db.session.begin_nested() as change:
        outbox.queue(MessageKind.SECOND_FACTOR_RESET, to=dropped, endpoint="auth.sign_in")
        change.rollback()
    message = outbox.queue(MessageKind.SECOND_FACTOR_RESET, to=kept, endpoint="auth.sign_in")
    db.session.commit()

    first, second = _send(), _send()

    assert (first.sent, second.sent) == (1, 0)
    (received,) = [m for _, m in mail.messages]
    assert received["To"] == kept.email and received["Message-ID"] == message.message_id
    assert "https://casework.example.org/sign-in" in mail.text(received)
    row = db.session.get(OutboxMessage, message.id)
    assert row.state is MessageState.SENT and row.attempts == 1 and row.claimed_by is None
    assert mail.to(dropped.email) == []


def test_a_server_down_is_retried_with_back_off_shown_on_the_jobs_page_and_sent_when_it_is_back(
        app_ctx, app, mail, monkeypatch):
    down = SmtpServer()  # a port nothing listens on, yet
    for key, value in down.settings().items():
        monkeypatch.setitem(app.config, key, value)
    user = make_user()
    users.reset_second_factor(user=user)
    db.session.commit()
    job = scheduler.registry()["send_email"]

    run = scheduler.execute(job)

    assert run is not None and run.outcome == "failed" and "could not take the messages" in run.error
    (row,) = _queued()
    assert row.state is MessageState.QUEUED and row.attempts == 1 and row.last_error
    assert dt.timedelta(seconds=29) < row.next_attempt_at - utcnow() <= dt.timedelta(seconds=30)
    assert _send().sent == 0  # not due again yet
    admin = make_user(roles=("admin",))
    page = Page(sign_in(app_ctx, admin).get("/admin/jobs"))
    assert "Failed" in page.select_one("#job-send_email").text
    assert "Second factor reset" in page.select_one("#outbox-failures").text

    down.start()
    try:
        later = _send(now=utcnow() + dt.timedelta(seconds=31))
        assert later.sent == 1 and len(down.inbox.to(user.email)) == 1
    finally:
        down.stop()
    db.session.refresh(row)
    assert row.state is MessageState.SENT and row.attempts == 2


@pytest.mark.parametrize("attempts", [1, 2, 3, 8, 30])
def test_back_off_doubles_from_thirty_seconds_to_at_most_an_hour(attempts):
    expected = min(30 * 2 ** (attempts - 1), 3600)
    assert outbox.backoff(attempts) == dt.timedelta(seconds=expected)


@pytest.mark.parametrize(("counts", "phrase"), [
    ({"case_review": 1}, "1 case review due or overdue"),
    ({"case_review": 2, "task": 1}, "2 case reviews and 1 task due or overdue"),
    ({"case_review": 0, "task": 3, "hrda_action": 1}, "3 tasks and 1 HRDA action due or overdue"),
    ({"case_review": 1, "task": 1, "hrda_action": 2}, "1 case review, 1 task and 2 HRDA actions due or overdue"),
    ({"task": 0}, ""),
])
def test_the_digest_gives_counts_only(counts, phrase):
    assert digest.due_phrase(counts) == phrase


def test_a_set_up_link_is_emailed_and_shown_and_development_logs_it_without_its_token(
        app_ctx, app, mail, monkeypatch, caplog):
    admin = make_user(roles=("admin",))
    agency = AgencyFactory()
    client = sign_in(app_ctx, admin)
    page = Page(client.post("/admin/users/new", data={"email": "new.user@example.org", "name": "Canaryworker",
                                                      "agency": str(agency.id), "roles": ["caseworker"]}))
    link = page.select_one("#setup-link").text
    token = link.rsplit("/", 1)[-1]
    assert "emailed to new.user@example.org" in page.text
    db.session.commit()

    monkeypatch.setitem(app.config, "SMTP_HOST", None)  # development without a mail server
    with caplog.at_level(logging.INFO, logger="casework.outbox"):
        logged = _send(limit=1)
    assert logged.sent == 1 and logged.via == "log"
    assert "Set up your Casework account" in caplog.text and token not in caplog.text
    listing = Page(client.get("/admin/jobs/outbox"))
    assert "new.user@example.org" in listing.text and "[secret]" in listing.text and token not in listing.text
    assert db.session.get(OutboxMessage, _queued()[-1].id).link is None  # the token is not kept once sent

    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")  # a new link, now by email
    fresh = Page(client.post(f"/admin/users/{db.session.scalar(select(User.id).where(User.email == 'new.user@example.org'))}/set-up-link"))
    db.session.commit()
    assert _send().sent == 1
    (received,) = mail.to("new.user@example.org")
    assert fresh.select_one("#setup-link").text in mail.text(received)
    assert "Canaryworker" not in mail.text(received)


def test_every_kind_of_message_says_what_happened_and_links_without_personal_data(app_ctx, mail):
    today = today_in_london()
    police = AgencyFactory(name="Police", kind=AgencyKind.POLICE)
    hrda_team = AgencyFactory(name="HRDA team", kind=AgencyKind.COUNCIL)
    housing = AgencyFactory(name="Housing", kind=AgencyKind.HOUSING)
    route = routed("hrda", hrda_team)
    chair = db.session.scalar(select(User).where(User.agency_id == hrda_team.id))
    officer = make_user(agency=police)
    housing_worker = make_user(agency=housing)
    for user in (chair, officer, housing_worker):
        user.name = "Canaryworker Quorrelwood"
    person = victim(PersonFactory(surname="Quorrelwood", forenames="Zephyrine", date_of_birth=dt.date(1961, 2, 3),
                                  postcode="DT9 9ZZ", owner_agency_id=police.id))
    assert route is not None
    # a new referral (to the receiving team), its decision (to the referrer)
    referral = referrals.refer(person, kind=referrals.ReferralType.HRDA, receiving_agency=hrda_team,
                               consent=referrals.Consent.GIVEN, lawful_basis=None, reason="canary-free-text",
                               by=officer, today=today, criteria=["professional_judgement"],
                               children_in_household=False)
    meeting = meetings.schedule(day=today + dt.timedelta(days=7), time=dt.time(10), place="Canarylane",
                                online=False, agencies=[police, housing], by=chair, today=today)[0]
    referrals.decide(referral, accept=True, reason=None, version=referral.version, by=chair, meeting=meeting)
    # the agenda published (to the invited agencies), an action (to its agency)
    meetings.publish_agenda(meeting, by=chair)
    meeting_records.add_action(meeting.cases[0], text="canary-free-text", agency=housing,
                               person_name="Zephyrine Quorrelwood", due_on=today + dt.timedelta(days=14),
                               by=chair, today=today)
    # a set-up link, a second factor reset, the daily digest
    users.create(email="canaryworker@example.org", name="Canaryworker Quorrelwood", agency=police,
                 roles=["caseworker"])
    users.reset_second_factor(user=officer)
    db.session.add(Reminder(user_id=housing_worker.id, kind="hrda_action", record_kind="meeting_action",
                            record_id=uuid.uuid4(), due_on=today, text="Zephyrine Quorrelwood canary-free-text"))
    db.session.flush()
    assert digest.queue_digests() >= 1
    db.session.commit()

    assert _send().failed == 0
    kinds = {row.kind for row in _queued()}
    assert kinds == set(MessageKind)
    texts = [(rcpt, mail.text(m)) for rcpt, m in mail.messages]
    assert len(texts) == len(_queued())
    for _, text in texts:
        for canary in CANARIES:
            assert canary.lower() not in text.lower(), (canary, text)
        assert "https://casework.example.org/" in text
    by_address = {rcpt[0]: text for rcpt, text in texts}
    assert "waiting for your decision" in by_address[chair.email]
    assert f"/hrda/referrals/{referral.id}" in by_address[chair.email]
    officer_texts = " ".join(t for r, t in texts if officer.email in r)
    assert "has been decided" in officer_texts and f"/referrals/{referral.id}" in officer_texts
    assert "1 HRDA action due or overdue" in " ".join(t for r, t in texts if housing_worker.email in r)


def test_the_daily_digest_is_not_sent_to_a_user_who_turned_it_off(app_ctx, mail):
    worker = make_user()
    db.session.add(Reminder(user_id=worker.id, kind="task", record_kind="case_task", record_id=uuid.uuid4(),
                            due_on=today_in_london(), text="Task"))
    db.session.commit()
    client = sign_in(app_ctx, worker)
    assert client.post("/account/email", data={}).status_code == 302
    db.session.refresh(worker)
    assert worker.daily_digest is False
    assert digest.queue_digests() == 0
    client.post("/account/email", data={"daily_digest": "y"})
    assert digest.queue_digests() == 1


def test_a_referral_made_through_the_pages_is_emailed_to_the_receiving_team_by_the_scheduler(app_ctx, mail):
    home = AgencyFactory(name="Home agency")
    worker = make_user(agency=home)
    council = AgencyFactory(name="HRDA Council")
    route = routed("hrda", council)
    other_chair = make_user(roles=("hrda_chair",), agency=council)
    bystander = make_user(roles=("caseworker",), agency=council)  # cannot decide HRDA referrals
    person = victim(PersonFactory(surname="Quorrelwood", forenames="Zephyrine", owner_agency_id=home.id))
    db.session.commit()
    made = sign_in(app_ctx, worker).post(f"/people/{person.id}/referrals/new", data={
        "type": "hrda", "consent": "given", "criteria": "professional_judgement", "reason": "canary-free-text",
        "children_in_household": "no"})
    assert made.status_code == 302, made.get_data(as_text=True)[:2000]
    referral = db.session.scalar(select(Referral).where(Referral.person_id == person.id))

    run = scheduler.execute(scheduler.registry()["send_email"])

    assert run is not None and run.outcome == "succeeded", run and run.error
    deciders = {u.email for u in referral_routes.deciders(route)}
    assert other_chair.email in deciders
    for address in deciders:
        (message,) = mail.to(address)
        text = mail.text(message)
        assert "A new referral is waiting for your decision" in text
        assert f"https://casework.example.org/hrda/referrals/{referral.id}" in text
        assert not any(c.lower() in text.lower() for c in CANARIES)
    assert mail.to(bystander.email) == [] and mail.to(worker.email) == []


def test_two_senders_at_once_never_send_one_message_twice(durable_app, smtp, monkeypatch):
    for key, value in smtp.settings().items():
        monkeypatch.setitem(durable_app.config, key, value)
    smtp.inbox.clear()
    monkeypatch.setattr(outbox, "BATCH", 10)  # small batches: the two senders take turns claiming
    marker = f"two-senders-{uuid.uuid4().hex[:8]}"
    with durable_app.app_context():
        for n in range(60):
            outbox.queue(MessageKind.SECOND_FACTOR_RESET, to=f"{marker}-{n}@example.org", endpoint="auth.sign_in")
        db.session.commit()
    results = []

    def sender() -> None:
        with durable_app.app_context():
            results.append(outbox.send_due())

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        received = [m["Message-ID"] for _, m in smtp.inbox.messages if marker in m["To"]]
        assert len(received) == 60 and len(set(received)) == 60
        assert sum(r.sent for r in results) == 60
    finally:
        with durable_app.app_context():
            db.session.execute(delete(OutboxMessage).where(OutboxMessage.recipient.like(f"{marker}-%")))
            db.session.commit()
            assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.recipient.like(f"{marker}-%"))) == 0


def test_casework_base_url_is_another_name_for_the_public_url(app_ctx, app, monkeypatch):
    from casework import links

    monkeypatch.setitem(app.config, "PUBLIC_URL", None)
    monkeypatch.setitem(app.config, "BASE_URL", "https://alias.example.org/")
    assert links.public_base() == "https://alias.example.org"
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://casework.example.org")
    assert links.public_base() == "https://casework.example.org"
