"""Linking people and incidents to a case: anyone the user may see,
found with the people search, in a role; an incident of the case's people, or one the user's agency
knows by its reference."""

from __future__ import annotations

import uuid

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ...auth.guard import require, visible_or_404
from ...models import Incident, Person
from ...policy import Permission
from ...services import cases
from ..shared.person_search import run_search
from . import bp
from .pages import (
    ROLE_CHOICES,
    LinkIncidentByReferenceForm,
    LinkIncidentForm,
    LinkPersonForm,
    _case_page,
    _editable,
    _role,
    _uuid,
)


@bp.get("/cases/<uuid:case_id>/people/find")
@require(Permission.EDIT_RECORDS)
def find_person(case_id: uuid.UUID) -> ResponseReturnValue:
    """Find anyone the user may see to link to the case: each match they may open has a role and a
    button; the others show as identity only (`services.people_search`), with nothing to link."""
    case = _editable(case_id)
    found = run_search()
    return render_template("cases/find_person.html", case=case, form=found.form, results=found.results,
                           errors=found.errors, roles=ROLE_CHOICES,
                           linked={link.person_id for link in case.people}), found.status


@bp.post("/cases/<uuid:case_id>/people")
@require(Permission.EDIT_RECORDS)
def link_person(case_id: uuid.UUID) -> ResponseReturnValue:
    case = _editable(case_id)
    form = LinkPersonForm()
    if not form.person.data:
        form.person.errors = ["Select a person"]
        return _case_page(case, status=400, link_person=form)
    person = visible_or_404(Person, form.person.data)  # one the user may not see: 404, the refusal audited
    role = _role(form.role.data)
    if form.role.data and role is None:
        form.role.errors = ["Select a role from the list"]
        return _case_page(case, status=400, link_person=form)
    try:
        cases.link_person(case, person=person, role=role, by=current_user)
    except cases.CaseError as e:
        form.person.errors = [str(e)]
        return _case_page(case, status=400, link_person=form)
    flash(f"{person.display_name} linked to the case" + (f" as {role.label.lower()}" if role else ""))
    return redirect(url_for("cases.show", case_id=case.id, _anchor="people"))


@bp.post("/cases/<uuid:case_id>/incidents")
@require(Permission.EDIT_RECORDS)
def link_incident(case_id: uuid.UUID) -> ResponseReturnValue:
    """Link an incident chosen from the case's people's incidents, or one known by the user's agency's
    reference (only an incident the user may see is found)."""
    case = _editable(case_id)
    if "incident_reference" in request.form:
        by_reference = LinkIncidentByReferenceForm()
        try:
            incident: Incident | None = cases.incident_by_reference(by_reference.incident_reference.data, viewer=current_user)
            cases.link_incident(case, incident=incident, by=current_user)
        except cases.CaseError as e:
            by_reference.incident_reference.errors = [str(e)]
            return _case_page(case, status=400, by_reference=by_reference)
    else:
        form = LinkIncidentForm()
        incident_id = _uuid(form.incident.data)
        # One the user may not see: 404, the refusal audited (as for a person).
        incident = visible_or_404(Incident, incident_id) if incident_id else None
        try:
            cases.link_incident(case, incident=incident, by=current_user)
        except cases.CaseError as e:
            form.incident.errors = [str(e)]
            return _case_page(case, status=400, link_incident=form)
    flash("Incident linked to the case")
    return redirect(url_for("cases.show", case_id=case.id, _anchor="incidents"))
