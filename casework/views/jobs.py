"""Administrators: the scheduled jobs, with their schedule, last and next run, and errors."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from .. import scheduler
from ..auth.guard import require
from ..auth.navigation import add
from ..policy import Permission

bp = Blueprint("jobs", __name__, url_prefix="/admin/jobs")
add("Scheduled jobs", "jobs.index", Permission.VIEW_JOBS, order=83)


@bp.get("")
@require(Permission.VIEW_JOBS)
def index():  # type: ignore[no-untyped-def]
    return render_template("jobs/index.html", states=scheduler.states(), timezone=scheduler.timezone())


@bp.get("/<name>")
@require(Permission.VIEW_JOBS)
def job(name: str):  # type: ignore[no-untyped-def]
    found = scheduler.registry().get(name)
    if found is None:
        abort(404)
    return render_template("jobs/job.html", job=found, runs=scheduler.recent_runs(name),
                           timezone=scheduler.timezone())
