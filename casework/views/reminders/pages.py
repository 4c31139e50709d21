"""Reminders on the home page (made by the reminders job): showing and dismissing them."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ...auth.guard import signed_in
from ...measures.periods import today_in_london
from ...services import reminders
from . import bp


@bp.app_template_global("home_reminders")
def home_reminders() -> list[reminders.Shown]:
    """For `templates/reminders/_home.html`: the signed-in user's reminders."""
    if not current_user.is_authenticated:
        return []
    return reminders.for_user(current_user, today=today_in_london())


@bp.post("/reminders/<uuid:reminder_id>/dismiss")
@signed_in
def dismiss(reminder_id: uuid.UUID) -> ResponseReturnValue:
    if not reminders.dismiss(reminder_id=reminder_id, user=current_user):
        abort(404)
    flash("Reminder dismissed")
    return redirect(url_for("home.index"))
