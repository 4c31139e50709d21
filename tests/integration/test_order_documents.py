"""Documents on an order (issue 17 §2, issue 16's documents): the holding agency adds them on the
order's page; whoever may see the order lists and downloads them (the same bytes); nobody else
learns they exist; a person's erasure deletes them and their subject access lists them."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import select

from casework.db import db
from casework.measures.periods import today_in_london
from casework.models import AuditEntry, Document, DocumentChunk, OrderKind, OrderStatus
from casework.services import orders, restricted, retention, sharing, subject_access
from tests.conftest import Page
from tests.factories import AgencyFactory, PersonFactory
from tests.fixtures_auth import make_user, sign_in

TODAY = today_in_london()
PDF = b"%PDF-1.7\n" + b"1 0 obj << >> endobj\n" * 20 + b"%%EOF\n"


@pytest.fixture()
def council(app_ctx):  # type: ignore[no-untyped-def]
    return AgencyFactory(name="Dorset Council")


@pytest.fixture()
def worker(council):  # type: ignore[no-untyped-def]
    return make_user(roles=("caseworker",), agency=council)


@pytest.fixture()
def order(council, worker):  # type: ignore[no-untyped-def]
    person = PersonFactory(owner_agency_id=council.id, surname="Harding", forenames="Alex")
    made = orders.record(person, orders.OrderDetails(kind=OrderKind.CBO, agency_id=council.id,
                                                     status=OrderStatus.IN_FORCE, issued_on=TODAY - dt.timedelta(days=9)),
                         by=worker, today=TODAY)
    db.session.commit()
    return made


def _post(client, order_id, data: bytes, *, title: str = "Sealed court order", day: str = "3"):  # type: ignore[no-untyped-def]
    return client.post(f"/orders/{order_id}/documents/new", content_type="multipart/form-data", data={
        "file": (io.BytesIO(data), "order.pdf"), "title": title,
        "document_date-day": day, "document_date-month": "2", "document_date-year": "2026"})


def test_the_holding_agency_adds_a_document_to_an_order_listed_on_its_page_and_downloaded_as_the_same_bytes(
        app_ctx, worker, order):
    client = sign_in(app_ctx, worker)
    page = Page(client.get(f"/orders/{order.id}"))
    assert page.select_one("#documents h2").text == "Documents"
    assert "No documents have been added." in page.select_one("#documents").text
    add = page.select_one("#documents a[href$='/documents/new']")["href"]
    assert add == f"/orders/{order.id}/documents/new"
    form = Page(client.get(add))
    assert form.select_one(".govuk-caption-l").text == "Documents of this order"

    response = _post(client, order.id, PDF)
    assert response.status_code == 302 and response.location.endswith(f"/orders/{order.id}#documents")
    document = db.session.scalar(select(Document).where(Document.record_id == order.id))
    assert (document.record_kind, document.media_type, document.title) == ("order", "application/pdf",
                                                                          "Sealed court order")
    row = Page(client.get(f"/orders/{order.id}")).select_one("#documents table tbody tr")
    assert "Sealed court order" in row.text and "3 February 2026" in row.text
    download = client.get(row.select_one("a[href^='/documents/']")["href"])
    assert download.status_code == 200 and download.get_data() == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.record_id == document.id)
                                 .order_by(AuditEntry.position)).all()
    assert actions == ["document.add", "document.download"]


def test_a_bad_upload_to_an_order_names_each_problem_and_writes_nothing(app_ctx, worker, order):
    client = sign_in(app_ctx, worker)
    response = client.post(f"/orders/{order.id}/documents/new", content_type="multipart/form-data", data={
        "file": (io.BytesIO(b"MZ\x90\x00" + bytes(200)), "order.pdf"), "title": "",
        "document_date-day": "", "document_date-month": "", "document_date-year": ""})
    assert response.status_code == 400
    summary = Page(response).select_one(".govuk-error-summary").text
    assert "Enter a title for the document" in summary and "Enter the date of the document" in summary
    assert db.session.scalar(select(Document).where(Document.record_id == order.id)) is None


def test_an_order_documents_follow_the_order_access_rules(app_ctx, worker, order):
    client = sign_in(app_ctx, worker)
    assert _post(client, order.id, PDF).status_code == 302
    document = db.session.scalar(select(Document).where(Document.record_id == order.id))
    police = AgencyFactory(name="Dorset Police")
    other = sign_in(app_ctx, make_user(roles=("caseworker",), agency=police))
    # Another agency that may not see the person: neither the order nor its documents exist for it.
    assert other.get(f"/documents/{document.id}").status_code == 404
    assert other.get(f"/orders/{order.id}/documents/new").status_code == 404
    assert _post(other, order.id, PDF).status_code == 404
    # Shared with it: it sees and downloads them, but only the holding agency adds or deletes.
    sharing.share(record=order.person, agency=police, via="explicit", by=worker, reason="Joint work")
    db.session.commit()
    page = Page(other.get(f"/orders/{order.id}"))
    assert "Sealed court order" in page.select_one("#documents").text
    assert page.select_one("#documents a[href$='/documents/new']") is None
    assert page.select_one("#documents a[href$='/delete']") is None
    assert other.get(f"/documents/{document.id}").get_data() == PDF
    assert other.get(f"/orders/{order.id}/documents/new").status_code == 403
    assert other.get(f"/documents/{document.id}/delete").status_code == 403
    # Restricted: only those named on the person.
    restricted.restrict(order.person, by=worker)
    db.session.commit()
    assert other.get(f"/documents/{document.id}").status_code == 404
    assert client.get(f"/documents/{document.id}").status_code == 200


def test_the_holding_agency_deletes_an_order_document_through_a_confirm_page(app_ctx, worker, order):
    client = sign_in(app_ctx, worker)
    assert _post(client, order.id, PDF).status_code == 302
    document = db.session.scalar(select(Document).where(Document.record_id == order.id))
    confirm = Page(client.get(f"/documents/{document.id}/delete"))
    assert "Sealed court order" in confirm.select_one("h1").text
    assert "deleted from this order" in confirm.text


def test_erasing_a_person_deletes_their_order_documents_and_subject_access_lists_them(app_ctx, worker, order):
    client = sign_in(app_ctx, worker)
    assert _post(client, order.id, PDF).status_code == 302
    document = db.session.scalar(select(Document).where(Document.record_id == order.id))
    held = subject_access.document(person_id=order.person_id)
    assert [(d["id"], d["record_kind"], d["title"]) for d in held["documents"]] == [
        (str(document.id), "order", "Sealed court order")]
    removed = retention.erase(kind="person", record_id=order.person_id, cause="request", reason="Asked")
    assert removed.rows["document (deleted)"] == 1
    assert db.session.scalar(select(DocumentChunk).where(DocumentChunk.document_id == document.id)) is None
    assert db.session.get(Document, document.id) is None
