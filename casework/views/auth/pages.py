"""Signing in (password, then the second factor or its enrolment), signing out, the set-up link."""

from __future__ import annotations

import io

import segno
from flask import (
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired

from ... import crypto
from ...auth import pending, sessions, signin, stash
from ...auth.guard import public, safe_next, signed_in
from ...auth.signin import Result
from ...db import db
from ...forms import Form
from ...models import User
from ...services import audit, lookups, users
from . import bp


class SignInForm(Form):
    email = StringField("Email address", validators=[InputRequired("Enter your email address")])
    password = PasswordField("Password", validators=[InputRequired("Enter your password")])


class CodeForm(Form):
    code = StringField("Code", validators=[InputRequired("Enter the code from your authenticator app")])


class NewPasswordForm(Form):
    password = PasswordField("New password", validators=[InputRequired("Enter a password")])
    confirm = PasswordField("Confirm the password", validators=[InputRequired("Enter the password again")])

    def validate_confirm(self, field: PasswordField) -> None:
        from wtforms.validators import ValidationError

        if self.password.data and field.data != self.password.data:
            raise ValidationError("The passwords do not match")


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> ResponseReturnValue:
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("home.index"))
    if session.pop("flash_timeout", False):
        flash("You were signed out because you had not done anything for a while. Sign in to carry on.")
    form = SignInForm()
    nxt = safe_next(request.args.get("next"))
    if request.method == "GET":
        crypto.prepare_dummy_password_hash(**users.hash_params())
        return render_template("auth/sign_in.html", form=form, next=nxt)
    if not form.validate():
        return render_template("auth/sign_in.html", form=form, next=nxt), 400
    attempt = signin.check_password(email=form.email.data, password=form.password.data)
    if attempt.result in (Result.BAD, Result.LOCKED, Result.THROTTLED):
        form.password.data = ""
        return render_template("auth/sign_in.html", form=form, next=nxt, failure=attempt.message), 400
    user = lookups.record(User, attempt.user_id)
    if user is None:
        return redirect(url_for("auth.sign_in"))
    keep = {k: session[k] for k in ("stash",) if k in session}
    session.clear()  # nothing from before the password survives, except a kept form's token
    session.update(keep)
    return _to_second_factor(user, next_path=nxt)


def _to_second_factor(user: User, *, next_path: str | None) -> ResponseReturnValue:
    """The password is checked (or set): on to the code, or to setting up the authenticator."""
    stage = pending.CODE if user.totp_enrolled else pending.ENROL
    session["pending"] = pending.begin(user=user, stage=stage, next_path=next_path)
    return redirect(url_for("auth.code" if stage == pending.CODE else "auth.enrol"))


def _pending(stage: str) -> tuple[User, pending.Pending] | None:
    """The user who gave their password and is at `stage` of the second factor (kept on the server)."""
    found = pending.find(session.get("pending"), stage=stage)
    user = lookups.record(User, found.user_id) if found else None
    return (user, found) if user is not None and found is not None and user.active else None


@bp.route("/sign-in/code", methods=["GET", "POST"])
@public
def code() -> ResponseReturnValue:
    # The request's own transaction is not begun before the code is checked: the check writes in
    # transactions of its own, which on SQLite would otherwise wait for the request's write lock.
    found = pending.find(session.get("pending"), stage=pending.CODE)
    if found is None:
        session.pop("pending", None)
        return redirect(url_for("auth.sign_in"))
    form = CodeForm()
    if request.method == "GET":
        return render_template("auth/code.html", form=form)
    if not form.validate():
        return render_template("auth/code.html", form=form), 400
    attempt = signin.check_code(user_id=found.user_id, code=form.code.data)
    if attempt.result is not Result.SIGNED_IN:
        if attempt.result is Result.LOCKED:
            session.pop("pending", None)
            flash(signin.LOCKED)
            return redirect(url_for("auth.sign_in"))
        said = attempt.result in (Result.THROTTLED, Result.USED, Result.USED_RECOVERY)
        form.code.errors = [attempt.message if said and attempt.message else signin.BAD_CODE]
        return render_template("auth/code.html", form=form), 400
    user = lookups.record(User, found.user_id)
    if user is None or not user.active:
        return redirect(url_for("auth.sign_in"))
    return redirect(_complete(user, found) or url_for("auth.sign_in"))


