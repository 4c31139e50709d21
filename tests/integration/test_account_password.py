"""The current password asked before a change is checked as signing in checks it (issue 20, finding 8):
failures count towards the same lock-out and are limited per client address."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casework import crypto
from casework.auth import signin
from casework.db import db
from casework.models import AuditEntry, User
from tests.conftest import Page
from tests.fixtures_auth import PASSWORD, sign_in

pytestmark = pytest.mark.usefixtures("reset_throttles")

NEW = "another long passphrase"


def _change(client, current: str):  # type: ignore[no-untyped-def]
    return client.post("/account/password", data={"current_password": current, "password": NEW, "confirm": NEW})


def _fresh(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def _password_is(user: User, password: str) -> bool:
    return crypto.verify_password(_fresh(user).password_hash, password)


def test_five_wrong_current_passwords_lock_the_account_and_end_the_session(app_ctx, user_factory):
    user = user_factory()
    client = sign_in(app_ctx, user)
    for attempt in range(4):
        page = Page(_change(client, f"a wrong guess {attempt}"))
        assert page.status_code == 400
        assert page.select_one(".govuk-error-summary a")["href"] == "#current_password"
    assert _fresh(user).failed_attempts == 4
    response = _change(client, "a wrong guess 4")
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in")
    assert _fresh(user).locked()
    assert client.get("/account").status_code == 302, "the session that guessed has ended"
    steps = db.session.scalars(select(AuditEntry.details).where(AuditEntry.user_id == user.id,
                                                                AuditEntry.action == "sign_in.failed")).all()
    assert len(steps) == 5 and all("current_password" in d for d in steps)
    # Locked as a sign-in lock-out is: the right password does not sign in either.
    fresh = app_ctx.test_client()
    assert signin.LOCKED in Page(fresh.post("/sign-in", data={"email": user.email, "password": PASSWORD})).text


def test_failures_here_and_at_sign_in_count_towards_one_lock_out(app_ctx, user_factory):
    user = user_factory()
    stranger = app_ctx.test_client()
    for _ in range(3):
        stranger.post("/sign-in", data={"email": user.email, "password": "not the password!"})
    client = sign_in(app_ctx, user)
    assert _change(client, "wrong one").status_code == 400
    assert _change(client, "wrong two").status_code == 302
    assert _fresh(user).locked()


def test_while_locked_the_right_current_password_changes_nothing(app_ctx, user_factory):
    user = user_factory()
    client = sign_in(app_ctx, user)
    stranger = app_ctx.test_client()
    for _ in range(5):
        stranger.post("/sign-in", data={"email": user.email, "password": "not the password!"})
    page = Page(_change(client, PASSWORD))
    assert page.status_code == 400 and signin.LOCKED in page.text
    assert _password_is(user, PASSWORD)
    assert client.get("/account").status_code == 200, "someone else's failures do not end this session"


def test_the_current_password_is_limited_per_client_address(app_ctx, user_factory):
    app_ctx.config["SIGN_IN_ADDRESS_LIMIT"] = "3 per 15 minutes"
    try:
        user = user_factory()
        client = sign_in(app_ctx, user)
        for n in range(3):
            assert _change(client, f"wrong {n}").status_code == 400
        page = Page(_change(client, PASSWORD))
        assert page.status_code == 400 and signin.THROTTLED in page.text
        assert _password_is(user, PASSWORD)
        elsewhere = sign_in(app_ctx, user)
        response = elsewhere.post("/account/password", environ_base={"REMOTE_ADDR": "10.0.0.9"},
                                  data={"current_password": PASSWORD, "password": NEW, "confirm": NEW})
        assert response.status_code == 302
        assert _password_is(user, NEW)
    finally:
        app_ctx.config["SIGN_IN_ADDRESS_LIMIT"] = "50 per 15 minutes"


def test_a_wrong_current_password_is_counted_on_a_database_that_really_commits(durable_app):
    """The request's own transaction (begun to load the user) must not hold the write lock the count
    needs: on SQLite the failure would otherwise wait for it, and then fail."""
    from tests.factories import AgencyFactory
    from tests.fixtures_auth import make_user

    durable_app.extensions["casework.limiter"].reset()
    with durable_app.app_context():
        user = make_user(agency=AgencyFactory())
        db.session.commit()
        client = sign_in(durable_app, user)
        user_id = user.id
    # Before: the count's own transaction waited for the request's write lock until SQLite gave up
    # ("database is locked").
    assert _change(client, "not my password").status_code == 400
    with durable_app.app_context():
        assert db.session.get(User, user_id).failed_attempts == 1
    assert _change(client, PASSWORD).status_code == 302
    with durable_app.app_context():
        assert crypto.verify_password(db.session.get(User, user_id).password_hash, NEW)
