"""The scheduler: slots claimed once, failures recorded without personal values, the admin page,
the jobs' services, and two real scheduler processes on one database."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, func, select, text

from casework import crypto, scheduler
from casework.db import db
from casework.models import JobRun, PendingSignIn, User, UserSession
from casework.models.base import utcnow
from casework.scheduler import Job, Schedule, ScheduleError, jobs
from tests.conftest import Page, fresh_postgres_database, make_test_app, upgrade
from tests.factories import PersonFactory

LONDON = ZoneInfo("Europe/London")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _own_checkpoint_file(app, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """The audit checkpoint job writes to the test's own file, never the instance folder's."""
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT_FILE", str(tmp_path / "audit-checkpoints"))


def at(text_: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text_)


@pytest.mark.parametrize(("phrase", "now", "slot"), [
    ("daily 02:30", "2025-06-10T09:00:00+00:00", "2025-06-10T01:30:00+00:00"),  # 02:30 BST
    ("daily 02:30", "2025-06-10T01:00:00+00:00", "2025-06-09T01:30:00+00:00"),  # before today's run
    ("daily 02:30", "2025-01-10T02:30:00+00:00", "2025-01-10T02:30:00+00:00"),  # GMT, on the dot
    ("weekly sun 04:00", "2025-06-11T12:00:00+00:00", "2025-06-08T03:00:00+00:00"),
    ("hourly :05", "2025-01-10T10:04:59+00:00", "2025-01-10T09:05:00+00:00"),
    ("every 10 minutes", "2025-01-10T10:29:59+00:00", "2025-01-10T10:20:00+00:00"),
    ("every 2 seconds", "2025-01-10T10:00:03.5+00:00", "2025-01-10T10:00:02+00:00"),
])
def test_a_run_belongs_to_the_latest_time_its_schedule_fires(phrase, now, slot):
    assert Schedule.parse(phrase).slot_at(at(now), LONDON).isoformat() == slot


@pytest.mark.parametrize("phrase", ["daily 25:00", "every 7 minutes", "weekly someday 04:00", "now", ""])
def test_a_schedule_that_cannot_be_understood_is_refused_with_the_accepted_forms(phrase):
    with pytest.raises(ScheduleError, match="daily HH:MM"):
        Schedule.parse(phrase)


def test_a_slot_claimed_once_is_skipped_by_a_second_run(app_ctx):
    calls = []
    job = Job("audit_checkpoint", "Audit trail checkpoint", "daily 00:15", lambda: calls.append(1) or "done")
    now = utcnow()

    first = scheduler.execute(job, now=now)
    second = scheduler.execute(job, now=now + dt.timedelta(seconds=1))

    assert first is not None and first.outcome == "succeeded" and first.summary == "done"
    assert second is None and calls == [1]
    assert db.session.scalar(select(func.count()).select_from(JobRun).where(JobRun.job == "audit_checkpoint")) == 1


def test_a_failed_job_is_recorded_with_its_error_and_no_personal_values(app_ctx):
    def body() -> str:
        PersonFactory(surname="Quorrelwood")
        db.session.flush()
        raise ValueError("no match for 'Quorrelwood' (jo.quorrelwood@example.org, NHS 4857773456)")

    from casework.models import Person

    people_before = db.session.scalar(select(func.count()).select_from(Person))
    run = scheduler.execute(Job("figures", "Figures", "daily 01:30", body))

    assert run is not None and run.outcome == "failed"
    assert run.error.startswith("ValueError: no match for '…' (…@…, NHS …)")
    assert "uorrelwood" not in run.error and "4857773456" not in run.error
    assert "test_scheduler.py" in run.error  # where it failed
    assert db.session.scalar(select(func.count()).select_from(Person)) == people_before, "rolled back"


def test_the_admin_page_lists_each_job_with_schedule_last_run_outcome_and_next_run(app_ctx, admin_client):
    scheduler.execute(Job("retired_keys", "x", "weekly sun 04:00", lambda: (_ for _ in ()).throw(
        RuntimeError("key trouble"))))
    scheduler.execute(jobs.JOBS[1])  # the audit checkpoint, for real
    db.session.commit()

    page = Page(admin_client.get("/admin/jobs"))

    assert page.status_code == 200 and page.h1 == "Scheduled jobs"
    rows = {row["id"].removeprefix("job-"): [c.get_text(" ", strip=True) for c in row.select("td")]
            for row in page.select("tbody tr")}
    assert set(rows) == {j.name for j in jobs.JOBS}
    assert rows["audit_checkpoint"][1] == "daily 00:15"
    assert rows["audit_checkpoint"][3].startswith("Succeeded checkpoint at position")
    assert rows["retired_keys"][3].startswith("Failed RuntimeError: key trouble")
    assert rows["figures"][2] == "Never"
    assert rows["figures"][4].endswith("01:30:00 (once the scheduler is running)")
    detail = Page(admin_client.get("/admin/jobs/retired_keys"))
    assert "RuntimeError: key trouble" in detail.text


def test_the_jobs_page_is_for_administrators_only(caseworker_client, manager_client):
    assert caseworker_client.get("/admin/jobs").status_code == 403
    assert manager_client.get("/admin/jobs").status_code == 403


def test_expiry_ends_stale_sessions_and_set_up_links_and_deletes_old_ended_sessions(app_ctx, user_factory):
    from casework.services import housekeeping

    now = utcnow()
    user = user_factory()
    user.setup_token_hash, user.setup_expires_at = crypto.token_digest("t"), now - dt.timedelta(minutes=1)
    fresh = UserSession(token_hash=crypto.token_digest("a"), user_id=user.id, last_seen_at=now)
    idle = UserSession(token_hash=crypto.token_digest("b"), user_id=user.id, last_seen_at=now - dt.timedelta(hours=1))
    old = UserSession(token_hash=crypto.token_digest("c"), user_id=user.id, last_seen_at=now,
                      revoked_at=now - dt.timedelta(days=91), ended_because="sign_out")
    waiting = PendingSignIn(token_hash=crypto.token_digest("d"), user_id=user.id, stage="code",
                            expires_at=now + dt.timedelta(minutes=5))
    gone = PendingSignIn(token_hash=crypto.token_digest("e"), user_id=user.id, stage="code",
                         expires_at=now - dt.timedelta(minutes=1))
    db.session.add_all([fresh, idle, old, waiting, gone])
    db.session.flush()

    result = housekeeping.expire(now=now)

    assert (result.setup_links, result.sessions_ended, result.sessions_deleted) == (1, 1, 1)
    assert result.pending_sign_ins_deleted == 1 and db.session.get(PendingSignIn, waiting.id) is not None
    db.session.expire_all()
    assert db.session.get(User, user.id).setup_token_hash is None
    assert db.session.get(UserSession, idle.id).ended_because == "idle_timeout"
    assert db.session.get(UserSession, fresh.id).revoked_at is None
    assert db.session.get(UserSession, old.id) is None


def test_old_job_runs_are_deleted_but_each_jobs_latest_run_is_kept(app_ctx):
    from casework.scheduler import prune_runs

    now = utcnow()
    day = dt.timedelta(days=1)

    def run(job: str, age: dt.timedelta) -> JobRun:
        return JobRun(job=job, slot=(now - age).isoformat(), started_at=now - age, outcome="succeeded")

    recent, old, oldest = run("often", day), run("often", 31 * day), run("often", 40 * day)
    weekly_latest, weekly_older = run("rarely", 45 * day), run("rarely", 52 * day)
    edge = run("edge", 30 * day - dt.timedelta(seconds=1))  # inside the 30 days kept
    latest_edge = run("edge", dt.timedelta(0))
    db.session.add_all([recent, old, oldest, weekly_latest, weekly_older, edge, latest_edge])
    db.session.flush()
    kept = {recent.id, weekly_latest.id, edge.id, latest_edge.id}
    gone = {old.id, oldest.id, weekly_older.id}

    assert prune_runs(now=now) == 3
    db.session.expire_all()
    left = set(db.session.scalars(select(JobRun.id)))
    assert kept <= left and not gone & left


def test_the_key_check_fails_naming_a_key_no_longer_in_the_keyring(app_ctx):
    person = PersonFactory()
    db.session.flush()
    stranded = crypto.HEADER.pack(crypto.FORMAT_VERSION, 99) + bytes(crypto.NONCE_BYTES + crypto.TAG_BYTES + 4)
    db.session.execute(text("UPDATE person SET phone = :v WHERE id = :id"),
                       {"v": stranded, "id": person.id.hex if db.engine.dialect.name == "sqlite" else person.id})

    run = scheduler.execute(jobs.JOBS[5])

    assert run.outcome == "failed"
    assert "JobFailed: values cannot be read: 1 under key 99" in run.error


def test_web_workers_never_start_the_scheduler(client):
    client.get("/healthz")
    assert "apscheduler.schedulers.blocking" not in sys.modules


# --- two scheduler processes --------------------------------------------------------------


@pytest.fixture()
def separate_database(db_kind, tmp_path):  # type: ignore[no-untyped-def]
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'scheduler.db'}"
        return
    yield from fresh_postgres_database()


def test_two_scheduler_processes_run_each_slot_once(separate_database, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    app = make_test_app(separate_database, instance)
    upgrade(app)
    app.extensions["casework.engine"].dispose()
    (instance / "config.py").write_text('SCHEDULE = {"audit_checkpoint": "every 1 seconds"}\n')
    env = {**os.environ, "CASEWORK_INSTANCE_PATH": str(instance), "CASEWORK_DATABASE_URL": separate_database,
           "CASEWORK_KEYRING_FILE": str(instance / "keyring.json"), "CASEWORK_SECRET_KEY": "test",
           "CASEWORK_LOG_FORMAT": "text", "PYTHONUNBUFFERED": "1"}
    logs = [tmp_path / f"scheduler-{n}.log" for n in (1, 2)]
    procs = [subprocess.Popen([str(Path(sys.executable).parent / "casework"), "scheduler"], cwd=ROOT, env=env,
                              stdout=log.open("w"), stderr=subprocess.STDOUT) for log in logs]
    try:
        deadline = time.monotonic() + 60
        while not all("scheduler started" in log.read_text() for log in logs):
            assert time.monotonic() < deadline, [log.read_text() for log in logs]
            assert all(p.poll() is None for p in procs), [log.read_text() for log in logs]
            time.sleep(0.2)
        # Until at least 3 slots have run (a few seconds; longer on a busy machine), then one more second.
        probe = create_engine(separate_database)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with probe.connect() as conn:
                if conn.execute(text("SELECT count(*) FROM job_run WHERE outcome = 'succeeded'")).scalar() >= 3:
                    break
            time.sleep(0.5)
        probe.dispose()
        time.sleep(1)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=30)
    output = [log.read_text() for log in logs]

    engine = create_engine(separate_database)
    with engine.connect() as conn:
        runs = conn.execute(text("SELECT slot, outcome, host FROM job_run WHERE job = 'audit_checkpoint'")).all()
    engine.dispose()
    slots = [r.slot for r in runs]
    assert len(runs) >= 3, output
    assert len(set(slots)) == len(slots) and {r.outcome for r in runs} == {"succeeded"}
    checkpoints = (instance / "audit-checkpoints").read_text().splitlines()
    assert len(checkpoints) == len(runs), "the job's work was done once per slot"
    # (Other jobs run too, the outbox's sender among them: only this job's lines count.)
    mine = [[line for line in o.splitlines() if "job audit_checkpoint, slot" in line] for o in output]
    ran = sum(len(lines) - sum("already claimed" in line for line in lines) for lines in mine)
    assert ran == len(runs)
    assert all("scheduler stopped" in o for o in output)
    skipped = sum("already claimed" in line for lines in mine for line in lines)
    print(f"{len(runs)} slots ran once each; {skipped} attempts by the other process skipped; "
          f"hosts {sorted({r.host.split(':')[1] for r in runs})}")
