"""HRDA meetings for the chair and the agencies invited: the list, scheduling (with a weekly
pattern), the meeting page (agenda, research, minutes, actions), the printable agenda and its CSV,
the meeting's figures, and each agency's open actions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import ValidationError

from ... import policy
from ...auth import navigation
from ...auth.guard import require, safe_next
from ...forms import Form, Required, choices
from ...models import Agency, Meeting, MeetingAction, MeetingCase, MeetingState
from ...policy import Permission
from ...services import agencies as agency_service
from ...services import audit, hrda, lookups, meeting_records, meetings, person_names, referrals
from ..shared.confirm import confirm_page, confirmed
from ..shared.downloads import csv_response
from ..shared.fields import DateInputField, MultiCheckbox
from ..shared.record_pages import agency_names, today, user_names
from . import bp

navigation.add("HRDA meetings", "meetings.index", Permission.ATTEND_HRDA, order=40)

WEEKDAYS = [("0", "Monday"), ("1", "Tuesday"), ("2", "Wednesday"), ("3", "Thursday"), ("4", "Friday")]


class ScheduleForm(Form):
    """What can be told from the form alone is checked here, all at once; the service checks again."""

    day = DateInputField("Date", required="Enter the date of the meeting")
    time = StringField("Time", validators=[Required("Enter the time of the meeting, like 10:00")])
    place = StringField("Place")
    online = BooleanField("Online (also or only)")
    agencies = MultiCheckbox("Agencies invited", validate_choice=False,
                             validators=[Required("Select the agencies invited")])
    weekdays = MultiCheckbox("Repeat on", choices=choices(WEEKDAYS), validate_choice=False)
    until = DateInputField("Repeat until")

    def validate_time(self, field: Any) -> None:
        if _time(field.data) is None:
            raise ValidationError("Enter the time on the 24-hour clock, like 10:00 or 14:30")

    def validate_place(self, field: Any) -> None:
        if not (field.data or "").strip() and not self.online.data:
            raise ValidationError("Enter the place, or say the meeting is online")

    def validate_until(self, field: Any) -> None:
        if self.weekdays.data and field.data is None and not field.errors:
            raise ValidationError("Enter the date the pattern ends")


class ResearchForm(Form):
    facts = TextAreaField("What your agency knows: facts")
    opinion = TextAreaField("Your agency's opinion")
    checked_on = DateInputField("Date your records were checked",
                                required="Enter the date your agency's records were checked")

    def validate_facts(self, field: Any) -> None:
        if not (field.data or "").strip() and not (self.opinion.data or "").strip():
            raise ValidationError("Enter the facts your agency holds, or its opinion")


class MinutesForm(Form):
    discussion = TextAreaField("Discussion summary")
    safety_plan = TextAreaField("Safety plan")


class ActionForm(Form):
    text = TextAreaField("Action", validators=[Required("Enter the action")])
    # the page offers the agencies taking part; the service checks the one chosen
    agency = SelectField("Agency", choices=[], validate_choice=False,
                         validators=[Required("Select an agency taking part in the meeting")])
    person_name = StringField("Person (if known)")
    due_on = DateInputField("Due", required="Enter the date the action is due")


class ProgressForm(Form):
    progress = TextAreaField("Progress")
    done = BooleanField("The action is done")


class EmptyForm(Form):
    direction = HiddenField()


def _meeting(meeting_id: uuid.UUID) -> Meeting:
    try:
        return meetings.get(meeting_id, viewer=current_user)
    except meetings.NotAllowed:
        abort(404)


def _item(meeting: Meeting, case_id: uuid.UUID) -> MeetingCase:
    item = lookups.record(MeetingCase, case_id)
    if item is None or item.meeting_id != meeting.id:
        abort(404)
    return item


def _time(value: str | None) -> Any:
    import datetime as dt

    try:
        return dt.time.fromisoformat((value or "").strip()) if (value or "").strip() else None
    except ValueError:
        return None


@bp.get("/meetings")
@require(Permission.ATTEND_HRDA)
def index() -> ResponseReturnValue:
    return render_template("meetings/index.html", upcoming=meetings.meetings_of(current_user, upcoming=True),
                           past=meetings.meetings_of(current_user, upcoming=False, limit=50),
                           agencies=agency_names(), local=meetings.local_time,
                           can_schedule=policy.can(current_user, Permission.CHAIR_HRDA))


def _agency_choices(form: ScheduleForm) -> None:
    form.agencies.choices = choices([(str(a.id), a.name) for a in agency_service.offered()])


@bp.route("/meetings/new", methods=["GET", "POST"])
@require(Permission.CHAIR_HRDA)
def new() -> ResponseReturnValue:
    form = ScheduleForm() if request.method == "POST" else ScheduleForm(formdata=None)
    _agency_choices(form)
    if request.method == "POST" and form.validate():
        wanted = {str(v) for v in form.agencies.data or []}
        agencies = [a for a in lookups.agencies() if str(a.id) in wanted]
        try:
            made = meetings.schedule(
                day=form.day.data, time=_time(form.time.data), place=form.place.data, online=form.online.data,
                agencies=agencies, by=current_user, weekdays=[int(w) for w in form.weekdays.data or []
                                                              if w.isdigit()],
                until=form.until.data, today=today())
        except meetings.MeetingError as e:
            getattr(form, e.field or "day").errors = [str(e)]
        else:
            flash(f"{len(made)} meeting{'s' if len(made) > 1 else ''} scheduled")
            return redirect(url_for("meetings.show", meeting_id=made[0].id))
    status = 400 if request.method == "POST" else 200
    return render_template("meetings/new.html", form=form, errors=form.error_list()), status


def _page(meeting: Meeting, *, status: int = 200, forms: dict[str, Any] | None = None) -> ResponseReturnValue:
    forms = forms or {}
    chair = policy.chairs_meeting(current_user, meeting)
    invited = {i.agency_id for i in meeting.invited} | {meeting.agency_id}
    names = agency_names()
    offered = {a.id for a in agency_service.offered()}  # an inactive agency is given no new action
    cases = []
    for item in meeting.cases:
        key = item.id.hex
        action_form = forms.get(f"action-{key}") or ActionForm(formdata=None, prefix=f"action-{key}")
        outside = meeting_records.referrer_not_invited(item)
        action_form.agency.choices = choices([("", "Select an agency")] + sorted(
            ((str(a), names.get(a, "") + (" (referred the case, not invited)" if a == outside else ""))
             for a in (invited | ({outside} if outside else set())) & offered), key=lambda p: p[1]))
        own = next((r for r in item.research if r.agency_id == current_user.agency_id), None)
        research_form = forms.get(f"research-{key}") or ResearchForm(formdata=None, prefix=f"research-{key}", data={
            "facts": own.facts if own else "", "opinion": own.opinion if own else "",
            "checked_on": own.checked_on if own else None})
        minutes_form = forms.get(f"minutes-{key}") or MinutesForm(formdata=None, prefix=f"minutes-{key}", data={
            "discussion": item.discussion or "", "safety_plan": item.safety_plan or ""})
        previous = meetings.previous_case(item)
        cases.append({"item": item, "repeat": hrda.is_repeat(item.referral), "previous": previous,
                      "referrer_not_invited": names.get(outside, "") if outside else None,
                      "research_form": research_form, "minutes_form": minutes_form, "action_form": action_form})
    errors = [e for f in forms.values() for e in f.error_list()]
    authors = user_names({r.author_id for c in meeting.cases for r in c.research})
    audit.record_view(meeting)
    return render_template("meetings/show.html", meeting=meeting, cases=cases, chair=chair, agencies=names,
                           local=meetings.local_time, errors=errors, authors=authors,
                           attending=sorted(names.get(a, "") for a in invited),
                           can_research=current_user.agency_id in invited and meeting.state is not MeetingState.CLOSED,
                           today=today()), status


@bp.get("/meetings/<uuid:meeting_id>")
@require(Permission.ATTEND_HRDA)
def show(meeting_id: uuid.UUID) -> ResponseReturnValue:
    return _page(_meeting(meeting_id))


def _done(meeting: Meeting, message: str, anchor: str | None = None) -> ResponseReturnValue:
    flash(message)
    return redirect(url_for("meetings.show", meeting_id=meeting.id, _anchor=anchor))


def _step(meeting: Meeting, run: Callable[[], Any], *, done: str, anchor: str | None = None) -> ResponseReturnValue:
    """A button of the chair's (start, close, reorder): refused → 403; not possible now → the
    page again saying why."""
    try:
        run()
    except meetings.NotAllowed:
        abort(403)
    except meetings.MeetingError as e:
        flash(str(e))
        return _page(meeting, status=400)
    return _done(meeting, done, anchor)


@bp.post("/meetings/<uuid:meeting_id>/agenda/send")
@require(Permission.CHAIR_HRDA)
def send_agenda(meeting_id: uuid.UUID) -> ResponseReturnValue:
    """Email the invited agencies' participants that the agenda is ready (no case data in the email)."""
    meeting = _meeting(meeting_id)
    told: list[int] = []
    return _step(meeting, lambda: told.append(meetings.publish_agenda(meeting, by=current_user)),
                 done="The invited agencies are told by email that the agenda is ready", anchor="agenda")


