from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from casework import crypto
from casework.auth import signin
from casework.db import db
from casework.models import AuditEntry, User, UserSession
from casework.models.base import utcnow
from tests.conftest import Page
from tests.fixtures_auth import PASSWORD, sign_in

pytestmark = pytest.mark.usefixtures("reset_throttles")


def _actions(user: User | None = None) -> list[str]:
    q = select(AuditEntry.action).order_by(AuditEntry.position)
    if user is not None:
        q = q.where(AuditEntry.user_id == user.id)
    return list(db.session.scalars(q))


def _password(client, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/sign-in", data={"email": email, "password": password})


def test_sign_in_with_password_and_code_reaches_the_start_page(client, user_factory):
    user = user_factory()
    response = _password(client, user.email.upper())
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in/code")
    response = client.post("/sign-in/code", data={"code": crypto.totp_now(user.totp_secret)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    page = Page(client.get("/"))
    assert page.status_code == 200 and page.h1 == "Casework"
    assert "sign_in" in _actions(user)


def test_a_code_works_only_once_and_a_used_one_is_not_a_failed_guess(client, app_ctx, user_factory):
    user = user_factory()
    code = crypto.totp_now(user.totp_secret)
    _password(client, user.email)
    assert client.post("/sign-in/code", data={"code": code}).status_code == 302
    other = app_ctx.test_client()
    _password(other, user.email)
    for _ in range(signin_limit := 5):  # as many times as would lock the account were they guesses
        page = Page(other.post("/sign-in/code", data={"code": code}))
        assert page.status_code == 400
        assert signin.USED_CODE in page.select_one(".govuk-error-summary").get_text(" ", strip=True)
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.failed_attempts == 0 and not user.locked(), f"{signin_limit} used codes are no guesses"
    assert "sign_in.code_reused" in _actions(user) and "sign_in.failed" not in _actions(user)


def test_a_recovery_code_signs_in_once_and_a_used_one_is_not_a_failed_guess(client, app_ctx, user_factory):
    from casework.services import users

    user = user_factory()
    codes = users.new_recovery_codes(user=user)
    _password(client, user.email)
    assert client.post("/sign-in/code", data={"code": codes[0].lower()}).status_code == 302
    again = app_ctx.test_client()
    _password(again, user.email)
    for _ in range(5):
        page = Page(again.post("/sign-in/code", data={"code": codes[0]}))
        assert page.status_code == 400 and signin.USED_RECOVERY_CODE in page.text
    db.session.expire_all()
    assert db.session.get(User, user.id).failed_attempts == 0


def test_unknown_email_gets_the_same_message_as_a_wrong_password(client, user_factory):
    user = user_factory()
    wrong = Page(_password(client, user.email, "not the right password"))
    unknown = Page(_password(client, "nobody@example.org"))
    assert wrong.status_code == unknown.status_code == 400
    assert signin.BAD_CREDENTIALS in wrong.text
    assert wrong.select_one(".govuk-error-summary").text == unknown.select_one(".govuk-error-summary").text


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(client, user_factory):
    user = user_factory()
    for _ in range(4):
        assert signin.BAD_CREDENTIALS in Page(_password(client, user.email, "wrong password!")).text
    assert signin.LOCKED in Page(_password(client, user.email, "wrong password!")).text
    # Even the right password is refused while locked, with the same message.
    assert signin.LOCKED in Page(_password(client, user.email)).text
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.locked_until > utcnow() + dt.timedelta(minutes=14)
    assert {"sign_in.failed", "sign_in.locked", "sign_in.refused_locked"} <= set(_actions(user))
    db.session.execute(update(User).where(User.id == user.id).values(locked_until=utcnow()))
    assert _password(client, user.email).status_code == 302


def test_an_unknown_email_is_locked_out_like_a_real_one(client):
    for _ in range(4):
        _password(client, "ghost@example.org", "wrong password!")
    assert signin.LOCKED in Page(_password(client, "ghost@example.org", "wrong password!")).text


def test_wrong_codes_count_towards_the_lock(client, user_factory):
    user = user_factory()
    _password(client, user.email)
    for _ in range(4):
        assert client.post("/sign-in/code", data={"code": "000000"}).status_code == 400
    response = client.post("/sign-in/code", data={"code": "000000"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in")
    db.session.expire_all()
    assert db.session.get(User, user.id).locked()


def test_failures_are_limited_per_client_address(client, app_ctx, user_factory):
    app_ctx.config["SIGN_IN_ADDRESS_LIMIT"] = "3 per 15 minutes"
    try:
        for n in range(3):
            _password(client, f"someone{n}@example.org", "wrong password!")
        user = user_factory()
        page = Page(_password(client, user.email))
        assert signin.THROTTLED in page.text
        behind_other_address = app_ctx.test_client()
        response = behind_other_address.post("/sign-in", data={"email": user.email, "password": PASSWORD},
                                             environ_base={"REMOTE_ADDR": "10.0.0.9"})
        assert response.status_code == 302
    finally:
        app_ctx.config["SIGN_IN_ADDRESS_LIMIT"] = "50 per 15 minutes"


def test_first_sign_in_enrols_the_authenticator_with_a_qr_code(client, user_factory):
    user = user_factory(enrolled=False)
    response = _password(client, user.email)
    assert response.headers["Location"].endswith("/sign-in/set-up-authenticator")
    page = Page(client.get("/sign-in/set-up-authenticator"))
    secret = page.select_one("#totp-secret").text.replace(" ", "")
    qr = client.get(page.select_one("img.casework-qr-code")["src"])
    assert qr.mimetype == "image/svg+xml" and b"<svg" in qr.data
    bad = client.post("/sign-in/set-up-authenticator", data={"code": "123"})
    assert bad.status_code == 400
    done = Page(client.post("/sign-in/set-up-authenticator", data={"code": crypto.totp_now(secret)}))
    assert done.h1 == "Your recovery codes" and len(done.select("#recovery-codes li")) == 10
    assert client.get("/").status_code == 200
    assert "user.second_factor_enrol" in _actions(user)


def test_sign_in_gives_a_new_session_id_and_sign_out_ends_it_on_the_server(client, app_ctx, user_factory):
    user = user_factory()
    with client.session_transaction() as s:
        s["sid"] = "planted-by-an-attacker"
    _password(client, user.email)
    client.post("/sign-in/code", data={"code": crypto.totp_now(user.totp_secret)})
    with client.session_transaction() as s:
        sid = s["sid"]
    assert sid != "planted-by-an-attacker"
    copy = app_ctx.test_client()
    with copy.session_transaction() as s:
        s["sid"] = sid
    assert copy.get("/").status_code == 200
    assert client.post("/sign-out").status_code == 302
    response = copy.get("/")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert "sign_out" in _actions(user)


def _age_session(user: User, **ago: float) -> None:
    db.session.execute(update(UserSession).where(UserSession.user_id == user.id)
                       .values(**{k: utcnow() - dt.timedelta(minutes=v) for k, v in ago.items()}))


@pytest.mark.parametrize("ago", [{"last_seen_at": 31}, {"created_at": 12 * 60 + 1, "last_seen_at": 1}])
def test_sessions_time_out_when_idle_and_after_twelve_hours(app_ctx, user_factory, ago):
    user = user_factory()
    client = sign_in(app_ctx, user)
    assert client.get("/").status_code == 200
    _age_session(user, **ago)
    response = client.get("/account")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_a_session_in_use_stays_open(app_ctx, user_factory):
    user = user_factory()
    client = sign_in(app_ctx, user)
    _age_session(user, last_seen_at=29)
    assert client.get("/").status_code == 200
    assert db.session.scalar(select(UserSession.last_seen_at).where(UserSession.user_id == user.id)) > \
        utcnow() - dt.timedelta(minutes=1)


def test_deactivation_ends_the_users_sessions_at_once(app_ctx, admin_client, user_factory):
    user = user_factory()
    client = sign_in(app_ctx, user)
    assert client.get("/").status_code == 200
    assert admin_client.post(f"/admin/users/{user.id}/deactivate").status_code == 302
    assert client.get("/").status_code == 302
    assert _password(app_ctx.test_client(), user.email).status_code == 400


def test_changing_the_password_ends_every_session(app_ctx, user_factory):
    user = user_factory()
    one, two = sign_in(app_ctx, user), sign_in(app_ctx, user)
    response = one.post("/account/password", data={
        "current_password": PASSWORD, "password": "another long passphrase", "confirm": "another long passphrase"})
    assert response.status_code == 302
    assert one.get("/").status_code == 302 and two.get("/").status_code == 302
    fresh = app_ctx.test_client()
    assert _password(fresh, user.email, "another long passphrase").status_code == 302


@pytest.mark.parametrize("password,message", [
    ("short pass", "12 characters or more"),
    ("x" * 129, "128 characters or fewer"),
    ("qwerty123456", "commonly used passwords"),
])
def test_weak_passwords_are_refused_with_the_reason(app_ctx, user_factory, password, message):
    user = user_factory()
    client = sign_in(app_ctx, user)
    page = Page(client.post("/account/password", data={
        "current_password": PASSWORD, "password": password, "confirm": password}))
    assert page.status_code == 400
    assert message in page.select_one(".govuk-error-summary").text
    assert page.select_one(".govuk-error-summary a")["href"] == "#password"


@pytest.mark.parametrize("next_path", ["/\t/evil.example/", "/\n/evil.example/", "/\r\n/evil.example/",
                                       "/\x0b/evil.example/"])
def test_a_next_address_that_browsers_read_as_another_site_is_ignored(client, user_factory, next_path):
    """Browsers drop tabs and line breaks from an address, so "/<tab>/evil.example" is "//evil.example":
    another site. Signing in with such a `next` lands on the start page."""
    user = user_factory()
    response = client.post("/sign-in", query_string={"next": next_path},
                           data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    response = client.post("/sign-in/code", data={"code": crypto.totp_now(user.totp_secret)})
    assert response.status_code == 302
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_a_local_next_address_is_followed_after_signing_in(client, user_factory):
    user = user_factory()
    client.post("/sign-in", query_string={"next": "/people?surname=Ali"},
                data={"email": user.email, "password": PASSWORD})
    response = client.post("/sign-in/code", data={"code": crypto.totp_now(user.totp_secret)})
    assert response.status_code == 302
    assert response.headers["Location"] in ("/people?surname=Ali", "http://localhost/people?surname=Ali")
