"""Reviews after a death (issue 18 §3): a review seen only by those named on it; its steps through
the pages; recommendations on the owning agency's action list; the board's search showing the
recommendations and never the review's personal details (canary values)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from casework.db import db
from casework.models import AuditEntry, DardrReview
from casework.services import dardr
from tests.conftest import Page
from tests.factories import AgencyFactory
from tests.fixtures_auth import make_user, sign_in

CANARY_NAME = "Zebedee Quillfeather"
CANARY_TEXT = "canary-circumstances-7731"
CANARY_FAMILY = "canary-family-sister-4410"
CANARY_CHAIR = "canary-chair-Ottoline"


def _date(prefix: str, day: dt.date) -> dict[str, str]:
    return {f"{prefix}-day": str(day.day), f"{prefix}-month": str(day.month), f"{prefix}-year": str(day.year)}


def _world(home_agency):  # type: ignore[no-untyped-def]
    health = AgencyFactory(name="Dorset Health")
    lead = make_user(roles=("manager",), agency=home_agency)
    panel = make_user(roles=("caseworker",), agency=health)
    other_manager = make_user(roles=("manager",), agency=home_agency)
    health_manager = make_user(roles=("manager",), agency=health)
    db.session.commit()
    return health, lead, panel, other_manager, health_manager


def test_a_review_through_its_pages_seen_only_by_those_named(app_ctx, home_agency):
    health, lead, panel, other_manager, health_manager = _world(home_agency)
    client = sign_in(app_ctx, lead)
    today = dt.date.today()
    notified = today - dt.timedelta(days=40)
    empty = Page(client.post("/reviews-after-a-death/new", data={}))
    assert empty.response.status_code == 400 and [a.text for a in empty.select(".govuk-error-summary a")] == [
        "Enter the date the partnership was notified", "Enter the name of the person who died"]
    response = client.post("/reviews-after-a-death/new", data={
        **_date("notified_on", notified), "subject": CANARY_NAME, "circumstances": CANARY_TEXT})
    assert response.status_code == 302, response.get_data(as_text=True)
    review = db.session.scalar(select(DardrReview))
    assert review is not None and review.reference == f"DARDR-{notified.year}-01"
    url = f"/reviews-after-a-death/{review.id}"
    page = Page(client.get(url))
    assert CANARY_NAME in page.h1 and "Overdue" in page.text  # 40 days: past the month for the decision

    # Others, however senior, see nothing until named: 404, as for a review that does not exist.
    assert sign_in(app_ctx, other_manager).get(url).status_code == 404
    panel_client = sign_in(app_ctx, panel)
    assert panel_client.get(url).status_code == 404
    assert client.post(f"{url}/name", data={"user": str(panel.id)}).status_code == 302
    assert panel_client.get(url).status_code == 200

    steps = [
        ("decision", {"decision": "hold", **_date("decided_on", notified + dt.timedelta(days=20))}),
        ("panel", {"chair": CANARY_CHAIR, "panel": "Police, health"}),
        ("report-request", {"agency": str(health.id), **_date("requested_on", notified + dt.timedelta(days=21)),
                            **_date("due_on", today - dt.timedelta(days=1))}),
        ("family-contact", {**_date("contacted_on", today), "summary": CANARY_FAMILY}),
        ("recommendation", {"text": "Health visitors ask routinely about abuse", "themes": ["routine_enquiry"],
                            "agency": str(health.id), **_date("due_on", today - dt.timedelta(days=2))}),
    ]
    for step, data in steps:
        response = panel_client.post(f"{url}/{step}", data=data)
        assert response.status_code == 302, (step, response.get_data(as_text=True))
    page = Page(panel_client.get(url))
    assert "Hold a review" in page.text and CANARY_FAMILY in page.text and "Routine enquiry" in page.text

    # The health agency's manager (not named) sees the chaser and the recommendation on their home page,
    # with nothing personal, and records progress; completing needs evidence.
    boss = sign_in(app_ctx, health_manager)
    home = Page(boss.get("/")).select_one("#dardr")
    assert home is not None and f"Review {review.reference}: your agency's report is due" in home.text
    assert "Health visitors ask routinely" in home.text and "Overdue" in home.text
    for canary in (CANARY_NAME, CANARY_TEXT, CANARY_FAMILY, CANARY_CHAIR):
        assert canary not in home.text
    assert boss.get(url).status_code == 404
    link = home.select_one("a[href*='/recommendations/']")["href"]
    bad = Page(boss.post(link, data={"status": "complete", "evidence": ""}))
    assert bad.response.status_code == 400
    assert "Enter the evidence of what was done" in bad.select_one(".govuk-error-summary").text
    assert boss.post(link, data={"status": "complete", "evidence": "Guidance issued in May",
                                 **_date("completed_on", today)}).status_code == 302
    assert "Health visitors" not in Page(boss.get("/")).text  # complete: off the action list

    actions = {a.action for a in db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("dardr.%")))}
    assert {"dardr.create", "dardr.name", "dardr.decide", "dardr.recommendation_update"} <= actions


def test_the_board_searches_every_recommendation_never_the_review(app_ctx, home_agency):
    health, lead, _panel, other_manager, _ = _world(home_agency)
    today = dt.date(2026, 6, 1)
    review = dardr.create(notified_on=dt.date(2026, 1, 31), subject=CANARY_NAME, circumstances=CANARY_TEXT,
                          by=lead, today=today)
    dardr.set_panel(review, chair=CANARY_CHAIR, panel=None, by=lead)
    dardr.add_contact(review, contacted_on=dt.date(2026, 2, 3), summary=CANARY_FAMILY, by=lead, today=today)
    dardr.add_recommendation(review, text="Share risk at handover", themes=["information_sharing"], agency=health,
                             due_on=dt.date(2026, 5, 1), by=lead, today=today)
    dardr.add_recommendation(review, text="Train GPs on coercive control", themes=["training", "coercive_control"],
                             agency=health, due_on=dt.date(2026, 9, 1), by=lead, today=today)
    db.session.commit()
    board = sign_in(app_ctx, other_manager)  # not named on the review
    page = Page(board.get("/reviews-after-a-death/learning"))
    assert "Share risk at handover" in page.text and "Train GPs" in page.text
    body = page.response.get_data(as_text=True)
    for canary in (CANARY_NAME, CANARY_TEXT, CANARY_FAMILY, CANARY_CHAIR, str(review.id)):
        assert canary not in body
    found = Page(board.get("/reviews-after-a-death/learning?theme=coercive_control&words=gps"))
    assert "Train GPs" in found.text and "Share risk" not in found.text
    assert [r.text for r in dardr.overdue_recommendations(dt.date(2026, 6, 1))] == ["Share risk at handover"]
    assert sign_in(app_ctx, make_user(agency=home_agency)).get("/reviews-after-a-death/learning").status_code == 403


def test_the_last_manager_named_is_not_removed_and_bad_dates_are_refused(app_ctx, home_agency):
    _health, lead, panel, _other, _ = _world(home_agency)
    today = dt.date(2026, 3, 1)
    review = dardr.create(notified_on=dt.date(2026, 2, 1), subject="A", circumstances=None, by=lead, today=today)
    dardr.name(review, user=panel, by=lead)
    try:
        dardr.remove(review, user=lead, by=panel)
    except dardr.DardrError as e:
        assert "last manager named" in str(e)
    else:
        raise AssertionError("the last manager was removed")
    db.session.commit()
    client = sign_in(app_ctx, lead)
    url = f"/reviews-after-a-death/{review.id}/people/{panel.id}/remove"
    confirm = Page(client.post(url, data={}))  # the confirmation page first: nothing removed yet
    assert confirm.h1 == f"Remove {panel.name} from review {review.reference}?"
    assert len(dardr.named_users(review)) == 2
    assert client.post(url, data={"confirm": "yes"}).status_code == 302
    assert [u.id for u in dardr.named_users(review)] == [lead.id]
    refused = client.post(f"/reviews-after-a-death/{review.id}/people/{lead.id}/remove", data={"confirm": "yes"},
                          follow_redirects=True)
    assert "last manager named" in refused.get_data(as_text=True)
    page = Page(client.post(f"/reviews-after-a-death/{review.id}/decision",
                            data={"decision": "hold", **_date("decided_on", dt.date(2026, 1, 31))}))
    assert page.response.status_code == 400
    assert "must be on or after the date of notification" in page.select_one(".govuk-error-summary").text
    assert review.decision is None