class CloseMeetingForm(Form):
    reason = TextAreaField("Why are you closing the meeting before its date?")


@bp.route("/meetings/<uuid:meeting_id>/state", methods=["GET", "POST"])
@require(Permission.CHAIR_HRDA)
def change_state(meeting_id: uuid.UUID) -> ResponseReturnValue:
    """Start or close the meeting, after a page saying what that changes (and, closing before its
    date, asking why)."""
    meeting = _meeting(meeting_id)
    direction = request.values.get("direction")
    if direction not in ("start", "close"):
        abort(400)
    if not policy.chairs_meeting(current_user, meeting):
        abort(403)
    starting = direction == "start"
    if meeting.state is MeetingState.CLOSED or (starting and meeting.state is not MeetingState.PLANNED):
        return _done(meeting, f"The meeting is already {meeting.state.label.lower()}")
    form = CloseMeetingForm()
    if confirmed() and form.validate():
        try:
            if starting:
                meetings.start(meeting, by=current_user)
            else:
                meetings.close(meeting, by=current_user, today=today(), reason=form.reason.data)
        except meetings.NotAllowed:
            abort(403)
        except meetings.MeetingError as e:
            if e.field != "reason":
                flash(str(e))
                return _page(meeting, status=400)
            form.reason.errors = [str(e)]
            return _state_page(meeting, starting, form, status=400)
        return _done(meeting, "Meeting started" if starting else "Meeting closed")
    if not confirmed():
        form = CloseMeetingForm(formdata=None)
    return _state_page(meeting, starting, form)


