"""Helpers shared by the case, risk assessment and referral pages: today's date, tables with
server-side sorting and paging, names for ids, the version an edit form carries, and the page that
refuses a stale save."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, render_template, request
from sqlalchemy import Select, func, select

from ..db import db
from ..measures.periods import today_in_london
from ..models import User
from ..services import versioning
from .people import agency_names, display, page_number  # noqa: F401  (agency_names: the pages take it from here)


def today() -> dt.date:
    return today_in_london()


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
    size = current_app.config["PAGE_SIZE"]
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, math.ceil(total / size))
    page = min(page_number(page_param), pages)
    rows = list(db.session.scalars(query.order_by(order, *_tie_breakers(query)).limit(size)
                                   .offset((page - 1) * size)))
    return Listing(rows=rows, total=total, page=page, pages=pages, sort=sort)


def _tie_breakers(query: Select[Any]) -> list[Any]:
    entity = query.column_descriptions[0]["entity"]
    return [entity.id]


def user_names(ids: set[Any]) -> dict[Any, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    # Ids and names only: a whole User would bring its agency and its roles too.
    return {i: name for i, name in db.session.execute(select(User.id, User.name).where(User.id.in_(ids)))}


def form_version(form: Any) -> int:
    """The version an edit form was filled from; a form without one is malformed (400)."""
    value = str(form.version.data or "")
    if not value.isdigit():
        abort(400)
    return int(value)


def stale_page(error: versioning.StaleEdit, *, kind: str, labels: dict[str, str], back: str,
               shown: dict[str, str] | None = None) -> Any:
    """The refusal of a stale save: which fields someone else changed meanwhile, and their values now."""
    record = error.record
    db.session.refresh(record)
    changes = []
    for name in error.fields:
        if name not in labels:
            continue
        value = shown.get(name) if shown and name in shown else getattr(record, name, None)
        changes.append({"name": labels[name], "value": display(value)})
    return render_template("people/stale.html", kind=kind, record=record, changes=changes, back=back), 409
