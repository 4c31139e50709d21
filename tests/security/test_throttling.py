"""Every endpoint that checks a secret limits the guesses: the password and the second factor
(an authenticator code or a recovery code) lock the account after LOCKOUT_ATTEMPTS failures, from any
address, and one address is throttled across accounts; set-up links and the current password on
/account/password are guessed no more freely. After the limit even the right secret is refused."""

from __future__ import annotations

import pytest

from casework import crypto
from casework.db import db
from casework.services import users
from tests.fixtures_auth import PASSWORD, make_user, sign_in

pytestmark = pytest.mark.usefixtures("reset_throttles")
LOCKED = "too many failed attempts"
THROTTLED = "too many failed sign-in attempts from your network"


def _password_step(client, user) -> None:  # type: ignore[no-untyped-def]
    assert client.post("/sign-in", data={"email": user.email, "password": PASSWORD}).status_code == 302


def test_password_guesses_lock_the_account_even_for_the_right_password(app_ctx):
    user = make_user()
    attempts = app_ctx.config["LOCKOUT_ATTEMPTS"]
    for n in range(attempts):
        address = {"REMOTE_ADDR": f"192.0.2.{n + 1}"}  # from many addresses: counted on the account
        app_ctx.test_client().post("/sign-in", data={"email": user.email, "password": "wrong guess"},
                                   environ_base=address)
    right = app_ctx.test_client().post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert right.status_code == 400 and LOCKED in right.get_data(as_text=True)


def test_one_address_guessing_across_accounts_is_throttled(app_ctx, monkeypatch):
    monkeypatch.setitem(app_ctx.config, "SIGN_IN_ADDRESS_LIMIT", "4 per 15 minutes")
    client = app_ctx.test_client()
    for n in range(4):
        client.post("/sign-in", data={"email": f"nobody-{n}@example.org", "password": "guess"})
    user = make_user()
    refused = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert refused.status_code == 400 and THROTTLED in refused.get_data(as_text=True)
    other = app_ctx.test_client().post("/sign-in", data={"email": user.email, "password": PASSWORD},
                                       environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert other.status_code == 302  # the account itself was not locked by another address's guesses


@pytest.mark.parametrize("guess", ["000000", "aaaa-bbbb-cccc"], ids=["authenticator code", "recovery code"])
def test_second_factor_guesses_lock_the_account(app_ctx, guess):
    user = make_user()
    users.new_recovery_codes(user=user)
    db.session.commit()
    for _ in range(app_ctx.config["LOCKOUT_ATTEMPTS"]):
        client = app_ctx.test_client()
        _password_step(client, user)
        wrong = guess if guess != "000000" or crypto.totp_now(user.totp_secret) != "000000" else "111111"
        client.post("/sign-in/code", data={"code": wrong})
    client = app_ctx.test_client()
    refused = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert refused.status_code == 400 and LOCKED in refused.get_data(as_text=True)


def test_set_up_link_guesses_are_throttled(app_ctx):
    user = make_user(password=None, enrolled=False)
    token = users.renew_setup_link(user=user)
    db.session.commit()
    client = app_ctx.test_client()
    assert client.get(f"/set-up/{token}").status_code == 200
    for n in range(60):
        client.get(f"/set-up/guess-{n}")
    # After that many wrong links from one address, even a right one waits.
    assert client.get(f"/set-up/{token}").status_code == 429


def test_current_password_guesses_on_the_account_page_are_limited(app_ctx):
    user = make_user()
    client = sign_in(app_ctx, user)
    for _ in range(app_ctx.config["LOCKOUT_ATTEMPTS"] + 1):
        client.post("/account/password", data={"current_password": "wrong guess", "password": "a new long passphrase 1",
                                               "confirm": "a new long passphrase 1"})
    fresh = app_ctx.test_client().post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert fresh.status_code == 400 and LOCKED in fresh.get_data(as_text=True)
