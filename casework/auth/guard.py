"""Default deny: every route needs a signed-in user with a permission unless it is marked public.

    @bp.get("/people/<uuid:person_id>")
    @require(Permission.VIEW_RECORDS)
    def show(person_id): person = visible_or_404(Person, person_id) ...

A route with neither `@public`, `@signed_in` nor `@require(...)` is refused
for everyone (and tests/integration/test_access_policy.py fails until the
policy table declares it).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask_login import current_user

from .. import policy
from ..db import db
from ..policy import Permission
from ..services import audit

ACCESS_ATTR = "_casework_access"
# Public routes that never need to know who is asking.
ANONYMOUS_ENDPOINTS = {"static", "health.healthz"}
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Access:
    public: bool = False
    permissions: tuple[Permission, ...] = ()


def public(view: F) -> F:
    """Anyone may use this route, signed in or not (sign-in, health, assets)."""
    setattr(view, ACCESS_ATTR, Access(public=True))
    return view


def signed_in(view: F) -> F:
    """Any signed-in user (their own account, signing out, the start page)."""
    setattr(view, ACCESS_ATTR, Access())
    return view


def require(*permissions: Permission) -> Callable[[F], F]:
    """A signed-in user holding every one of `permissions`."""
    if not permissions:
        raise ValueError("require() needs at least one permission; use @signed_in for any signed-in user")

    def mark(view: F) -> F:
        setattr(view, ACCESS_ATTR, Access(permissions=tuple(permissions)))
        return view

    return mark


def access_of(app: Flask, endpoint: str) -> Access | None:
    if endpoint == "static":
        return Access(public=True)
    view = app.view_functions.get(endpoint)
    return getattr(view, ACCESS_ATTR, None)


def visible_or_404(model: type, record_id: uuid.UUID | str) -> Any:
    """The record, when the signed-in user may see it; otherwise 404 (and the refusal audited).
    A record merged into another the user may not see answers 404 as one that does not exist: that
    it exists must not show, nor may anything be added to it (a merged record whose survivor they
    see is theirs to be told about: its page sends them on, a form refuses it naming why)."""
    try:
        record_id = record_id if isinstance(record_id, uuid.UUID) else uuid.UUID(str(record_id))
    except ValueError:
        abort(404)
    record = db.session.get(model, record_id)
    if record is None:
        abort(404)
    survivor_id = getattr(record, "merged_into_id", None)
    if survivor_id is not None:
        survivor = db.session.get(model, survivor_id)
        if survivor is None or not policy.can_view(current_user, survivor):
            abort(404)
    if not policy.can_view(current_user, record):
        audit.record("access.refused", record=record, details={"reason": "record not visible"})
        abort(404)
    return record


def init_app(app: Flask) -> None:
    @app.before_request
    def _default_deny() -> Any:
        # Tests share one app context (and `g`) across requests: never reuse the last request's user.
        for key in ("_login_user", "casework_timed_out_user", "casework_session_id", "casework_restored_form",
                    "casework_started_session"):
            g.pop(key, None)
        endpoint = request.endpoint
        if endpoint is None:
            return None  # no such route: routing answers 404 or 405
        access = access_of(current_app, endpoint)
        if access is not None and access.public:
            if "sid" in session and endpoint not in ANONYMOUS_ENDPOINTS:
                # Resolve the user now, before the view begins the request's transaction: resuming
                # a session may write in a transaction of its own.
                current_user._get_current_object()
            return None
        if not current_user.is_authenticated:
            from .stash import keep_form_after_timeout

            return keep_form_after_timeout() or _to_sign_in()
        if access is None:
            audit.record("access.refused", details={"endpoint": endpoint, "reason": "route not declared"})
            abort(403)
        missing = [p.value for p in access.permissions if not policy.can(current_user, p)]
        if missing:
            audit.record("access.refused", details={"endpoint": endpoint, "missing": missing})
            abort(403)
        return None


def _to_sign_in() -> Any:
    if request.method == "GET":
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
    session["flash_timeout"] = True
    return redirect(url_for("auth.sign_in"))


def safe_next(value: str | None) -> str | None:
    """A local path to return to after signing in (never another site). Control characters are
    refused: browsers drop tabs and line breaks from an address, so "/<tab>/evil.example" would be
    "//evil.example", another site."""
    if not value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return None
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    return value
