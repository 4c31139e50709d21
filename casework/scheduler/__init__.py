"""The scheduler: `casework scheduler` runs APScheduler 3 as a process of its own.

Web workers never start it (nothing in `create_app` does); one scheduler service
runs beside them (see the README's deployment section). Its job store is a table
of the application database (`scheduler_job`), so the schedule and each job's
next run survive a restart and are visible on the admin page.

Each job opens an app context and calls a service (`casework.scheduler.jobs`).
Every run first claims its time slot: it inserts a `JobRun` row for (job, slot)
in a transaction of its own. The unique constraint lets exactly one process win;
a second scheduler started by mistake finds the slot taken and skips it. The
slot is the scheduled time the run belongs to (the latest time the job's
schedule fires at or before now), so both processes name it the same.

Schedules are short phrases, configurable per job with SCHEDULE = {"job": "..."}:
"daily 02:30", "weekly sun 04:00", "hourly :15", "every 10 minutes",
"every 5 seconds" (times in SCHEDULER_TIMEZONE, Europe/London by default).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from ..db import begin_mode, db, rowcount
from ..models import JobRun, scheduler_job
from ..models.base import utcnow
from ..observability import scrub_error

log = logging.getLogger("casework.scheduler")

STORE_TABLE = "scheduler_job"
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ScheduleError(ValueError):
    """A schedule phrase that cannot be understood."""


class JobFailed(Exception):
    """A job found something wrong (its message is shown on the admin page: no personal values)."""


@dataclass(frozen=True)
class Schedule:
    """When a job runs: a cron expression and how far apart runs are."""

    text: str
    cron: dict[str, Any]
    period: dt.timedelta

    @classmethod
    def parse(cls, text: str) -> Schedule:
        words = text.strip().lower().split()
        clock = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
        if len(words) == 2 and words[0] == "daily" and (m := clock.match(words[1])):
            return cls(text, {"hour": int(m[1]), "minute": int(m[2])}, dt.timedelta(days=1))
        if len(words) == 3 and words[0] == "weekly" and words[1][:3] in _DAYS and (m := clock.match(words[2])):
            return cls(text, {"day_of_week": words[1][:3], "hour": int(m[1]), "minute": int(m[2])},
                       dt.timedelta(days=7))
        if len(words) == 2 and words[0] == "hourly" and (m := re.match(r"^:([0-5]\d)$", words[1])):
            return cls(text, {"minute": int(m[1])}, dt.timedelta(hours=1))
        if len(words) == 3 and words[0] == "every" and words[1].isdigit():
            n, unit = int(words[1]), words[2].rstrip("s")
            if unit in ("second", "minute") and n > 0 and 60 % n == 0:
                field = unit
                cron = {field: f"*/{n}"} if unit == "second" else {"minute": f"*/{n}", "second": 0}
                return cls(text, cron, dt.timedelta(**{f"{unit}s": n}))
        raise ScheduleError(
            f"cannot understand the schedule {text!r}: use 'daily HH:MM', 'weekly DAY HH:MM', 'hourly :MM', "
            "'every N minutes' or 'every N seconds' (N dividing 60)"
        )

    def trigger(self, tz: ZoneInfo):  # type: ignore[no-untyped-def]
        from apscheduler.triggers.cron import CronTrigger

        return CronTrigger(timezone=tz, **self.cron)

    def next_after(self, now: dt.datetime, tz: ZoneInfo) -> dt.datetime:
        after: dt.datetime = self.trigger(tz).get_next_fire_time(None, now)
        return after

    def slot_at(self, now: dt.datetime, tz: ZoneInfo) -> dt.datetime:
        """The latest time the schedule fires at or before `now`: the slot a run at `now` belongs to."""
        trigger = self.trigger(tz)
        # Start a period back, plus slack for a day made longer by a clock change (at most 2 hours).
        fire: dt.datetime = trigger.get_next_fire_time(None, now - self.period - min(self.period, dt.timedelta(hours=2)))
        while True:
            following = trigger.get_next_fire_time(fire, fire + dt.timedelta(microseconds=1))
            if following is None or following > now:
                return fire.astimezone(dt.UTC)
            fire = following


@dataclass(frozen=True)
class Job:
    name: str
    title: str
    default_schedule: str
    body: Callable[[], str]  # calls a service; returns a summary (counts, never personal values)

    def schedule(self, app: Flask | None = None) -> Schedule:
        overrides = (app or current_app).config.get("SCHEDULE") or {}
        return Schedule.parse(overrides.get(self.name, self.default_schedule))


def timezone(app: Flask | None = None) -> ZoneInfo:
    return ZoneInfo((app or current_app).config.get("SCHEDULER_TIMEZONE") or "Europe/London")


def registry() -> dict[str, Job]:
    from .jobs import JOBS

    return {job.name: job for job in JOBS}


def host_label() -> str:
    return f"{socket.gethostname()[:100]}:{os.getpid()}"


# --- running one job for one slot ---------------------------------------------------------


def claim(job: str, slot: str) -> JobRun | None:
    """Insert the run record for (job, slot) in a transaction of its own; None if another process has."""
    run = JobRun(job=job, slot=slot, started_at=utcnow(), outcome="running", host=host_label())
    with db.new_session() as s, begin_mode("IMMEDIATE"):
        s.add(run)
        try:
            s.commit()
        except IntegrityError:
            s.rollback()
            return None
    return run


def _finish(run: JobRun, *, outcome: str, summary: str | None = None, error: str | None = None) -> None:
    with db.new_session() as s, begin_mode("IMMEDIATE"):
        s.execute(update(JobRun).where(JobRun.id == run.id).values(
            outcome=outcome, finished_at=utcnow(), summary=(summary or None) and summary[:500], error=error))
        s.commit()
    run.outcome, run.summary, run.error = outcome, summary, error


def execute(job: Job, *, now: dt.datetime | None = None) -> JobRun | None:
    """Run `job` for the slot `now` falls in, unless that slot has been claimed (in an app context).

    The body's work is committed when it succeeds and rolled back when it fails; either way
    the run record says what happened. Returns the run, or None when the slot was taken.
    """
    now = now or utcnow()
    slot = job.schedule().slot_at(now, timezone()).isoformat(timespec="seconds")
    run = claim(job.name, slot)
    if run is None:
        log.info("job %s, slot %s: already claimed by another scheduler process; skipped", job.name, slot)
        return None
    try:
        summary = job.body()
        db.session.commit()
    except Exception as e:  # noqa: BLE001 - any failure is recorded, then the next slot runs again
        db.session.rollback()
        error = scrub_error(e)
        _finish(run, outcome="failed", error=error)
        log.error("job %s, slot %s: failed: %s", job.name, slot, error)
        return run
    _finish(run, outcome="succeeded", summary=summary)
    log.info("job %s, slot %s: succeeded: %s", job.name, slot, summary)
    return run


def run_scheduled(name: str) -> None:
    """What the job store calls (by reference, so it can be pickled): one job in the scheduler's app."""
    app = _APP.get("app")
    if app is None:
        raise RuntimeError("the scheduler's app is not set: run jobs through `casework scheduler`")
    job = registry().get(name)
    if job is None:
        log.error("job %s is in the job store but no longer defined; skipped", name)
        return
    with app.app_context():
        execute(job)


