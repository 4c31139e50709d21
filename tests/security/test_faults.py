"""Faults under real servers (gunicorn): the database stopped and started under requests, a web
worker killed (-9) in the middle of a write, SQLite's disk full during an import. Requests fail
cleanly (503 and the error page, never a traceback), the app recovers without a restart, nothing
committed is lost and nothing half-written remains.

PostgreSQL is stopped only on a server of the test's own (bench/_pgcluster.py), never the shared one.
bench/restart.py measures the same under the load benchmark's users."""

from __future__ import annotations

import datetime as dt
import http.client
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench._pgcluster import Cluster, free_port, pg_bin
from bench._web import Browser, wait_until_serving
from casework.db import db
from tests.conftest import SAMPLE, fresh_postgres_database, make_test_app, upgrade
from tests.factories import AgencyFactory
from tests.fixtures_auth import PASSWORD, make_user

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"


@dataclass
class Server:
    url: str
    port: int
    process: subprocess.Popen  # type: ignore[type-arg]
    log: Path
    accounts: list[tuple[str, str]]  # (email, TOTP secret): a code works once, so one user a browser
    used: int = 0

    def browser(self) -> Browser:
        email, totp = self.accounts[self.used]
        self.used += 1
        b = Browser(HOST, self.port, timeout=20)
        b.sign_in(email, PASSWORD, totp)
        return b

    def workers(self) -> list[int]:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.process.pid)], check=False,
                             capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]


