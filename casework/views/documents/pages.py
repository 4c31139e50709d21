"""Documents kept with a record: adding one (a file upload with a title and a date), downloading
it, and deleting it through a confirmation page.

Who may: exactly who may see the record, checked as the record's own page checks it
(`visible_or_404`; for an HRDA meeting case, taking part in its meeting; for an order, seeing its
person); adding and deleting need the permission to edit records (to take part, for a meeting case;
to change the order, its holding agency only, for an order) besides.

The upload route takes bodies larger than the app's `MAX_CONTENT_LENGTH`: its own limit
(`DOCUMENT_MAX_BYTES` and room for the form) is set on the request before the body is read, which
is why Flask-WTF's app-wide CSRF check (which reads the body first, under the app's limit) is
left out for it and the same check is made by the view once the limit is set. The file is received
into `crypto.EphemeralSpool`, so its plaintext never reaches the disk.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import StringField

from ... import crypto, policy
from ...auth.guard import require, visible_or_404
from ...forms import Form, Required
from ...models import MeetingCase, Order
from ...policy import Permission
from ...services import audit, documents, lookups, meetings
from ...services.document_types import ACCEPTED, content_disposition, size_text
from ..shared.confirm import confirm_page, confirmed
from ..shared.fields import DateInputField
from . import bp

FORM_ROOM = 64 * 1024  # the title, the date, the CSRF token and the parts' headers besides the file
# (The fields themselves keep the app's MAX_FORM_MEMORY_SIZE: werkzeug counts its read-ahead buffer
# against it, so it must stay well above the 64 KiB it reads at a time.)
DOWNLOAD_CSP = "sandbox; default-src 'none'"


class DocumentForm(Form):
    title = StringField("Title", validators=[Required("Enter a title for the document")])
    document_date = DateInputField("Date of the document", required="Enter the date of the document",
                                   past_only=True)


# --- the records documents are kept with -------------------------------------------------------


def _meeting_case(case_id: uuid.UUID) -> MeetingCase:
    item = lookups.record(MeetingCase, case_id)
    if item is None:
        abort(404)
    try:
        meetings.get(item.meeting_id, viewer=current_user)
    except meetings.NotAllowed:
        abort(404)
    return item


def _order(order_id: uuid.UUID) -> Order:
    order = lookups.record(Order, order_id)
    if order is None or not policy.can_view_order(current_user, order):
        if order is not None:
            audit.record("access.refused", record=order, details={"reason": "record not visible"})
        abort(404)
    return order


def _record(kind: str, record_id: uuid.UUID) -> Any:
    """The record, when the user may see it (as its page decides); 404 otherwise."""
    if kind == "meeting_case":
        return _meeting_case(record_id)
    if kind == "order":
        return _order(record_id)
    return visible_or_404(documents.RECORD_MODELS[kind], record_id)


def _may_change(kind: str, record: Any) -> bool:
    if kind == "meeting_case":
        return True  # `_meeting_case` let only those who take part in its meeting through
    if kind == "order":
        return policy.can_edit_order(current_user, record)
    return policy.can_edit(current_user, record) and getattr(record, "merged_into_id", None) is None


def record_url(kind: str, record: Any) -> str:
    if kind == "person":
        return url_for("people.show", person_id=record.id, _anchor="documents")
    if kind == "case":
        return url_for("cases.show", case_id=record.id, _anchor="documents")
    if kind == "incident":
        return url_for("incidents.show", incident_id=record.id, _anchor="documents")
    if kind == "referral":
        return url_for("referrals.show", referral_id=record.id, _anchor="documents")
    if kind == "order":
        return url_for("orders.show", order_id=record.id, _anchor="documents")
    return url_for("meetings.show", meeting_id=record.meeting_id, _anchor=f"case-{record.id.hex}")


def record_label(kind: str) -> str:
    return {"person": "person", "case": "case", "incident": "incident", "referral": "referral",
            "meeting_case": "HRDA meeting case", "order": "order"}[kind]


# --- adding -------------------------------------------------------------------------------------


@bp.route("/people/<uuid:person_id>/documents/new", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def new_for_person(person_id: uuid.UUID) -> ResponseReturnValue:
    return _add("person", person_id)


@bp.route("/cases/<uuid:case_id>/documents/new", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def new_for_case(case_id: uuid.UUID) -> ResponseReturnValue:
    return _add("case", case_id)


@bp.route("/incidents/<uuid:incident_id>/documents/new", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def new_for_incident(incident_id: uuid.UUID) -> ResponseReturnValue:
    return _add("incident", incident_id)


@bp.route("/referrals/<uuid:referral_id>/documents/new", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def new_for_referral(referral_id: uuid.UUID) -> ResponseReturnValue:
    return _add("referral", referral_id)


@bp.route("/meeting-cases/<uuid:meeting_case_id>/documents/new", methods=["GET", "POST"])
@require(Permission.ATTEND_HRDA)
def new_for_meeting_case(meeting_case_id: uuid.UUID) -> ResponseReturnValue:
    return _add("meeting_case", meeting_case_id)


@bp.route("/orders/<uuid:order_id>/documents/new", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def new_for_order(order_id: uuid.UUID) -> ResponseReturnValue:
    return _add("order", order_id)


UPLOAD_VIEWS = (new_for_person, new_for_case, new_for_incident, new_for_referral, new_for_meeting_case,
                new_for_order)


@bp.record_once
def _exempt_from_the_app_wide_csrf_check(state: Any) -> None:
    csrf = state.app.extensions["csrf"]
    for view in UPLOAD_VIEWS:
        csrf.exempt(view)


def _receive_upload() -> str | None:
    """Read the posted form under the upload's own limit, the file into an encrypted spool; the
    message to show when the body is too large, else None."""
    real = request._get_current_object()  # type: ignore[attr-defined]
    real.max_content_length = documents.max_bytes() + FORM_ROOM
    folder = current_app.config.get("DOCUMENT_SPOOL_DIR")
    real._get_file_stream = lambda *args, **kwargs: crypto.EphemeralSpool(folder)
    try:
        request.files  # noqa: B018 - parses the body now, under the limits above
    except RequestEntityTooLarge:
        return documents.too_large_message()
    return None


def _add(kind: str, record_id: uuid.UUID) -> ResponseReturnValue:
    record = _record(kind, record_id)
    if not _may_change(kind, record):
        abort(403 if kind in {"meeting_case", "order"} else 404)  # (one sees an order one may not change)
    too_large = _receive_upload() if request.method == "POST" else None
    if request.method == "POST" and too_large is None and current_app.config.get("WTF_CSRF_ENABLED", True):
        current_app.extensions["csrf"].protect()  # the app-wide check, once the body's limit is set
    form = DocumentForm(formdata=None) if too_large else DocumentForm()
    errors: list[dict[str, str]] = []
    page = {"kind": kind, "record": record, "back": record_url(kind, record), "label": record_label(kind),
            "accepted": ACCEPTED, "limit": size_text(documents.max_bytes())}
    if too_large:
        # The body was not read: the title and date typed are lost with it, so say so.
        errors = [{"text": too_large, "href": "#file"}]
        return render_template("documents/new.html", form=form, errors=errors, file_error=too_large,
                               **page), 413
    if request.method == "GET":
        return render_template("documents/new.html", form=form, errors=[], file_error=None, **page)
    upload = request.files.get("file")
    file_error = None
    valid = form.validate()
    if upload is None or not upload.filename:
        file_error = "Select a file"
    elif valid:
        stream = upload.stream
        size = stream.size if isinstance(stream, crypto.EphemeralSpool) else _size_of(stream)
        try:
            document = documents.add(record=record, upload=stream, size=size, filename=upload.filename,
                                     title=form.title.data, document_date=form.document_date.data, by=current_user)
        except documents.DocumentError as e:
            if e.field == "file":
                file_error = str(e)
            else:
                getattr(form, e.field).errors = [str(e)]
        else:
            flash(f"Document added: {document.title}")
            return redirect(record_url(kind, record))
        finally:
            stream.close()
    errors = form.error_list()
    if file_error:
        errors = [{"text": file_error, "href": "#file"}, *errors]
    return render_template("documents/new.html", form=form, errors=errors, file_error=file_error, **page), 400


def _size_of(stream: Any) -> int:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return int(size)


# --- downloading and deleting -------------------------------------------------------------------


def _document(document_id: uuid.UUID) -> tuple[Any, Any]:
    document = documents.get(document_id)
    if document is None:
        abort(404)
    return document, _record(document.record_kind, document.record_id)


@bp.get("/documents/<uuid:document_id>")
@require(Permission.VIEW_RECORDS)
def download(document_id: uuid.UUID) -> ResponseReturnValue:
    document, _ = _document(document_id)
    if document.content_key is None:
        abort(404)  # erased: there is nothing left to give
    documents.record_download(document, by=current_user)
    response = Response(stream_with_context(documents.content(document)), mimetype=document.media_type,
                        direct_passthrough=True)
    response.headers["Content-Length"] = str(document.size)
    response.headers["Content-Disposition"] = content_disposition(document.filename or "document")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/documents/<uuid:document_id>/delete", methods=["GET", "POST"])
@require(Permission.VIEW_RECORDS)
def delete(document_id: uuid.UUID) -> ResponseReturnValue:
    document, record = _document(document_id)
    kind = document.record_kind
    if not policy.can(current_user, Permission.EDIT_RECORDS) or not _may_change(kind, record):
        abort(403)
    back = record_url(kind, record)
    if not confirmed():
        return confirm_page(
            heading=f"Delete the document ‘{document.title}’?", caption=f"Documents of this {record_label(kind)}",
            effects=[(f"The document ‘{document.title}’ ({document.filename}, "
                     f"{size_text(document.size)}) will be deleted from this {record_label(kind)}."),
                     "Nobody will be able to download it again. This cannot be undone.",
                     "The audit trail will record that you deleted it."],
            action=url_for("documents.delete", document_id=document.id), button="Delete the document", back=back)
    title = document.title
    documents.delete_document(document, by=current_user)
    flash(f"Document deleted: {title}")
    return redirect(back)


# --- the documents section of a record's page ---------------------------------------------------


def section(kind: str, record: Any, *, more_ids: list[uuid.UUID] | None = None) -> dict[str, Any]:
    """What templates/documents/_section.html shows for a record (the caller has checked it)."""
    ids = [record.id, *(more_ids or [])]
    add_endpoint = {"person": ("documents.new_for_person", "person_id"),
                    "case": ("documents.new_for_case", "case_id"),
                    "incident": ("documents.new_for_incident", "incident_id"),
                    "referral": ("documents.new_for_referral", "referral_id"),
                    "meeting_case": ("documents.new_for_meeting_case", "meeting_case_id"),
                    "order": ("documents.new_for_order", "order_id")}[kind]
    can_add = policy.can(current_user, Permission.ATTEND_HRDA if kind == "meeting_case"
                         else Permission.EDIT_RECORDS) and _may_change(kind, record)
    return {"documents": documents.of_records(kind, ids), "kind": kind, "record_id": record.id,
            "label": record_label(kind), "can_change": can_add,
            "add_url": url_for(add_endpoint[0], **{add_endpoint[1]: record.id}) if can_add else None}



@bp.app_template_global()
def document_section(kind: str, record: Any) -> dict[str, Any]:
    """The documents section of a case, incident, referral, meeting case or order page (its template's)."""
    return section(kind, record)


def _person_section(person: Any, viewer: Any) -> dict[str, Any]:
    # A person's merged duplicates keep the documents added to them (the bytes are bound to the
    # record they were added to): their survivor's page lists those too.
    return section("person", person, more_ids=documents.merged_into(person.id))


def _register_person_section() -> None:
    from ..shared.person_page import add_section

    add_section("documents/_person_section.html", _person_section, order=60)


_register_person_section()
