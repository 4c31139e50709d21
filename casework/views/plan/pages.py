"""The Community Safety Plan (issue 18 §1): the plan with each activity's latest progress (everyone
signed in reads it), an activity's history with the form to add an update (users of its lead and
partner agencies), and for administrators and board officers: adding and changing activities and
refreshing the plan for a new year."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import RadioField, SelectField, TextAreaField

from ... import policy
from ...auth import navigation
from ...auth.guard import require, signed_in
from ...forms import Form, OnlyWhen, Required, choices
from ...measures.definitions import BY_ID as MEASURES
from ...models import ActivityStatus, Plan, PlanActivity, PlanPriority
from ...policy import Permission
from ...services import agencies as agency_service
from ...services import lookups
from ...services import plan as plans
from ..shared.confirm import confirm_page, confirmed
from ..shared.fields import DateInputField, MultiCheckbox
from ..shared.record_pages import agency_names, today
from . import bp

navigation.add("Plan", "plan.index", None, order=65)

FILTERS = {"attention": "At risk or off track", "stale": "No update for 90 days"}


class UpdateForm(Form):
    status = RadioField("Status", choices=choices(ActivityStatus.choices()), validate_choice=False,
                        validators=[Required("Select the activity's status")])
    narrative = TextAreaField("What has been done, and what happens next",
                              validators=[Required("Enter what has been done and what happens next")])
    updated_on = DateInputField("Date of the update", required="Enter the date of the update")

    def validate_status(self, field: Any) -> None:
        if field.data not in {s.value for s in ActivityStatus}:
            field.data = None
            raise ValueError("Select the activity's status")


class ActivityForm(Form):
    title = TextAreaField("Activity", validators=[Required("Enter the activity")])
    lead = SelectField("Lead agency", validate_choice=False, validators=[Required("Select the lead agency")])
    partners = MultiCheckbox("Partner agencies", validate_choice=False)
    timing = RadioField("Due", choices=choices([("date", "By a date"), ("ongoing", "Ongoing")]),
                        validate_choice=False, validators=[Required("Select whether the activity is due by a date "
                                                                    "or ongoing")])
    due_on = DateInputField("Due date", validators=[OnlyWhen("timing", {"date"})],
                            required="Enter the date the activity is due")


def _agency_choices(form: ActivityForm) -> None:
    offered = [(str(a.id), a.name) for a in agency_service.offered()]
    form.lead.choices = choices([("", "Choose an agency")] + offered)
    form.partners.choices = choices(offered)


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value or "")
    except ValueError:
        return None


def _plan_page(plan: Plan | None) -> ResponseReturnValue:
    shown = request.args.get("show")
    if shown not in FILTERS:
        shown = None
    summary = plans.delivery_summary(plan, as_of=today()) if plan is not None else []
    if shown == "attention":
        summary = [plans.PriorityDelivery(p.priority, [r for r in p.rows if r.attention], p.counts) for p in summary]
    elif shown == "stale":
        summary = [plans.PriorityDelivery(p.priority, [r for r in p.rows if r.stale], p.counts) for p in summary]
    return render_template("plan/index.html", plan=plan, summary=summary, shown=shown, filters=FILTERS,
                           measures=MEASURES, versions=plans.plans(),
                           current=plan is not None and plans.is_current(plan),
                           can_edit=policy.can(current_user, Permission.EDIT_PLAN))


@bp.get("")
@signed_in
def index() -> ResponseReturnValue:
    return _plan_page(plans.current())


@bp.get("/<uuid:plan_id>")
@signed_in
def year(plan_id: uuid.UUID) -> ResponseReturnValue:
    plan = plans.get_plan(plan_id)
    if plan is None:
        abort(404)
    return _plan_page(plan)


def _activity(activity_id: uuid.UUID) -> PlanActivity:
    activity = plans.get_activity(activity_id)
    if activity is None:
        abort(404)
    return activity


def _activity_page(activity: PlanActivity, form: UpdateForm, status: int = 200) -> ResponseReturnValue:
    plan = plans.plan_of(activity)
    row = plans.rows_for([activity], as_of=today())[0]
    current = plans.is_current(plan)
    return render_template("plan/activity.html", activity=activity, plan=plan, row=row, form=form,
                           history=plans.history(activity), agencies=agency_names(), current=current,
                           can_update=current and policy.can_update_activity(current_user, activity),
                           can_edit=current and policy.can(current_user, Permission.EDIT_PLAN),
                           errors=form.error_list()), status


@bp.get("/activities/<uuid:activity_id>")
@signed_in
def activity(activity_id: uuid.UUID) -> ResponseReturnValue:
    form = UpdateForm(formdata=None, data={"updated_on": today()})
    return _activity_page(_activity(activity_id), form)


@bp.post("/activities/<uuid:activity_id>")
@signed_in
def add_update(activity_id: uuid.UUID) -> ResponseReturnValue:
    item = _activity(activity_id)
    if not policy.can_update_activity(current_user, item):
        abort(403)
    form = UpdateForm()
    if form.validate():
        try:
            plans.add_update(item, status=ActivityStatus(form.status.data), narrative=form.narrative.data,
                             updated_on=form.updated_on.data, by=current_user, today=today())
        except plans.PlanError as e:
            getattr(form, e.field or "status").errors = [str(e)]
        else:
            flash("Update added")
            return redirect(url_for("plan.activity", activity_id=item.id))
    return _activity_page(item, form, 400)


def _activity_form_page(form: ActivityForm, priority: PlanPriority, activity: PlanActivity | None,
                        status: int = 200) -> ResponseReturnValue:
    return render_template("plan/activity_form.html", form=form, priority=priority, activity=activity,
                           errors=form.error_list()), status


def _save(form: ActivityForm, priority: PlanPriority, activity: PlanActivity | None) -> ResponseReturnValue:
    if form.validate():
        values = {"title": form.title.data, "lead_agency_id": _uuid(form.lead.data),
                  "partner_ids": [i for i in map(_uuid, form.partners.data or []) if i is not None],
                  "due_on": form.due_on.data if form.timing.data == "date" else None, "by": current_user}
        try:
            if activity is None:
                activity = plans.add_activity(priority, **values)
                flash("Activity added")
            else:
                plans.change_activity(activity, **values)
                flash("Activity changed")
        except plans.PlanError as e:
            getattr(form, e.field or "title").errors = [str(e)]
        else:
            return redirect(url_for("plan.activity", activity_id=activity.id))
    return _activity_form_page(form, priority, activity, 400)


@bp.route("/priorities/<uuid:priority_id>/activities/new", methods=["GET", "POST"])
@require(Permission.EDIT_PLAN)
def new_activity(priority_id: uuid.UUID) -> ResponseReturnValue:
    priority = lookups.record(PlanPriority, priority_id)
    if priority is None:
        abort(404)
    form = ActivityForm() if request.method == "POST" else ActivityForm(formdata=None)
    _agency_choices(form)
    if request.method == "POST":
        return _save(form, priority, None)
    return _activity_form_page(form, priority, None)


@bp.route("/activities/<uuid:activity_id>/edit", methods=["GET", "POST"])
@require(Permission.EDIT_PLAN)
def edit_activity(activity_id: uuid.UUID) -> ResponseReturnValue:
    item = _activity(activity_id)
    if request.method == "POST":
        form = ActivityForm()
    else:
        form = ActivityForm(formdata=None, data={
            "title": item.title, "lead": str(item.lead_agency_id), "partners": [str(i) for i in item.partner_ids],
            "timing": "date" if item.due_on else "ongoing", "due_on": item.due_on})
    _agency_choices(form)
    if request.method == "POST":
        return _save(form, item.priority, item)
    return _activity_form_page(form, item.priority, item)


@bp.route("/<uuid:plan_id>/refresh", methods=["GET", "POST"])
@require(Permission.EDIT_PLAN)
def refresh(plan_id: uuid.UUID) -> ResponseReturnValue:
    plan = plans.get_plan(plan_id)
    if plan is None:
        abort(404)
    next_year = f"{plan.year + 1}/{(plan.year + 2) % 100:02d}"
    if confirmed():
        try:
            new = plans.refresh(plan, by=current_user, today=today())
        except plans.PlanError as e:
            flash(str(e))
            return redirect(url_for("plan.year", plan_id=plan.id))
        flash(f"The plan for {new.year_name} is ready: the {plan.year_name} plan and its updates are kept")
        return redirect(url_for("plan.index"))
    return confirm_page(
        heading=f"Refresh the plan for {next_year}", caption=f"{plan.title} {plan.period}",
        effects=[(f"The {plan.year_name} plan is copied to make the {next_year} plan: its priorities, its "
                 "cross-cutting issues and the activities not yet complete."),
                 (f"The {plan.year_name} plan is kept as it is, with its updates; each copied activity's history "
                 "shows them."), "Updates are then written on the new plan's activities."],
        action=url_for("plan.refresh", plan_id=plan.id), button=f"Refresh the plan for {next_year}",
        back=url_for("plan.year", plan_id=plan.id))


@bp.app_template_global("home_shows_partnership")
def home_shows_partnership() -> bool:
    """Whether the home page shows the way to the plan: to managers, board officers and administrators."""
    return current_user.is_authenticated and (
        policy.can(current_user, Permission.OVERSEE_AGENCY) or policy.can(current_user, Permission.EDIT_PLAN))


@bp.app_template_global("home_stale_activities")
def home_stale_activities() -> list[plans.ActivityRow]:
    """For `templates/plan/_home.html`: the activities the user's agency leads with no update for
    90 days, shown to its managers and board officers."""
    if not home_shows_partnership():
        return []
    return plans.stale_for_agency(current_user.agency_id, today=today())
