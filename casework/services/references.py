"""Finding a record by its short reference (`casework.models.reference`), as the viewer may see it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from .. import policy
from ..db import db
from ..models import Case, Incident, Person, Referral
from ..models.reference import parse_reference
from . import audit

MODELS: dict[str, type] = {"person": Person, "incident": Incident, "case": Case, "referral": Referral}


def find(text: str | None, *, viewer: Any, in_a_name_box: bool = False) -> tuple[str, Any] | None:
    """(kind, record) for text that is a record's reference, when `viewer` may see the record; None
    for text that is not a reference, names no record, or names one they may not see (not told apart).
    A merged person's reference leads to the record it was merged into."""
    parsed = parse_reference(text, in_a_name_box=in_a_name_box)
    if parsed is None:
        return None
    kind, reference = parsed
    model = MODELS[kind]
    record = db.session.scalar(select(model).where(model.reference == reference))  # type: ignore[attr-defined]
    if isinstance(record, Person) and record.merged_into_id is not None:
        record = db.session.get(Person, record.merged_into_id)
    if record is None or not policy.can_view(viewer, record):
        audit.record_search(kind="reference", terms=reference, result_count=0)
        return None
    audit.record_search(kind="reference", terms=reference, result_count=1)
    return kind, record


def is_reference(text: str | None, *, in_a_name_box: bool = False) -> bool:
    return parse_reference(text, in_a_name_box=in_a_name_box) is not None
