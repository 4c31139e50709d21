"""A user's whole work lists, paged: their open cases, reviews due and tasks due (the home page shows
the first page of each)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ... import policy
from ...auth.guard import require
from ...models import User
from ...policy import Permission
from ...services import team, worklists
from ..shared.record_pages import page_number, today
from . import bp

DUE_WITHIN_DAYS = 7


def has_work_lists(user: User) -> bool:
    """Who has work lists: those who see records and refer or chair (as the home page decides)."""
    return policy.can(user, Permission.VIEW_RECORDS) and (
        policy.can(user, Permission.REFER) or policy.can(user, Permission.CHAIR_HRDA))


def _page(kind: str, listing: worklists.WorkPage, title: str, empty: str) -> ResponseReturnValue:
    return render_template("worklists/list.html", kind=kind, listing=listing, title=title, empty=empty,
                           today=today())


@bp.get("/cases")
@require(Permission.VIEW_RECORDS)
def cases() -> ResponseReturnValue:
    if not has_work_lists(current_user):
        abort(403)
    listing = worklists.open_cases(current_user, today=today(), page=page_number())
    return _page("cases", listing, "Your open cases", "No open cases are assigned to you.")


@bp.get("/reviews")
@require(Permission.VIEW_RECORDS)
def reviews() -> ResponseReturnValue:
    if not has_work_lists(current_user):
        abort(403)
    listing = worklists.reviews_due(current_user, today=today(), within_days=DUE_WITHIN_DAYS, page=page_number())
    return _page("reviews", listing, "Reviews due and overdue", "No reviews due in the next week.")


@bp.get("/tasks")
@require(Permission.VIEW_RECORDS)
def tasks() -> ResponseReturnValue:
    if not has_work_lists(current_user):
        abort(403)
    listing = worklists.tasks_due(current_user, today=today(), within_days=DUE_WITHIN_DAYS, page=page_number())
    return _page("tasks", listing, "Tasks due", "No tasks due in the next week.")


@bp.app_template_global()
def cases_handed_to_me() -> list[team.HandedOver]:
    """For `templates/home/_my_work.html`: the cases handed to the signed-in user not yet seen."""
    return team.handed_to(current_user) if has_work_lists(current_user) else []


@bp.app_template_global()
def my_team_summary() -> list[team.Workload] | None:
    """For `templates/home/_team.html`: a manager's team's workload (None for anyone else)."""
    if not policy.can(current_user, Permission.MANAGE_TEAM):
        return None
    return team.workload(current_user, today=today())


@bp.post("/handed-to-me/seen")
@require(Permission.VIEW_RECORDS)
def handed_seen() -> ResponseReturnValue:
    if not has_work_lists(current_user):
        abort(403)
    team.mark_seen(current_user)
    flash("Cases handed to you marked as seen")
    return redirect(url_for("home.index"))