_APP: dict[str, Flask] = {}


# --- the scheduler process ------------------------------------------------------------------


def build(app: Flask):  # type: ignore[no-untyped-def]
    """A BlockingScheduler with every job, its store in the application database."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.blocking import BlockingScheduler

    tz = timezone(app)
    jobs = registry()
    with app.app_context():
        schedules = {name: job.schedule(app) for name, job in jobs.items()}  # bad schedules fail here
        engine = db.engine
        # Jobs no longer defined (renamed or dropped in an upgrade) leave the store.
        with begin_mode("IMMEDIATE"), engine.begin() as conn:
            conn.execute(delete(scheduler_job).where(scheduler_job.c.id.not_in(list(jobs))))
    _APP["app"] = app
    scheduler = BlockingScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=STORE_TABLE)},
        executors={"default": ThreadPoolExecutor(max_workers=4)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=tz,
    )
    for name, job in jobs.items():
        schedule = schedules[name]
        scheduler.add_job(
            "casework.scheduler:run_scheduled", trigger=schedule.trigger(tz), args=[name], id=name,
            name=job.title, replace_existing=True,
            # A run up to half a period late (at least a minute: a busy host) still runs, once
            # (coalesced); later ones wait for the next slot.
            misfire_grace_time=max(60, int(schedule.period.total_seconds() // 2)),
        )
    return scheduler


@dataclass(frozen=True)
class JobState:
    """One line of the admin page."""

    job: Job
    schedule: str
    last_run: JobRun | None
    next_run: dt.datetime | None
    scheduled: bool  # whether a scheduler has put the job in its store


def states() -> list[JobState]:
    """Each job with its schedule, its latest run and its next run (from the job store)."""
    jobs = registry()
    next_runs = {row.id: row.next_run_time for row in db.session.execute(
        select(scheduler_job.c.id, scheduler_job.c.next_run_time))}
    latest: dict[str, JobRun] = {}
    for name in jobs:
        run = db.session.scalar(select(JobRun).where(JobRun.job == name)
                                .order_by(JobRun.started_at.desc()).limit(1))
        if run is not None:
            latest[name] = run
    tz = timezone()
    found = []
    for name, job in jobs.items():
        try:
            schedule = job.schedule()
        except ScheduleError as e:
            found.append(JobState(job, str(e), latest.get(name), None, False))
            continue
        stamp = next_runs.get(name)
        next_run = (dt.datetime.fromtimestamp(stamp, dt.UTC) if stamp is not None
                    else schedule.next_after(utcnow(), tz))
        found.append(JobState(job, schedule.text, latest.get(name), next_run, name in next_runs))
    return found


def prune_runs(*, now: dt.datetime | None = None) -> int:
    """Delete run records older than JOB_RUNS_KEEP_DAYS, keeping each job's latest run whatever its
    age (the admin page shows it). The outbox's sender alone records a run every 30 seconds, so
    without this the table grows by some 3,000 rows a day. Old slots are never claimed again (a
    slot is the latest time a schedule fires at or before now), so deleting them lets nothing run
    twice. Flushes; the caller commits. Returns how many were deleted."""
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=int(current_app.config["JOB_RUNS_KEEP_DAYS"]))
    latest = select(JobRun.job, func.max(JobRun.started_at).label("started_at")).group_by(JobRun.job).subquery()
    keep = select(JobRun.id).join(latest, (JobRun.job == latest.c.job) & (JobRun.started_at == latest.c.started_at))
    deleted = rowcount(db.session.execute(
        delete(JobRun).where(JobRun.started_at < cutoff, JobRun.id.not_in(keep))
        .execution_options(synchronize_session=False)
    ))
    db.session.flush()
    return deleted


def recent_runs(name: str, *, limit: int = 20) -> list[JobRun]:
    return list(db.session.scalars(select(JobRun).where(JobRun.job == name)
                                   .order_by(JobRun.started_at.desc()).limit(limit)))
