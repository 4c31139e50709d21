"""The audit page: managers see their agency's entries, administrators everyone's.

Search terms are decrypted only for managers (administrators see no case data).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

from flask import current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select

from ... import policy
from ...auth.guard import require
from ...db import db
from ...models import AuditEntry, User
from ...policy import Permission
from . import bp


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.get("/audit")
@require(Permission.VIEW_AUDIT)
def index() -> ResponseReturnValue:
    args = request.args
    errors: list[dict[str, str]] = []
    conditions = []
    if not policy.can(current_user, Permission.MANAGE_USERS):
        conditions.append(AuditEntry.agency_id == current_user.agency_id)
    email = (args.get("user") or "").strip().lower()
    if email:
        found = db.session.scalar(select(User.id).where(User.email == email))
        if found is None:
            errors.append({"text": f"No user has the email address {email}", "href": "#user"})
        conditions.append(AuditEntry.user_id == found)
    record = (args.get("record") or "").strip()
    if record:
        try:
            conditions.append(AuditEntry.record_id == uuid.UUID(record))
        except ValueError:
            errors.append({"text": "A record reference looks like 3f2b…: copy it from the record's page",
                           "href": "#record"})
    date_from, date_to = _date(args.get("from")), _date(args.get("to"))
    if args.get("from") and date_from is None:
        errors.append({"text": "Enter the from date as YYYY-MM-DD", "href": "#from"})
    if args.get("to") and date_to is None:
        errors.append({"text": "Enter the to date as YYYY-MM-DD", "href": "#to"})
    if date_from:
        conditions.append(AuditEntry.at >= dt.datetime.combine(date_from, dt.time(), dt.UTC))
    if date_to:
        conditions.append(AuditEntry.at < dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), dt.UTC))
    size = current_app.config["PAGE_SIZE"]
    try:
        page = max(1, int(args.get("page", 1)))
    except ValueError:
        page = 1
    entries: list[AuditEntry] = []
    total = 0
    if not errors:
        total = db.session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions)) or 0
        entries = list(db.session.scalars(select(AuditEntry).where(*conditions)
                                          .order_by(AuditEntry.position.desc())
                                          .limit(size).offset((page - 1) * size)))
    people = {u.id: u.email for u in db.session.scalars(
        select(User).where(User.id.in_({e.user_id for e in entries if e.user_id})))}
    show_terms = policy.can(current_user, Permission.READ_SEARCH_TERMS)
    rows = [{
        "position": e.position, "at": e.at, "user": people.get(e.user_id, "—") if e.user_id else "—",
        "action": e.action, "record": f"{e.record_kind} {e.record_id}" if e.record_id else (e.record_kind or ""),
        "details": _details(e.details), "terms": (e.terms if show_terms else "hidden") if e.terms_sealed else "",
        "terms_label": terms_label(e.action),
        "results": e.result_count, "address": e.client_address or "",
    } for e in entries]
    pages = max(1, -(-total // size))
    query = {k: v for k, v in args.items() if k != "page" and v}
    return render_template("audit/index.html", rows=rows, total=total, page=page, pages=pages, query=query,
                           errors=errors, args=args), (400 if errors else 200)


def terms_label(action: str) -> str:
    """What the sealed words of an entry are: a search's terms, or the reason a person gave (for
    recovering a restricted record, or erasing one)."""
    if action == "restriction.recovered":
        return "Reason for recovery"
    if action.endswith(".erase"):
        return "Reason for erasure"
    return "Search terms"


def _details(raw: str | None) -> str:
    if not raw:
        return ""
    doc = json.loads(raw)
    return "; ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in sorted(doc.items()))