@bp.route("/sign-in/set-up-authenticator", methods=["GET", "POST"])
@public
def enrol() -> ResponseReturnValue:
    waiting = _pending(pending.ENROL)
    if waiting is None:
        session.pop("pending", None)
        return redirect(url_for("auth.sign_in"))
    user, found = waiting
    secret = users.begin_enrolment(user=user)
    form = CodeForm()
    if request.method == "POST" and form.validate():
        try:
            codes = users.confirm_enrolment(user=user, code=form.code.data)
        except users.UserError as e:
            form.code.errors = [str(e)]
        else:
            after = _complete(user, found)
            if after is None:  # used by another request in the meantime: keep nothing of this one
                db.session.rollback()
                return redirect(url_for("auth.sign_in"))
            return render_template("auth/recovery_codes.html", codes=codes, next=after)
    status = 400 if request.method == "POST" else 200
    return render_template("auth/enrol.html", form=form, secret=_spaced(secret), email=user.email), status


@bp.get("/sign-in/set-up-authenticator/qr-code.svg")
@public
def enrol_qr_code() -> ResponseReturnValue:
    waiting = _pending(pending.ENROL)
    user = waiting[0] if waiting else None
    if user is None or not user.totp_secret or user.totp_enrolled:
        abort(404)
    uri = crypto.totp_uri(user.totp_secret, account=user.email, issuer="Casework")
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, border=4, xmldecl=False, svgns=True,
                                    title="QR code for your authenticator app")
    return Response(out.getvalue(), mimetype="image/svg+xml")


def _complete(user: User, found: pending.Pending) -> str | None:
    """Both factors checked: the pending sign-in used up, a new session (a new id), the failure count
    cleared, the sign-in audited. Returns where to go next; None when the pending sign-in had already
    been used (it works once)."""
    if not pending.use(session.get("pending"), user_id=user.id):
        session.clear()
        return None
    keep = {k: session[k] for k in ("stash",) if k in session}
    signin.succeeded(user)
    token = sessions.start(user=user, client_address=request.remote_addr)
    session.clear()
    session.update(keep)
    session["sid"] = token
    g.pop("_login_user", None)  # the new session's user, for the page this request renders
    audit.record("sign_in", user=user)
    return stash.return_path() or safe_next(found.next_path) or url_for("home.index")


@bp.get("/sign-out")
@signed_in
def sign_out_page() -> ResponseReturnValue:
    return render_template("auth/sign_out.html")


@bp.post("/sign-out")
@public  # signing out must work even when the session has just timed out
def sign_out() -> ResponseReturnValue:
    if current_user.is_authenticated:
        sid = g.get("casework_session_id")
        if sid is not None:
            sessions.end(session_id=sid, reason="signed_out")
        pending.end_all(user_id=current_user.id)
        audit.record("sign_out")
    pending.drop(session.get("pending"))
    session.clear()
    g.pop("_login_user", None)
    flash("You have signed out.")
    return redirect(url_for("auth.sign_in"))


@bp.route("/set-up/<token>", methods=["GET", "POST"])
@public
def set_up(token: str) -> ResponseReturnValue:
    if signin.address_throttled():
        audit.record("sign_in.throttled", user=None, details={"step": "set-up link"})
        return render_template("auth/link_invalid.html", throttled=True), 429
    user = users.by_setup_token(token)
    if user is None:
        signin.setup_link_failed()
        return render_template("auth/link_invalid.html"), 404
    form = NewPasswordForm()
    if request.method == "POST" and form.validate():
        try:
            users.set_password(user=user, password=form.password.data, by_setup_link=True)
        except users.UserError as e:
            form.password.errors = [str(e)]
        else:
            session.clear()
            flash("Your password is set. Now set up your authenticator app." if not user.totp_enrolled
                  else "Your password is set. Now enter the code from your authenticator app.")
            return _to_second_factor(user, next_path=None)
    status = 400 if request.method == "POST" else 200
    return render_template("auth/set_up.html", form=form, user=user), status


def _spaced(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
