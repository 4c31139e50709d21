"""A person's equality information, recorded with their agreement by their own agency's
caseworkers (`policy.can_see_equality`); a section of the person's page shows it to them alone."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import RadioField, SelectField

from ...auth.guard import require, visible_or_404
from ...forms import Form, choices
from ...measures.periods import today_in_london
from ...models import Person
from ...policy import Permission
from ...services import equality
from ..shared.fields import DateInputField
from ..shared.person_page import add_section
from . import bp


def _select(label: str, name: str) -> SelectField:
    return SelectField(label, choices=choices([("", "Not answered")] + list(equality.CHOICES[name].items())),
                       validate_choice=False)


class EqualityForm(Form):
    agreed = RadioField("Has the person agreed to give their equality information?",
                        choices=choices([("yes", "Yes"), ("no", "No, or they have withdrawn their agreement")]),
                        validate_choice=False)
    agreed_on = DateInputField("Date they agreed")
    ethnicity = _select("Ethnic group", "ethnicity")
    disability = _select("Do they have a condition or illness lasting 12 months or more that reduces their ability "
                         "to carry out day-to-day activities?", "disability")
    sexual_orientation = _select("Sexual orientation", "sexual_orientation")
    gender_identity = _select("Is the gender they identify with the same as their sex registered at birth?",
                              "gender_identity")


@bp.route("/people/<uuid:person_id>/equality", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def edit(person_id: uuid.UUID) -> ResponseReturnValue:
    person = visible_or_404(Person, person_id)
    if person.merged_into_id is not None or not equality.may_see(person, current_user):
        abort(404)
    form = EqualityForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            agreed = {"yes": True, "no": False}.get(form.agreed.data or "")
            try:
                equality.record(person, agreed=agreed, agreed_on=form.agreed_on.data,
                                answers={name: form[name].data for name in equality.FIELDS},
                                by=current_user, today=today_in_london())
            except equality.EqualityError as e:
                for field, message in e.problems:
                    form[field].errors = [message]
            else:
                flash("Equality information saved" if agreed else "Equality information removed")
                return redirect(url_for("people.show", person_id=person.id))
        status = 400
    else:
        form.agreed.data = "yes" if person.equality_agreed_on else None
        form.agreed_on.process(None, person.equality_agreed_on)
        for name in equality.FIELDS:
            form[name].data = getattr(person, name) or ""
    return render_template("equality/edit.html", form=form, errors=form.error_list(), person=person), status


def section_for(person: Person, viewer: Any) -> Any:
    return equality.shown(person, viewer=viewer)


add_section("equality/_section.html", section_for, order=60)
