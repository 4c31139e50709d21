"""The filter forms of the cases and incidents lists: GET forms (the filter stays in the address, so
a list can be bookmarked, shared and paged), read into `services.record_lists` filters."""

from __future__ import annotations

import uuid
from typing import Any

from flask import request
from flask_login import current_user
from wtforms import BooleanField, SelectField, StringField

from ...forms import Form, choices
from ...models import CaseKind, CaseStatus, Category
from ...services import cases, lookups, record_lists
from .fields import DateInputField

CASE_ARGS = ("surname", "forenames", "kind", "status", "caseworker", "overdue")
INCIDENT_ARGS = ("since-day", "since-month", "since-year", "until-day", "until-month", "until-year", "category",
                 "locality", "area", "agency")


class CaseFilterForm(Form):
    class Meta:
        csrf = False  # a GET form: nothing changes

    surname = StringField("Surname")
    forenames = StringField("Forenames")
    kind = SelectField("Kind", validate_choice=False)
    status = SelectField("Status", validate_choice=False)
    caseworker = SelectField("Caseworker", validate_choice=False)
    overdue = BooleanField("Only cases with an overdue review", false_values=("", "n", "no", "false"))


class IncidentFilterForm(Form):
    class Meta:
        csrf = False

    since = DateInputField("From")
    until = DateInputField("To")
    category = SelectField("Category", validate_choice=False)
    locality = StringField("Locality")
    area = SelectField("Area", validate_choice=False)
    agency = SelectField("Recorded by", validate_choice=False)


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _enum(kind: Any, value: str | None) -> Any:
    return kind(value) if value in {member.value for member in kind} else None


def case_filters() -> tuple[CaseFilterForm, record_lists.CaseFilters | None]:
    """The cases list's form, filled from the address, and its filters (None when a box is wrong)."""
    filtered = any(request.args.get(k) for k in CASE_ARGS)
    form = CaseFilterForm(formdata=request.args if filtered else None)
    form.kind.choices = choices([("", "Any")] + CaseKind.choices())
    form.status.choices = choices([("", "Any")] + CaseStatus.choices())
    form.caseworker.choices = choices([("", "Anyone"), (record_lists.UNASSIGNED, "Not assigned")]
                                      + [(str(u.id), u.name) for u in cases.caseworkers_of(current_user.agency_id)])
    if filtered and not form.validate():
        return form, None
    worker = form.caseworker.data
    return form, record_lists.CaseFilters(
        surname=(form.surname.data or "").strip() or None, forenames=(form.forenames.data or "").strip() or None,
        kind=_enum(CaseKind, form.kind.data), status=_enum(CaseStatus, form.status.data),
        caseworker=record_lists.UNASSIGNED if worker == record_lists.UNASSIGNED else _uuid(worker),
        overdue=bool(form.overdue.data))


def incident_filters() -> tuple[IncidentFilterForm, record_lists.IncidentFilters | None]:
    """The incidents list's form, filled from the address, and its filters (None when a box is wrong)."""
    filtered = any(request.args.get(k) for k in INCIDENT_ARGS)
    form = IncidentFilterForm(formdata=request.args if filtered else None)
    form.category.choices = choices([("", "Any")] + Category.choices())
    form.area.choices = choices([("", "Any")] + [(str(i), name) for i, name in lookups.area_choices()])
    form.agency.choices = choices([("", "Any")] + [(str(i), name) for i, name in lookups.agency_choices()])
    if filtered and not form.validate():
        return form, None
    return form, record_lists.IncidentFilters(
        since=form.since.data, until=form.until.data, category=_enum(Category, form.category.data),
        locality=(form.locality.data or "").strip() or None, area_id=_uuid(form.area.data),
        agency_id=_uuid(form.agency.data))
