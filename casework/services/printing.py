"""Printing a record as a form (PDF or ODT): only for those who may see the record (the same checks
as its page; a restricted record stays restricted), audited as "record.print" with the form and the
format (never a value), rendered by `casework.printing`. The views call these and send the bytes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import policy
from ..models import Case, Meeting, MeetingCase, Person, Referral, RiskAssessment
from ..models.base import utcnow
from ..printing import Document, PdfUnavailable, odt, pdf
from . import audit, chronology, meetings, printed_forms

__all__ = ["FORMATS", "NotAllowed", "PdfUnavailable", "Printed", "TooLong", "chronology_of_case",
           "chronology_of_person", "dash_checklist", "meeting_minutes", "referral_form"]

# format: (media type, renderer)
FORMATS: dict[str, tuple[str, Callable[[Document], bytes]]] = {
    "pdf": ("application/pdf", pdf.render),
    "odt": ("application/vnd.oasis.opendocument.text", odt.render),
}
CHRONOLOGY_LIMIT = 100_000  # a printed chronology holds every item
# A PDF draws about a hundred table rows a second (docs/printing.md): past this a chronology's PDF
# would outlast the web worker's timeout, so it is refused saying why (the ODT, or a filter, serves).
PDF_CHRONOLOGY_ITEMS = 1_500


class NotAllowed(Exception):
    """The viewer may not see the record: as for its page, it does not exist for them."""


class TooLong(Exception):
    """Too many items for one PDF (the message says what to do instead)."""


@dataclass(frozen=True)
class Printed:
    data: bytes
    media_type: str
    filename: str  # no name or other personal value: a download folder is no safe place


def _print(document: Document, *, record: Any, form: str, fmt: str, name: str, by: Any,
           record_kind: str | None = None) -> Printed:
    media_type, render = FORMATS[fmt]
    data = render(document)  # PdfUnavailable (nothing printed, nothing audited) when PDFs cannot be made
    audit.record("record.print", user=by, record=record, record_kind=record_kind,
                 details={"form": form, "format": fmt})
    return Printed(data=data, media_type=media_type, filename=f"{name}.{fmt}")


def _stamp(at: dt.datetime | None) -> dt.datetime:
    return at or utcnow()


def dash_checklist(assessment: RiskAssessment, *, by: Any, fmt: str, at: dt.datetime | None = None) -> Printed:
    """A DASH checklist (a draft only for its own agency, as its page)."""
    if not policy.can_view_assessment(by, assessment):
        raise NotAllowed("No such checklist")
    document = printed_forms.dash_checklist(assessment, viewer=by, at=_stamp(at))
    return _print(document, record=assessment, form="dash", fmt=fmt, by=by,
                  name=f"dash-checklist-{assessment.assessed_on.isoformat()}")


def referral_form(referral: Referral, *, by: Any, fmt: str, at: dt.datetime | None = None) -> Printed:
    """A referral (for HRDA, the MARAC referral form)."""
    if not policy.can_view(by, referral):
        raise NotAllowed("No such referral")
    document = printed_forms.referral_form(referral, viewer=by, at=_stamp(at))
    return _print(document, record=referral, form=f"referral-{referral.type.value}", fmt=fmt, by=by,
                  name=f"referral-{referral.reference}".lower())


def meeting_minutes(meeting: Meeting, item: MeetingCase, *, by: Any, fmt: str,
                    at: dt.datetime | None = None) -> Printed:
    """The minutes and safety plan of one case of an HRDA meeting, for those taking part in it."""
    if not policy.takes_part_in_meeting(by, meeting) or item.meeting_id != meeting.id:
        raise NotAllowed("No such meeting")
    document = printed_forms.meeting_minutes(meeting, item, viewer=by, at=_stamp(at))
    local = meetings.local_time(meeting)
    return _print(document, record=item, record_kind="meeting_case", form="hrda-minutes", fmt=fmt, by=by,
                  name=f"hrda-minutes-{local:%Y-%m-%d}-case-{item.position}")


def _chronology(record: Person | Case, built: chronology.Chronology, *, about: str, kind: str, by: Any, fmt: str,
                at: dt.datetime | None) -> Printed:
    if fmt == "pdf" and built.total > PDF_CHRONOLOGY_ITEMS:
        raise TooLong(f"This chronology has {built.total:,} items, more than the {PDF_CHRONOLOGY_ITEMS:,} a PDF "
                      "can hold: choose fewer kinds of item, or download it as ODT")
    document = printed_forms.chronology_document(record, built, about=about, viewer=by, at=_stamp(at))
    return _print(document, record=record, form=f"chronology-{kind}", fmt=fmt, by=by,
                  name=f"chronology-{record.reference}".lower())


def chronology_of_person(person: Person, *, by: Any, fmt: str, kinds: frozenset[str] | None = None,
                         at: dt.datetime | None = None) -> Printed:
    """A person's whole chronology as the viewer may see it (every item, or those of `kinds`)."""
    if not policy.can_view(by, person):
        raise NotAllowed("No such person")
    built = chronology.of_person(person, viewer=by, kinds=kinds, size=CHRONOLOGY_LIMIT)
    return _chronology(person, built, about=person.display_name, kind="person", by=by, fmt=fmt, at=at)


def chronology_of_case(case: Case, *, by: Any, fmt: str, kinds: frozenset[str] | None = None,
                       at: dt.datetime | None = None) -> Printed:
    """A case's whole chronology as the viewer may see it."""
    if not policy.can_view(by, case):
        raise NotAllowed("No such case")
    built = chronology.of_case(case, viewer=by, kinds=kinds, size=CHRONOLOGY_LIMIT)
    return _chronology(case, built, about=f"{case.kind.label} case {case.reference}", kind="case", by=by,
                       fmt=fmt, at=at)
