"""The HRDA chair's pages: the queue of referrals to review, the review page (accept onto a meeting
or decline with a reason), every outstanding action across meetings, and the figures for a date
range (page and CSV)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import HiddenField, RadioField, SelectField, TextAreaField

from ... import policy
from ...auth import navigation
from ...auth.guard import require, visible_or_404
from ...forms import Form, OnlyWhen, Required, choices
from ...models import Meeting, Referral, ReferralStatus, ReferralType
from ...policy import Permission
from ...services import audit, hrda, lookups, meeting_records, meetings, referrals, versioning
from ..shared.downloads import csv_response
from ..shared.fields import DateInputField
from ..shared.record_pages import agency_names, form_version, today
from . import bp

navigation.add("HRDA referrals", "hrda.queue", Permission.CHAIR_HRDA, order=35)

class AcceptForm(Form):
    decision = RadioField("Your decision", choices=choices([("accept", "Accept onto a meeting"),
                                                            ("decline", "Decline")]), validate_choice=False,
                          validators=[Required("Select whether you accept or decline the referral")])
    meeting = SelectField("Meeting", validate_choice=False, validators=[OnlyWhen("decision", {"accept"})])
    reason = TextAreaField("Reason for declining", validators=[
        OnlyWhen("decision", {"decline"}), Required("Enter the reason for declining")])
    version = HiddenField()


class PlaceForm(Form):
    meeting = SelectField("Meeting", validate_choice=False)


class RangeForm(Form):
    first = DateInputField("From")
    last = DateInputField("To")


@bp.get("/hrda/referrals")
@require(Permission.CHAIR_HRDA)
def queue() -> ResponseReturnValue:
    sort = request.args.get("sort", "waiting")
    rows = hrda.queue(current_user, today=today(), sort=sort)
    audit.record_search(kind="hrda_queue", terms=sort, result_count=len(rows))
    return render_template("hrda/queue.html", rows=rows, sort=sort if sort.removeprefix("-") in hrda.SORTS
                           else "waiting", unplaced=hrda.unplaced(current_user), meeting_choices=_meeting_choices(),
                           place_form=PlaceForm)


def _meeting_choices() -> list[Any]:
    return choices([("", "Select a meeting")] + [
        (str(m.id), f"{meetings.local_time(m):%-d %B %Y, %H:%M}, {m.place or 'online'}")
        for m in meetings.open_meetings(current_user.agency_id)])


def _hrda_referral(referral_id: uuid.UUID) -> Referral:
    referral: Referral = visible_or_404(Referral, referral_id)
    if referral.type is not ReferralType.HRDA:
        abort(404)
    return referral


def _review(referral: Referral, form: AcceptForm | None = None, status: int = 200) -> ResponseReturnValue:
    if form is None:
        preselected = hrda.default_meeting(referral, user=current_user)
        form = AcceptForm(formdata=None, data={"version": referral.version,
                                               "decision": "accept" if preselected else None,
                                               "meeting": str(preselected.id) if preselected else ""})
    form.meeting.choices = _meeting_choices()
    return render_template("hrda/review.html", referral=referral, form=form, errors=form.error_list(),
                           repeat=hrda.is_repeat(referral), criteria=referrals.criteria_of(referral),
                           agencies=agency_names(), today=today(),
                           can_decide=policy.can_decide_referral(current_user, referral)
                           and referral.status is ReferralStatus.SUBMITTED), status


@bp.get("/hrda/referrals/<uuid:referral_id>")
@require(Permission.CHAIR_HRDA)
def review(referral_id: uuid.UUID) -> ResponseReturnValue:
    referral = _hrda_referral(referral_id)
    audit.record_view(referral)
    return _review(referral)


def _meeting_of(value: str | None) -> Meeting | None:
    try:
        return lookups.record(Meeting, uuid.UUID(value)) if value else None
    except ValueError:
        return None


@bp.post("/hrda/referrals/<uuid:referral_id>/decision")
@require(Permission.CHAIR_HRDA)
def decide(referral_id: uuid.UUID) -> ResponseReturnValue:
    referral = _hrda_referral(referral_id)
    if not policy.can_decide_referral(current_user, referral):
        audit.record("access.refused", record=referral, details={"reason": "not the receiving side"})
        abort(403)
    form = AcceptForm()
    if not form.validate() or form.decision.data not in ("accept", "decline"):
        if not form.errors:
            form.decision.errors = ["Select whether you accept or decline the referral"]
        return _review(referral, form, 400)
    try:
        if form.decision.data == "accept":
            item = hrda.accept(referral, meeting=_meeting_of(form.meeting.data), version=form_version(form),
                               by=current_user)
            flash("Referral accepted onto the meeting")
            return redirect(url_for("meetings.show", meeting_id=item.meeting_id))
        referrals.decide(referral, accept=False, reason=form.reason.data, version=form_version(form),
                         by=current_user)
    except versioning.StaleEdit:
        flash("Someone else decided this referral meanwhile")
        return redirect(url_for("hrda.review", referral_id=referral.id))
    except referrals.ReferralError as e:
        getattr(form, e.field if e.field in ("meeting", "reason") else "decision").errors = [str(e)]
        return _review(referral, form, 400)
    flash("Referral declined")
    return redirect(url_for("hrda.queue"))


@bp.post("/hrda/referrals/<uuid:referral_id>/place")
@require(Permission.CHAIR_HRDA)
def place(referral_id: uuid.UUID) -> ResponseReturnValue:
    referral = _hrda_referral(referral_id)
    form = PlaceForm()
    try:
        item = hrda.place(referral, meeting=_meeting_of(form.meeting.data), by=current_user)
    except referrals.NotAllowed:
        abort(403)
    except (referrals.ReferralError, meetings.MeetingError) as e:
        flash(str(e))
        return redirect(url_for("hrda.queue")), 303
    flash("Referral placed on the meeting")
    return redirect(url_for("meetings.show", meeting_id=item.meeting_id))


@bp.get("/hrda/actions")
@require(Permission.CHAIR_HRDA)
def outstanding() -> ResponseReturnValue:
    actions = meeting_records.outstanding_actions(current_user.agency_id)
    audit.record_search(kind="hrda_actions", terms="outstanding", result_count=len(actions))
    return render_template("meetings/actions.html", actions=actions, today=today(), chair_view=True,
                           form_of=None, agencies=agency_names(), errors=[])


@bp.get("/hrda/figures")
@require(Permission.CHAIR_HRDA)
def figures() -> ResponseReturnValue:
    form = RangeForm(formdata=request.args if request.args else None, meta={"csrf": False})
    summary = made = None
    if request.args and form.validate():
        first, last = form.first.data, form.last.data
        if first is None or last is None:
            (form.first if first is None else form.last).errors = ["Enter the date"]
        elif last < first:
            form.last.errors = ["The end must be on or after the start"]
        else:
            summary = hrda.range_summary(current_user.agency_id, first=first, last=last)
            made = hrda.referrals_made(first=first, last=last)
            audit.record_search(kind="hrda_figures", terms=f"{first}..{last}", result_count=summary.cases)
            if request.args.get("format") == "csv":
                rows = [["Figure", "Value"], *hrda.summary_rows(summary),
                        ["HRDA referrals made", made[1]], ["Repeat referrals made (HRDA1)", made[0]]]
                return csv_response(rows, filename=f"hrda-figures-{first}-{last}.csv")
    status = 400 if form.errors or any(f.errors for f in form) else 200
    return render_template("hrda/figures.html", form=form, summary=summary, made=made,
                           rows=hrda.summary_rows(summary) if summary else [],
                           errors=form.error_list(), query=request.args.to_dict(), default_first=today()
                           - dt.timedelta(days=30)), status
