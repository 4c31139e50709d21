"""Helpers shared by the record pages (people, incidents, cases, risk assessments, referrals, orders...):
today's date, the page asked for, tables with server-side sorting and paging, names for ids, how a
value is shown, the version an edit form carries, and the pages that refuse a stale save or a
checklist for someone who is not a victim."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, render_template, request, url_for
from sqlalchemy import Select

from ...measures.periods import today_in_london
from ...models import Person
from ...services import lookups, versioning


def today() -> dt.date:
    return today_in_london()


def page_number(name: str = "page") -> int:
    try:
        return max(1, int(request.args.get(name, 1)))
    except ValueError:
        return 1


def agency_names() -> dict[uuid.UUID, str]:
    return lookups.agency_names()


def display(value: Any) -> str:
    if value is None or value == "":
        return "Not given"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.date):
        return value.strftime("%-d %B %Y")
    return str(getattr(value, "label", value))


# --- tables: server-side sorting and paging -------------------------------------------------


@dataclass(frozen=True)
class Listing:
    rows: list[Any]
    total: int
    page: int
    pages: int
    sort: str


def paged(query: Select[Any], *, sorts: dict[str, Any], default: str, sort_param: str = "sort",
          page_param: str = "page") -> Listing:
    """One page of `query`, sorted by the column the request names (`key` or `-key`)."""
    sort = request.args.get(sort_param, default)
    key = sort.removeprefix("-")
    if key not in sorts:
        sort, key = default, default.removeprefix("-")
    column = sorts[key]
    order = column.desc() if sort.startswith("-") else column.asc()
    found = lookups.page_of(query, order=[order], page=page_number(page_param), size=current_app.config["PAGE_SIZE"])
    return Listing(rows=found.rows, total=found.total, page=found.page, pages=found.pages, sort=sort)


def user_names(ids: set[Any]) -> dict[Any, str]:
    return lookups.user_names(ids)


def form_version(form: Any) -> int:
    """The version an edit form was filled from; a form without one is malformed (400)."""
    value = str(form.version.data or "")
    if not value.isdigit():
        abort(400)
    return int(value)


def stale_page(error: versioning.StaleEdit, *, kind: str, labels: dict[str, str], back: str,
               shown: dict[str, str] | None = None) -> tuple[str, int]:
    """The refusal of a stale save: which fields someone else changed meanwhile, and their values now."""
    record = error.record
    lookups.reread(record)
    changes = []
    for name in error.fields:
        if name not in labels:
            continue
        value = shown.get(name) if shown and name in shown else getattr(record, name, None)
        changes.append({"name": labels[name], "value": display(value)})
    return render_template("people/stale.html", kind=kind, record=record, changes=changes, back=back), 409


def stale_record_page(error: versioning.StaleEdit, *, kind: str) -> str:
    """The refusal of a stale save of a person or an incident: which fields changed meanwhile, and
    their current values as the user may see them."""
    record = error.record
    lookups.reread(record)
    labels = FIELD_LABELS.get(kind, {})
    current = []
    for name in error.fields:
        value = getattr(record, name, None)
        if kind == "person" and name in ("address", "safe_contact") and record.do_not_disclose_address:
            value = "(not shown: do not disclose)"
        current.append({"name": labels.get(name, name.replace("_", " ").capitalize()), "value": display(value)})
    back = url_for(f"{'people' if kind == 'person' else 'incidents'}.edit", **{f"{kind}_id": record.id})
    return render_template("people/stale.html", kind=kind, record=record, changes=current, back=back)


FIELD_LABELS = {
    "person": {"surname": "Surname", "forenames": "Forenames", "date_of_birth": "Date of birth",
               "gender": "Gender", "postcode": "Postcode", "address": "Address", "phone": "Phone number",
               "email": "Email address", "safe_contact": "Safe-contact instructions",
               "do_not_disclose_address": "Do not disclose the address", "mental_health": "Mental health",
               "substance_misuse": "Substance misuse", "complex_needs": "Complex needs"},
    "incident": {"occurred_on": "Date", "category": "Category", "domestic_abuse": "Domestic abuse",
                 "locality": "Locality", "area_id": "Designated area", "rural": "Rural", "alcohol": "Alcohol",
                 "drugs": "Drugs", "mental_health": "Mental health", "asb_type": "ASB type"},
}


def not_a_victim(person: Person, message: str) -> tuple[str, int]:
    """The page refusing a DASH checklist or an HRDA referral for someone who is not a victim."""
    return render_template("refused.html", heading=f"{person.display_name} is not a victim",
                           message=message, back=(url_for("people.show", person_id=person.id),
                                                  f"Back to {person.display_name}")), 409
