"""Administrators: the scheduled jobs, with their schedule, last and next run, and errors."""

from __future__ import annotations

from flask import abort, current_app, render_template
from flask.typing import ResponseReturnValue

from ... import scheduler
from ...auth.guard import require
from ...auth.navigation import add
from ...policy import Permission
from ...services import outbox
from . import bp

add("Scheduled jobs", "jobs.index", Permission.VIEW_JOBS, order=83)


@bp.get("")
@require(Permission.VIEW_JOBS)
def index() -> ResponseReturnValue:
    return render_template("jobs/index.html", states=scheduler.states(), timezone=scheduler.timezone(),
                           outbox=outbox.status(), troubled=outbox.troubled())


@bp.get("/outbox")
@require(Permission.VIEW_JOBS)
def outbox_messages() -> ResponseReturnValue:
    """The latest messages of the outbox: kind, recipient, state; links without their secrets."""
    return render_template("jobs/outbox.html", messages=outbox.recent(), outbox=outbox.status(),
                           smtp=bool(current_app.config.get("SMTP_HOST")))


@bp.get("/<name>")
@require(Permission.VIEW_JOBS)
def job(name: str) -> ResponseReturnValue:
    found = scheduler.registry().get(name)
    if found is None:
        abort(404)
    return render_template("jobs/job.html", job=found, runs=scheduler.recent_runs(name),
                           timezone=scheduler.timezone())
