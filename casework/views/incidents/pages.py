"""Incidents: the list, record, edit, the incident's page, and adding the people involved.

Adding a person works without JavaScript: the incident's page links to a search;
a person found is chosen with a role, or a new person is recorded (the person
form returns to the incident afterwards).
"""

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
from wtforms import BooleanField, HiddenField, RadioField, SelectField

from ... import policy
from ...auth import navigation
from ...auth.guard import require, visible_or_404
from ...forms import Form, OnlyWhen, choices
from ...models import AsbType, Category, CjStatus, Incident, PartyRole, Person
from ...policy import Permission
from ...services import audit, incidents, localities, lookups, record_lists, versioning
from ..shared import list_filters
from ..shared.confirm import confirm_page, confirmed
from ..shared.fields import DateInputField, MultiCheckbox
from ..shared.person_search import run_search
from ..shared.record_pages import agency_names, page_number, stale_record_page
from . import bp

navigation.add("Incidents", "incidents.index", Permission.VIEW_RECORDS, order=20)

FACTORS = [("alcohol", "Alcohol"), ("drugs", "Drugs"), ("mental_health", "Mental health")]


class IncidentForm(Form):
    occurred_on = DateInputField("Date of the incident", required="Enter the date of the incident", past_only=True)
    reported_on = DateInputField("Date reported (if later)", past_only=True)
    category = RadioField("Category", choices=choices(Category.choices()), validate_choice=False)
    domestic_abuse = BooleanField("Domestic abuse")
    # Asked under "Anti-social behaviour" only (a conditional reveal): for any other category what
    # was posted is ignored, as the page hid it; the service requires it for ASB.
    asb_type = RadioField("Type of anti-social behaviour", choices=choices(AsbType.choices()),
                          validate_choice=False, validators=[OnlyWhen("category", {Category.ASB.value})])
    locality = SelectField("Locality", default="", validate_choice=False)  # the service says what is wrong
    area = SelectField("Designated area", default="", validate_choice=False)  # the service checks it
    rural = BooleanField("Rural")
    factors = MultiCheckbox("Factors", choices=choices(FACTORS))
    version = HiddenField()

    def check(self, *, locality_was: str | None = None) -> bool:
        """The form's own checks and the service's, every problem on its field at once."""
        valid = self.validate()
        try:
            self.details().cleaned(locality_was=locality_was)
        except incidents.IncidentError as e:
            for name, message in e.problems:
                field = _field(self, name)
                if not field.errors:
                    field.errors = [message]
            valid = False
        return valid

    def details(self) -> incidents.IncidentDetails:
        factors = set(self.factors.data or [])
        return incidents.IncidentDetails(
            occurred_on=self.occurred_on.data, category=_choice(Category, self.category.data),
            domestic_abuse=bool(self.domestic_abuse.data), locality=self.locality.data,
            area_id=_area_id(self.area.data), rural=bool(self.rural.data),
            alcohol="alcohol" in factors, drugs="drugs" in factors, mental_health="mental_health" in factors,
            asb_type=_choice(AsbType, self.asb_type.data),
            reported_on=self.reported_on.data)

    @classmethod
    def of(cls, incident: Incident) -> IncidentForm:
        return cls(data={
            "occurred_on": incident.occurred_on, "reported_on": incident.reported_on,
            "category": incident.category.value,
            "domestic_abuse": incident.domestic_abuse, "locality": incident.locality or "",
            "area": str(incident.area_id) if incident.area_id else "", "rural": incident.rural,
            "factors": [name for name, _ in FACTORS if getattr(incident, name)],
            "asb_type": incident.asb_type.value if incident.asb_type else "", "version": incident.version})


def _choice(kind: Any, value: str | None) -> Any:
    """The answer as its vocabulary's value; none (or one not offered) is no answer, which the service
    then asks for."""
    try:
        return kind(value) if value else None
    except ValueError:
        return None


