"""Documents kept with a record, through the pages: added (kind from the bytes, size limits),
listed on the record's page, downloaded as the same bytes with safe headers, by those who may see
the record only, deleted through a confirm page; every step audited; the sealed chunks cannot be
moved, altered or cut short; erasure deletes them and subject access lists them."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
from sqlalchemy import select, update

from casework import crypto
from casework.db import db
from casework.models import AuditEntry, Case, CaseKind, CaseStatus, Document, DocumentChunk
from casework.services import documents, retention, subject_access
from tests.conftest import Page
from tests.factories import AgencyFactory, PersonFactory, ReferralFactory
from tests.fixtures_auth import make_user, sign_in

PDF = b"%PDF-1.7\n" + b"1 0 obj << >> endobj\n" * 20 + b"%%EOF\n"


def _case(agency_id: uuid.UUID) -> Case:
    case = Case(kind=next(iter(CaseKind)), status=CaseStatus.OPEN, owner_agency_id=agency_id, summary="Support")
    db.session.add(case)
    db.session.commit()
    return case


def _post(client, case_id, data: bytes, name: str = "statement.pdf", title: str = "Police statement",
          day: str = "3"):  # type: ignore[no-untyped-def]
    return client.post(f"/cases/{case_id}/documents/new", content_type="multipart/form-data", data={
        "file": (io.BytesIO(data), name), "title": title,
        "document_date-day": day, "document_date-month": "2", "document_date-year": "2026"})


def _actions(document_id: uuid.UUID) -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.record_id == document_id)
                                   .order_by(AuditEntry.position)))


def test_a_document_added_to_a_case_is_listed_and_downloads_as_the_same_bytes_with_safe_headers(
        caseworker_client, home_agency):
    case = _case(home_agency.id)
    # Larger than the app's 1 MiB limit for other forms, and more than one chunk.
    data = PDF + bytes(range(256)) * 6000
    response = _post(caseworker_client, case.id, data, name="..\\..\\évil\u202egnp.exe.pdf")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    document = db.session.scalar(select(Document).where(Document.record_id == case.id))
    assert (document.media_type, document.size, document.chunks) == ("application/pdf", len(data), 24)
    assert document.filename == "évilgnp.exe.pdf"

    page = Page(caseworker_client.get(f"/cases/{case.id}"))
    row = page.select_one("#documents table tbody tr")
    assert [c.text.strip().split("\n")[0] for c in row.select("td")][1:4] == ["3 February 2026", "PDF", "1.5 MB"]
    assert "Police statement" in row.text
    link = row.select_one("a[href^='/documents/']")["href"]

    download = caseworker_client.get(link)
    assert download.status_code == 200
    assert download.get_data() == data
    headers = download.headers
    assert headers["Content-Disposition"] == ("attachment; filename=\"evilgnp.exe.pdf\"; "
                                              "filename*=UTF-8''%C3%A9vilgnp.exe.pdf")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert headers["Content-Type"] == "application/pdf"
    assert _actions(document.id) == ["document.add", "document.download"]


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"MZ\x90\x00" + bytes(200), "report.pdf", "not a kind of document Casework keeps"),
    (b"", "empty.txt", "The selected file is empty"),
    (b"PK\x03\x04not really a zip", "letter.docx", "damaged or incomplete"),
    (b"plain words\x00\x01 and a NUL", "notes.txt", "not a kind of document Casework keeps"),
])
def test_a_file_that_is_not_an_accepted_document_is_refused_naming_what_is_wrong(
        caseworker_client, home_agency, data, name, message):
    case = _case(home_agency.id)
    response = _post(caseworker_client, case.id, data, name=name)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert message in text and 'href="#file"' in text
    assert db.session.scalar(select(Document).where(Document.record_id == case.id)) is None


def test_no_file_no_title_and_a_future_date_are_all_named(caseworker_client, home_agency):
    case = _case(home_agency.id)
    response = caseworker_client.post(f"/cases/{case.id}/documents/new", content_type="multipart/form-data",
                                      data={"title": "", "document_date-day": "1", "document_date-month": "1",
                                            "document_date-year": "2999"})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Select a file" in text and "Enter a title for the document" in text
    assert "must be today or in the past" in text or "in the past" in text


def test_a_file_over_the_limit_gets_a_page_saying_so_not_a_bare_413(caseworker_client, home_agency, app_ctx,
                                                                    monkeypatch):
    monkeypatch.setitem(app_ctx.config, "DOCUMENT_MAX_BYTES", 100_000)
    case = _case(home_agency.id)
    response = _post(caseworker_client, case.id, PDF + bytes(300_000))
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "The selected file must be 100 KB or smaller" in text and "govuk-error-summary" in text
    # Under the route's limit but over the form's room, refused by the service's own check.
    response = _post(caseworker_client, case.id, PDF + bytes(120_000))
    assert response.status_code == 400 and "must be 100 KB or smaller" in response.get_data(as_text=True)
    assert db.session.scalar(select(Document).where(Document.record_id == case.id)) is None


def test_only_those_who_may_see_the_record_download_and_only_its_editors_delete(
        caseworker_client, manager_client, home_agency, app_ctx):
    case = _case(home_agency.id)
    assert _post(caseworker_client, case.id, b"Notes of the visit\n").status_code == 302
    document = db.session.scalar(select(Document).where(Document.record_id == case.id))
    assert document.media_type == "text/plain" and document.filename == "statement.txt"
    stranger = sign_in(app_ctx, make_user(roles=("caseworker",), agency=AgencyFactory()))
    for url in (f"/documents/{document.id}", f"/documents/{document.id}/delete", f"/cases/{case.id}/documents/new"):
        assert stranger.get(url).status_code == 404, url
    assert stranger.post(f"/documents/{document.id}/delete", data={"confirm": "yes"}).status_code == 404
    assert manager_client.get(f"/documents/{document.id}").status_code == 200  # sees the case: may read
    assert manager_client.post(f"/documents/{document.id}/delete", data={"confirm": "yes"}).status_code == 403
    assert db.session.get(Document, document.id) is not None

    confirm = caseworker_client.post(f"/documents/{document.id}/delete")  # no confirm=yes: the page again
    assert confirm.status_code == 200 and "cannot be undone" in confirm.get_data(as_text=True)
    assert caseworker_client.post(f"/documents/{document.id}/delete", data={"confirm": "yes"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Document, document.id) is None
    assert db.session.scalar(select(DocumentChunk).where(DocumentChunk.document_id == document.id)) is None
    assert _actions(document.id)[-1] == "document.delete"


def _added(record, data: bytes, user) -> Document:  # type: ignore[no-untyped-def]
    return documents.add(record=record, upload=io.BytesIO(data), size=len(data), filename="a.txt", title="Letter",
                         document_date=dt.date(2026, 1, 5), by=user)


def _read(document: Document) -> bytes:
    return b"".join(documents.content(document))


def test_chunks_moved_altered_or_cut_short_are_refused(app_ctx, user_factory):
    user = user_factory()
    person = PersonFactory()
    data = b"line of a long letter\n" * 9000  # four chunks
    document = _added(person, data, user)
    other = _added(person, data, user)
    assert document.chunks == 4 and _read(document) == data
    chunk = DocumentChunk.__table__

    def sealed(doc: Document, position: int) -> bytes:
        return bytes(db.session.scalar(select(chunk.c.sealed).where(chunk.c.document_id == doc.id,
                                                                    chunk.c.position == position)))

    first, second = sealed(document, 0), sealed(document, 1)
    for position, value in ((0, second), (0, sealed(other, 0)), (1, second[:-1] + bytes([second[-1] ^ 1]))):
        db.session.execute(update(chunk).where(chunk.c.document_id == document.id, chunk.c.position == position)
                           .values(sealed=value))
        with pytest.raises(crypto.DecryptionError):
            _read(document)
        db.session.execute(update(chunk).where(chunk.c.document_id == document.id, chunk.c.position == position)
                           .values(sealed=first if position == 0 else second))
    assert _read(document) == data
    # Cut short at a chunk boundary, even with the count on its row made to agree.
    db.session.execute(chunk.delete().where(chunk.c.document_id == document.id, chunk.c.position == 3))
    with pytest.raises(crypto.DecryptionError, match="ends at chunk 3"):
        _read(document)
    document.chunks = 3
    with pytest.raises(crypto.DecryptionError, match="does not authenticate"):
        _read(document)
    # Bound to its record: the same row pointed at another record does not read.
    other.record_id = PersonFactory().id
    with pytest.raises(crypto.DecryptionError):
        _read(other)


def test_erasing_a_person_deletes_their_documents_and_subject_access_lists_them(app_ctx, user_factory):
    user = user_factory()
    person = PersonFactory()
    referral = ReferralFactory(person_id=person.id)
    on_person, on_referral = _added(person, b"Letter to the person\n", user), _added(referral, b"Referral form\n", user)
    db.session.commit()
    held = subject_access.document(person_id=person.id)
    listed = held["documents"]
    assert {(a["action"], a["record_id"]) for a in held["audit"]} >= {
        ("document.add", str(on_person.id)), ("document.add", str(on_referral.id))}
    assert {(d["id"], d["title"], d["media_type"]) for d in listed} == {
        (str(on_person.id), "Letter", "text/plain"), (str(on_referral.id), "Letter", "text/plain")}
    removed = retention.erase(kind="person", record_id=person.id, cause="request", reason="Asked")
    assert removed.rows["document (deleted)"] == 2
    assert db.session.scalar(select(Document).where(Document.id.in_([on_person.id, on_referral.id]))) is None
    assert db.session.scalar(select(DocumentChunk).where(
        DocumentChunk.document_id.in_([on_person.id, on_referral.id]))) is None


def test_an_hrda_meeting_case_takes_documents_from_those_taking_part_only(caseworker_client, home_agency, app_ctx):
    from casework.models import Meeting, MeetingAgency, MeetingCase

    meeting = Meeting(agency_id=home_agency.id, starts_at=dt.datetime(2030, 1, 7, 10, tzinfo=dt.UTC), place="Room 1")
    meeting.invited = [MeetingAgency(agency_id=home_agency.id)]
    referral = ReferralFactory(person_id=PersonFactory(owner_agency_id=home_agency.id).id,
                               owner_agency_id=home_agency.id, status="accepted")
    db.session.add(meeting)
    db.session.flush()
    item = MeetingCase(meeting_id=meeting.id, referral_id=referral.id, position=1)
    db.session.add(item)
    db.session.commit()
    url = f"/meeting-cases/{item.id}/documents/new"
    response = caseworker_client.post(url, content_type="multipart/form-data", data={
        "file": (io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(100)), "door.jpg"), "title": "Photograph of the door",
        "document_date-day": "1", "document_date-month": "2", "document_date-year": "2026"})
    assert response.status_code == 302 and response.location.endswith(f"#case-{item.id.hex}")
    document = db.session.scalar(select(Document).where(Document.record_id == item.id))
    assert (document.record_kind, document.media_type, document.filename) == ("meeting_case", "image/png", "door.png")
    assert "Photograph of the door" in caseworker_client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    outsider = sign_in(app_ctx, make_user(roles=("caseworker",), agency=AgencyFactory()))
    assert outsider.get(url).status_code == 404
    assert outsider.get(f"/documents/{document.id}").status_code == 404
