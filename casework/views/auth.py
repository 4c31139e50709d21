"""Signing in (password, then the second factor or its enrolment), signing out, the set-up link."""

from __future__ import annotations

import io
import time
import uuid

import segno
from flask import (
    Blueprint,
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
from flask_login import current_user
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired

from .. import crypto
from ..auth import sessions, signin, stash
from ..auth.guard import public, safe_next, signed_in
from ..auth.signin import Result
from ..db import db
from ..forms import Form
from ..models import User
from ..services import audit, users

bp = Blueprint("auth", __name__)

PENDING_FOR = 600  # seconds between the password and the second factor


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
def sign_in():  # type: ignore[no-untyped-def]
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
    keep = {k: session[k] for k in ("stash",) if k in session}
    session.clear()  # nothing from before the password survives, except a kept form's token
    session.update(keep)
    session["pending"] = {"user": str(attempt.user_id), "at": int(time.time()), "next": nxt,
                          "stage": "code" if attempt.result is Result.NEED_CODE else "enrol"}
    return redirect(url_for("auth.code" if attempt.result is Result.NEED_CODE else "auth.enrol"))


def _pending_id(stage: str) -> uuid.UUID | None:
    """The user who gave their password, waiting for the second factor (from the signed cookie)."""
    pending = session.get("pending")
    if not pending or pending.get("stage") != stage or time.time() - pending.get("at", 0) > PENDING_FOR:
        return None
    return uuid.UUID(pending["user"])


def _pending(stage: str) -> User | None:
    user_id = _pending_id(stage)
    user = db.session.get(User, user_id) if user_id else None
    return user if user is not None and user.active else None


@bp.route("/sign-in/code", methods=["GET", "POST"])
@public
def code():  # type: ignore[no-untyped-def]
    # The request's own transaction is not begun before the code is checked: the check writes in
    # transactions of its own, which on SQLite would otherwise wait for the request's write lock.
    user_id = _pending_id("code")
    if user_id is None:
        return redirect(url_for("auth.sign_in"))
    form = CodeForm()
    if request.method == "GET":
        return render_template("auth/code.html", form=form)
    if not form.validate():
        return render_template("auth/code.html", form=form), 400
    attempt = signin.check_code(user_id=user_id, code=form.code.data)
    if attempt.result is not Result.SIGNED_IN:
        if attempt.result is Result.LOCKED:
            session.pop("pending", None)
            flash(signin.LOCKED)
            return redirect(url_for("auth.sign_in"))
        form.code.errors = [signin.THROTTLED if attempt.result is Result.THROTTLED else signin.BAD_CODE]
        return render_template("auth/code.html", form=form), 400
    user = _pending("code")
    if user is None:
        return redirect(url_for("auth.sign_in"))
    return redirect(_complete(user))


@bp.route("/sign-in/set-up-authenticator", methods=["GET", "POST"])
@public
def enrol():  # type: ignore[no-untyped-def]
    user = _pending("enrol")
    if user is None:
        return redirect(url_for("auth.sign_in"))
    secret = users.begin_enrolment(user=user)
    form = CodeForm()
    if request.method == "POST" and form.validate():
        try:
            codes = users.confirm_enrolment(user=user, code=form.code.data)
        except users.UserError as e:
            form.code.errors = [str(e)]
        else:
            return render_template("auth/recovery_codes.html", codes=codes, next=_complete(user))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/enrol.html", form=form, secret=_spaced(secret), email=user.email), status


@bp.get("/sign-in/set-up-authenticator/qr-code.svg")
@public
def enrol_qr_code():  # type: ignore[no-untyped-def]
    user = _pending("enrol")
    if user is None or not user.totp_secret or user.totp_enrolled:
        abort(404)
    uri = crypto.totp_uri(user.totp_secret, account=user.email, issuer="Casework")
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, border=4, xmldecl=False, svgns=True,
                                    title="QR code for your authenticator app")
    return Response(out.getvalue(), mimetype="image/svg+xml")


def _complete(user: User) -> str:
    """Both factors checked: a new session (a new id), the failure count cleared, the sign-in audited.
    Returns where to go next."""
    pending = session.get("pending") or {}
    keep = {k: session[k] for k in ("stash",) if k in session}
    signin.succeeded(user)
    token = sessions.start(user=user, client_address=request.remote_addr)
    session.clear()
    session.update(keep)
    session["sid"] = token
    g.pop("_login_user", None)
    audit.record("sign_in", user=user)
    return stash.return_path() or safe_next(pending.get("next")) or url_for("home.index")


@bp.get("/sign-out")
@signed_in
def sign_out_page():  # type: ignore[no-untyped-def]
    return render_template("auth/sign_out.html")


@bp.post("/sign-out")
@public  # signing out must work even when the session has just timed out
def sign_out():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        sid = g.get("casework_session_id")
        if sid is not None:
            sessions.end(session_id=sid, reason="signed_out")
        audit.record("sign_out")
    session.clear()
    g.pop("_login_user", None)
    flash("You have signed out.")
    return redirect(url_for("auth.sign_in"))


@bp.route("/set-up/<token>", methods=["GET", "POST"])
@public
def set_up(token: str):  # type: ignore[no-untyped-def]
    user = users.by_setup_token(token)
    if user is None:
        return render_template("auth/link_invalid.html"), 404
    form = NewPasswordForm()
    if request.method == "POST" and form.validate():
        try:
            users.set_password(user=user, password=form.password.data, by_setup_link=True)
        except users.UserError as e:
            form.password.errors = [str(e)]
        else:
            session.clear()
            session["pending"] = {"user": str(user.id), "at": int(time.time()), "next": None,
                                  "stage": "code" if user.totp_enrolled else "enrol"}
            flash("Your password is set. Now set up your authenticator app.")
            return redirect(url_for("auth.code" if user.totp_enrolled else "auth.enrol"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/set_up.html", form=form, user=user), status


def _spaced(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
