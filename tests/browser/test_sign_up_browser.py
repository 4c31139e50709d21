"""A newcomer's first sign-in, from nothing but what people really have (issue 15, item 1): an
administrator signs in, adds the user through the admin pages' links and buttons and takes the set-up
link shown; the newcomer, in a browser of their own, follows it, sets a password, sets up the
authenticator from the key on the page, keeps the recovery codes, continues, and is on their home page,
signed in, without being asked for a second code. axe-core checks every page on the way."""

from __future__ import annotations

import uuid

import pytest

from casework import crypto
from casework.db import db
from casework.models.base import utcnow

pytestmark = pytest.mark.browser


def _axe(page) -> None:  # type: ignore[no-untyped-def]
    """No axe-core violations on the page (axe.min.js ships inside axe-playwright-python: offline)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def _admin_and_agency(live_server) -> tuple[str, str, str, str]:  # type: ignore[no-untyped-def]
    """An enrolled administrator, and the agency the newcomer joins: (email, password, secret, agency)."""
    from tests.factories import AgencyFactory
    from tests.fixtures_auth import PASSWORD, make_user

    with live_server.app.app_context():
        agency = AgencyFactory(name=f"Sign-up Agency {uuid.uuid4().hex[:6]}")
        admin = make_user(roles=("admin",), agency=agency)
        db.session.commit()
        return admin.email, PASSWORD, admin.totp_secret, agency.name


def test_a_user_added_in_the_admin_pages_signs_up_and_lands_on_home_signed_in(browser, page, live_server):
    admin_email, admin_password, admin_secret, agency_name = _admin_and_agency(live_server)

    # The administrator signs in and adds the user through the pages.
    page.goto("/")
    assert "/sign-in" in page.url, "sent to sign in"
    page.fill("#email", admin_email)
    page.fill("#password", admin_password)
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/sign-in/code")
    page.fill("#code", crypto.totp_now(admin_secret))
    page.click("button:has-text('Sign in')")
    page.wait_for_url(lambda url: url.rstrip("/") == live_server.url)
    page.click("nav a:has-text('Users')")
    page.wait_for_url("**/admin/users")
    _axe(page)
    page.click("a:has-text('Add a user')")
    page.wait_for_url("**/admin/users/new")
    _axe(page)
    newcomer_email = f"newcomer-{uuid.uuid4().hex[:8]}@example.org"
    page.fill("#email", newcomer_email)
    page.fill("#name", "Nia Newcomer")
    page.select_option("#agency", label=agency_name)
    page.check("input[name=roles][value=caseworker]")
    page.click("button:has-text('Add user')")
    page.wait_for_selector("#setup-link")
    _axe(page)
    link = page.locator("#setup-link").inner_text().strip()
    assert link.startswith(f"{live_server.url}/set-up/"), link

    # The newcomer, in a browser of their own, follows the link.
    context = browser.new_context(base_url=live_server.url)
    newcomer = context.new_page()
    newcomer.set_default_timeout(30_000)
    visited: list[str] = []
    newcomer.on("framenavigated", lambda frame: visited.append(frame.url))
    try:
        newcomer.goto(link)
        assert newcomer.locator("h1").inner_text() == "Set your password"
        _axe(newcomer)
        newcomer.fill("#password", "a newcomer's long passphrase")
        newcomer.fill("#confirm", "a newcomer's long passphrase")
        newcomer.click("button:has-text('Set password')")
        newcomer.wait_for_url("**/sign-in/set-up-authenticator")
        _axe(newcomer)
        secret = newcomer.locator("#totp-secret").inner_text().replace(" ", "")
        newcomer.fill("#code", crypto.totp_now(secret))
        newcomer.click("button:has-text('Continue')")
        newcomer.wait_for_selector("#recovery-codes")
        assert newcomer.locator("h1").inner_text() == "Your recovery codes"
        codes = [c.strip() for c in newcomer.locator("#recovery-codes li").all_inner_texts()]
        assert len(codes) == 10 and len(set(codes)) == 10
        _axe(newcomer)
        newcomer.click("a:has-text('Continue')")
        newcomer.wait_for_url(lambda url: url.rstrip("/") == live_server.url)
        assert newcomer.locator("h1").inner_text() == "Casework"
        assert newcomer.locator("a:has-text('Sign out')").count() == 1, "signed in"
        _axe(newcomer)
        assert not any(url.endswith(("/sign-in/code", "/sign-in")) or "/sign-in?" in url
                       for url in visited), f"asked to sign in again: {visited}"
        # Signed in for real: another page of theirs opens without a sign-in.
        newcomer.goto("/account")
        assert newcomer.locator("h1").inner_text() == "Your account"
    finally:
        context.close()

    with live_server.app.app_context():
        from casework.services import users

        user = users.by_email(newcomer_email)
        assert user.totp_enrolled and user.failed_attempts == 0
        assert user.last_sign_in_at is not None and (utcnow() - user.last_sign_in_at).total_seconds() < 600
