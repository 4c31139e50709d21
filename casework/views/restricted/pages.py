"""Restricted people, cases and incidents: marking a record restricted, the users named on it, naming another
and removing one, lifting the restriction (rules in `casework.services.restricted`; who may do it
in `casework.policy`).

A restricted record nobody of its agency can manage any more (its last keeper left) is recovered
from `/restricted-records`, the agency's list, and `/restricted-records/<kind>/<id>/recover`.

The section sits on the person page (`add_section`), the case page and the incident page (the
template global `restriction_section`); its forms post here, and an error shows on this journey's
own page, `/<people|cases|incidents>/<id>/restriction`, with the error summary.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import BooleanField, SelectField, TextAreaField

from ... import policy
from ...auth.guard import require, visible_or_404
from ...forms import Form, choices, error_href
from ...models import Case, Incident, Person, User
from ...policy import Permission
from ...services import agencies, lookups, restricted
from ..shared.person_page import add_section
from . import bp

KINDS: dict[str, tuple[type, str, str]] = {
    # kind: (model, URL prefix, the record's page endpoint)
    "person": (Person, "/people/<uuid:record_id>/restriction", "people.show"),
    "case": (Case, "/cases/<uuid:record_id>/restriction", "cases.show"),
    "incident": (Incident, "/incidents/<uuid:record_id>/restriction", "incidents.show"),
}


class RestrictForm(Form):
    confirm = BooleanField("I understand that only the users named on this record will see it")


class LiftForm(Form):
    confirm = BooleanField("I understand that everyone in the agencies that may see this record will see it again")


class NameForm(Form):
    user = SelectField("Name another user", validate_choice=False)


class RemoveForm(Form):
    user = SelectField("User", validate_choice=False)


@dataclass
class Section:
    """What the section shows: `None` fields are left out."""

    record: Any
    kind: str
    restricted: bool
    can_restrict: bool
    can_manage: bool
    named: list[User]
    agencies: dict[Any, str]
    name_form: NameForm | None = None
    restrict_form: RestrictForm | None = None
    lift_form: LiftForm | None = None

    def url(self, action: str) -> str:
        return url_for(f"restricted.{self.kind}_{action}", record_id=self.record.id)

    def boxes(self) -> set[str]:
        """The ids of what `restricted/_section.html` shows that an error can link to."""
        shown = set()
        if self.restricted:
            shown.add("named-users")
            if self.name_form is not None and (len(self.name_form.user.choices) > 1 or self.name_form.user.errors):
                shown.add(error_href(self.name_form.user)[1:])
        form = self.lift_form if self.restricted else self.restrict_form
        if form is not None:
            shown.add(error_href(form.confirm)[1:])
        return shown

    def linked(self, errors: list[dict[str, str]]) -> list[dict[str, str]]:
        """The errors, each linking to a box on the page: one whose box is not shown (naming a user
        on a record that is not restricted, or no longer is) links to the restriction's first box
        (the checkbox restricting the record), or the section when it has none."""
        shown = self.boxes()
        fallback = next((f"#{b}" for b in ("confirm", "user", "named-users") if b in shown), "#restriction")
        return [e if e["href"][1:] in shown else {**e, "href": fallback} for e in errors]


def section_for(record: Any, viewer: Any, *, always: bool = False, **forms: Any) -> Section | None:
    """The section for `viewer`: None when they may change nothing (a manager, or a user of an
    agency an unrestricted record is shared with), unless `always` (this journey's own page, for
    anyone who may edit the record)."""
    kind = policy.kind_of(record)
    can_restrict = policy.can_restrict(viewer, record)
    can_manage = policy.can_manage_restriction(viewer, record)
    if not (can_restrict or can_manage or (always and policy.can_edit(viewer, record))):
        return None
    section = Section(record=record, kind=kind, restricted=record.restricted, can_restrict=can_restrict,
                      can_manage=can_manage, named=restricted.named_users(record) if record.restricted else [],
                      agencies={a.id: a.name for a in agencies.listing()})
    if can_manage:
        section.name_form = forms.get("name_form") or NameForm(formdata=None)
        section.name_form.user.choices = choices([("", "Select a user")] + [
            (str(u.id), f"{u.name} ({section.agencies.get(u.agency_id, '')})")
            for u in restricted.candidates(record)])
    if can_restrict and not record.restricted:
        section.restrict_form = forms.get("restrict_form") or RestrictForm(formdata=None)
    if can_restrict and record.restricted:
        section.lift_form = forms.get("lift_form") or LiftForm(formdata=None)
    return section


@bp.app_template_global()
def restriction_section(record: Any) -> Section | None:
    """The section for the signed-in user, for the case and incident pages' templates."""
    return section_for(record, current_user)


