"""Cases: the list, opening one for a person, the case page (people, incidents, timeline, tasks),
editing, moving it through open, active and closed."""

from __future__ import annotations

import uuid
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired

from ... import policy
from ...auth import navigation
from ...auth.guard import require, visible_or_404
from ...forms import Form, choices
from ...models import (
    Case,
    CaseKind,
    CaseStatus,
    PartyRole,
    Person,
    User,
)
from ...policy import Permission
from ...services import assessments, audit, cases, lookups, record_lists, referrals, versioning
from ..shared import list_filters
from ..shared.confirm import confirmed
from ..shared.fields import DateInputField
from ..shared.person_page import add_section
from ..shared.person_search import SearchForm
from ..shared.record_pages import (
    agency_names,
    form_version,
    page_number,
    stale_page,
    today,
    user_names,
)
from . import bp

navigation.add("Cases", "cases.index", Permission.VIEW_RECORDS, order=20)

ROLE_CHOICES = [("", "Not given")] + PartyRole.choices()


# --- forms ---------------------------------------------------------------------------------


class CaseForm(Form):
    kind = RadioField("What kind of case is it?", choices=choices(CaseKind.choices()),
                      validators=[InputRequired("Select the kind of case")])
    role = SelectField("Their role", choices=choices(ROLE_CHOICES), validate_choice=False)
    summary = TextAreaField("Summary")
    review_on = DateInputField("Review date")
    caseworker = SelectField("Caseworker", validate_choice=False)  # the service checks it
    version = HiddenField()


class CloseForm(Form):
    outcome = TextAreaField("Outcome", validators=[InputRequired("Enter the outcome of the case")])
    version = HiddenField()


class StatusForm(Form):
    to = HiddenField(validators=[InputRequired("Choose the new status")])
    version = HiddenField()


class LinkPersonForm(Form):
    # Choices are offered on the page; the service checks the person is one the user may see.
    person = SelectField("Person", validate_choice=False)
    role = SelectField("Role", choices=choices(ROLE_CHOICES), validate_choice=False)


class LinkIncidentForm(Form):
    incident = SelectField("Incident", validate_choice=False)


class LinkIncidentByReferenceForm(Form):
    incident_reference = StringField("Your agency's reference for the incident")


class NoteForm(Form):
    text = TextAreaField("Add a note", validators=[InputRequired("Enter the note")])


class TaskForm(Form):
    title = TextAreaField("What needs doing", validators=[InputRequired("Enter what needs doing")])
    due_on = DateInputField("Due date", required="Enter the date the task is due")
    owner = SelectField("Who will do it", validate_choice=False)


class TaskDoneForm(Form):
    task = HiddenField(validators=[InputRequired("Select a task")])


def _caseworker_choices(agency_id: uuid.UUID) -> list[Any]:
    return choices([("", "Not assigned")] + [(str(u.id), u.name) for u in cases.caseworkers_of(agency_id)])


def _role(value: str | None) -> PartyRole | None:
    return PartyRole(value) if value and value in {r.value for r in PartyRole} else None


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _editable(case_id: uuid.UUID) -> Case:
    case: Case = visible_or_404(Case, case_id)
    if not policy.can_edit(current_user, case):
        abort(403)
    return case


# --- list ----------------------------------------------------------------------------------

@bp.get("/cases")
@require(Permission.VIEW_RECORDS)
def index() -> ResponseReturnValue:
    """The cases the user may see, with their people, filtered by the form's values (kept in the address)."""
    form, filters = list_filters.case_filters()
    listing, status = None, 200
    if filters is not None:
        try:
            listing = record_lists.find_cases(viewer=current_user, filters=filters, today=today(),
                                              sort=request.args.get("sort", "-opened"), page=page_number(),
                                              size=current_app.config["PAGE_SIZE"])
        except record_lists.FilterError as e:
            getattr(form, e.field).errors = [str(e)]
    if listing is None:
        status = 400
    workers = user_names({row.case.caseworker_id for row in listing.rows}) if listing else {}
    return render_template("cases/index.html", form=form, errors=form.error_list(), listing=listing,
                           workers=workers, agencies=agency_names(), today=today()), status


# --- open ----------------------------------------------------------------------------------