def _area_id(value: str | None) -> uuid.UUID | None:
    """The chosen area's id; one that is no id at all is the nil id, which no area has (the service
    then says to choose from the list)."""
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return uuid.UUID(int=0)


class PartyForm(Form):
    role = RadioField("Role", choices=choices(PartyRole.choices()))
    cj_status = SelectField("Criminal-justice status", choices=choices([("", "None")] + CjStatus.choices()),
                            default="")


class RemoveForm(Form):
    pass


def _area_choices(form: IncidentForm, incident: Incident | None = None) -> None:
    """The designated areas and the partnership's localities; an incident's locality from before the
    list (not in it) is offered too, so that saving the incident unchanged keeps it."""
    areas = lookups.areas()
    form.area.choices = choices([("", "None")] + [(str(a.id), a.name) for a in areas])
    places = [(name, name) for name in localities.names()]
    if incident is not None and incident.locality and incident.locality not in dict(places):
        places.insert(0, (incident.locality, f"{incident.locality} (not in the list: choose a locality)"))
    form.locality.choices = choices([("", "Not recorded")] + places)


def _editable(incident_id: uuid.UUID) -> Incident:
    incident: Incident = visible_or_404(Incident, incident_id)
    if not policy.can_edit(current_user, incident):
        abort(404)
    return incident


@bp.get("")
@require(Permission.VIEW_RECORDS)
def index() -> ResponseReturnValue:
    """The incidents the user may see, filtered by the form's values (kept in the address), sorted
    and paginated on the server."""
    form, filters = list_filters.incident_filters()
    listing = None
    if filters is not None:
        try:
            listing = record_lists.find_incidents(viewer=current_user, filters=filters,
                                                  sort=request.args.get("sort", "-date"), page=page_number(),
                                                  size=current_app.config["PAGE_SIZE"])
        except record_lists.FilterError as e:
            getattr(form, e.field).errors = [str(e)]
    return render_template("incidents/index.html", form=form, errors=form.error_list(), listing=listing,
                           agencies=agency_names(),
                           can_create=policy.can(current_user, Permission.EDIT_RECORDS)), 200 if listing else 400


def _form_page(template: str, form: IncidentForm, status: int, **context: Any) -> ResponseReturnValue:
    return render_template(template, form=form, errors=form.error_list(), **context), status


