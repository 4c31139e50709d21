"""Orders and powers on a person's page (issue 17 §2): record one, its page, change it (its
holding agency only), record a breach. Rules: `casework.services.orders`; docs/orders.md."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import HiddenField, RadioField, SelectField, TextAreaField

from ... import policy
from ...auth.guard import require, visible_or_404
from ...forms import Form, Required, choices
from ...models import Incident, Order, OrderKind, OrderStatus, Person
from ...policy import Permission
from ...services import audit, lookups, orders, versioning
from ..shared.fields import DateInputField, MultiCheckbox
from ..shared.person_page import add_section
from ..shared.record_pages import agency_names, form_version, stale_page, today, user_names
from . import bp

DATE_FIELDS = ("applied_on", "issued_on", "served_on", "expires_on", "review_on")


class OrderForm(Form):
    kind = RadioField("Kind of order or power", choices=choices(OrderKind.choices()), validate_choice=False,
                      validators=[Required("Select the kind of order or power")])
    agency = SelectField("Agency that holds it", validate_choice=False,
                         validators=[Required("Select the agency that holds the order")])
    applied_on = DateInputField("Applied for")
    issued_on = DateInputField("Made or issued")
    served_on = DateInputField("Served")
    expires_on = DateInputField("Expires")
    review_on = DateInputField("Review date")
    conditions = TextAreaField("Conditions")
    status = RadioField("Status", choices=choices(OrderStatus.choices()), validate_choice=False,
                        validators=[Required("Select the status of the order")])
    incidents = MultiCheckbox("Incidents that led to it", validate_choice=False)
    version = HiddenField()

    def details(self) -> orders.OrderDetails | None:
        """The answers as the service takes them; None (with the field's error) when a choice is unknown."""
        try:
            kind = OrderKind(self.kind.data)
        except ValueError:
            self.kind.errors = ["Select the kind of order or power"]
            return None
        try:
            status = OrderStatus(self.status.data)
        except ValueError:
            self.status.errors = ["Select the status of the order"]
            return None
        try:
            agency_id = uuid.UUID(self.agency.data)
        except (TypeError, ValueError):
            self.agency.errors = ["Select the agency that holds the order"]
            return None
        return orders.OrderDetails(kind=kind, agency_id=agency_id, status=status, applied_on=self.applied_on.data,
                                   issued_on=self.issued_on.data, served_on=self.served_on.data,
                                   expires_on=self.expires_on.data, review_on=self.review_on.data,
                                   conditions=self.conditions.data)

    def incident_ids(self) -> list[uuid.UUID] | None:
        try:
            return [uuid.UUID(v) for v in self.incidents.data or []]
        except ValueError:
            self.incidents.errors = ["Choose from the incidents listed"]
            return None


class BreachForm(Form):
    breached_on = DateInputField("Date of the breach", required="Enter the date of the breach")
    incident = SelectField("Incident it was recorded as", validate_choice=False)
    details = TextAreaField("What happened")


def _fill_choices(form: OrderForm, person: Person) -> None:
    form.agency.choices = choices([("", "Choose an agency")] + [(str(a.id), a.name) for a in lookups.active_agencies()])
    form.incidents.choices = choices([
        (str(i.id), f"{i.occurred_on.day} {i.occurred_on:%B %Y}: {i.category.label} ({i.reference})")
        for i in orders.linkable_incidents(person, viewer=current_user)])


def _show_error(form: Form, error: orders.OrderError, default: str) -> None:
    field = getattr(form, error.field or default, None) or getattr(form, default)
    field.errors = [*field.errors, str(error)] if isinstance(field.errors, list) else [str(error)]


def _save(form: OrderForm, person: Person, order: Order | None) -> Order | None:
    """Validate and save; None when the form has errors (every one shown on it at once)."""
    valid = form.validate()
    status = form.status.data if form.status.data in {s.value for s in OrderStatus} else None
    dates = SimpleNamespace(status=OrderStatus(status) if status else None,
                            **{name: getattr(form, name).data for name in DATE_FIELDS})
    problems = [(f, m) for f, m in orders.date_problems(dates, today=today()) if not getattr(form, f).errors]
    for field, message in problems:  # each date problem on its field
        getattr(form, field).errors = [*getattr(form, field).errors, message]
    if not valid or problems:
        return None
    details, incident_ids = form.details(), form.incident_ids()
    if details is None or incident_ids is None:
        return None
    try:
        if order is None:
            return orders.record(person, details, by=current_user, incident_ids=incident_ids, today=today())
        return orders.update(order, details, version=form_version(form), by=current_user,
                             incident_ids=incident_ids, today=today())
    except orders.OrderError as e:
        _show_error(form, e, "kind")
        return None


def _form_page(form: OrderForm, person: Person, order: Order | None, status: int) -> ResponseReturnValue:
    return render_template("orders/form.html", form=form, person=person, order=order, errors=form.error_list(),
                           kinds=list(OrderKind)), status


@bp.route("/people/<uuid:person_id>/orders/new", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def new(person_id: uuid.UUID) -> ResponseReturnValue:
    person = visible_or_404(Person, person_id)
    if person.merged_into_id is not None:
        return redirect(url_for("people.show", person_id=person.merged_into_id))
    if request.method == "GET":
        form = OrderForm(formdata=None, data={"agency": str(current_user.agency_id), "status": "in_force"})
        _fill_choices(form, person)
        return _form_page(form, person, None, 200)
    form = OrderForm()
    _fill_choices(form, person)
    order = _save(form, person, None)
    if order is None:
        return _form_page(form, person, None, 400)
    flash(f"{order.kind.label} recorded")
    return redirect(url_for("orders.show", order_id=order.id))


def _visible(order_id: uuid.UUID) -> Order:
    order = lookups.record(Order, order_id)
    if order is None or not policy.can_view_order(current_user, order):
        if order is not None:
            audit.record("access.refused", record=order, details={"reason": "record not visible"})
        abort(404)
    return order


@bp.get("/orders/<uuid:order_id>")
@require(Permission.VIEW_RECORDS)
def show(order_id: uuid.UUID) -> ResponseReturnValue:
    order = _visible(order_id)
    audit.record_view(order)
    visible = {i.id: i for i in orders.linkable_incidents(order.person, viewer=current_user)}
    linked = [visible[link.incident_id] for link in order.incidents if link.incident_id in visible]
    return render_template(
        "orders/show.html", order=order, person=order.person, linked=linked, incidents=visible,
        agencies=agency_names(), names=user_names({order.recorded_by_id, *(b.recorded_by_id for b in order.breaches)}),
        can_edit=policy.can_edit_order(current_user, order),
        can_breach=policy.can_record_breach(current_user, order) and order.issued_on is not None)


@bp.route("/orders/<uuid:order_id>/edit", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def edit(order_id: uuid.UUID) -> ResponseReturnValue:
    order = _visible(order_id)
    if not policy.can_edit_order(current_user, order):
        abort(403)
    person = order.person
    if request.method == "GET":
        form = OrderForm(formdata=None, data={
            "kind": order.kind.value, "agency": str(order.owner_agency_id), "status": order.status.value,
            "applied_on": order.applied_on, "issued_on": order.issued_on, "served_on": order.served_on,
            "expires_on": order.expires_on, "review_on": order.review_on, "conditions": order.conditions,
            "incidents": [str(link.incident_id) for link in order.incidents], "version": order.version})
        _fill_choices(form, person)
        return _form_page(form, person, order, 200)
    form = OrderForm()
    _fill_choices(form, person)
    try:
        saved = _save(form, person, order)
    except versioning.StaleEdit as e:
        return stale_page(e, kind="order", back=url_for("orders.show", order_id=order.id), labels=STALE_LABELS,
                          shown={"conditions": "changed"})
    if saved is None:
        return _form_page(form, person, order, 400)
    flash(f"{order.kind.label} changed")
    return redirect(url_for("orders.show", order_id=order.id))


STALE_LABELS = {"kind": "Kind", "owner_agency_id": "Agency", "status": "Status", "applied_on": "Applied for",
                "issued_on": "Made or issued", "served_on": "Served", "expires_on": "Expires",
                "review_on": "Review date", "conditions": "Conditions"}


@bp.route("/orders/<uuid:order_id>/breaches/new", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def breach(order_id: uuid.UUID) -> ResponseReturnValue:
    order = _visible(order_id)
    if not policy.can_record_breach(current_user, order):
        abort(403)
    incidents: list[Incident] = orders.linkable_incidents(order.person, viewer=current_user)
    form = BreachForm(formdata=None) if request.method == "GET" else BreachForm()
    form.incident.choices = choices([("", "Not recorded as an incident")] + [
        (str(i.id), f"{i.occurred_on.day} {i.occurred_on:%B %Y}: {i.category.label} ({i.reference})")
        for i in incidents])
    if request.method == "POST" and form.validate():
        incident_id = None
        if form.incident.data:
            try:
                incident_id = uuid.UUID(form.incident.data)
            except ValueError:
                incident_id = uuid.UUID(int=0)  # refused by the service as not one of the person's incidents
        try:
            orders.record_breach(order, by=current_user, breached_on=form.breached_on.data, incident_id=incident_id,
                                 details=form.details.data, today=today())
        except orders.OrderError as e:
            _show_error(form, e, "breached_on")
        else:
            flash("Breach recorded")
            return redirect(url_for("orders.show", order_id=order.id))
    status = 400 if request.method == "POST" else 200
    return render_template("orders/breach.html", form=form, order=order, person=order.person,
                           errors=form.error_list()), status


# --- on a person's page ----------------------------------------------------------------------


def _person_orders(person: Person, viewer: Any) -> dict[str, Any]:
    return {"orders": orders.of_person(person, viewer=viewer), "agencies": agency_names(),
            "can_record": policy.can_edit(viewer, person) and person.merged_into_id is None}


add_section("orders/_person_section.html", _person_orders, order=35)


@bp.app_template_global()
def orders_due_home() -> dict[str, Any]:
    """For `templates/orders/_home.html`: the reviews and expiries of the user's agency's orders due
    within `orders.REMINDER_DAYS` days."""
    if not current_user.is_authenticated or not policy.can(current_user, Permission.VIEW_RECORDS):
        return {"due": [], "today": None}
    day = today()
    return {"due": orders.due_for_agency(current_user, today=day), "today": day, "days": orders.REMINDER_DAYS}
