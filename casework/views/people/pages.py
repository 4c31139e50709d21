"""People: record (after a look for likely duplicates), a person's page, edit.

The search page is in `search`, merging two records in `merge`. Other journeys add sections to a
person's page with `shared.person_page.add_section(...)`.
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
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)

from ... import policy
from ...auth import navigation
from ...auth.guard import require, visible_or_404
from ...forms import Form, choices
from ...models import Gender, Incident, PartyRole, Person
from ...policy import Permission
from ...services import audit, flags, lookups, people, person_names, versioning
from ..shared.fields import DateInputField, MultiCheckbox
from ..shared.person_page import SECTIONS
from ..shared.record_pages import agency_names, page_number, stale_record_page
from . import bp

navigation.add("People", "people.search", Permission.SEARCH_PEOPLE, order=10)

MARKERS = [("mental_health", "Mental health"), ("substance_misuse", "Substance misuse"),
           ("complex_needs", "Complex needs")]


class PersonForm(Form):
    surname = StringField("Surname")
    forenames = StringField("Forenames")
    date_of_birth = DateInputField("Date of birth", past_only=True)
    gender = SelectField("Gender", choices=choices([("", "Not given")] + Gender.choices()), default="")
    postcode = StringField("Postcode")
    address = TextAreaField("Address")
    phone = StringField("Phone number")
    email = StringField("Email address")
    safe_contact = TextAreaField("Safe-contact instructions")
    do_not_disclose_address = BooleanField("Do not disclose the address")
    markers = MultiCheckbox("Complex needs", choices=choices(MARKERS))
    version = HiddenField()
    address_shown = HiddenField()  # "yes" when the form shows the current address
    incident = HiddenField()  # recording a person for an incident: return there afterwards
    role = HiddenField()

    def details(self) -> people.PersonDetails:
        markers = set(self.markers.data or [])
        return people.PersonDetails(
            surname=self.surname.data or "", forenames=self.forenames.data, date_of_birth=self.date_of_birth.data,
            gender=Gender(self.gender.data) if self.gender.data else None, postcode=self.postcode.data,
            address=self.address.data, phone=self.phone.data, email=self.email.data,
            safe_contact=self.safe_contact.data, do_not_disclose_address=bool(self.do_not_disclose_address.data),
            mental_health="mental_health" in markers, substance_misuse="substance_misuse" in markers,
            complex_needs="complex_needs" in markers)

    def check(self) -> bool:
        """The form's own checks and the service's, every problem on its field at once."""
        valid = self.validate()
        try:
            self.details().cleaned()
        except people.PersonError as e:
            for name, message in e.problems:
                field = getattr(self, name or "surname")
                if not field.errors:
                    field.errors = [message]
            valid = False
        return valid

    @classmethod
    def of(cls, person: Person) -> PersonForm:
        data: dict[str, Any] = {name: getattr(person, name) for name in people.PERSON_FIELDS}
        data["gender"] = person.gender.value if person.gender else ""
        data["markers"] = [name for name, _ in MARKERS if getattr(person, name)]
        data["version"] = person.version
        return cls(data=data)


def _editable_incident(incident_id: str | None) -> Incident | None:
    if not incident_id:
        return None
    incident: Incident = visible_or_404(Incident, incident_id)
    if not policy.can_edit(current_user, incident):
        abort(404)
    return incident


@bp.app_template_global()
def url_with(**changes: Any) -> str:
    """This page's address with some query values changed (None removes one): for sorting and
    pagination links that keep the rest of the query."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    values: dict[str, Any] = {**(request.view_args or {}), **args}
    return url_for(request.endpoint or "home.index", **values)


@bp.app_template_global()
def person_name(person: Person) -> person_names.PersonName:
    """What the signed-in user is shown of `person` on a page about another record (see
    `casework.services.person_names`); asked once a request for each person. Kept on the request,
    not on `g`: an application context may outlive a request (tests reuse one), and the answer is
    the signed-in user's."""
    shown: dict[uuid.UUID, person_names.PersonName] = request.__dict__.setdefault("casework_person_names", {})
    if person.id not in shown:
        shown[person.id] = person_names.for_viewer(current_user, person)
    return shown[person.id]


