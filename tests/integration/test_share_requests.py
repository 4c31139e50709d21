"""Asking another agency to share a person's record (issue 14 §6): from an identity-only match, with a
reason; the owning agency's managers see the request on their home page and accept (the record is
shared) or decline with a reason the requester sees; every step audited; nothing half-written."""

from __future__ import annotations

from sqlalchemy import select

from casework import policy
from casework.db import db
from casework.models import AuditEntry, Person, Share, ShareRequest
from casework.services import share_requests
from tests.conftest import Page
from tests.factories import AgencyFactory, PersonFactory
from tests.fixtures_auth import make_user, sign_in


def _world(home_agency):  # type: ignore[no-untyped-def]
    owner = AgencyFactory(name="Dorset Council")
    asker = make_user(agency=home_agency)
    asker.name = "Ann Asker"
    manager = make_user(roles=("manager",), agency=owner)
    person = PersonFactory(owner_agency_id=owner.id, forenames="Cara", surname="Lowe")
    db.session.commit()
    return owner, asker, manager, person


def _ask_url(person, user) -> str:  # type: ignore[no-untyped-def]
    return f"/share-requests/new/{share_requests.ask_token(person.id, viewer=user)}"


def _actions() -> list[str]:
    return [a.action for a in db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("share_request.%"))
                                                 .order_by(AuditEntry.position))]


def test_an_identity_only_match_asks_and_the_owner_accepts(app_ctx, home_agency):
    _owner, asker, manager, person = _world(home_agency)
    client = sign_in(app_ctx, asker)
    results = Page(client.get("/people?surname=Lowe"))
    link = results.select_one("a[href^='/share-requests/new/']")
    assert link is not None and "ask them to share the record" in link.text
    assert str(person.id) not in results.response.get_data(as_text=True)  # the link names no id
    page = Page(client.get(link["href"]))
    assert page.h1 == "Ask Dorset Council to share a record" and "Cara Lowe" in page.text
    response = client.post(link["href"], data={"reason": "She is a victim in our stalking case"})
    assert response.status_code == 302
    home = Page(client.get("/"))
    assert "Your request was sent to Dorset Council" in home.text
    assert "Waiting" in home.select_one("#my-share-requests").text
    assert "the request is waiting for a decision" in Page(client.get(link["href"])).text

    boss = sign_in(app_ctx, manager)
    waiting = Page(boss.get("/")).select_one("#share-requests")
    assert waiting is not None and "asks for the record of Cara Lowe" in waiting.text
    decision = Page(boss.get(waiting.select_one("a")["href"]))
    assert "She is a victim in our stalking case" in decision.text and "Ann Asker" in decision.text
    assert boss.post(waiting.select_one("a")["href"], data={"decision": "accept"}).status_code == 302
    assert Page(boss.get("/")).select_one("#share-requests") is None
    db.session.expire_all()
    share = db.session.scalar(select(Share).where(Share.record_id == person.id, Share.agency_id == home_agency.id))
    assert share is not None and share.via == "request"
    assert policy.can_view(db.session.get(type(asker), asker.id), db.session.get(Person, person.id))
    mine = Page(sign_in(app_ctx, asker).get("/")).select_one("#my-share-requests")
    assert "Shared" in mine.text and mine.select_one(f"a[href='/people/{person.id}']") is not None
    assert _actions() == ["share_request.create", "share_request.accepted"]


def test_the_owner_declines_with_a_reason_the_requester_sees(app_ctx, home_agency):
    _owner, asker, manager, person = _world(home_agency)
    client = sign_in(app_ctx, asker)
    client.post(_ask_url(person, asker), data={"reason": "Safeguarding"})
    req = db.session.scalar(select(ShareRequest))
    boss = sign_in(app_ctx, manager)
    page = Page(boss.post(f"/share-requests/{req.id}", data={"decision": "decline", "decline_reason": " "}))
    assert page.status_code == 400 and "Enter why the record will not be shared" in page.text
    page = Page(boss.post(f"/share-requests/{req.id}", data={}))
    assert page.status_code == 400 and "Select whether to share the record" in page.text
    db.session.expire_all()
    assert db.session.get(ShareRequest, req.id).status == "waiting"
    assert boss.post(f"/share-requests/{req.id}", data={"decision": "decline",
                                                         "decline_reason": "Ask the IDVA service"}).status_code == 302
    mine = Page(sign_in(app_ctx, asker).get("/")).select_one("#my-share-requests")
    assert "Declined" in mine.text and "Ask the IDVA service" in mine.text
    assert db.session.scalars(select(Share).where(Share.record_id == person.id)).all() == []
    page = Page(boss.post(f"/share-requests/{req.id}", data={"decision": "accept"}))
    assert page.status_code == 400 and "already been decided" in page.text
    assert _actions() == ["share_request.create", "share_request.declined"]


def test_what_cannot_be_asked_is_refused_and_nothing_written(app_ctx, home_agency):
    owner, asker, manager, person = _world(home_agency)
    own = PersonFactory(owner_agency_id=home_agency.id)
    hidden = PersonFactory(owner_agency_id=owner.id, restricted=True)
    db.session.commit()
    client = sign_in(app_ctx, asker)
    page = Page(client.post(_ask_url(person, asker), data={"reason": "   "}))
    assert page.status_code == 400 and "Enter why your agency needs the record" in page.select_one(
        ".govuk-error-summary").text
    for who in (own, hidden):
        assert client.get(_ask_url(who, asker)).status_code == 404
        assert client.post(_ask_url(who, asker), data={"reason": "x"}).status_code == 404
    # A link made for another user, or altered, names no one.
    assert client.get(_ask_url(person, manager)).status_code == 404
    assert client.get(_ask_url(person, asker)[:-3] + "AAA").status_code == 404
    assert db.session.scalars(select(ShareRequest)).all() == []
    other_manager = sign_in(app_ctx, make_user(roles=("manager",), agency=home_agency))
    client.post(_ask_url(person, asker), data={"reason": "Safeguarding"})
    req = db.session.scalar(select(ShareRequest))
    assert other_manager.get(f"/share-requests/{req.id}").status_code == 404  # not their agency's record
    assert sign_in(app_ctx, asker).get(f"/share-requests/{req.id}").status_code == 403
