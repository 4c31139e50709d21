"""The app-wide security layer: who the user is, default deny, CSRF, throttling, security headers.

`init_app` wires it into the app; the pieces live beside it:
`guard` (public / signed_in / require, default deny), `sessions` (server-side
sessions), `signin` (password, second factor, lock-out), `stash` (forms kept
across a time-out).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, g, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import joinedload
from werkzeug.middleware.proxy_fix import ProxyFix

from .. import forms
from ..db import db
from ..models import User
from . import guard, navigation, sessions, stash

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# Long-lived, public assets: no personal data, so they may be cached.
CACHEABLE_ENDPOINTS = {"static"}


def init_app(app: Flask) -> None:
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies:
        # Behind N reverse proxies: trust exactly N X-Forwarded-* hops, no more.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]

    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    limiter = Limiter(key_func=get_remote_address, default_limits=[])
    limiter.init_app(app)
    app.extensions["casework.limiter"] = limiter

    CSRFProtect(app)

    login = LoginManager()
    login.session_protection = None  # sessions are checked on the server instead
    login.request_loader(_load_user)
    login.init_app(app)

    guard.init_app(app)
    forms.init_app(app)
    app.context_processor(lambda: {"main_navigation": navigation.main_navigation,
                                   "service_navigation": navigation.service_navigation})

    @app.before_request
    def _restore_kept_form() -> None:
        stash.restore_into_request()

    @app.after_request
    def _security_headers(response: Response) -> Response:
        return security_headers(response)

    @app.teardown_appcontext
    def _audit_leftovers(_exc: BaseException | None) -> None:
        from ..services import audit

        audit.write_leftovers()


def _load_user(_request: Any) -> User | None:
    """The signed-in user, from the session cookie's token checked against the server."""
    token = session.get("sid")
    if not token:
        return None
    found = sessions.resume(token=token)
    if found is None or isinstance(found, sessions.TimedOut):
        session.pop("sid", None)
        if isinstance(found, sessions.TimedOut):
            g.casework_timed_out_user = found.user_id
        return None
    # One statement for the user, their agency and their roles (every request asks).
    user = db.session.get(User, found.user_id, options=[joinedload(User.role_rows)])
    if user is None or not user.active:
        return None
    g.casework_session_id = found.session_id
    return user


def security_headers(response: Response) -> Response:
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h["X-Content-Type-Options"] = "nosniff"
    h["Referrer-Policy"] = "no-referrer"
    h["X-Frame-Options"] = "DENY"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    if request.endpoint not in CACHEABLE_ENDPOINTS:
        h["Cache-Control"] = "no-store"
        h["Pragma"] = "no-cache"
    if current_app.config["ENV"] == "production":
        h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response