@contextmanager
def serving(url: str, folder: Path, *, workers: int = 1) -> Iterator[Server]:
    instance = folder / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    app = make_test_app(url, instance)
    upgrade(app)
    with app.app_context():
        agency = AgencyFactory(name="Faults Agency")
        users = [make_user(roles=("caseworker",), agency=agency,
                           email=f"faults-{n}-{uuid.uuid4().hex[:6]}@example.org") for n in range(8)]
        accounts = [(user.email, user.totp_secret) for user in users]
        db.session.commit()
    app.extensions["casework.engine"].dispose()
    port = free_port()
    log = folder / f"gunicorn-{port}.log"
    env = {**os.environ, "CASEWORK_DATABASE_URL": url, "CASEWORK_SECRET_KEY": "faults-secret",
           "CASEWORK_KEYRING_FILE": str(instance / "keyring.json"), "CASEWORK_INSTANCE_PATH": str(instance),
           "CASEWORK_LOG_FORMAT": "text", "WEB_CONCURRENCY": str(workers), "GUNICORN_BIND": f"{HOST}:{port}"}
    with log.open("w") as out:
        process = subprocess.Popen([str(BIN / "gunicorn"), "wsgi:app"], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        wait_until_serving(HOST, port, timeout=120)
        yield Server(url, port, process, log, accounts)
    finally:
        process.terminate()
        process.wait(timeout=60)


# A locality from the partnership's list; a write to find again afterwards is marked by its date.
LOCALITY = "Weymouth"
KILLED_ON = dt.date(2001, 2, 3)


def record_incident(b: Browser, label: str, day: dt.date | None = None) -> tuple[int, str]:
    """Record an incident through the form (`label` names it in a failure's message only); (status,
    the new incident's id or '')."""
    day = day or dt.date.today() - dt.timedelta(days=3)
    token = b.csrf("/incidents/new")
    r = b.post("/incidents/new", {"csrf_token": token, "occurred_on-day": str(day.day),
                                  "occurred_on-month": str(day.month), "occurred_on-year": str(day.year),
                                  "category": "criminal_damage", "locality": LOCALITY})
    found = re.search(r"/incidents/([0-9a-f-]{36})", r.location)
    return r.status, found.group(1) if found else ""


def record_once(b: Browser, label: str, day: dt.date | None = None) -> tuple[int, str]:
    """record_incident on a connection of its own that is never retried (the bench's browser sends a
    request again once when the server drops the connection)."""
    token = b.csrf("/incidents/new")
    day = day or dt.date.today() - dt.timedelta(days=3)
    conn = http.client.HTTPConnection(HOST, b.port, timeout=30)
    body = urllib.parse.urlencode({"csrf_token": token, "occurred_on-day": str(day.day),
                                   "occurred_on-month": str(day.month), "occurred_on-year": str(day.year),
                                   "category": "criminal_damage", "locality": LOCALITY})
    conn.request("POST", "/incidents/new", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{k}={v}" for k, v in b.cookies.items())})
    response = conn.getresponse()
    return response.status, response.getheader("Location") or ""


def assert_clean_failure(status: int, body: str) -> None:
    assert status == 503, status
    assert "Traceback" not in body and 'File "' not in body
    assert "cannot reach its database" in body and "govuk-template" in body


def rows(url: str, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def half_written(url: str) -> list[tuple]:  # type: ignore[type-arg]
    """Incidents without the audit entry written with them, and the other way round."""
    return rows(url, """
        SELECT i.id, a.record_id FROM incident i
        FULL OUTER JOIN (SELECT record_id FROM audit_entry WHERE action = 'incident.create') a ON a.record_id = i.id
        WHERE i.id IS NULL OR a.record_id IS NULL""") if "postgresql" in url else rows(url, """
        SELECT i.id FROM incident i WHERE NOT EXISTS (SELECT 1 FROM audit_entry a
            WHERE a.action = 'incident.create' AND a.record_id = i.id)
        UNION ALL SELECT a.record_id FROM audit_entry a WHERE a.action = 'incident.create'
            AND NOT EXISTS (SELECT 1 FROM incident i WHERE i.id = a.record_id)""")


@pytest.fixture()
def own_postgres(db_kind: str) -> Iterator[Cluster]:
    if db_kind != "postgresql":
        pytest.skip("stopping PostgreSQL runs with --db postgresql")
    if pg_bin("initdb") is None and not os.environ.get("CI"):
        pytest.skip("no initdb to make a PostgreSQL server of the test's own")
    with Cluster.started() as cluster:
        yield cluster


def test_postgresql_stopped_and_started_fails_cleanly_and_recovers_without_a_restart(own_postgres, tmp_path):
    url = own_postgres.url("faults")
    with serving(url, tmp_path, workers=2) as server:
        b = server.browser()
        before = [record_incident(b, f"Before {n}") for n in range(3)]
        assert all(status == 302 and i for status, i in before)
        own_postgres.stop(mode="fast")
        page = b.get("/incidents")
        assert_clean_failure(page.status, page.body)
        token_page = b.get("/incidents/new")
        assert_clean_failure(token_page.status, token_page.body)
        own_postgres.start()
        deadline = time.monotonic() + 10
        while b.get("/").status != 200:
            assert time.monotonic() < deadline, "not serving again 10 s after the database was back"
            time.sleep(0.2)
        after = record_incident(b, "After")
        assert after[0] == 302
        for _, incident_id in [*before, after]:
            assert b.get(f"/incidents/{incident_id}").status == 200
        assert server.process.poll() is None, "the server stopped"
        log = server.log.read_text()
        assert "Traceback" not in log, log[-3000:]
    assert half_written(url) == []


def _url_for(db_kind: str, folder: Path) -> Iterator[str]:
    if db_kind == "sqlite":
        yield f"sqlite:///{folder / 'faults.db'}"
    else:
        yield from fresh_postgres_database()


@pytest.fixture()
def database(db_kind: str, tmp_path: Path) -> Iterator[str]:
    urls = _url_for(db_kind, tmp_path)
    yield next(urls)
    for _ in urls:
        pass


def test_a_worker_killed_in_the_middle_of_writes_loses_nothing_committed(database, tmp_path):
    """Writers record incidents while the workers are killed (-9) one after another: every incident
    the server said it recorded is there, none is without its audit entry, the audit chain holds."""
    with serving(database, tmp_path, workers=2) as server:
        browsers = [server.browser() for _ in range(4)]
        done: list[tuple[int, str]] = []
        failures: list[str] = []
        stop = threading.Event()

        def write(b: Browser, n: int) -> None:
            k = 0
            while not stop.is_set():
                k += 1
                try:
                    done.append(record_incident(b, f"Writer {n}.{k}"))
                except Exception as e:  # noqa: BLE001 - the connection of a killed worker
                    failures.append(type(e).__name__)
                    b.close()

        threads = [threading.Thread(target=write, args=(b, n)) for n, b in enumerate(browsers)]
        for t in threads:
            t.start()
        killed = 0
        for _ in range(4):
            # Each kill once the writers are getting answers again, so it lands among their writes.
            answered = len(done)
            deadline = time.monotonic() + 120
            while len(done) < answered + 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            for pid in server.workers()[:1]:
                os.kill(pid, signal.SIGKILL)
                killed += 1
        answered = len(done)
        deadline = time.monotonic() + 120
        while len(done) < answered + 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        assert killed == 4
        recorded = [i for status, i in done if status == 302]
        assert len(recorded) >= 4, (len(done), failures)
        # The master replaced the workers: the server answers without a restart.
        b = server.browser()
        for incident_id in recorded:
            assert b.get(f"/incidents/{incident_id}").status == 200, incident_id
        assert all(status in (302, 503) for status, _ in done), {s for s, _ in done}
    half = half_written(database)
    if database.startswith("postgresql"):
        # PostgreSQL writes an entry at once, before the request commits (casework.services.audit): a
        # worker killed between the two leaves the entry of an incident never recorded, like a refused
        # request's, but never an incident without its entry, and never for a request answered 302.
        assert all(incident is None and str(entry) not in recorded for incident, entry in half), half
    else:
        assert half == []
    if database.startswith("sqlite"):
        with sqlite3.connect(database.removeprefix("sqlite:///")) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    verify = subprocess.run([str(BIN / "casework"), "audit", "verify"], check=False, capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "CASEWORK_DATABASE_URL": database,
                                 "CASEWORK_KEYRING_FILE": str(tmp_path / "instance" / "keyring.json"),
                                 "CASEWORK_INSTANCE_PATH": str(tmp_path / "instance"),
                                 "CASEWORK_SECRET_KEY": "faults-secret"})
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_a_worker_killed_while_its_write_waits_on_postgresql_leaves_nothing(db_kind, database, tmp_path):
    """Deterministically in the middle: the incident is inserted, its audit entry waits for a lock
    another connection holds, and the worker is killed then."""
    if db_kind != "postgresql":
        pytest.skip("a write held open by a lock is PostgreSQL's")
    with serving(database, tmp_path, workers=1) as server:
        b = server.browser()
        b.csrf("/incidents/new")  # (signed in and the form's page seen before the lock)
        engine = create_engine(database)
        with engine.connect() as conn:
            conn.execute(text("LOCK TABLE audit_entry IN ACCESS EXCLUSIVE MODE"))
            result: list[object] = []
            writer = threading.Thread(target=lambda: result.append(_try(record_once, b, "Killed mid-write", KILLED_ON)))
            writer.start()
            deadline = time.monotonic() + 20
            while not conn.execute(text(
                    "SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'incident' "
                    "AND l.mode = 'RowExclusiveLock' AND l.granted AND l.pid <> pg_backend_pid()")).first():
                assert time.monotonic() < deadline, "the write never reached the incident table"
                time.sleep(0.1)
            for pid in server.workers():
                os.kill(pid, signal.SIGKILL)
            conn.rollback()
        engine.dispose()
        writer.join(timeout=30)
        assert isinstance(result[0], Exception), result  # the connection dropped: no answer, no retry
        assert rows(database, f"SELECT count(*) FROM incident WHERE occurred_on = '{KILLED_ON.isoformat()}'") == [(0,)]
        wait_until_serving(HOST, server.port, timeout=60)
        again = server.browser()
        assert record_incident(again, "After the kill")[0] == 302
    assert half_written(database) == []


def _try(fn, *args):  # type: ignore[no-untyped-def]
    try:
        return fn(*args)
    except Exception as e:  # noqa: BLE001 - the killed worker's connection
        return e


def test_sqlite_disk_full_during_an_import_says_so_and_loses_nothing(db_kind, tmp_path):
    """The database file may not grow (a file-size limit, as a full disk): the import fails with a
    clear message, no traceback, and the database holds what it held."""
    if db_kind != "sqlite":
        pytest.skip("SQLite's own disk")
    import resource

    path = tmp_path / "full.db"
    url = f"sqlite:///{path}"
    instance = tmp_path / "instance"
    instance.mkdir()
    app = make_test_app(url, instance)
    upgrade(app)
    app.extensions["casework.engine"].dispose()
    env = {**os.environ, "CASEWORK_DATABASE_URL": url, "CASEWORK_KEYRING_FILE": str(instance / "keyring.json"),
           "CASEWORK_INSTANCE_PATH": str(instance), "CASEWORK_SECRET_KEY": "faults-secret"}
    casework = str(BIN / "casework")
    subprocess.run([casework, "agencies", "add", "Dorset Police", "--kind", "police"], env=env, check=True,
                   capture_output=True)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = path.read_bytes()
    limit = path.stat().st_size + 256 * 1024  # room for a little of the import, not all of it

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    full = subprocess.run([casework, "import", str(SAMPLE), "--agency", "Dorset Police"], check=False, env=env,
                          capture_output=True, text=True, preexec_fn=small_disk)
    output = full.stdout + full.stderr
    assert full.returncode != 0, output
    assert "Traceback" not in output, output
    assert "full" in output.lower() and "Nothing imported" in output, output
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM person").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM agency").fetchone() == (1,)
    # With room again, the same import goes through: nothing was left half-way to stop it.
    again = subprocess.run([casework, "import", str(SAMPLE), "--agency", "Dorset Police"], check=False, env=env,
                           capture_output=True, text=True)
    assert again.returncode == 0, again.stdout + again.stderr
    assert before  # (the file the import could not grow)