add_section("restricted/_section.html", lambda person, viewer: section_for(person, viewer), order=5)


# --- the routes: the same five for people, cases and incidents ------------------------------------------


def _editable(kind: str, record_id: uuid.UUID) -> Any:
    model = KINDS[kind][0]
    record = visible_or_404(model, record_id)
    if getattr(record, "merged_into_id", None) is not None or not policy.can_edit(current_user, record):
        abort(404)
    return record


def _back(kind: str, record: Any) -> ResponseReturnValue:
    endpoint = KINDS[kind][2]
    return redirect(url_for(endpoint, **{f"{kind}_id": record.id}, _anchor="restriction"))


def _page(kind: str, record: Any, *, status: int = 200, extra_errors: list[dict[str, str]] | None = None,
          **forms: Any) -> ResponseReturnValue:
    section = section_for(record, current_user, always=True, **forms)
    if section is None:
        abort(404)
    errors = section.linked((extra_errors or []) + [e for f in forms.values() for e in f.error_list()])
    return render_template("restricted/page.html", section=section, record=record, kind=kind,
                           back=url_for(KINDS[kind][2], **{f"{kind}_id": record.id}), errors=errors), status


def _user(value: str | None) -> User | None:
    try:
        return lookups.record(User, uuid.UUID(value)) if value else None
    except ValueError:
        return None


def _show(kind: str) -> Callable[..., Any]:
    def view(record_id: uuid.UUID) -> ResponseReturnValue:
        return _page(kind, _editable(kind, record_id))

    return view


def _restrict(kind: str) -> Callable[..., Any]:
    return _owners_step(kind, RestrictForm, restricted.restrict, form_name="restrict_form",
                        unconfirmed="Confirm that only the users named will see it",
                        done="The record is restricted: only the users named on it can see it. You are named on it.")


def _lift(kind: str) -> Callable[..., Any]:
    return _owners_step(kind, LiftForm, restricted.lift, form_name="lift_form",
                        unconfirmed="Confirm that the restriction is to be lifted", done="The restriction is lifted")


def _owners_step(kind: str, form_class: type[Form], step: Callable[..., Any], *, form_name: str,
                 unconfirmed: str, done: str) -> Callable[..., Any]:
    """Restricting a record or lifting its restriction: the owning agency's step, confirmed."""
    def view(record_id: uuid.UUID) -> ResponseReturnValue:
        record = _editable(kind, record_id)
        form = form_class()
        if not policy.can_restrict(current_user, record):
            abort(403)
        if not form.validate() or not form.confirm.data:
            form.confirm.errors = list(form.confirm.errors) or [unconfirmed]
            return _page(kind, record, status=400, **{form_name: form})
        try:
            step(record, by=current_user)
        except restricted.RestrictionError as e:
            form.confirm.errors = [str(e)]
            return _page(kind, record, status=400, **{form_name: form})
        flash(done)
        return _back(kind, record)

    return view


