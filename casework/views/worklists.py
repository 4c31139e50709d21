"""A user's whole work lists, paged: their open cases, reviews due and tasks due (the home page shows
the first page of each)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from .. import policy
from ..auth.guard import require
from ..policy import Permission
from ..services import worklists
from .people import page_number
from .record_pages import today

bp = Blueprint("worklists", __name__, url_prefix="/my-work")

DUE_WITHIN_DAYS = 7


def has_work_lists(user) -> bool:  # type: ignore[no-untyped-def]
    """Who has work lists: those who see records and refer or chair (as the home page decides)."""
    return policy.can(user, Permission.VIEW_RECORDS) and (
        policy.can(user, Permission.REFER) or policy.can(user, Permission.CHAIR_HRDA))


def _page(kind: str, listing: worklists.WorkPage, title: str, empty: str):  # type: ignore[no-untyped-def]
    return render_template("worklists/list.html", kind=kind, listing=listing, title=title, empty=empty,
                           today=today())


@bp.get("/cases")
@require(Permission.VIEW_RECORDS)
def cases():  # type: ignore[no-untyped-def]
    if not has_work_lists(current_user):
        abort(403)
    listing = worklists.open_cases(current_user, today=today(), page=page_number())
    return _page("cases", listing, "Your open cases", "No open cases are assigned to you.")


@bp.get("/reviews")
@require(Permission.VIEW_RECORDS)
def reviews():  # type: ignore[no-untyped-def]
    if not has_work_lists(current_user):
        abort(403)
    listing = worklists.reviews_due(current_user, today=today(), within_days=DUE_WITHIN_DAYS, page=page_number())
    return _page("reviews", listing, "Reviews due and overdue", "No reviews due in the next week.")


@bp.get("/tasks")
@require(Permission.VIEW_RECORDS)
def tasks():  # type: ignore[no-untyped-def]
    if not has_work_lists(current_user):
        abort(403)
    listing = worklists.tasks_due(current_user, today=today(), within_days=DUE_WITHIN_DAYS, page=page_number())
    return _page("tasks", listing, "Tasks due", "No tasks due in the next week.")
