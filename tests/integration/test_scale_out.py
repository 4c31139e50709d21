"""More than one machine: two gunicorn servers on one database and one Redis hold no state of
their own. A sign-out on one ends the session on the other; failed sign-ins counted on both lock
the account (in the database) and an unknown email (in Redis, the limiter's storage)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench._web import Browser, wait_until_serving
from casework.db import db
from tests.conftest import fresh_postgres_database, make_test_app, upgrade
from tests.fixtures_auth import PASSWORD, make_user

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("CASEWORK_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_db() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).flushdb()
    except redis.exceptions.ConnectionError as e:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required under CI: {e}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {e}")
    return REDIS_URL


@pytest.fixture(scope="module")
def two_servers(db_kind: str, tmp_path_factory: pytest.TempPathFactory, redis_db: str) -> Iterator[dict]:  # type: ignore[type-arg]
    """Two real servers (one gunicorn worker each, as on two hosts), started once for this module."""
    tmp_path = tmp_path_factory.mktemp("scale-out")
    urls: Iterator[str] = iter([f"sqlite:///{tmp_path / 'shared.db'}"]) if db_kind == "sqlite" \
        else fresh_postgres_database()
    url = next(urls)
    instance = tmp_path / "instance"
    instance.mkdir()
    app = make_test_app(url, instance)
    upgrade(app)
    people = {}
    with app.app_context():
        for name in ("signs-out", "is-locked"):
            user = make_user(roles=("caseworker",), email=f"{name}@example.org")
            people[name] = user.totp_secret
        db.session.commit()
    app.extensions["casework.engine"].dispose()
    env = {**os.environ, "CASEWORK_DATABASE_URL": url, "CASEWORK_SECRET_KEY": "shared-secret-of-the-servers",
           "CASEWORK_KEYRING_FILE": str(instance / "keyring.json"), "CASEWORK_INSTANCE_PATH": str(instance),
           "CASEWORK_REDIS_URL": redis_db, "CASEWORK_LOG_FORMAT": "text", "WEB_CONCURRENCY": "1"}
    ports = [_free_port(), _free_port()]
    logs = [(tmp_path / f"server-{p}.log").open("w") for p in ports]
    servers = [subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "wsgi:app"], cwd=ROOT,
                                env={**env, "GUNICORN_BIND": f"{HOST}:{port}"}, stdout=log, stderr=subprocess.STDOUT)
               for port, log in zip(ports, logs, strict=True)]
    try:
        for port in ports:
            wait_until_serving(HOST, port, timeout=180)
        yield {"ports": ports, "totp": people}
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
        for log in logs:
            log.close()
        for _ in urls:
            pass


def test_a_sign_out_on_one_server_ends_the_session_on_the_other(two_servers):
    a, b = (Browser(HOST, port) for port in two_servers["ports"])
    a.sign_in("signs-out@example.org", PASSWORD, two_servers["totp"]["signs-out"])
    b.cookies = dict(a.cookies)  # the same browser, sent to the other server by the load balancer

    assert b.get("/").status == 200, "the session started on A is valid on B"
    token = a.csrf("/sign-out")
    assert a.post("/sign-out", {"csrf_token": token}).status == 302

    stale = Browser(HOST, two_servers["ports"][1], cookies=dict(b.cookies))
    after = stale.get("/")
    assert after.status == 302 and "/sign-in" in after.location


def test_failed_sign_ins_counted_on_both_servers_lock_the_account(two_servers):
    a, b = (Browser(HOST, port) for port in two_servers["ports"])

    def fail(browser: Browser, email: str) -> str:
        token = browser.csrf("/sign-in")
        response = browser.post("/sign-in", {"csrf_token": token, "email": email, "password": "wrong password!"})
        assert response.status == 400
        return response.body

    for browser in (a, b, a, b):
        assert "too many failed attempts" not in fail(browser, "is-locked@example.org")
    assert "too many failed attempts" in fail(a, "is-locked@example.org"), "the fifth, on A, locks it"
    token = b.csrf("/sign-in")
    right = b.post("/sign-in", {"csrf_token": token, "email": "is-locked@example.org", "password": PASSWORD})
    assert right.status == 400 and "too many failed attempts" in right.body, "locked on B too"

    # An unknown email is counted in Redis, the limiter's storage shared by the servers.
    for browser in (b, a, b, a):
        assert "too many failed attempts" not in fail(browser, "nobody@example.org")
    assert "too many failed attempts" in fail(b, "nobody@example.org")