def _state_page(meeting: Meeting, starting: bool, form: CloseMeetingForm, status: int = 200) -> ResponseReturnValue:
    when = f"{meetings.local_time(meeting):%-d %B %Y}"
    count = len(meeting.cases)
    cases = f"{count} case{'' if count == 1 else 's'}"
    names = agency_names()
    invited = sorted(names.get(i.agency_id, "") for i in meeting.invited if i.agency_id != meeting.agency_id)
    early = not starting and meetings.closing_early(meeting, today=today())
    if starting:
        effects = ["The meeting will be in progress; it cannot be set back to planned.",
                   f"You can then record the minutes and actions of its {cases}.",
                   "Invited agencies can still add research until the meeting is closed."]
    else:
        effects = [("The meeting will be closed: its minutes and actions lock. Only you can correct them, and "
                   "each correction is recorded in the audit trail."),
                   "Agencies can no longer add research to its cases."]
        if invited:
            effects.append(f"{', '.join(invited)} will keep the shared records of its {cases} only while a case "
                           "has an open action for them.")
        if early:
            effects.append(f"The meeting is on {when}, after today: give the reason for closing it early. It is "
                           "kept with the meeting.")
    return confirm_page(heading="Start the meeting?" if starting else "Close the meeting?",
                        caption=f"HRDA meeting, {when}", effects=effects,
                        action=url_for("meetings.change_state", meeting_id=meeting.id),
                        button="Start the meeting" if starting else "Close the meeting",
                        back=url_for("meetings.show", meeting_id=meeting.id),
                        hidden={"direction": "start" if starting else "close"}, form=form,
                        fields="meetings/_close_reason.html" if early else None, status=status)


