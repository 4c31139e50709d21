"""A form posted after the session timed out is not lost.

The posted fields are kept on the server, encrypted (they may hold personal
data), bound to the user whose session timed out, for an hour. After signing
in again the user is sent back to the form's page, and forms built on
`casework.forms.Form` fill themselves from what was kept; it is then deleted.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import current_app, flash, g, redirect, request, session, url_for
from sqlalchemy import delete, select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import MethodNotAllowed, NotFound

from .. import crypto
from ..db import begin_mode, db
from ..models import FormStash
from ..models.base import utcnow

KEEP_FOR = dt.timedelta(hours=1)
SKIP_FIELDS = {"csrf_token"}


def keep_form_after_timeout() -> Any:
    """For a form posted by a user whose session has just timed out: keep it, send them to sign in."""
    user_id = g.get("casework_timed_out_user")
    if request.method != "POST" or user_id is None or not request.form:
        return None
    fields = [[k, v] for k, v in request.form.items(multi=True) if k not in SKIP_FIELDS]
    token = crypto.new_token()
    with db.new_session() as s, begin_mode("IMMEDIATE"):
        s.execute(delete(FormStash).where(FormStash.expires_at < utcnow()))
        stash = FormStash(token_hash=crypto.token_digest(token), user_id=user_id, path=request.path,
                          expires_at=utcnow() + KEEP_FOR)
        stash.fields = json.dumps(fields)
        s.add(stash)
        s.commit()
    session["stash"] = token
    session["flash_timeout"] = True
    return redirect(url_for("auth.sign_in"))


def return_path() -> str | None:
    """Where to send the user after signing in, when a form of theirs was kept."""
    token = session.get("stash")
    if not token:
        return None
    stash = db.session.scalar(select(FormStash).where(FormStash.token_hash == crypto.token_digest(token)))
    if stash is None or stash.expires_at < utcnow():
        session.pop("stash", None)
        return None
    return stash.path if _has_get(stash.path) else None


def restore_into_request() -> None:
    """On the kept form's page, for its owner: put the kept fields where forms look for them."""
    token = session.get("stash")
    if not token or request.method != "GET":
        return
    from flask_login import current_user

    if not current_user.is_authenticated:
        return
    with db.new_session() as s, begin_mode("IMMEDIATE"):
        stash = s.scalar(select(FormStash).where(FormStash.token_hash == crypto.token_digest(token)))
        if stash is None or stash.user_id != current_user.id or stash.expires_at < utcnow():
            session.pop("stash", None)
            return
        if stash.path != request.path:
            return
        fields = json.loads(stash.fields or "[]")  # (never None: the column is NOT NULL)
        s.delete(stash)
        s.commit()
    g.casework_restored_form = MultiDict([tuple(pair) for pair in fields])
    session.pop("stash", None)
    flash("Your session had timed out. We kept what you entered: check it and submit it again.")


def restored_form() -> MultiDict[str, str] | None:
    restored: MultiDict[str, str] | None = g.pop("casework_restored_form", None)
    return restored


def _has_get(path: str) -> bool:
    try:
        current_app.url_map.bind("localhost").match(path, method="GET")
    except (NotFound, MethodNotAllowed):
        return False
    except Exception:  # noqa: BLE001 - a redirect or anything else: do not send them there
        return False
    return True
