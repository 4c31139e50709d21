"""The state between the password and the second factor is kept on the server, works once and is bound
to the password (issue 20, finding 9); a first sign-up through a set-up link ends signed in, with no
second code (issue 15, item 1)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from casework import crypto
from casework.db import db
from casework.models import PendingSignIn, User
from casework.models.base import utcnow
from casework.services import users
from tests.conftest import Page
from tests.fixtures_auth import PASSWORD

pytestmark = pytest.mark.usefixtures("reset_throttles")

NEXT_CODE = dt.timedelta(seconds=30)


def _password(client, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/sign-in", data={"email": email, "password": password})


def _copy_of_pending(client, app_ctx):  # type: ignore[no-untyped-def]
    """A second browser holding a copy of `client`'s cookie, taken between the password and the code."""
    with client.session_transaction() as s:
        kept = dict(s)
    copy = app_ctx.test_client()
    with copy.session_transaction() as s:
        s.update(kept)
    return copy


def _refused(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 302 and response.headers["Location"].endswith("/sign-in")


def test_the_cookie_names_no_user_and_the_state_is_on_the_server(client, user_factory):
    user = user_factory()
    _password(client, user.email)
    with client.session_transaction() as s:
        token = s["pending"]
    assert isinstance(token, str) and str(user.id) not in token
    row = db.session.scalar(select(PendingSignIn).where(PendingSignIn.token_hash == crypto.token_digest(token)))
    assert row is not None and row.user_id == user.id and row.stage == "code"


def test_a_copied_pending_cookie_is_refused_once_the_sign_in_is_complete(client, app_ctx, user_factory):
    user = user_factory()
    _password(client, user.email)
    copy = _copy_of_pending(client, app_ctx)
    assert client.post("/sign-in/code", data={"code": crypto.totp_now(user.totp_secret)}).status_code == 302
    # The next code from the authenticator (not yet used) with the copied cookie: refused.
    later = crypto.totp_now(user.totp_secret, utcnow() + NEXT_CODE)
    assert _refused(copy.post("/sign-in/code", data={"code": later}))
    assert _refused(copy.get("/sign-in/code"))
    assert copy.get("/").status_code == 302


def test_a_copied_pending_cookie_is_refused_after_signing_out(client, app_ctx, user_factory):
    user = user_factory()
    _password(client, user.email)
    copy = _copy_of_pending(client, app_ctx)
    assert client.post("/sign-out").status_code == 302
    assert _refused(copy.post("/sign-in/code", data={"code": crypto.totp_now(user.totp_secret)}))


def test_a_copied_pending_cookie_is_refused_after_a_signed_in_user_signs_out(client, app_ctx, user_factory):
    user = user_factory()
    _password(client, user.email)
    copy = _copy_of_pending(client, app_ctx)
    other = app_ctx.test_client()  # the same user, signing in and out elsewhere
    _password(other, user.email)
    assert other.post("/sign-in/code", data={"code": crypto.totp_now(user.totp_secret)}).status_code == 302
    assert other.post("/sign-out").status_code == 302
    later = crypto.totp_now(user.totp_secret, utcnow() + NEXT_CODE)
    assert _refused(copy.post("/sign-in/code", data={"code": later}))


def test_a_pending_sign_in_is_refused_once_the_password_has_changed(client, app_ctx, user_factory):
    user = user_factory()
    _password(client, user.email)
    users.set_password(user=user, password="a brand new passphrase")
    db.session.commit()
    assert _refused(client.post("/sign-in/code", data={"code": crypto.totp_now(user.totp_secret)}))


def test_a_pending_sign_in_bound_to_an_older_password_is_refused(client, app_ctx, user_factory):
    """Bound to the password's version even if its row were left behind by a change."""
    user = user_factory()
    _password(client, user.email)
    db.session.execute(update(User).where(User.id == user.id)
                       .values(password_changed_at=utcnow() + dt.timedelta(seconds=1)))
    db.session.commit()
    assert _refused(client.post("/sign-in/code", data={"code": crypto.totp_now(user.totp_secret)}))


def test_a_pending_sign_in_lasts_ten_minutes(client, user_factory):
    user = user_factory()
    _password(client, user.email)
    db.session.execute(update(PendingSignIn).where(PendingSignIn.user_id == user.id)
                       .values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    db.session.commit()
    assert _refused(client.post("/sign-in/code", data={"code": crypto.totp_now(user.totp_secret)}))


def test_a_wrong_code_keeps_the_pending_sign_in_for_another_try(client, user_factory):
    user = user_factory()
    _password(client, user.email)
    assert client.post("/sign-in/code", data={"code": "000000"}).status_code == 400
    response = client.post("/sign-in/code", data={"code": crypto.totp_now(user.totp_secret)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/")


# --- a first sign-up, on a database whose requests really commit (issue 15) ---------------------


def test_sign_up_through_a_set_up_link_ends_signed_in_with_no_second_code(durable_app):
    """Password, authenticator, recovery codes, Continue: on the home page, signed in. (The page with
    the recovery codes used to clear the new session's cookie: its navigation looked the user up in
    another database session, where the session's row, not yet committed, did not exist.)"""
    from tests.factories import AgencyFactory

    with durable_app.app_context():
        invitation = users.create(email=f"new-{crypto.new_token()[:8].lower()}@example.org", name="New Starter",
                                  agency=AgencyFactory(), roles=["caseworker"])
        db.session.commit()
        token, user_id = invitation.token, invitation.user.id
    client = durable_app.test_client()
    response = client.post(f"/set-up/{token}", data={"password": "a fresh long passphrase",
                                                     "confirm": "a fresh long passphrase"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in/set-up-authenticator")
    secret = Page(client.get("/sign-in/set-up-authenticator")).select_one("#totp-secret").text.replace(" ", "")
    done = client.post("/sign-in/set-up-authenticator", data={"code": crypto.totp_now(secret)})
    page = Page(done)
    assert page.h1 == "Your recovery codes"
    assert "session=;" not in " ".join(done.headers.getlist("Set-Cookie")), "the new session's cookie is kept"
    assert page.select_one("a:-soup-contains('Sign out')") is not None, "the page is a signed-in user's"
    home = client.get(page.select_one("a.govuk-button")["href"])
    assert home.status_code == 200, "Continue lands on the home page, signed in, with no second code"
    assert Page(home).select_one("a:-soup-contains('Sign out')") is not None
    with durable_app.app_context():
        user = db.session.get(User, user_id)
        assert user.totp_enrolled and user.failed_attempts == 0 and user.last_sign_in_at is not None