@bp.route("/new", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def new() -> ResponseReturnValue:
    form = IncidentForm()
    _area_choices(form)
    if request.method == "POST" and form.check():
        try:
            incident = incidents.record(details=form.details(), by=current_user)
        except incidents.IncidentError as e:
            _field(form, e.field).errors = [str(e)]
        else:
            flash("Incident recorded: now add the people involved")
            return redirect(url_for("incidents.show", incident_id=incident.id))
    return _form_page("incidents/new.html", form, 400 if request.method == "POST" else 200)


def _field(form: Form, name: str | None) -> Any:
    return getattr(form, {"area_id": "area"}.get(name or "", name or "occurred_on"))


@bp.get("/<uuid:incident_id>")
@require(Permission.VIEW_RECORDS)
def show(incident_id: uuid.UUID) -> ResponseReturnValue:
    incident: Incident = visible_or_404(Incident, incident_id)
    audit.record_view(incident)
    views = incidents.parties_of(incident=incident, viewer=current_user)
    return render_template("incidents/show.html", incident=incident, parties=views,
                           summary=incidents.repeat_summary(views), agencies=agency_names(),
                           can_edit=policy.can_edit(current_user, incident), remove_form=RemoveForm())


@bp.route("/<uuid:incident_id>/edit", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def edit(incident_id: uuid.UUID) -> ResponseReturnValue:
    incident = _editable(incident_id)
    if request.method == "GET":
        form = IncidentForm.of(incident)
        _area_choices(form, incident)
        return _form_page("incidents/edit.html", form, 200, incident=incident)
    form = IncidentForm()
    _area_choices(form, incident)
    if form.check(locality_was=incident.locality):
        version = int(form.version.data) if (form.version.data or "").isdigit() else None
        try:
            changed = incidents.update(incident=incident, details=form.details(), version=version, by=current_user)
        except incidents.IncidentError as e:
            _field(form, e.field).errors = [str(e)]
        except versioning.StaleEdit as e:
            return stale_record_page(e, kind="incident"), 409
        else:
            flash("Incident saved" if changed else "Nothing was changed")
            return redirect(url_for("incidents.show", incident_id=incident.id))
    return _form_page("incidents/edit.html", form, 400, incident=incident)


# --- the people involved ------------------------------------------------------------


@bp.get("/<uuid:incident_id>/people")
@require(Permission.EDIT_RECORDS)
def find_person(incident_id: uuid.UUID) -> ResponseReturnValue:
    """Find the person to add (or record a new one)."""
    incident = _editable(incident_id)
    found = run_search()
    return render_template("incidents/find_person.html", incident=incident, form=found.form, results=found.results,
                           errors=found.errors, role=request.args.get("role") or ""), found.status


@bp.route("/<uuid:incident_id>/people/<uuid:person_id>", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def add_person(incident_id: uuid.UUID, person_id: uuid.UUID) -> ResponseReturnValue:
    """Choose the person's role and criminal-justice status, and add them."""
    incident = _editable(incident_id)
    person = visible_or_404(Person, person_id)
    form = PartyForm()
    if request.method == "GET" and request.args.get("role") in {r.value for r in PartyRole}:
        form.role.data = request.args["role"]
    if request.method == "POST":
        if not form.role.data:
            form.role.errors = ["Select the person's role"]
        elif form.validate():
            try:
                incidents.add_party(incident=incident, person=person, role=PartyRole(form.role.data),
                                    cj_status=CjStatus(form.cj_status.data) if form.cj_status.data else None,
                                    by=current_user)
            except incidents.IncidentError as e:
                (form.role if e.field != "cj_status" else form.cj_status).errors = [str(e)]
            else:
                flash(f"{person.display_name} added as {PartyRole(form.role.data).label.lower()}")
                return redirect(url_for("incidents.show", incident_id=incident.id))
    errors = form.error_list()
    status = 400 if request.method == "POST" else 200
    return render_template("incidents/add_person.html", incident=incident, person=person, form=form,
                           errors=errors), status


@bp.route("/<uuid:incident_id>/parties/<uuid:party_id>/remove", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def remove_person(incident_id: uuid.UUID, party_id: uuid.UUID) -> ResponseReturnValue:
    """Remove a person from the incident, after a page saying whose repeat marks change."""
    incident = _editable(incident_id)
    party = lookups.party_of(incident, party_id)
    if party is None:
        abort(404)
    if not confirmed():
        person = lookups.person(party.person_id)
        name = person.display_name if person is not None and policy.can_view(current_user, person) \
            else "This person"
        role = party.role.label.lower()
        return confirm_page(
            heading=f"Remove {name if name != 'This person' else 'this person'} from the incident?",
            caption=f"Incident of {incident.occurred_on:%-d %B %Y}",
            effects=[f"{name} will no longer be a {role} in this incident.",
                     (f"{name}'s repeat-{role} flag will be recalculated: this incident no longer counts "
                     f"towards it, so their later incidents may stop being repeats."),
                     "The partnership's measures will count the incident without them."],
            action=url_for("incidents.remove_person", incident_id=incident.id, party_id=party.id),
            button="Remove from the incident", back=url_for("incidents.show", incident_id=incident.id,
                                                             _anchor="people"))
    if not RemoveForm().validate():
        abort(400)
    try:
        incidents.remove_party(incident=incident, party_id=party_id, by=current_user)
    except incidents.IncidentError:
        abort(404)
    flash("Person removed from the incident")
    return redirect(url_for("incidents.show", incident_id=incident.id))