@bp.post("/meetings/<uuid:meeting_id>/cases/<uuid:case_id>/move")
@require(Permission.CHAIR_HRDA)
def move(meeting_id: uuid.UUID, case_id: uuid.UUID) -> ResponseReturnValue:
    meeting = _meeting(meeting_id)
    item = _item(meeting, case_id)
    form = EmptyForm()
    if not form.validate() or form.direction.data not in ("up", "down"):
        abort(400)
    return _step(meeting, lambda: meetings.move(item, up=form.direction.data == "up", by=current_user),
                 done="Agenda reordered", anchor="agenda")


def _case_form(meeting_id: uuid.UUID, case_id: uuid.UUID, form_class: type[Form], name: str,
               save: Callable[[MeetingCase, Any], Any], *, first_field: str, done: str) -> ResponseReturnValue:
    """A form of one case of the meeting (its fields prefixed by the case's id), saved by `save`:
    back to the case when saved; refused → 403; bad input → the page again with the error on its
    field and nothing saved."""
    meeting = _meeting(meeting_id)
    item = _item(meeting, case_id)
    key = f"{name}-{item.id.hex}"
    form = form_class(prefix=key)
    if form.validate():
        try:
            save(item, form)
        except meetings.NotAllowed:
            abort(403)
        except meetings.MeetingError as e:
            getattr(form, e.field or first_field).errors = [str(e)]
        else:
            return _done(meeting, done, f"case-{item.id.hex}")
    return _page(meeting, status=400, forms={key: form})


@bp.post("/meetings/<uuid:meeting_id>/cases/<uuid:case_id>/research")
@require(Permission.ATTEND_HRDA)
def research(meeting_id: uuid.UUID, case_id: uuid.UUID) -> ResponseReturnValue:
    return _case_form(meeting_id, case_id, ResearchForm, "research", lambda item, form: meeting_records.save_research(
        item, facts=form.facts.data, opinion=form.opinion.data, checked_on=form.checked_on.data, by=current_user,
        today=today()), first_field="facts", done="Research saved")


@bp.post("/meetings/<uuid:meeting_id>/cases/<uuid:case_id>/minutes")
@require(Permission.CHAIR_HRDA)
def minutes(meeting_id: uuid.UUID, case_id: uuid.UUID) -> ResponseReturnValue:
    return _case_form(meeting_id, case_id, MinutesForm, "minutes", lambda item, form: meeting_records.record_minutes(
        item, discussion=form.discussion.data, safety_plan=form.safety_plan.data, by=current_user),
        first_field="discussion", done="Minutes saved")


def _agency(value: str | None) -> Agency | None:
    try:
        return lookups.record(Agency, uuid.UUID(value)) if value else None
    except ValueError:
        return None


@bp.post("/meetings/<uuid:meeting_id>/cases/<uuid:case_id>/actions")
@require(Permission.CHAIR_HRDA)
def add_action(meeting_id: uuid.UUID, case_id: uuid.UUID) -> ResponseReturnValue:
    return _case_form(meeting_id, case_id, ActionForm, "action", lambda item, form: meeting_records.add_action(
        item, text=form.text.data, agency=_agency(form.agency.data), person_name=form.person_name.data,
        due_on=form.due_on.data, by=current_user, today=today()), first_field="text", done="Action added")


# --- the agenda, its CSV and the meeting's figures -----------------------------------------------


def _agenda_rows(meeting: Meeting) -> list[dict[str, Any]]:
    names = agency_names()
    rows = []
    for item in meeting.cases:
        referral = item.referral
        previous = meetings.previous_case(item)
        rows.append({"item": item, "referral": referral, "repeat": hrda.is_repeat(referral),
                     "agency": names.get(referral.owner_agency_id, ""),
                     "criteria": ", ".join(c.label for c in referrals.criteria_of(referral)),
                     "previous": previous})
    return rows


