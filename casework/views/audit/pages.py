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

from ... import policy
from ...auth.guard import require
from ...policy import Permission
from ...services import audit_search
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
    # A manager sees their own agency's entries; whoever manages users (an administrator) everyone's.
    agency_id = None if policy.can(current_user, Permission.MANAGE_USERS) else current_user.agency_id
    email = (args.get("user") or "").strip().lower()
    user_id = audit_search.user_id_for(email) if email else None
    if email and user_id is None:
        errors.append({"text": f"No user has the email address {email}", "href": "#user"})
    record = (args.get("record") or "").strip()
    record_id = None
    if record:
        try:
            record_id = uuid.UUID(record)
        except ValueError:
            errors.append({"text": "A record reference looks like 3f2b…: copy it from the record's page",
                           "href": "#record"})
    date_from, date_to = _date(args.get("from")), _date(args.get("to"))
    if args.get("from") and date_from is None:
        errors.append({"text": "Enter the from date as YYYY-MM-DD", "href": "#from"})
    if args.get("to") and date_to is None:
        errors.append({"text": "Enter the to date as YYYY-MM-DD", "href": "#to"})
    size = current_app.config["PAGE_SIZE"]
    try:
        page = max(1, int(args.get("page", 1)))
    except ValueError:
        page = 1
    found = audit_search.EntriesPage(entries=[], total=0, emails={})
    if not errors:
        found = audit_search.find(agency_id=agency_id, user_id=user_id, record_id=record_id, since=date_from,
                                  until=date_to, page=page, size=size)
    show_terms = policy.can(current_user, Permission.READ_SEARCH_TERMS)
    rows = [{
        "position": e.position, "at": e.at, "user": found.emails.get(e.user_id, "—") if e.user_id else "—",
        "action": e.action, "record": f"{e.record_kind} {e.record_id}" if e.record_id else (e.record_kind or ""),
        "details": _details(e.details),
        "terms": (e.terms if show_terms else "hidden") if audit_search.has_terms(e) else "",
        "terms_label": terms_label(e.action),
        "results": e.result_count, "address": e.client_address or "",
    } for e in found.entries]
    total = found.total
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
