"""A user's own account: their details, and changing their password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_login import current_user
from wtforms import PasswordField
from wtforms.validators import InputRequired, ValidationError

from ..auth.guard import signed_in
from ..forms import Form
from ..services import users

bp = Blueprint("account", __name__)


class ChangePasswordForm(Form):
    current_password = PasswordField("Current password", validators=[InputRequired("Enter your current password")])
    password = PasswordField("New password", validators=[InputRequired("Enter a new password")])
    confirm = PasswordField("Confirm the new password", validators=[InputRequired("Enter the new password again")])

    def validate_confirm(self, field: PasswordField) -> None:
        if self.password.data and field.data != self.password.data:
            raise ValidationError("The passwords do not match")


@bp.get("/account")
@signed_in
def index():  # type: ignore[no-untyped-def]
    return render_template("account/index.html", form=ChangePasswordForm())


@bp.post("/account/password")
@signed_in
def change_password():  # type: ignore[no-untyped-def]
    form = ChangePasswordForm()
    if form.validate():
        try:
            users.change_password(user=current_user, current=form.current_password.data, new=form.password.data)
        except users.UserError as e:
            getattr(form, e.field or "password").errors = [str(e)]
        else:
            # Every session of the user has ended, this one too: they sign in with the new password.
            session.clear()
            flash("Your password has been changed. Sign in with your new password.")
            return redirect(url_for("auth.sign_in"))
    return render_template("account/index.html", form=form), 400
