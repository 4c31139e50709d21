from __future__ import annotations

import pytest

from casework import crypto

pytestmark = pytest.mark.browser


def _password(page, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/sign-in")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button:has-text('Continue')")


def _sign_in(page, email: str, password: str, secret: str) -> None:  # type: ignore[no-untyped-def]
    _password(page, email, password)
    page.wait_for_url("**/sign-in/code")
    page.fill("#code", crypto.totp_now(secret))
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/")


def test_sign_in_with_password_and_authenticator_code(page, live_user):
    email, password, secret = live_user()
    _sign_in(page, email, password, secret)
    assert page.locator("h1").inner_text() == "Casework"
    assert page.locator("a:has-text('Sign out')").count() == 1


def test_five_wrong_passwords_lock_the_account(page, live_user):
    email, password, _secret = live_user()
    for _ in range(4):
        _password(page, email, "not my password at all")
        assert "Enter a correct email address and password" in page.locator(".govuk-error-summary").inner_text()
    _password(page, email, "not my password at all")
    assert "too many failed attempts" in page.locator(".govuk-error-summary").inner_text()
    _password(page, email, password)
    assert "too many failed attempts" in page.locator(".govuk-error-summary").inner_text()
    assert "/sign-in" in page.url


def test_sign_out_and_a_copied_cookie_is_refused_afterwards(browser, page, live_server, live_user):
    email, password, secret = live_user()
    _sign_in(page, email, password, secret)
    cookies = page.context.cookies()
    thief = browser.new_context(base_url=live_server.url)
    thief.add_cookies(cookies)
    stolen = thief.new_page()
    stolen.goto("/account")
    assert stolen.locator("h1").inner_text() == "Your account", "the copy works while the session is open"
    page.click("a:has-text('Sign out')")
    page.click("main button:has-text('Sign out')")
    page.wait_for_url("**/sign-in")
    assert "You have signed out" in page.content()
    stolen.goto("/account")
    assert "/sign-in" in stolen.url
    thief.close()
