"""The MARAC data return (issue 18 §4, docs/marac-return.md): which cases a quarter holds (the
meeting's London date, first and last day), ages on the hearing day, the repeat rule, equality
answers, unknowns; the command's formats and messages; the page; equality information recorded
with agreement, sealed, and shown only to the person's own agency."""

from __future__ import annotations

import datetime as dt
import io
import json
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import select

from casework.db import db
from casework.measures.marac import parse_quarter
from casework.models import (
    AgencyKind,
    Case,
    CaseKind,
    CasePerson,
    Gender,
    Meeting,
    MeetingCase,
    PartyRole,
    Person,
    Referral,
    ReferralStatus,
    ReferralType,
    Share,
)
from casework.services import marac_return
from tests.conftest import Page
from tests.factories import AgencyFactory, PersonFactory
from tests.fixtures_auth import make_user, sign_in

LONDON = ZoneInfo("Europe/London")


def _heard(person, agency, chair_agency, at_london: dt.datetime, *, referred_on: dt.date,  # type: ignore[no-untyped-def]
           children=None, case=None):
    referral = Referral(person_id=person.id, type=ReferralType.HRDA, referred_on=referred_on,
                        status=ReferralStatus.ACCEPTED, owner_agency_id=agency.id, receiving_agency_id=chair_agency.id,
                        children_in_household=children, case_id=case.id if case else None)
    meeting = Meeting(agency_id=chair_agency.id, starts_at=at_london.replace(tzinfo=LONDON).astimezone(dt.UTC))
    db.session.add_all([referral, meeting])
    db.session.flush()
    db.session.add(MeetingCase(meeting_id=meeting.id, referral_id=referral.id))
    db.session.flush()
    return referral


def _world():  # type: ignore[no-untyped-def]
    police = AgencyFactory(name="Dorset Police", kind=AgencyKind.POLICE)
    health = AgencyFactory(name="Dorset Health", kind=AgencyKind.HEALTH)
    # Heard on the quarter's first day, 16 that day; male; White British; equality answers all "no".
    first = PersonFactory(owner_agency_id=police.id, gender=Gender.MALE, date_of_birth=dt.date(2009, 7, 1),
                          ethnicity="white_british", disability="no", sexual_orientation="straight",
                          gender_identity="same", equality_agreed_on=dt.date(2025, 1, 1))
    _heard(first, police, police, dt.datetime(2025, 7, 1, 10), referred_on=dt.date(2025, 6, 20))
    # Heard late on the last day (London; the next day is already Q3 in no clock); 18 that day; a repeat
    # (an earlier referral 365 days before); a perpetrator 17 that day; children in the household.
    last = PersonFactory(owner_agency_id=health.id, gender=Gender.FEMALE, date_of_birth=dt.date(2007, 9, 30),
                         ethnicity="black_african", disability="yes_a_little", sexual_orientation="bisexual",
                         equality_agreed_on=dt.date(2025, 1, 1))
    db.session.add(Referral(person_id=last.id, type=ReferralType.HRDA, referred_on=dt.date(2024, 9, 10),
                            status=ReferralStatus.CLOSED, owner_agency_id=health.id, imported=True))
    young = PersonFactory(owner_agency_id=health.id, date_of_birth=dt.date(2008, 10, 1))
    case = Case(kind=CaseKind.DOMESTIC_ABUSE, owner_agency_id=health.id)
    db.session.add(case)
    db.session.flush()
    db.session.add_all([CasePerson(case_id=case.id, person_id=last.id, role=PartyRole.VICTIM),
                        CasePerson(case_id=case.id, person_id=young.id, role=PartyRole.PERPETRATOR)])
    _heard(last, health, police, dt.datetime(2025, 9, 30, 23, 30), referred_on=dt.date(2025, 9, 10), children=True,
           case=case)
    # Outside the quarter: the day before its first, and half an hour into the next quarter (London).
    before = PersonFactory(owner_agency_id=police.id)
    _heard(before, police, police, dt.datetime(2025, 6, 30, 18), referred_on=dt.date(2025, 6, 1))
    after = PersonFactory(owner_agency_id=police.id)
    _heard(after, police, police, dt.datetime(2025, 10, 1, 0, 30), referred_on=dt.date(2025, 9, 1))
    db.session.commit()
    return police, health, first, last