# --- create --------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def new() -> ResponseReturnValue:
    form = PersonForm()
    if request.method == "GET":
        form.incident.data = request.args.get("incident", "")
        form.role.data = request.args.get("role", "")
    incident = _editable_incident(form.incident.data)
    duplicates = None
    if request.method == "POST" and form.check():
        try:
            details = form.details().cleaned()
            if request.form.get("confirm") != "yes":
                duplicates = people.likely_duplicates(details=details, viewer=current_user)
            if not duplicates:
                person = people.create(details=details, by=current_user)
                flash(f"{person.display_name} recorded")
                if incident is not None:
                    return redirect(url_for("incidents.add_person", incident_id=incident.id, person_id=person.id,
                                            role=form.role.data or None))
                return redirect(url_for("people.show", person_id=person.id))
        except people.PersonError as e:
            getattr(form, e.field or "surname").errors = [str(e)]
    errors = form.error_list()
    status = 400 if errors else 200
    return render_template("people/new.html", form=form, duplicates=duplicates, incident=incident,
                           errors=errors), status


# --- a person's page -----------------------------------------------------------------


def _show(person: Person, *, reveal: bool = False) -> ResponseReturnValue:
    if person.merged_into_id is not None:
        survivor = lookups.survivor_of(person)
        if survivor is not None and policy.can_view(current_user, survivor):
            flash("That record was merged into this one")
            return redirect(url_for("people.show", person_id=survivor.id))
        abort(404)
    audit.record_view(person)
    if reveal:
        audit.record_view(person, part="address")
    size = current_app.config["PAGE_SIZE"]
    listings = {role: people.incidents_of(person=person, role=role, viewer=current_user,
                                          sort=request.args.get(f"{role.value}_sort", "-date"),
                                          page=page_number(f"{role.value}_page"), size=size)
                for role in PartyRole}
    flag_list = flags.person_flags(person=person, viewer=current_user)
    viewers = None
    if policy.can(current_user, Permission.SEE_WHO_VIEWED):
        viewers = audit.viewers_of(person)
    sections = [(s.template, s.context(person, current_user)) for s in SECTIONS]
    return render_template(
        "people/show.html", person=person, reveal=reveal or not person.do_not_disclose_address,
        listings=listings, flags=flag_list, hidden_flags=any(f.hidden_records for f in flag_list),
        viewers=viewers, agencies=agency_names(), sections=sections, args=request.args,
        can_edit=policy.can_edit(current_user, person), viewer=current_user)


@bp.get("/<uuid:person_id>")
@require(Permission.VIEW_RECORDS)
def show(person_id: uuid.UUID) -> ResponseReturnValue:
    return _show(visible_or_404(Person, person_id))


class RevealForm(Form):
    pass


@bp.post("/<uuid:person_id>/address")
@require(Permission.VIEW_RECORDS)
def show_address(person_id: uuid.UUID) -> ResponseReturnValue:
    """The address and safe-contact instructions of a do-not-disclose person, shown on a deliberate
    request (a POST, so it is never a link followed by accident) and audited each time."""
    person = visible_or_404(Person, person_id)
    if not RevealForm().validate():
        abort(400)
    return _show(person, reveal=True)


# --- edit ----------------------------------------------------------------------------


@bp.route("/<uuid:person_id>/edit", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def edit(person_id: uuid.UUID) -> ResponseReturnValue:
    """Edit a person. For a do-not-disclose person the address and safe-contact instructions stay
    hidden (and unchanged) unless the user asks to see them, which is audited."""
    person = visible_or_404(Person, person_id)
    if person.merged_into_id is not None or not policy.can_edit(current_user, person):
        abort(404)
    hidden = person.do_not_disclose_address
    if request.method == "GET":
        audit.record_view(person, part="edit")
        form = PersonForm.of(person)
        if hidden:
            form.address.data = form.safe_contact.data = None
        form.address_shown.data = "" if hidden else "yes"
        return render_template("people/edit.html", form=form, person=person, errors=[])
    form = PersonForm()
    if request.form.get("action") == "reveal":
        audit.record_view(person, part="address")
        form.address.data, form.safe_contact.data = person.address, person.safe_contact
        form.address_shown.data = "yes"
        return render_template("people/edit.html", form=form, person=person, errors=[])
    if form.check():
        details = form.details()
        if hidden and form.address_shown.data != "yes":
            details.address, details.safe_contact = person.address, person.safe_contact
        try:
            version = int(form.version.data) if (form.version.data or "").isdigit() else None
            changed = people.update(person=person, details=details, version=version, by=current_user)
        except people.PersonError as e:
            getattr(form, e.field or "surname").errors = [str(e)]
        except versioning.StaleEdit as e:
            return stale_record_page(e, kind="person"), 409
        else:
            flash(f"{person.display_name}'s details saved" if changed else "Nothing was changed")
            return redirect(url_for("people.show", person_id=person.id))
    return render_template("people/edit.html", form=form, person=person, errors=form.error_list()), 400
