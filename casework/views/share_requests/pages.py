"""Asking another agency to share a person's record, and its managers' decision (issue 14 §6)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import RadioField, TextAreaField

from ... import policy
from ...auth.guard import require
from ...forms import Form, choices
from ...models import Person
from ...policy import Permission
from ...services import lookups, person_names, share_requests
from . import bp


class AskForm(Form):
    reason = TextAreaField("Why does your agency need the record?")


class DecisionForm(Form):
    decision = RadioField("Share the record?", choices=choices([("accept", "Yes, share it"), ("decline", "No")]),
                          validate_choice=False)
    decline_reason = TextAreaField("Why will you not share it?")


def _agency_name(agency_id: uuid.UUID) -> str:
    return lookups.agency_name(agency_id)


@bp.app_template_global()
def can_ask_to_share() -> bool:
    """For the identity-only matches (people/_fields.html): whether to offer the request link."""
    return current_user.is_authenticated and policy.can(current_user, Permission.SHARE_RECORDS)


@bp.app_template_global()
def share_requests_home() -> dict[str, Any]:
    """For `templates/home/_share_requests.html`: requests waiting for the user's decision and the
    user's own recent requests."""
    if not current_user.is_authenticated:
        return {"waiting": [], "mine": []}
    mine = share_requests.made_by(current_user) if policy.can(current_user, Permission.SHARE_RECORDS) else []
    return {"waiting": share_requests.waiting_for(current_user), "mine": mine}


@bp.app_template_global()
def ask_to_share_url(person_id: uuid.UUID | None) -> str | None:
    """For the identity-only matches (people/_fields.html): the link asking for the record, if the
    signed-in user may ask (the page checks the person is one they see by identity only)."""
    if person_id is None or not can_ask_to_share():
        return None
    return url_for("share_requests.ask", token=share_requests.ask_token(person_id, viewer=current_user))


@bp.route("/share-requests/new/<token>", methods=["GET", "POST"])
@require(Permission.SHARE_RECORDS)
def ask(token: str) -> ResponseReturnValue:
    person = share_requests.person_of_token(token, viewer=current_user)
    if not share_requests.askable(person, by=current_user):
        abort(404)
    assert person is not None
    form = AskForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                share_requests.ask(person, reason=form.reason.data, by=current_user)
            except share_requests.ShareRequestError as e:
                getattr(form, e.field if e.field in form else "reason").errors = [str(e)]
            else:
                flash(f"Your request was sent to {_agency_name(person.owner_agency_id)}")
                return redirect(url_for("home.index"))
        status = 400
    waiting = share_requests.waiting_request(person, agency_id=current_user.agency_id)
    return render_template("share_requests/ask.html", form=form, errors=form.error_list(),
                           person=person_names.for_viewer(current_user, person),
                           owner=_agency_name(person.owner_agency_id), waiting=waiting), status


@bp.route("/share-requests/<uuid:request_id>", methods=["GET", "POST"])
@require(Permission.DECIDE_SHARE_REQUESTS)
def decide(request_id: uuid.UUID) -> ResponseReturnValue:
    share_request = share_requests.for_decision(request_id, by=current_user)
    if share_request is None:
        abort(404)
    form = DecisionForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            accept = {"accept": True, "decline": False}.get(form.decision.data or "")
            try:
                share_requests.decide(share_request, accept=accept, reason=form.decline_reason.data,
                                      by=current_user)
            except share_requests.ShareRequestError as e:
                getattr(form, e.field if e.field in form else "decision").errors = [str(e)]
            else:
                requester = _agency_name(share_request.requesting_agency_id)
                flash(f"The record is now shared with {requester}" if accept
                      else f"You declined {requester}'s request")
                return redirect(url_for("home.index"))
        status = 400
    person = lookups.record(Person, share_request.person_id)
    return render_template("share_requests/decide.html", form=form, errors=form.error_list(), req=share_request,
                           person=person_names.for_viewer(current_user, person) if person else None,
                           requester=_agency_name(share_request.requesting_agency_id),
                           requested_by=lookups.user_name(share_request.requested_by_id)), status