@bp.route("/people/<uuid:person_id>/cases/new", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def new(person_id: uuid.UUID) -> ResponseReturnValue:
    person = visible_or_404(Person, person_id)
    form = CaseForm()
    form.caseworker.choices = _caseworker_choices(current_user.agency_id)
    if request.method == "GET":
        form.caseworker.data = str(current_user.id)
        return render_template("cases/new.html", form=form, person=person, errors=[])
    if form.validate():
        try:
            case = cases.open_case(kind=CaseKind(form.kind.data), by=current_user, person=person,
                                   role=_role(form.role.data),
                                   summary=form.summary.data, review_on=form.review_on.data,
                                   caseworker_id=_uuid(form.caseworker.data), today=today())
        except cases.CaseError as e:
            getattr(form, e.field or "kind").errors = [str(e)]
        else:
            flash(f"{case.kind.label} case opened")
            return redirect(url_for("cases.show", case_id=case.id))
    return render_template("cases/new.html", form=form, person=person, errors=form.error_list()), 400


# --- the case page -------------------------------------------------------------------------


def _case_page(case: Case, *, status: int = 200, **forms: Any) -> ResponseReturnValue:
    viewer = current_user
    can_edit = policy.can_edit(viewer, case)
    link_person = forms.get("link_person") or LinkPersonForm(formdata=None)
    link_person.person.choices = choices([("", "Select a person")] + [
        (str(p.id), p.display_name + (f" (born {p.date_of_birth:%-d %B %Y})" if p.date_of_birth else ""))
        for p in cases.candidate_people(case, viewer=viewer)])
    link_incident = forms.get("link_incident") or LinkIncidentForm(formdata=None)
    by_reference = forms.get("by_reference") or LinkIncidentByReferenceForm(formdata=None)
    link_incident.incident.choices = choices([("", "Select an incident")] + [
        (str(i.id), f"{i.occurred_on:%-d %B %Y}: {i.category.label}{' (domestic abuse)' if i.domestic_abuse else ''}")
        for i in cases.candidate_incidents(case, viewer=viewer)])
    task = forms.get("task") or TaskForm(formdata=None)
    task.owner.choices = choices([("", "Select a person")] + [
        (str(u.id), u.name) for u in cases.staff_of(viewer.agency_id)])
    if not forms.get("task"):
        task.owner.data = str(viewer.id)
    note = forms.get("note") or NoteForm(formdata=None)
    errors = [item for f in forms.values() for item in f.error_list()]
    people = cases.linked_people(case, viewer=viewer)
    case_referrals = referrals.of_case(case, viewer=viewer)
    names = user_names({case.caseworker_id, *(n.author_id for n in case.notes), *(t.owner_id for t in case.tasks)})
    return render_template(
        "cases/show.html", case=case, people=people, incidents=cases.linked_incidents(case, viewer=viewer),
        notes=case.notes, tasks=case.tasks, names=names, agencies=agency_names(), can_edit=can_edit,
        link_person=link_person, link_incident=link_incident, by_reference=by_reference,
        search_form=SearchForm(formdata=None), task_form=task, note_form=note, errors=errors,
        transitions=cases.TRANSITIONS[case.status], statuses=CaseStatus, referrals=case_referrals,
        assessments=assessments.of_case(case, viewer=viewer), today=today(),
        victims=assessments.victims_among(p.id for _, p in people if p is not None),
        referral_outcomes=referrals.summaries(case_referrals, today=today())), status


@bp.get("/cases/<uuid:case_id>")
@require(Permission.VIEW_RECORDS)
def show(case_id: uuid.UUID) -> ResponseReturnValue:
    case: Case = visible_or_404(Case, case_id)
    audit.record_view(case)
    return _case_page(case)


CASE_LABELS = {"kind": "Kind", "summary": "Summary", "review_on": "Review date", "caseworker_id": "Caseworker",
               "status": "Status", "outcome": "Outcome"}


def _stale(error: versioning.StaleEdit, case: Case) -> ResponseReturnValue:
    worker = lookups.record(User, case.caseworker_id) if case.caseworker_id else None
    return stale_page(error, kind="case", labels=CASE_LABELS, back=url_for("cases.show", case_id=case.id),
                      shown={"caseworker_id": worker.name if worker else ""})


@bp.route("/cases/<uuid:case_id>/edit", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def edit(case_id: uuid.UUID) -> ResponseReturnValue:
    case = _editable(case_id)
    if request.method == "GET":
        form = CaseForm(data={"kind": case.kind.value, "summary": case.summary, "review_on": case.review_on,
                              "caseworker": str(case.caseworker_id or ""), "version": case.version})
        form.caseworker.choices = _caseworker_choices(case.owner_agency_id)
        return render_template("cases/edit.html", form=form, case=case, errors=[])
    form = CaseForm()
    form.caseworker.choices = _caseworker_choices(case.owner_agency_id)
    if form.validate():
        try:
            cases.update_case(case, version=form_version(form), kind=CaseKind(form.kind.data),
                              summary=form.summary.data, review_on=form.review_on.data,
                              caseworker_id=_uuid(form.caseworker.data), by=current_user)
        except versioning.StaleEdit as e:
            return _stale(e, case)
        except cases.CaseError as e:
            getattr(form, e.field or "kind").errors = [str(e)]
        else:
            flash("Case saved")
            return redirect(url_for("cases.show", case_id=case.id))
    return render_template("cases/edit.html", form=form, case=case, errors=form.error_list()), 400


@bp.post("/cases/<uuid:case_id>/status")
@require(Permission.EDIT_RECORDS)
def status(case_id: uuid.UUID) -> ResponseReturnValue:
    case = _editable(case_id)
    form = StatusForm()
    if not form.validate() or form.to.data not in {s.value for s in CaseStatus}:
        abort(400)
    to = CaseStatus(form.to.data)
    if to is CaseStatus.CLOSED:
        return redirect(url_for("cases.close", case_id=case.id))
    try:
        cases.change_status(case, to=to, version=form_version(form), by=current_user)
    except versioning.StaleEdit as e:
        return _stale(e, case)
    except cases.CaseError as e:
        flash(str(e))
        return redirect(url_for("cases.show", case_id=case.id))
    flash(f"The case is now {to.label.lower()}")
    return redirect(url_for("cases.show", case_id=case.id))


@bp.route("/cases/<uuid:case_id>/close", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def close(case_id: uuid.UUID) -> ResponseReturnValue:
    case = _editable(case_id)
    if not confirmed():  # the page itself is the confirmation step: only its button closes the case
        form = CloseForm(data={"version": case.version}) if request.method == "GET" else CloseForm()
        return render_template("cases/close.html", form=form, case=case, errors=[], effects=_closing_effects(case))
    form = CloseForm()
    if form.validate():
        try:
            cases.change_status(case, to=CaseStatus.CLOSED, version=form_version(form), by=current_user,
                                outcome=form.outcome.data)
        except versioning.StaleEdit as e:
            return _stale(e, case)
        except cases.CaseError as e:
            form.outcome.errors = [str(e)]
        else:
            flash("Case closed")
            return redirect(url_for("cases.show", case_id=case.id))
    return render_template("cases/close.html", form=form, case=case, errors=form.error_list(),
                           effects=_closing_effects(case)), 400


def _closing_effects(case: Case) -> list[str]:
    """What closing the case does, for its confirmation page."""
    worker = lookups.record(User, case.caseworker_id) if case.caseworker_id else None
    years = ((current_app.config.get("RETENTION") or {}).get("case") or {}).get("closed_inactive_years")
    whose = f"{worker.name}'s" if worker else "its caseworker's"
    effects = ["The case will be closed with the outcome you give. It can be reopened later.",
               f"It leaves {whose} list of open cases and its review date is no longer chased."]
    if years:
        effects.append(f"Once closed and unchanged for {years} years, its records are erased.")
    return effects


@bp.post("/cases/<uuid:case_id>/notes")
@require(Permission.EDIT_RECORDS)
def add_note(case_id: uuid.UUID) -> ResponseReturnValue:
    case = _editable(case_id)
    form = NoteForm()
    if form.validate():
        try:
            cases.add_note(case, text=form.text.data, by=current_user)
        except cases.CaseError as e:
            form.text.errors = [str(e)]
        else:
            flash("Note added")
            return redirect(url_for("cases.show", case_id=case.id, _anchor="timeline"))
    return _case_page(case, status=400, note=form)


@bp.post("/cases/<uuid:case_id>/tasks")
@require(Permission.EDIT_RECORDS)
def add_task(case_id: uuid.UUID) -> ResponseReturnValue:
    case = _editable(case_id)
    form = TaskForm()
    if form.validate():
        try:
            cases.add_task(case, title=form.title.data, due_on=form.due_on.data, owner_id=_uuid(form.owner.data),
                           by=current_user)
        except cases.CaseError as e:
            getattr(form, e.field or "title").errors = [str(e)]
        else:
            flash("Task added")
            return redirect(url_for("cases.show", case_id=case.id, _anchor="tasks"))
    return _case_page(case, status=400, task=form)


@bp.post("/cases/<uuid:case_id>/tasks/done")
@require(Permission.EDIT_RECORDS)
def task_done(case_id: uuid.UUID) -> ResponseReturnValue:
    case = _editable(case_id)
    form = TaskDoneForm()
    try:
        task = cases.complete_task(case, task_id=_uuid(form.task.data), by=current_user)
    except cases.CaseError as e:
        flash(str(e))
        return _case_page(case, status=400)
    flash(f"Task done: {task.title}")
    return redirect(url_for("cases.show", case_id=case.id, _anchor="tasks"))


# --- on a person's page ----------------------------------------------------------------------


def _person_cases(person: Person, viewer: Any) -> dict[str, Any]:
    found = cases.cases_of_person(person, viewer=viewer)
    return {"cases": found, "workers": user_names({c.caseworker_id for c in found}),
            "can_open": policy.can_edit(viewer, person), "today": today()}


add_section("cases/_person_section.html", _person_cases, order=10)

