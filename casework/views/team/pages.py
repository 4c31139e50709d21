"""A manager's team page: each caseworker's open cases, overdue reviews and overdue tasks; one
caseworker's open cases, some of which the manager hands to another caseworker in one step."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import SelectField, SelectMultipleField

from ...auth import navigation
from ...auth.guard import require
from ...forms import Form, choices
from ...policy import Permission
from ...services import cases, team
from ..shared.record_pages import today
from . import bp

navigation.add("Team", "team.index", Permission.MANAGE_TEAM, order=50)


class HandOnForm(Form):
    cases = SelectMultipleField("Cases to hand on", validate_choice=False)
    to = SelectField("Hand the selected cases to", validate_choice=False)


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@bp.get("")
@require(Permission.MANAGE_TEAM)
def index() -> ResponseReturnValue:
    return render_template("team/index.html", workload=team.workload(current_user, today=today()))


@bp.route("/<uuid:user_id>", methods=["GET", "POST"])
@require(Permission.MANAGE_TEAM)
def member(user_id: uuid.UUID) -> ResponseReturnValue:
    worker = team.team_member(current_user, user_id)
    if worker is None:
        abort(404)
    form = HandOnForm()
    form.to.choices = choices([("", "Select a caseworker")] + [
        (str(u.id), u.name) for u in cases.caseworkers_of(current_user.agency_id) if u.id != worker.id])
    status = 200
    if request.method == "POST":
        if form.validate():
            # A value that is no id names no case of theirs: the service says the list has changed.
            picked = [_uuid(v) or uuid.UUID(int=0) for v in form.cases.data or []]
            try:
                moved = team.reassign(case_ids=picked,
                                      from_id=worker.id, to_id=_uuid(form.to.data), by=current_user)
            except team.TeamError as e:
                getattr(form, e.field).errors = [str(e)]
            else:
                to_id = moved[0].caseworker_id
                assert to_id is not None  # the cases were just handed to someone
                to = team.team_member(current_user, to_id)
                flash(f"{len(moved)} case{'' if len(moved) == 1 else 's'} handed to {to.name}")
                return redirect(url_for("team.member", user_id=worker.id))
        status = 400
    rows = team.cases_of(current_user, worker.id, today=today())
    return render_template("team/member.html", worker=worker, rows=rows, form=form, errors=form.error_list(),
                           selected=set(form.cases.data or []), today=today()), status