def test_the_quarter_holds_the_cases_heard_from_its_first_to_its_last_day(app_ctx):
    _world()
    result = marac_return.figures(parse_quarter("2025-26-Q2"))
    got = {f.key: (f.count, f.unknown) for f in [*result.figures, *result.by_agency_kind]}
    assert got["cases"] == (2, None)
    assert got["repeats"] == (1, None)
    assert got["male"] == (1, 0)
    assert got["aged_16_17"] == (1, 0)  # 16 on the day counts; 18 on the day does not
    assert got["minoritised"] == (1, 0)
    assert got["disabled"] == (1, 0)
    assert got["lgbt"] == (1, 0)
    assert got["perpetrator_under_18"] == (1, 1)  # the first case has no perpetrator recorded: not known
    assert got["children"] == (1, 1)
    assert got["referrals_police"][0] == 1 and got["referrals_health"][0] == 1
    assert result.figure("repeats").benchmark == "28% to 40%" and result.figure("repeats").within is False
    assert marac_return.figures(parse_quarter("2025-26-Q3")).figure("cases").count == 1


def test_the_command_writes_each_format_and_refuses_a_bad_quarter(app_ctx, runner, tmp_path):
    _world()
    out = runner.invoke(args=["marac-return", "--quarter", "2025-26-Q2"])
    assert out.exit_code == 0, out.output
    document = json.loads(out.output)
    assert document["from"] == "2025-07-01" and document["to"] == "2025-09-30"
    assert {f["key"]: f["count"] for f in document["figures"]}["cases"] == 2
    target = tmp_path / "return.xlsx"
    assert runner.invoke(args=["marac-return", "--quarter", "2025-26-Q2", "--format", "xlsx",
                               "--output", str(target)]).exit_code == 0
    sheet = load_workbook(io.BytesIO(target.read_bytes())).active
    assert [c.value for c in sheet[2]][:2] == ["Cases heard", 2]
    csv_out = runner.invoke(args=["marac-return", "--quarter", "2025-26-Q2", "--format", "csv"])
    assert "Victims aged 16 or 17,1," in csv_out.output
    bad = runner.invoke(args=["marac-return", "--quarter", "2025-Q2"])
    assert bad.exit_code != 0 and "is not a quarter" in bad.output and "2025-26-Q2" in bad.output
    assert "--format 'pdf' is not one of" in runner.invoke(
        args=["marac-return", "--quarter", "2025-26-Q2", "--format", "pdf"]).output


def test_the_page_shows_the_return_reached_from_the_measures(app_ctx, home_agency):
    _world()
    client = sign_in(app_ctx, make_user(agency=home_agency))
    link = Page(client.get("/measures")).select_one("a[href='/marac-return']")
    assert link is not None
    page = Page(client.get("/marac-return?quarter=2025-26-Q2"))
    assert page.h1 == "MARAC data return 2025-26-Q2" and "28% to 40%" in page.text
    bad = Page(client.get("/marac-return?quarter=2025-26-Q9"))
    assert bad.response.status_code == 400 and "is not a quarter" in bad.select_one(".govuk-error-summary").text
    download = client.get("/marac-return?quarter=2025-26-Q2&format=csv")
    assert download.headers["Content-Disposition"].endswith('marac-return-2025-26-Q2.csv"')
    assert sign_in(app_ctx, make_user(roles=("admin",), agency=home_agency)).get("/marac-return").status_code == 403


def test_equality_information_is_recorded_with_agreement_sealed_and_shown_to_the_own_agency(app_ctx, home_agency):
    other = AgencyFactory(name="Dorset Health")
    person = PersonFactory(owner_agency_id=home_agency.id)
    db.session.add(Share(record_kind="person", record_id=person.id, agency_id=other.id, via="explicit"))
    db.session.commit()
    mine = sign_in(app_ctx, make_user(agency=home_agency))
    url = f"/people/{person.id}/equality"
    assert "Record equality information" in Page(mine.get(f"/people/{person.id}")).text
    bad = Page(mine.post(url, data={"agreed": "yes", "ethnicity": "martian"}))
    assert bad.response.status_code == 400 and [a.text for a in bad.select(".govuk-error-summary a")] == [
        "Enter the date the person agreed", "Select the person's ethnic group from the list"]
    assert mine.post(url, data={"agreed": "yes", "agreed_on-day": "3", "agreed_on-month": "3",
                                "agreed_on-year": "2025", "ethnicity": "white_roma",
                                "sexual_orientation": "gay_lesbian"}).status_code == 302
    page = Page(mine.get(f"/people/{person.id}"))
    assert "White: Roma" in page.select_one("#equality").text
    table = Person.__table__
    raw = db.session.execute(select(table.c.ethnicity).where(table.c.id == person.id)).scalar_one()
    assert b"white_roma" not in bytes(raw)
    theirs = sign_in(app_ctx, make_user(agency=other))
    assert theirs.get(f"/people/{person.id}").status_code == 200
    assert Page(theirs.get(f"/people/{person.id}")).select_one("#equality") is None
    assert theirs.get(url).status_code == 404
    assert mine.post(url, data={"agreed": "no"}).status_code == 302
    db.session.expire_all()
    assert person.ethnicity is None and person.equality_agreed_on is None
