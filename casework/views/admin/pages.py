"""Administrators: users (create with a one-time set-up link, roles, deactivate, reset the second
factor), agencies (add, rename, change kind, deactivate, reactivate: see
`casework.services.agencies`) and referral routes (`casework.services.referral_routes`). No case data
is shown here."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import RadioField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired
from wtforms.widgets import CheckboxInput, ListWidget

from ...auth.guard import require
from ...db import db
from ...forms import Form, choices
from ...links import LinkError, public_url_for
from ...models import Agency, AgencyKind, Referral, ReferralRoute, ReferralType, Role, User
from ...policy import Permission
from ...services import agencies, lookups, referral_routes, users
from . import bp


class RolesField(SelectMultipleField):  # type: ignore[misc]  # WTForms has no types here
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class NewUserForm(Form):
    email = StringField("Email address", validators=[InputRequired("Enter an email address")])
    name = StringField("Full name", validators=[InputRequired("Enter the user's name")])
    agency = SelectField("Agency", validators=[InputRequired("Select an agency")])
    roles = RolesField("Roles", choices=choices(Role.choices()))


class RolesForm(Form):
    roles = RolesField("Roles", choices=choices(Role.choices()))


class AgencyForm(Form):
    name = StringField("Name", validators=[InputRequired("Enter the agency's name")])
    kind = SelectField("Kind", choices=choices([("", "Select")] + AgencyKind.choices()),
                       validators=[InputRequired("Select the kind of agency")])


def _agency_choices() -> list[SelectChoice]:
    """Active agencies only: an inactive agency takes no new users."""
    return choices([("", "Select an agency")] + [(str(a.id), a.name) for a in agencies.offered()])


def _user_or_404(user_id: uuid.UUID) -> User:
    user = lookups.record(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/users")
@require(Permission.MANAGE_USERS)
def users_list() -> ResponseReturnValue:
    return render_template("admin/users.html", users=users.listing())


@bp.route("/users/new", methods=["GET", "POST"])
@require(Permission.MANAGE_USERS)
def new_user() -> ResponseReturnValue:
    form = NewUserForm()
    form.agency.choices = _agency_choices()
    if request.method == "POST" and form.validate():
        agency = lookups.record(Agency, uuid.UUID(form.agency.data)) if form.agency.data else None
        try:
            if agency is None:
                raise users.UserError("Select an agency", "agency")
            invitation = users.create(email=form.email.data, name=form.name.data, agency=agency,
                                      roles=form.roles.data or [], by=current_user)
            link = public_url_for("auth.set_up", token=invitation.token)
        except users.UserError as e:
            getattr(form, e.field or "email").errors = [str(e)]
        except LinkError as e:  # nothing is kept: the request rolls back
            form.email.errors = [str(e)]
        else:
            return render_template("admin/user_link.html", user=invitation.user, link=link)
    status = 400 if request.method == "POST" else 200
    return render_template("admin/user_new.html", form=form), status


@bp.get("/users/<uuid:user_id>")
@require(Permission.MANAGE_USERS)
def user(user_id: uuid.UUID) -> ResponseReturnValue:
    account = _user_or_404(user_id)
    form = RolesForm(data={"roles": [r.value for r in account.roles]})
    return render_template("admin/user.html", account=account, form=form)


@bp.post("/users/<uuid:user_id>/roles")
@require(Permission.MANAGE_USERS)
def user_roles(user_id: uuid.UUID) -> ResponseReturnValue:
    account = _user_or_404(user_id)
    form = RolesForm()
    try:
        unkept = users.set_roles(user=account, roles=form.roles.data or [], by=current_user)
    except users.UserError as e:
        form.roles.errors = [str(e)]
        return render_template("admin/user.html", account=account, form=form), 400
    flash(f"Roles of {account.email} changed" + unkept_notice(unkept))
    return redirect(url_for("admin.user", user_id=account.id))


def unkept_notice(unkept: int | None) -> str:
    """What the admin is told when a change left restricted records with nobody who can manage them."""
    if not unkept:
        return ""
    records = "1 restricted record is" if unkept == 1 else f"{unkept} restricted records are"
    return (f". {records} now left with nobody named who can manage it for its agency: tell the agency, "
            "whose users who edit records can recover it from their list of restricted records to recover")


def _user_action(user_id: uuid.UUID, action: Callable[..., int | None], done: str) -> ResponseReturnValue:
    account = _user_or_404(user_id)
    try:
        unkept = action(user=account, by=current_user)
    except users.UserError as e:
        return render_template("admin/user.html", account=account, form=RolesForm(
            data={"roles": [r.value for r in account.roles]}), action_error=str(e)), 400
    flash(done.format(email=account.email) + unkept_notice(unkept))
    return redirect(url_for("admin.user", user_id=account.id))


@bp.post("/users/<uuid:user_id>/deactivate")
@require(Permission.MANAGE_USERS)
def deactivate(user_id: uuid.UUID) -> ResponseReturnValue:
    return _user_action(user_id, users.deactivate, "{email} is deactivated: their sessions have ended")


@bp.post("/users/<uuid:user_id>/reactivate")
@require(Permission.MANAGE_USERS)
def reactivate(user_id: uuid.UUID) -> ResponseReturnValue:
    return _user_action(user_id, users.reactivate, "{email} can sign in again")


@bp.post("/users/<uuid:user_id>/reset-second-factor")
@require(Permission.MANAGE_USERS)
def reset_second_factor(user_id: uuid.UUID) -> ResponseReturnValue:
    return _user_action(user_id, users.reset_second_factor,
                        "{email} will set up a new authenticator at their next sign-in")


@bp.post("/users/<uuid:user_id>/set-up-link")
@require(Permission.MANAGE_USERS)
def setup_link(user_id: uuid.UUID) -> ResponseReturnValue:
    account = _user_or_404(user_id)
    token = users.renew_setup_link(user=account, by=current_user)
    try:
        link = public_url_for("auth.set_up", token=token)
    except LinkError as e:  # the old link keeps working: the request rolls back
        return render_template("admin/user.html", account=account, form=RolesForm(
            data={"roles": [r.value for r in account.roles]}), action_error=str(e)), 400
    return render_template("admin/user_link.html", user=account, link=link)


@bp.route("/agencies", methods=["GET", "POST"])
@require(Permission.MANAGE_AGENCIES)
def agencies_list() -> ResponseReturnValue:
    form = AgencyForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                agency = agencies.add(name=form.name.data, kind=form.kind.data, by=current_user)
            except agencies.AgencyError as e:
                getattr(form, e.field or "name").errors = [str(e)]
            else:
                flash(f"Added {agency.name}")
                return redirect(url_for("admin.agencies_list"))
        status = 400
    return render_template("admin/agencies.html", form=form, agencies=agencies.listing()), status


def _agency_or_404(agency_id: uuid.UUID) -> Agency:
    agency = agencies.get(agency_id)
    if agency is None:
        abort(404)
    return agency


def _agency_page(agency: Agency, form: AgencyForm | None = None, *, action_error: str | None = None,
                 status: int = 200) -> ResponseReturnValue:
    form = form or AgencyForm(formdata=None, data={"name": agency.name, "kind": agency.kind.value})
    return render_template("admin/agency.html", agency=agency, form=form, action_error=action_error,
                           active_users=agencies.active_user_count(agency)), status


@bp.route("/agencies/<uuid:agency_id>", methods=["GET", "POST"])
@require(Permission.MANAGE_AGENCIES)
def agency(agency_id: uuid.UUID) -> ResponseReturnValue:
    """An agency: rename it or change its kind; deactivate or reactivate it."""
    found = _agency_or_404(agency_id)
    if request.method == "GET":
        return _agency_page(found)
    form = AgencyForm()
    if form.validate():
        try:
            changed = agencies.update(agency=found, name=form.name.data, kind=form.kind.data, by=current_user)
        except agencies.AgencyError as e:
            getattr(form, e.field or "name").errors = [str(e)]
        else:
            flash(f"{found.name} saved" if changed else "Nothing was changed")
            return redirect(url_for("admin.agency", agency_id=found.id))
    return _agency_page(found, form, status=400)


def _agency_action(agency_id: uuid.UUID, action: Callable[..., object], done: str) -> ResponseReturnValue:
    found = _agency_or_404(agency_id)
    try:
        action(agency=found, by=current_user)
    except agencies.AgencyError as e:
        return _agency_page(found, action_error=str(e), status=400)
    flash(done.format(name=found.name))
    return redirect(url_for("admin.agency", agency_id=found.id))


@bp.post("/agencies/<uuid:agency_id>/deactivate")
@require(Permission.MANAGE_AGENCIES)
def deactivate_agency(agency_id: uuid.UUID) -> ResponseReturnValue:
    return _agency_action(agency_id, agencies.deactivate, "{name} is inactive: it is no longer offered as a choice")


@bp.post("/agencies/<uuid:agency_id>/reactivate")
@require(Permission.MANAGE_AGENCIES)
def reactivate_agency(agency_id: uuid.UUID) -> ResponseReturnValue:
    return _agency_action(agency_id, agencies.reactivate, "{name} is active again")


# --- referral routes ---------------------------------------------------------------------------


class RouteForm(Form):
    type = RadioField("Type of referral", choices=choices(ReferralType.choices()), validate_choice=False)
    agency = SelectField("Receiving agency", validate_choice=False)
    role = SelectField("Role that decides the referrals", validate_choice=False,
                       choices=choices([("", "The usual role (HRDA chair for HRDA, caseworker for the others)")]
                                       + [(r.value, r.label) for r in (Role.HRDA_CHAIR, Role.CASEWORKER)]))


class RerouteForm(Form):
    route = RadioField("Move the referral to", validate_choice=False)


def _routes_page(form: RouteForm | None = None, *, status: int = 200, action_error: str | None = None) -> ResponseReturnValue:
    form = form or RouteForm(formdata=None)
    form.agency.choices = _agency_choices()
    routes = referral_routes.listing()
    return render_template("admin/referral_routes.html", form=form, routes=routes, kinds=ReferralType,
                           deciders={r.id: len(referral_routes.deciders(r)) for r in routes},
                           unrouted=referral_routes.unrouted(), agency_names={a.id: a.name for a in agencies.listing()},
                           action_error=action_error, errors=form.error_list()), status


@bp.route("/referral-routes", methods=["GET", "POST"])
@require(Permission.MANAGE_AGENCIES)
def referral_routes_page() -> ResponseReturnValue:
    """Where each type of referral goes; referrals waiting at an agency with no route, to move."""
    if request.method == "GET":
        return _routes_page()
    form = RouteForm()
    form.agency.choices = _agency_choices()
    kind = ReferralType(form.type.data) if form.type.data in {k.value for k in ReferralType} else None
    if kind is None:
        form.type.errors = ["Select the type of referral"]
        return _routes_page(form, status=400)
    agency = None
    if form.agency.data:
        try:
            agency = agencies.get(uuid.UUID(form.agency.data))
        except ValueError:
            agency = None
    role = Role(form.role.data) if form.role.data in {r.value for r in Role} else None
    try:
        route = referral_routes.set_route(kind, agency=agency, role=role, by=current_user)
    except referral_routes.RouteError as e:
        db.session.rollback()
        getattr(form, e.field or "agency").errors = [str(e)]
        return _routes_page(form, status=400)
    flash(f"Routed {referral_routes.describe(route)}")
    return redirect(url_for("admin.referral_routes_page"))


@bp.post("/referral-routes/<uuid:route_id>/remove")
@require(Permission.MANAGE_AGENCIES)
def remove_referral_route(route_id: uuid.UUID) -> ResponseReturnValue:
    route = lookups.record(ReferralRoute, route_id)
    if route is None:
        abort(404)
    described = referral_routes.describe(route)
    referral_routes.remove_route(route, by=current_user)
    flash(f"Removed the route of {described}")
    return redirect(url_for("admin.referral_routes_page"))


@bp.route("/referral-routes/referrals/<uuid:referral_id>", methods=["GET", "POST"])
@require(Permission.MANAGE_AGENCIES)
def reroute_referral(referral_id: uuid.UUID) -> ResponseReturnValue:
    """Move a submitted referral from an agency with no route for its type to one of its services.
    Only the referral's type, date and agencies are shown: no case data."""
    referral = lookups.record(Referral, referral_id)
    if referral is None or referral not in referral_routes.unrouted():
        abort(404)
    services = referral_routes.services(referral.type)
    form = RerouteForm() if request.method == "POST" else RerouteForm(formdata=None)
    form.route.choices = choices([(str(r.id), r.agency.name) for r in services])
    status = 200
    if request.method == "POST":
        route = None
        if form.route.data:
            try:
                route = lookups.record(ReferralRoute, uuid.UUID(form.route.data))
            except ValueError:
                route = None
        try:
            referral_routes.reroute(referral, route=route, by=current_user)
        except referral_routes.RouteError as e:
            form.route.errors = [str(e)]
            status = 400
        else:
            flash(f"The {referral.type.label} referral of {referral.referred_on:%-d %B %Y} now goes to "
                  f"{route.agency.name if route else ''}")
            return redirect(url_for("admin.referral_routes_page"))
    return render_template("admin/reroute.html", referral=referral, form=form, services=services,
                           agency_names={a.id: a.name for a in agencies.listing()},
                           errors=form.error_list()), status
