"""Printed forms (issue 16 section 3): the DASH checklist as a tagged PDF with its fonts embedded whose
text holds the demo's accented names; every form as an ODT naming the printer in every page's header;
the marking on every page; printing audited; only for those who may see the record; a server without
Pango still serves the ODT and says why the PDF cannot be made. PDFs are slow: one is rendered here."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid

import pytest
from odf import teletype
from odf.opendocument import load
from odf.style import Footer, Header, MasterPage
from odf.text import P
from pypdf import PdfReader
from sqlalchemy import select

from casework.db import db
from casework.models import AgencyKind, AuditEntry, Case, CaseKind, CasePerson, Consent, RiskAssessment
from casework.printing import pdf as pdf_module
from casework.risk.dash import QUESTIONS
from casework.services import meeting_records, meetings
from casework.services import printing as printing_service
from tests.conftest import Page
from tests.factories import AgencyFactory, PersonFactory, ReferralFactory, routed, victim
from tests.fixtures_auth import make_user, sign_in

# Names as the demo writes them (casework/demo/names.py): accents, an apostrophe, Polish, Vietnamese.
FORENAMES, SURNAME = "Zoë Małgorzata", "O'Brien-Nguyễn"
FULL_NAME = f"{FORENAMES} {SURNAME}"
PRINTER = "Siân D'Arcy"
MARKING = "OFFICIAL-SENSITIVE"


@pytest.fixture()
def police(app_ctx):
    return AgencyFactory(name="Northshire Police", kind=AgencyKind.POLICE)


@pytest.fixture()
def worker(police):
    user = make_user(agency=police)
    user.name = PRINTER
    db.session.commit()
    return user


@pytest.fixture()
def client(app_ctx, worker):
    return sign_in(app_ctx, worker)


@pytest.fixture()
def person(police):
    return victim(PersonFactory(owner_agency_id=police.id, forenames=FORENAMES, surname=SURNAME,
                                date_of_birth=dt.date(1990, 3, 4)))


def _checklist(client, person, *, yes: int = 15, action: str = "complete") -> RiskAssessment:
    data = {f"q{n}": ("yes" if n <= yes else "no") for n in QUESTIONS}
    data.update({"n3": "Fears for Zoë's children", "judged_high": "y", "reason": "Threats since the separation",
                 "action": action})
    response = client.post(f"/people/{person.id}/risk-assessments/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    return db.session.get(RiskAssessment, uuid.UUID(response.headers["Location"].rsplit("/", 1)[-1]))


def _prints(record_id) -> list[dict]:
    rows = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "record.print",
                                                       AuditEntry.record_id == record_id))
    return [json.loads(r.details) for r in rows]


def _odt(response) -> tuple[str, list[str], list[str]]:
    """An ODT download's body text, and each master page's header and footer texts."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/vnd.oasis.opendocument.text"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    document = load(io.BytesIO(response.get_data()))
    body = "\n".join(teletype.extractText(p) for p in document.text.getElementsByType(P))
    body += "\n" + "\n".join(teletype.extractText(h) for h in document.text.childNodes if h.qname[1] == "h")
    headers, footers = [], []
    masters = document.masterstyles.getElementsByType(MasterPage)
    assert [m.getAttribute("name") for m in masters] == ["Standard"]  # the one every page uses
    for master in masters:
        headers += [teletype.extractText(h) for h in master.getElementsByType(Header)]
        footers += [teletype.extractText(f) for f in master.getElementsByType(Footer)]
    return body, headers, footers


