"""A user's own account: their details, and changing their password."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import BooleanField, PasswordField
from wtforms.validators import InputRequired, ValidationError

from ...auth import sessions, signin
from ...auth.guard import signed_in
from ...auth.signin import Result
from ...db import db
from ...forms import Form
from ...models import User
from ...services import lookups, users
from . import bp

CURRENT_PASSWORD_WRONG = "Your current password is not right"


class ChangePasswordForm(Form):
    current_password = PasswordField("Current password", validators=[InputRequired("Enter your current password")])
    password = PasswordField("New password", validators=[InputRequired("Enter a new password")])
    confirm = PasswordField("Confirm the new password", validators=[InputRequired("Enter the new password again")])

    def validate_confirm(self, field: PasswordField) -> None:
        if self.password.data and field.data != self.password.data:
            raise ValidationError("The passwords do not match")


class DigestForm(Form):
    daily_digest = BooleanField("Email me each morning how many case reviews, tasks and HRDA actions I have due")


def _page(form: ChangePasswordForm | None = None) -> str:
    return render_template("account/index.html", form=form or ChangePasswordForm(),
                           digest_form=DigestForm(formdata=None, data={"daily_digest": current_user.daily_digest}))


@bp.get("/account")
@signed_in
def index() -> ResponseReturnValue:
    return _page()


@bp.post("/account/email")
@signed_in
def email_choices() -> ResponseReturnValue:
    """Turn the daily digest on or off (other emails are about work given to the user: always sent)."""
    form = DigestForm()
    users.set_daily_digest(user=current_user, wanted=bool(form.daily_digest.data))
    flash("You will get the daily email" if form.daily_digest.data else "You will no longer get the daily email")
    return redirect(url_for("account.index"))


@bp.post("/account/password")
@signed_in
def change_password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    if form.validate():
        user_id, session_id = current_user.id, g.get("casework_session_id")
        # The request's transaction has only read the user so far: end it, so that the slow hash runs
        # holding no lock and a failure is counted (in a transaction of its own) without waiting for it.
        db.session.rollback()
        attempt = signin.check_current_password(user_id=user_id, password=form.current_password.data)
        if attempt.just_locked:
            # Whoever holds this session has now failed the password too often: it ends here.
            if session_id is not None:
                sessions.end(session_id=session_id, reason="locked")
            session.clear()
            g.pop("_login_user", None)
            flash(signin.LOCKED)
            return redirect(url_for("auth.sign_in"))
        if attempt.result is not Result.CORRECT:
            form.current_password.errors = [{Result.THROTTLED: signin.THROTTLED, Result.LOCKED: signin.LOCKED}
                                            .get(attempt.result, CURRENT_PASSWORD_WRONG)]
            return _page(form), 400
        user = lookups.record(User, user_id)
        if user is None:  # signed in a moment ago
            abort(404)
        try:
            users.set_password(user=user, password=form.password.data)
        except users.UserError as e:
            getattr(form, e.field or "password").errors = [str(e)]
        else:
            # Every session of the user has ended, this one too: they sign in with the new password.
            session.clear()
            flash("Your password has been changed. Sign in with your new password.")
            return redirect(url_for("auth.sign_in"))
    return _page(form), 400
