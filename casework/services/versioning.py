"""Optimistic locking for edit forms: a form carries the version of the record it was filled from;
saving it over a newer version is refused and nothing is overwritten.

The version check before saving catches the usual case (someone saved since the form was
opened); SQLAlchemy's version counter (`version_id_col`) catches the race between that check
and the UPDATE, which then matches no row and raises StaleDataError.

What changed meanwhile comes from the audit trail: every edit records its field names and the
version it produced (`record_edit`), so the refusal can name the fields changed since the
user's version without keeping old values anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select

from ..db import db
from ..models import AuditEntry
from . import audit


class StaleEdit(Exception):
    """The record was saved by someone else after the form was filled in."""

    def __init__(self, record: Any, *, form_version: int, fields: list[str]) -> None:
        super().__init__("This record was changed by someone else after you opened it")
        self.record = record
        self.form_version = form_version
        self.fields = fields


def check_version(record: Any, form_version: int | None, *, action_prefix: str) -> None:
    """Refuse (StaleEdit) when the form's version is not the record's current one."""
    if form_version is None or int(form_version) != record.version:
        raise StaleEdit(record, form_version=int(form_version or 0),
                        fields=changed_since(record, int(form_version or 0), action_prefix=action_prefix))


def changed_since(record: Any, version: int, *, action_prefix: str) -> list[str]:
    """The field names changed in edits of `record` that produced a version after `version`."""
    names: set[str] = set()
    rows = db.session.scalars(select(AuditEntry.details).where(
        AuditEntry.record_id == record.id, AuditEntry.action.like(f"{action_prefix}.%"),
        AuditEntry.details.is_not(None)))
    for details in rows:
        doc = json.loads(details or "{}")  # (never None: the query leaves those out)
        if int(doc.get("version") or 0) > version:
            names.update(doc.get("fields") or [])
    return sorted(names)


def record_edit(record: Any, *, action: str, fields: Iterable[str], user: Any = None) -> None:
    """Audit an edit: the field names and the version it produced (after the flush)."""
    kwargs = {} if user is None else {"user": user}
    audit.record(action, record=record, details={"fields": sorted(set(fields)), "version": record.version},
                 **kwargs)


def flush_or_stale(record: Any, form_version: int, *, action_prefix: str,
                   on_stale: Callable[[], None] | None = None) -> None:
    """Flush; a concurrent save detected by the version counter becomes StaleEdit."""
    from sqlalchemy.orm.exc import StaleDataError

    try:
        db.session.flush()
    except StaleDataError as e:
        db.session.rollback()
        if on_stale is not None:
            on_stale()
        fresh = db.session.get(type(record), record.id, populate_existing=True)
        raise StaleEdit(fresh or record, form_version=form_version,
                        fields=changed_since(fresh or record, form_version, action_prefix=action_prefix)) from e