def test_the_dash_checklist_prints_as_a_tagged_pdf_with_the_names_accents_on_every_page(client, person):
    assessment = _checklist(client, person)
    page = Page(client.get(f"/risk-assessments/{assessment.id}"))
    link = next(a for a in page.select("a.govuk-link") if a.get_text(strip=True).startswith("Download as PDF"))
    response = client.get(link["href"])
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="dash-checklist-{assessment.assessed_on.isoformat()}.pdf"')
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    reader = PdfReader(io.BytesIO(response.get_data()))
    pages = [p.extract_text() for p in reader.pages]
    assert len(pages) >= 2  # 24 questions with notes: the marking and the printer are checked on each page
    text = " ".join("\n".join(pages).split())  # (a table cell wraps its lines)
    assert FULL_NAME in text and "Fears for Zoë's children" in text
    assert "Score 15 of 24" in text and "Raised to high: Threats since the separation" in text
    for n, page_text in enumerate(pages, start=1):
        assert page_text.count(MARKING) == 2, f"page {n}: the marking at its top and bottom"
        assert f"Printed by {PRINTER}, Northshire Police on " in page_text, f"page {n}"
        assert f"Page {n} of {len(pages)}" in page_text
    # Tagged for screen readers (PDF/UA-1), in English, titled; fonts embedded.
    catalog = reader.trailer["/Root"]
    assert catalog["/MarkInfo"]["/Marked"] and "/StructTreeRoot" in catalog
    assert catalog["/Lang"] == "en-GB"
    assert b"pdfuaid:part" in catalog["/Metadata"].get_object().get_data()
    fonts = {}
    for pdf_page in reader.pages:
        for font in pdf_page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = (font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font)
            descriptor = descriptor["/FontDescriptor"].get_object()
            fonts[str(font["/BaseFont"])] = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert fonts and all(fonts.values()), fonts
    assert all("DejaVu-Sans" in name for name in fonts), fonts  # subsets ("ABCDEF+"), embedded
    assert _prints(assessment.id) == [{"form": "dash", "format": "pdf"}]


def _meeting_case(police, person, worker):
    hrda_team = AgencyFactory(name="HRDA team", kind=AgencyKind.COUNCIL)
    chair = make_user(roles=("hrda_chair",), agency=hrda_team)
    routed("hrda", hrda_team)  # the chair decides HRDA referrals to the team
    referral = ReferralFactory(person_id=person.id, owner_agency_id=police.id, receiving_agency_id=hrda_team.id,
                               dash_score=15, criteria_held="dash", children_in_household=True,
                               consent=Consent.REFUSED, referred_by_id=worker.id)
    referral.reason = "Strangled on 1 December"
    referral.lawful_basis = "Crime and Disorder Act 1998, s.115: risk of serious harm"
    meeting = meetings.schedule(day=dt.date(2026, 12, 1), time=dt.time(10), place="Room 1", online=False,
                                agencies=[police], by=chair, today=dt.date(2026, 11, 26))[0]
    from casework.services import hrda

    item = hrda.accept(referral, meeting=meeting, version=referral.version, by=chair)
    meetings.start(meeting, by=chair)
    meeting_records.record_minutes(item, discussion="Agencies agreed the risk is high.",
                                   safety_plan="Sanctuary scheme at Zoë's home.\nPanic alarm fitted.", by=chair)
    meeting_records.add_action(item, text="Fit a panic alarm", agency=police, person_name="PC Ó Dálaigh",
                               due_on=dt.date(2026, 12, 8), by=chair, today=dt.date(2026, 12, 1))
    db.session.commit()
    return referral, meeting, item


