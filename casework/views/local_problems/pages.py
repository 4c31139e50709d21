"""Local problem-solving (issue 18 §2): the locality groups' problems (everyone signed in reads
them), recording one, its actions, and closing it with an outcome; beside each, the incidents in its
place by month (a chart and its table)."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import RadioField, SelectField, StringField, TextAreaField

from ... import policy
from ...auth.guard import require, signed_in
from ...forms import Form, OnlyWhen, Required, choices
from ...measures.chart import column_chart, describe
from ...models import Category, LocalProblem, LocalProblemAction
from ...policy import Permission
from ...services import agencies as agency_service
from ...services import local_problems as problems
from ...services import localities, lookups
from ..shared.confirm import confirm_page, confirmed
from ..shared.fields import DateInputField, MultiCheckbox
from ..shared.record_pages import agency_names, today
from . import bp

# The incident categories a local problem usually concerns, offered first (any may be chosen).
CATEGORY_CHOICES = Category.choices()


class ProblemForm(Form):
    group_name = StringField("Locality group", validators=[Required("Enter the locality group")])
    title = StringField("The problem", validators=[Required("Enter the problem in a few words")])
    description = TextAreaField("What is happening", validators=[Required("Describe what is happening")])
    place_kind = RadioField("Where", choices=choices([("locality", "A locality"),
                                                      ("area", "A designated area")]),
                            validate_choice=False, validators=[Required("Select a locality or a designated area")])
    locality = SelectField("Locality", validate_choice=False,
                           validators=[OnlyWhen("place_kind", {"locality"}), Required("Select the locality")])
    area = SelectField("Designated area", validate_choice=False,
                       validators=[OnlyWhen("place_kind", {"area"}), Required("Select the designated area")])
    categories = MultiCheckbox("Incidents counted", validate_choice=False)
    started_on = DateInputField("When it started", required="Enter when the problem started", past_only=True)
    partners = MultiCheckbox("Partner agencies in the group", validate_choice=False)


class ActionForm(Form):
    text = TextAreaField("Action", validators=[Required("Enter the action")])
    owner = SelectField("Owner", validate_choice=False, validators=[Required("Select the agency that owns the action")])
    due_on = DateInputField("Due", required="Enter the date the action is due")


class CloseForm(Form):
    outcome = TextAreaField("Outcome", validators=[Required("Enter the outcome")])
    closed_on = DateInputField("Date closed", required="Enter the date the problem closed", past_only=True)


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value or "")
    except ValueError:
        return None


def _problem(problem_id: uuid.UUID) -> LocalProblem:
    problem = problems.get(problem_id)
    if problem is None:
        abort(404)
    return problem


@bp.get("")
@signed_in
def index() -> ResponseReturnValue:
    day = today()
    return render_template("local_problems/index.html", open_rows=problems.open_problems(today=day),
                           closed_rows=problems.closed_problems(today=day), today=day,
                           can_record=policy.can(current_user, Permission.RECORD_LOCAL_PROBLEMS))


def _problem_choices(form: ProblemForm) -> None:
    form.locality.choices = choices([("", "Choose a locality")] + [(n, n) for n in localities.names()])
    form.area.choices = choices([("", "Choose an area")] + [(str(a.id), a.name) for a in problems.areas()])
    form.categories.choices = choices(CATEGORY_CHOICES)
    form.partners.choices = choices([(str(a.id), a.name) for a in agency_service.offered()
                                     if a.id != current_user.agency_id])


@bp.route("/new", methods=["GET", "POST"])
@require(Permission.RECORD_LOCAL_PROBLEMS)
def new() -> ResponseReturnValue:
    form = ProblemForm() if request.method == "POST" else ProblemForm(formdata=None)
    _problem_choices(form)
    if request.method == "POST" and form.validate():
        wanted = {c.value for c in Category}
        try:
            problem = problems.record(
                group_name=form.group_name.data, title=form.title.data, description=form.description.data,
                locality=form.locality.data if form.place_kind.data == "locality" else None,
                area_id=_uuid(form.area.data) if form.place_kind.data == "area" else None,
                categories=[c for c in form.categories.data or [] if c in wanted], started_on=form.started_on.data,
                partner_ids=[i for i in map(_uuid, form.partners.data or []) if i is not None],
                by=current_user, today=today())
        except problems.ProblemError as e:
            field = {"place": "place_kind", "area": "area", "locality": "locality"}.get(e.field or "", e.field)
            getattr(form, field or "title").errors = [str(e)]
        else:
            flash("Local problem recorded")
            return redirect(url_for("local_problems.show", problem_id=problem.id))
    status = 400 if request.method == "POST" else 200
    return render_template("local_problems/new.html", form=form, errors=form.error_list(),
                           agency=agency_names().get(current_user.agency_id, "")), status


def _page(problem: LocalProblem, form: ActionForm, status: int = 200) -> ResponseReturnValue:
    day = today()
    months = problems.incidents_by_month(problem, today=day)
    place = problems.place_of(problem)
    what = f"incidents in {place}"
    marks = [(problem.started_on, "Started")] + ([(problem.closed_on, "Closed")] if problem.closed_on else [])
    chart = column_chart(months, chart_id="problem-chart", title=f"Incidents in {place} by month",
                         description=describe(months, what=what, fmt=lambda v: f"{v:,.0f}")
                         + f" A line marks {problem.started_on.strftime('%B %Y')}, when the problem started"
                         + (f", and {problem.closed_on.strftime('%B %Y')}, when it closed." if problem.closed_on
                            else "."),
                         fmt=lambda v: f"{v:,.0f}", marks=marks, whole=True)
    names = agency_names()
    form.owner.choices = choices([("", "Choose an agency")] + sorted(
        ((str(i), names.get(i, "")) for i in problem.partner_ids), key=lambda c: c[1]))
    categories = [Category(c).label for c in problem.category_values]
    return render_template("local_problems/show.html", problem=problem, place=place, months=months, chart=chart,
                           partners=problems.partner_rows(problem), agencies=names, categories=categories,
                           today=day, form=form, errors=form.error_list(),
                           can_change=problem.closed_on is None and policy.can_change_local_problem(current_user,
                                                                                                    problem)), status


@bp.get("/<uuid:problem_id>")
@signed_in
def show(problem_id: uuid.UUID) -> ResponseReturnValue:
    return _page(_problem(problem_id), ActionForm(formdata=None))


def _may_change(problem: LocalProblem) -> None:
    if not policy.can_change_local_problem(current_user, problem):
        abort(403)


@bp.post("/<uuid:problem_id>/actions")
@require(Permission.RECORD_LOCAL_PROBLEMS)
def add_action(problem_id: uuid.UUID) -> ResponseReturnValue:
    problem = _problem(problem_id)
    _may_change(problem)
    form = ActionForm()
    form.owner.choices = []
    if form.validate():
        try:
            problems.add_action(problem, text=form.text.data, owner_agency_id=_uuid(form.owner.data),
                                due_on=form.due_on.data, by=current_user)
        except problems.ProblemError as e:
            getattr(form, e.field or "text").errors = [str(e)]
        else:
            flash("Action added")
            return redirect(url_for("local_problems.show", problem_id=problem.id, _anchor="actions"))
    return _page(problem, form, 400)


@bp.post("/<uuid:problem_id>/actions/<uuid:problem_action_id>/done")
@require(Permission.RECORD_LOCAL_PROBLEMS)
def action_done(problem_id: uuid.UUID, problem_action_id: uuid.UUID) -> ResponseReturnValue:
    problem = _problem(problem_id)
    action = lookups.record(LocalProblemAction, problem_action_id)
    if action is None or action.problem_id != problem.id:
        abort(404)
    _may_change(problem)
    try:
        problems.complete_action(action, by=current_user, today=today())
    except problems.ProblemError as e:
        flash(str(e))
    else:
        flash("Action marked done")
    return redirect(url_for("local_problems.show", problem_id=problem.id, _anchor="actions"))


@bp.route("/<uuid:problem_id>/close", methods=["GET", "POST"])
@require(Permission.RECORD_LOCAL_PROBLEMS)
def close(problem_id: uuid.UUID) -> ResponseReturnValue:
    problem = _problem(problem_id)
    _may_change(problem)
    form = CloseForm() if request.method == "POST" else CloseForm(formdata=None, data={"closed_on": today()})
    status = 200
    if confirmed():
        if form.validate():
            try:
                problems.close(problem, outcome=form.outcome.data, closed_on=form.closed_on.data, by=current_user,
                               today=today())
            except problems.ProblemError as e:
                getattr(form, e.field or "outcome").errors = [str(e)]
            else:
                flash("Local problem closed")
                return redirect(url_for("local_problems.show", problem_id=problem.id))
        status = 400
    return confirm_page(
        heading="Close the local problem", caption=problem.title,
        effects=["The problem leaves the open list and the board pack; its actions, chart and outcome are kept.",
                 "A closed problem cannot be changed."],
        action=url_for("local_problems.close", problem_id=problem.id), button="Close the problem",
        back=url_for("local_problems.show", problem_id=problem.id), form=form,
        fields="local_problems/_close_fields.html", status=status)