@bp.get("/meetings/<uuid:meeting_id>/agenda")
@require(Permission.ATTEND_HRDA)
def agenda(meeting_id: uuid.UUID) -> ResponseReturnValue:
    meeting = _meeting(meeting_id)
    rows = _agenda_rows(meeting)
    audit.record_view(meeting, part="agenda")
    if request.args.get("format") == "csv":
        header = ["Order", "Victim", "Referred on", "Referring agency", "Criteria", "DASH score", "Repeat",
                  "Children in household", "Previous meeting actions"]
        shown = person_names.many_for_viewer(current_user, (r["referral"].person for r in rows))
        body = [[n, shown[r["referral"].person_id].text, r["referral"].referred_on.isoformat(), r["agency"],
                 r["criteria"], r["referral"].dash_score, "Yes" if r["repeat"] else "No",
                 {True: "Yes", False: "No"}.get(r["referral"].children_in_household, "Not known"),
                 "; ".join(f"{a.text} ({a.status.label})" for a in (r["previous"].actions if r["previous"] else []))]
                for n, r in enumerate(rows, start=1)]
        return csv_response([header, *body], filename=f"hrda-agenda-{meetings.local_time(meeting):%Y-%m-%d}.csv")
    return render_template("meetings/agenda.html", meeting=meeting, rows=rows, agencies=agency_names(),
                           local=meetings.local_time)


@bp.get("/meetings/<uuid:meeting_id>/figures")
@require(Permission.ATTEND_HRDA)
def figures(meeting_id: uuid.UUID) -> ResponseReturnValue:
    meeting = _meeting(meeting_id)
    summary = hrda.meeting_summary(meeting)
    audit.record_view(meeting, part="figures")
    if request.args.get("format") == "csv":
        return csv_response(hrda.summary_rows(summary),
                            filename=f"hrda-figures-{meetings.local_time(meeting):%Y-%m-%d}.csv")
    return render_template("meetings/figures.html", meeting=meeting, rows=hrda.summary_rows(summary),
                           local=meetings.local_time)


# --- actions ---------------------------------------------------------------------------------


@bp.get("/hrda-actions")
@require(Permission.ATTEND_HRDA)
def my_actions() -> ResponseReturnValue:
    actions = meeting_records.open_actions(current_user.agency_id)
    for action in actions:
        audit.record_view(action)
    return render_template("meetings/actions.html", actions=actions, today=today(), form_of=_progress_form,
                           chair_view=False, agencies=agency_names(), errors=[], attends=_attends())


def _attends() -> Callable[[Any], bool]:
    """Whether the user may open the meeting an action was agreed at (an agency given an action as
    the case's referrer, not invited, is shown the referral instead)."""
    return lambda action: policy.takes_part_in_meeting(current_user, meetings.meeting_of(action.meeting_case))


def _progress_form(action: MeetingAction, formdata: Any = None) -> ProgressForm:
    return ProgressForm(formdata=formdata, prefix=f"action-{action.id.hex}")


@bp.post("/hrda-actions/<uuid:action_id>")
@require(Permission.ATTEND_HRDA)
def update_action(action_id: uuid.UUID) -> ResponseReturnValue:
    action = lookups.record(MeetingAction, action_id)
    if action is None or not meeting_records.may_update_action(current_user, action):
        if action is not None:
            audit.record("access.refused", record=action, details={"reason": "not the action's agency"})
        abort(404)
    form = _progress_form(action, request.form)
    if form.validate():
        try:
            meeting_records.update_action(action, progress=form.progress.data, done=form.done.data, by=current_user)
        except meetings.MeetingError as e:
            form.progress.errors = [str(e)]
        else:
            flash("Action done" if form.done.data else "Progress saved")
            # Only a path on this site: a posted address elsewhere must not become a redirect.
            return redirect(safe_next(request.form.get("back")) or url_for("meetings.my_actions"))
    actions = meeting_records.open_actions(current_user.agency_id)
    return render_template("meetings/actions.html", actions=actions, today=today(), chair_view=False,
                           form_of=lambda a: form if a.id == action.id else _progress_form(a),
                           agencies=agency_names(), errors=form.error_list(), attends=_attends()), 400


@bp.app_template_global("overdue_hrda_actions")
def overdue_hrda_actions() -> list[MeetingAction]:
    """For the home page: the signed-in user's agency's overdue HRDA actions."""
    if not policy.can(current_user, Permission.ATTEND_HRDA):
        return []
    return meeting_records.overdue_actions(current_user.agency_id, today=today())