def test_each_form_prints_as_an_odt_naming_the_printer_in_every_pages_header(app_ctx, client, police, person,
                                                                           worker):
    assessment = _checklist(client, person, action="draft")
    referral, meeting, item = _meeting_case(police, person, worker)
    case = Case(kind=CaseKind.DOMESTIC_ABUSE, owner_agency_id=police.id)
    db.session.add(case)
    db.session.flush()
    db.session.add(CasePerson(case_id=case.id, person_id=person.id))
    db.session.commit()
    forms = {
        f"/risk-assessments/{assessment.id}": (assessment.id, ["DASH risk checklist (draft)", "Raised to high",
                                                                 "Fears for Zoë's children"]),
        f"/referrals/{referral.id}": (referral.id, [
            "HRDA (MARAC) referral", "The victim", "The risk", "Strangled on 1 December", "Refused",
            "Crime and Disorder Act 1998, s.115", "Children in the household", "The referrer", PRINTER]),
        f"/meetings/{meeting.id}": (item.id, ["HRDA meeting: minutes and safety plan", "Sanctuary scheme at Zoë's home.",
                                              "Panic alarm fitted.", "Fit a panic alarm", "PC Ó Dálaigh"]),
        f"/people/{person.id}/chronology": (person.id, ["Chronology", "DASH checklist (draft)",
                                                         "HRDA referral made to HRDA team"]),
        f"/cases/{case.id}/chronology": (case.id, ["Chronology", "Domestic abuse case"]),
    }
    for page_url, (record_id, expected) in forms.items():
        page = Page(client.get(page_url))
        links = [a["href"] for a in page.select("a.govuk-link") if "Download as ODT (to edit)" in a.get_text()]
        assert links, f"{page_url}: no ODT link"
        body, headers, footers = _odt(client.get(links[0]))
        assert FULL_NAME in body or page_url.startswith("/cases/"), page_url
        for wanted in expected:
            assert wanted in body, f"{page_url}: {wanted!r} not in the ODT"
        assert headers and all(MARKING in h and f"Printed by {PRINTER}, Northshire Police on " in h
                               for h in headers), headers
        assert footers and all(MARKING in f for f in footers), footers
        assert _prints(record_id)[-1]["format"] == "odt", page_url


def test_only_those_who_may_see_the_record_print_it(app_ctx, client, person, police, worker):
    assessment = _checklist(client, person, action="draft")
    referral = ReferralFactory(person_id=person.id, owner_agency_id=police.id)
    db.session.commit()
    stranger = sign_in(app_ctx, make_user(agency=AgencyFactory(name="Fire")))
    for url in (f"/risk-assessments/{assessment.id}/download.odt", f"/referrals/{referral.id}/download.odt",
                f"/people/{person.id}/chronology/download.odt", f"/risk-assessments/{uuid.uuid4()}/download.pdf"):
        assert stranger.get(url).status_code == 404, url
    assert _prints(assessment.id) == [] and _prints(referral.id) == []
    assert client.get(f"/referrals/{referral.id}/download.doc").status_code == 404  # only PDF and ODT


def test_without_pango_the_pdf_link_says_why_and_offers_the_odt(app_ctx, client, person, monkeypatch, runner):
    assessment = _checklist(client, person)
    monkeypatch.setattr(pdf_module, "_load", lambda: "WeasyPrint needs Pango: apt-get install libpango-1.0-0")
    page = Page(client.get(f"/risk-assessments/{assessment.id}/download.pdf"))
    assert page.status_code == 503 and page.h1 == "PDFs cannot be made at the moment"
    assert "apt-get install libpango-1.0-0" in page.select_one("#reason").text
    odt_link = next(a["href"] for a in page.select("a.govuk-link") if "ODT" in a.text)
    assert client.get(odt_link).status_code == 200
    assert _prints(assessment.id) == [{"form": "dash", "format": "odt"}]  # the refused PDF is not on record
    monkeypatch.setattr(pdf_module.ctypes.util, "find_library", lambda name: None)
    result = runner.invoke(["printing", "check"])
    assert result.exit_code == 1
    assert "WeasyPrint needs Pango: apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core" in result.output


def test_a_chronology_too_long_for_a_pdf_is_refused_saying_what_to_do(client, person, monkeypatch):
    _checklist(client, person, action="draft")  # with the incident that made them a victim: 2 items
    monkeypatch.setattr(printing_service, "PDF_CHRONOLOGY_ITEMS", 1)
    page = Page(client.get(f"/people/{person.id}/chronology/download.pdf"))
    assert page.status_code == 409 and page.h1 == "Too long for a PDF"
    assert "This chronology has 2 items, more than the 1 a PDF can hold" in page.select_one("#refused").text
    assert _prints(person.id) == []
    assert client.get(f"/people/{person.id}/chronology/download.pdf?kind=dash").status_code == 200