def _name(kind: str) -> Callable[..., Any]:
    def view(record_id: uuid.UUID) -> ResponseReturnValue:
        record = _editable(kind, record_id)
        form = NameForm()
        try:
            if not form.validate():
                raise restricted.RestrictionError("Select the user to name", "user")
            user = _user(form.user.data)
            restricted.name(record, user=user, by=current_user)
        except restricted.NotAllowed:
            abort(403)
        except restricted.RestrictionError as e:
            form.user.errors = [str(e)]
            return _page(kind, record, status=400, name_form=form)
        assert user is not None
        flash(f"{user.name} is named on the record and can see it")
        return _back(kind, record)

    return view


def _remove(kind: str) -> Callable[..., Any]:
    def view(record_id: uuid.UUID) -> ResponseReturnValue:
        record = _editable(kind, record_id)
        form = RemoveForm()
        user = _user(form.user.data) if form.validate() else None
        try:
            restricted.remove(record, user=user, by=current_user)
        except restricted.NotAllowed:
            abort(403)
        except restricted.RestrictionError as e:
            return _page(kind, record, status=400, extra_errors=[{"text": str(e), "href": "#named-users"}])
        assert user is not None
        if user.id == current_user.id:
            flash("You are no longer named on the record, and can no longer see it")
            return redirect(url_for("home.index"))
        flash(f"{user.name} is no longer named on the record, and can no longer see it")
        return _back(kind, record)

    return view


ROUTES: tuple[tuple[str, str, str, Callable[[str], Callable[..., Any]]], ...] = (
    # action (the endpoint is "<kind>_<action>"), URL suffix, method, view maker
    ("page", "", "GET", _show),
    ("restrict", "", "POST", _restrict),
    ("lift", "/lift", "POST", _lift),
    ("name", "/users", "POST", _name),
    ("remove", "/users/remove", "POST", _remove),
)

for _kind, (_model, _rule, _endpoint) in KINDS.items():
    for _action, _suffix, _method, _make in ROUTES:
        bp.add_url_rule(_rule + _suffix, endpoint=f"{_kind}_{_action}", methods=[_method],
                        view_func=require(Permission.EDIT_RECORDS)(_make(_kind)))


# --- recovery: the owning agency names one of its own on a record nobody there can manage ------------


class RecoverForm(Form):
    reason = TextAreaField("Why you are recovering this record")


@bp.get("/restricted-records")
@require(Permission.EDIT_RECORDS)
def orphaned() -> ResponseReturnValue:
    """The agency's restricted records nobody named can manage for it any more: ids and kinds only."""
    if not policy.may_recover_restrictions(current_user):
        abort(403)
    return render_template("restricted/orphaned.html", records=restricted.orphaned(agency_id=current_user.agency_id))


def _recoverable(kind: str, record_id: uuid.UUID) -> Any:
    """The record, or 404 (as for any record the user may not see) unless they may recover it now."""
    model = KINDS[kind][0]
    record = lookups.record(model, record_id)
    if record is None or not restricted.can_recover(current_user, record):
        abort(404)
    return record


@bp.route("/restricted-records/<any(person, case, incident):kind>/<uuid:record_id>/recover", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def recover(kind: str, record_id: uuid.UUID) -> ResponseReturnValue:
    record = _recoverable(kind, record_id)
    form = RecoverForm() if request.method == "POST" else RecoverForm(formdata=None)
    if request.method == "POST":
        try:
            if not form.validate():
                raise restricted.RestrictionError("Give the reason you are recovering this record", "reason")
            restricted.recover(record, by=current_user, reason=form.reason.data)
        except restricted.NotAllowed:
            abort(404)
        except restricted.RestrictionError as e:
            form.reason.errors = [str(e)]
        else:
            flash("You are named on the record and can see it. Name the others who need it, and check "
                  "who else is named.")
            return _back(kind, record)
    return render_template("restricted/recover.html", form=form, kind=kind, record_id=record.id,
                           reference=record.reference,
                           errors=form.error_list()), 400 if form.reason.errors else 200
