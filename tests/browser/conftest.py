"""Browser tests: the app served on a local port (its own SQLite file database), driven by Playwright
in the system's Chromium (never a downloaded browser)."""

from __future__ import annotations

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
