"""Browser tests: the app served on a local port (its own SQLite file database), driven by Playwright
in the system's Chromium (never a downloaded browser)."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from casework.db import db
from tests.conftest import make_test_app, upgrade

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@dataclass
class LiveServer:
    app: Flask
    url: str


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    instance: Path = tmp_path_factory.mktemp("live")
    app = make_test_app(f"sqlite:///{instance / 'live.db'}", instance, WTF_CSRF_ENABLED=True, SERVER_NAME=None)
    upgrade(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_URL"] = url  # where set-up links made in the admin pages point
    try:
        yield LiveServer(app=app, url=url)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        app.extensions["casework.engine"].dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        if os.environ.get("CI"):
            pytest.fail("Chromium is required under CI (.ci/run installs Debian's chromium)")
        pytest.skip("Chromium is not installed (.ci/run installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser, live_server):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(30_000)  # generous: CI shares 2 cores with a second test worker
    yield page
    context.close()


@pytest.fixture()
def live_user(live_server):  # type: ignore[no-untyped-def]
    """Make a user in the live server's database; returns (email, password, TOTP secret)."""
    from tests.fixtures_auth import PASSWORD, make_user

    def make(**kwargs):  # type: ignore[no-untyped-def]
        with live_server.app.app_context():
            user = make_user(**kwargs)
            db.session.commit()
            return user.email, PASSWORD, user.totp_secret

    return make


def _known_govuk_conditional_radio(violation: dict) -> bool:  # type: ignore[type-arg]
    """GOV.UK Frontend's conditional reveals put aria-expanded on radios, which ARIA does not allow
    there; the Design System keeps it on purpose (screen readers announce it; alphagov/govuk-frontend
    issue 979, a known axe finding). Only that finding is set aside: the rule still runs on every
    other element and attribute."""
    if violation["id"] != "aria-allowed-attr":
        return False
    return all(
        "govuk-radios__input" in node["html"] and "aria-controls=\"conditional-" in node["html"]
        and all("aria-expanded" in check["message"] for check in node["any"] + node["all"] + node["none"])
        for node in violation["nodes"])


def axe_violations(page) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """axe-core's violations on the page (axe.min.js ships inside axe-playwright-python: offline),
    less GOV.UK's known conditional-radio finding: (count, report)."""
    from axe_playwright_python.sync_playwright import DEFAULT_OPTIONS, Axe
    from playwright.sync_api import Error as PlaywrightError

    # axe.min.js (570 kB) is put into each page once, not before each run (what Axe().run does): a page
    # checked at two widths, or again after a change, runs the same axe-core again.
    # A click that follows a link returns before the next page has loaded: axe waits for it, and
    # runs again if the page was still changing under it (its document not yet there, or replaced).
    for attempt in range(3):
        page.wait_for_load_state("load")
        try:
            if page.evaluate("typeof window.axe === 'undefined'"):
                page.evaluate(Axe().axe_script)
            results = page.evaluate(f"axe.run({json.dumps(DEFAULT_OPTIONS)})")
            break
        except PlaywrightError as error:
            changing = ("documentElement" in error.message or "context was destroyed" in error.message
                        or "axe is not defined" in error.message)
            if not changing or attempt == 2:
                raise
            page.wait_for_timeout(100)
    left = [v for v in results["violations"] if not _known_govuk_conditional_radio(v)]
    return len(left), "\n".join(f"{v['id']}: {[n['html'] for n in v['nodes']]}" for v in left)
