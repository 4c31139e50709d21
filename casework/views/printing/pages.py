"""Downloading a record as a printed form, PDF or ODT ("Download as PDF" / "Download as ODT (to
edit)" on the DASH checklist, referral, HRDA meeting and chronology pages): the same checks as each
record's page (an id the user may not see answers 404 like one that does not exist), then the
service prints and audits; a server that cannot make PDFs answers with a page saying so."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Response, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ... import policy
from ...auth.guard import require, visible_or_404
from ...models import Case, MeetingCase, Person, Referral, RiskAssessment
from ...policy import Permission
from ...services import audit, chronology, lookups, meetings
from ...services import printing as printing_service
from . import bp

FORMAT = "<any(pdf, odt):fmt>"


def _send(make: Callable[[], printing_service.Printed], *, back: tuple[str, str],
          odt_url: str) -> ResponseReturnValue:
    try:
        printed = make()
    except printing_service.NotAllowed:
        abort(404)
    except printing_service.PdfUnavailable as e:
        return render_template("printing/unavailable.html", reason=str(e), back=back, odt_url=odt_url), 503
    except printing_service.TooLong as e:
        return render_template("refused.html", heading="Too long for a PDF", message=str(e), back=back), 409
    return Response(printed.data, mimetype=printed.media_type, headers={
        "Content-Disposition": f'attachment; filename="{printed.filename}"', "Cache-Control": "no-store"})


def _odt_url(endpoint: str, **values: Any) -> str:
    kinds: dict[str, Any] = {"kind": request.args.getlist("kind")} if request.args.getlist("kind") else {}
    return url_for(endpoint, **values, fmt="odt", **kinds)


@bp.get(f"/risk-assessments/<uuid:assessment_id>/download.{FORMAT}")
@require(Permission.VIEW_RECORDS)
def dash_checklist(assessment_id: uuid.UUID, fmt: str) -> ResponseReturnValue:
    assessment = lookups.record(RiskAssessment, assessment_id)
    if assessment is None or not policy.can_view_assessment(current_user, assessment):
        if assessment is not None:
            audit.record("access.refused", record=assessment, details={"reason": "record not visible"})
        abort(404)
    return _send(lambda: printing_service.dash_checklist(assessment, by=current_user, fmt=fmt),
                 back=(url_for("assessments.show", assessment_id=assessment.id), "Back to the checklist"),
                 odt_url=_odt_url("printing.dash_checklist", assessment_id=assessment.id))


@bp.get(f"/referrals/<uuid:referral_id>/download.{FORMAT}")
@require(Permission.VIEW_RECORDS)
def referral(referral_id: uuid.UUID, fmt: str) -> ResponseReturnValue:
    record = visible_or_404(Referral, referral_id)
    return _send(lambda: printing_service.referral_form(record, by=current_user, fmt=fmt),
                 back=(url_for("referrals.show", referral_id=record.id), "Back to the referral"),
                 odt_url=_odt_url("printing.referral", referral_id=record.id))


@bp.get(f"/meetings/<uuid:meeting_id>/cases/<uuid:case_id>/download.{FORMAT}")
@require(Permission.ATTEND_HRDA)
def meeting_case(meeting_id: uuid.UUID, case_id: uuid.UUID, fmt: str) -> ResponseReturnValue:
    try:
        meeting = meetings.get(meeting_id, viewer=current_user)
    except meetings.NotAllowed:
        abort(404)
    item = lookups.record(MeetingCase, case_id)
    if item is None or item.meeting_id != meeting.id:
        abort(404)
    return _send(lambda: printing_service.meeting_minutes(meeting, item, by=current_user, fmt=fmt),
                 back=(url_for("meetings.show", meeting_id=meeting.id, _anchor=f"case-{item.id.hex}"),
                       "Back to the meeting"),
                 odt_url=_odt_url("printing.meeting_case", meeting_id=meeting.id, case_id=item.id))


@bp.get(f"/people/<uuid:person_id>/chronology/download.{FORMAT}")
@require(Permission.VIEW_RECORDS)
def person_chronology(person_id: uuid.UUID, fmt: str) -> ResponseReturnValue:
    record = visible_or_404(Person, person_id)
    if record.merged_into_id is not None:  # as the chronology page: the kept record's story is the whole one
        return redirect(url_for("printing.person_chronology", person_id=record.merged_into_id, fmt=fmt,
                                kind=request.args.getlist("kind")))
    kinds = chronology.parse_kinds(request.args.getlist("kind"))
    return _send(lambda: printing_service.chronology_of_person(record, by=current_user, fmt=fmt, kinds=kinds),
                 back=(url_for("chronology.person", person_id=record.id), "Back to the chronology"),
                 odt_url=_odt_url("printing.person_chronology", person_id=record.id))


@bp.get(f"/cases/<uuid:case_id>/chronology/download.{FORMAT}")
@require(Permission.VIEW_RECORDS)
def case_chronology(case_id: uuid.UUID, fmt: str) -> ResponseReturnValue:
    record = visible_or_404(Case, case_id)
    kinds = chronology.parse_kinds(request.args.getlist("kind"))
    return _send(lambda: printing_service.chronology_of_case(record, by=current_user, fmt=fmt, kinds=kinds),
                 back=(url_for("chronology.case", case_id=record.id), "Back to the chronology"),
                 odt_url=_odt_url("printing.case_chronology", case_id=record.id))
