"""Every form posted empty (and with wrong values where a value can be wrong) lists every error at
once in its error summary, in the page's order, each linking to an input of the page: the field's
first input (a date's day, or its first part in error; the first of a group of radios or boxes).
The same errors show on their fields, in the same order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from bs4 import Tag

from casework.db import db
from casework.measures.periods import today_in_london
from casework.models import AgencyKind, CaseKind, ReferralStatus, ReferralType
from casework.services import cases, meeting_records, meetings
from tests.conftest import Page
from tests.factories import AgencyFactory, IncidentFactory, PersonFactory, ReferralFactory, routed, victim
from tests.fixtures_auth import make_user, sign_in

INPUTS = ("input", "select", "textarea")


def errors_listed_at_once(page: Page) -> list[str]:
    """The summary's messages, checked against the page: each links to an input that exists, in
    the page's order, and each field shows the same message (the summary lists them all)."""
    links = page.select(".govuk-error-summary__list a")
    texts = [a.get_text(" ", strip=True) for a in links]
    shown = [p.get_text(" ", strip=True).removeprefix("Error:").strip() for p in page.select(".govuk-error-message")]
    assert shown == texts, "every error on its field is in the summary, in the same order"
    order = {id(tag): n for n, tag in enumerate(page.soup.find_all(True))}
    places = []
    for link in links:
        target = page.soup.find(id=link["href"].removeprefix("#"))
        assert isinstance(target, Tag) and target.name in INPUTS, f"{link['href']} is not an input of the page"
        if target.get("type") == "hidden":
            raise AssertionError(f"{link['href']} is a hidden input")
        places.append(order[id(target)])
    assert places == sorted(places), "the summary follows the page's order"
    return texts


@dataclass
class World:
    app: Any
    today: dt.date
    clients: dict[str, Any]
    ids: dict[str, Any]


@pytest.fixture()
def world(app_ctx):
    today = today_in_london()
    police = AgencyFactory(name="Police", kind=AgencyKind.POLICE)
    team = AgencyFactory(name="HRDA team", kind=AgencyKind.COUNCIL)
    worker = make_user(agency=police)
    chair = make_user(roles=("hrda_chair",), agency=team)
    admin = make_user(roles=("admin",), agency=police)
    person = victim(PersonFactory(owner_agency_id=police.id, forenames="Lisa", surname="Price"))
    incident = IncidentFactory(owner_agency_id=police.id)
    second = AgencyFactory(name="Second service", kind=AgencyKind.OTHER)
    for kind in ("idva", "hrda", "mappa"):  # two services each: the receiving service is a question
        routed(kind, team)
        routed(kind, second)
    routed("idva", police)  # the worker decides the IDVA referral routed to police
    submitted = ReferralFactory(person_id=person.id, owner_agency_id=team.id, receiving_agency_id=police.id,
                                type=ReferralType.IDVA, referred_on=today)
    programme = ReferralFactory(person_id=PersonFactory(owner_agency_id=police.id).id, owner_agency_id=police.id,
                                receiving_agency_id=police.id, type=ReferralType.PERPETRATOR_PROGRAMME,
                                status=ReferralStatus.ACCEPTED, referred_on=today)
    hrda = ReferralFactory(person_id=PersonFactory(owner_agency_id=police.id).id, owner_agency_id=police.id,
                           receiving_agency_id=team.id, referred_on=today, dash_score=16, criteria_held="dash",
                           children_in_household=False)
    meeting = meetings.schedule(day=today, time=dt.time(10), place="Room 1", online=False, agencies=[police],
                                by=chair, today=today)[0]
    listed = ReferralFactory(person_id=PersonFactory(owner_agency_id=police.id).id, owner_agency_id=police.id,
                             receiving_agency_id=team.id, referred_on=today, status=ReferralStatus.ACCEPTED,
                             dash_score=16, criteria_held="dash")
    item = meetings.list_case(meeting, listed, by=chair)
    meetings.start(meeting, by=chair)
    action = meeting_records.add_action(item, text="Fit door locks", agency=police, person_name=None,
                                        due_on=today + dt.timedelta(days=7), by=chair, today=today)
    db.session.commit()
    client = sign_in(app_ctx, worker)
    case = cases.open_case(kind=CaseKind.DOMESTIC_ABUSE, by=worker, person=person, today=today)
    later = meetings.schedule(day=today + dt.timedelta(days=5), time=dt.time(10), place="Room 1", online=False,
                              agencies=[police], by=chair, today=today)[0]
    db.session.commit()
    return World(app=app_ctx, today=today, clients={
        "worker": client, "chair": sign_in(app_ctx, chair), "admin": sign_in(app_ctx, admin)}, ids={
        "person": person.id, "incident": incident.id, "submitted": submitted.id, "programme": programme.id,
        "hrda": hrda.id, "meeting": meeting.id, "item": item.id, "action": action.id, "case": case.id,
        "item_hex": item.id.hex, "later_meeting": later.id, "action_hex": action.id.hex})


def _date(name: str, day: str, month: str, year: str) -> dict[str, str]:
    return {f"{name}-day": day, f"{name}-month": month, f"{name}-year": year}


def _meeting_case(w: World, name: str) -> str:
    return f"/meetings/{w.ids['meeting']}/cases/{w.ids['item']}/{name}"


def _breach_url(w: World) -> str:
    """A breach of an order (a CPW of the person, issued a week ago) made here, for the breach form."""
    from casework.models import Order, OrderKind, Person

    person = db.session.get(Person, w.ids["person"])
    order = Order(person_id=person.id, kind=OrderKind.CPW, owner_agency_id=person.owner_agency_id,
                  issued_on=w.today - dt.timedelta(days=7))
    db.session.add(order)
    db.session.commit()
    return f"/orders/{order.id}/breaches/new"


# name: (who posts, the address, what is posted, the errors expected, in order)
FORMS: dict[str, tuple[str, Callable[[World], str], dict[str, str], list[str]]] = {
    "order or power": ("worker", lambda w: f"/people/{w.ids['person']}/orders/new", {},
                       ["Select the kind of order or power", "Select the agency that holds the order",
                        "Enter the date it was made or issued, or the date it was applied for",
                        "Select the status of the order"]),
    "order or power, dates out of order": (
        "worker", lambda w: f"/people/{w.ids['person']}/orders/new",
        {"kind": "cpn", "status": "expired", **_date("issued_on", "2", "1", "2025"),
         **_date("served_on", "1", "1", "2025"), **_date("expires_on", "1", "13", "2025")},
        ["Select the agency that holds the order",
         "The date it was served must be on or after the date it was made or issued",
         "Expires must be a real date"]),
    "breach of an order": ("worker", _breach_url, {}, ["Enter the date of the breach"]),
    "incident": ("worker", lambda w: "/incidents/new", {},
                 ["Enter the date of the incident", "Select the category"]),
    "incident, a date of 32/13/25": ("worker", lambda w: "/incidents/new", _date("occurred_on", "32", "13", "25"),
                                     ["Date of the incident must be a real date", "Select the category"]),
    "incident edited": ("worker", lambda w: f"/incidents/{w.ids['incident']}/edit", {"category": ""},
                        ["Enter the date of the incident", "Select the category"]),
    "incident, ASB without its type": (  # an ASB type posted under another category is ignored
        "worker", lambda w: "/incidents/new", {**_date("occurred_on", "1", "2", "2030"), "category": "asb",
                                               "area": "not-an-area"},
        ["Date of the incident must be today or in the past", "Select the type of anti-social behaviour",
         "Select a designated area from the list"]),
    "person added to an incident": ("worker", lambda w: f"/incidents/{w.ids['incident']}/people/{w.ids['person']}",
                                    {}, ["Select the person's role"]),
    "person": ("worker", lambda w: "/people/new", {}, ["Enter the person's surname"]),
    "person, wrong values": ("worker", lambda w: "/people/new",
                             {**_date("date_of_birth", "32", "13", "85"), "postcode": "nowhere", "email": "lisa"},
                             ["Enter the person's surname", "Date of birth must be a real date",
                              "Enter a real postcode, like DT1 1XJ",
                              "Enter an email address in the correct format, like name@example.com"]),
    "person edited": ("worker", lambda w: f"/people/{w.ids['person']}/edit", _date("date_of_birth", "1", "", "1990"),
                      ["Enter the person's surname", "Date of birth must include a month"]),
    "IDVA referral": ("worker", lambda w: f"/people/{w.ids['person']}/referrals/new", {"type": "idva"},
                      ["Select the service receiving the IDVA referral", "Select whether the person gave consent"]),
    "IDVA referral refused": ("worker", lambda w: f"/people/{w.ids['person']}/referrals/new",
                              {"type": "idva", "consent": "refused"},
                              ["Select the service receiving the IDVA referral",
                               "Enter the lawful basis for sharing without consent"]),
    "HRDA referral": ("worker", lambda w: f"/people/{w.ids['person']}/referrals/new", {"type": "hrda",
                                                                                       "dash_score": "many"},
                      ["Select the service receiving the HRDA referral", "Select whether the person gave consent",
                       "The DASH score must be a whole number",
                       "Select whether there are children in the household"]),
    "MAPPA referral": ("worker", lambda w: f"/people/{w.ids['person']}/referrals/new", {"type": "mappa"},
                       ["Select the service receiving the MAPPA referral", "Select whether the person gave consent",
                        "Select the MAPPA category (1, 2 or 3)", "Select the MAPPA level (1, 2 or 3)"]),
    "decision": ("worker", lambda w: f"/referrals/{w.ids['submitted']}/decision", {},
                 ["Select whether you accept or decline the referral"]),
    "decision to decline": ("worker", lambda w: f"/referrals/{w.ids['submitted']}/decision", {"decision": "decline"},
                            ["Enter the reason for declining"]),
    "programme, wrong dates": ("worker", lambda w: f"/referrals/{w.ids['programme']}/programme",
                               _date("started_on", "1", "", "2025") | _date("ended_on", "x", "1", "2025")
                               | {"ended": "yes"},
                               ["Started must include a month", "Ended must be a real date",
                                "Select the programme's outcome"]),
    "HRDA decision": ("chair", lambda w: f"/hrda/referrals/{w.ids['hrda']}/decision", {},
                      ["Select whether you accept or decline the referral"]),
    "HRDA decision to decline": ("chair", lambda w: f"/hrda/referrals/{w.ids['hrda']}/decision",
                                 {"decision": "decline"}, ["Enter the reason for declining"]),
    "case": ("worker", lambda w: f"/people/{w.ids['person']}/cases/new", {}, ["Select the kind of case"]),
    "case edited": ("worker", lambda w: f"/cases/{w.ids['case']}/edit", {}, ["Select the kind of case"]),
    "case closed": ("worker", lambda w: f"/cases/{w.ids['case']}/close", {"confirm": "yes"},
                    ["Enter the outcome of the case"]),
    "note": ("worker", lambda w: f"/cases/{w.ids['case']}/notes", {}, ["Enter the note"]),
    "task": ("worker", lambda w: f"/cases/{w.ids['case']}/tasks", {},
             ["Enter what needs doing", "Enter the date the task is due"]),
    "person linked to a case": ("worker", lambda w: f"/cases/{w.ids['case']}/people", {}, ["Select a person"]),
    "incident linked to a case": ("worker", lambda w: f"/cases/{w.ids['case']}/incidents", {},
                                  ["Select an incident"]),
    "DASH checklist": ("worker", lambda w: f"/people/{w.ids['person']}/risk-assessments/new", {"action": "complete"},
                       ["Answer at least one question: a checklist with no answers is not saved"]),
    "DASH checklist judged high": ("worker", lambda w: f"/people/{w.ids['person']}/risk-assessments/new",
                                   {"action": "draft", "q1": "yes", "judged_high": "y"},
                                   ["Explain why you judge the risk to be high"]),
    "meeting": ("chair", lambda w: "/meetings/new", {},
                ["Enter the date of the meeting", "Enter the time of the meeting, like 10:00",
                 "Enter the place, or say the meeting is online", "Select the agencies invited"]),
    "meeting pattern, wrong values": (
        "chair", lambda w: "/meetings/new", {**_date("day", "30", "2", "2027"), "time": "ten", "online": "y",
                                             "weekdays": "0"},
        ["Date must be a real date", "Enter the time on the 24-hour clock, like 10:00 or 14:30",
         "Select the agencies invited", "Enter the date the pattern ends"]),
    "research": ("worker", lambda w: _meeting_case(w, "research"), {},
                 ["Enter the facts your agency holds, or its opinion",
                  "Enter the date your agency's records were checked"]),
    "action": ("chair", lambda w: _meeting_case(w, "actions"), {},
               ["Enter the action", "Select an agency taking part in the meeting", "Enter the date the action is due"]),
    "progress": ("worker", lambda w: f"/hrda-actions/{w.ids['action']}", {},
                 ["Enter the progress, or mark the action done"]),
    "meeting closed early": ("chair", lambda w: f"/meetings/{w.ids['later_meeting']}/state",
                             {"direction": "close", "confirm": "yes"},
                             ["Enter the reason for closing the meeting before its date"]),
    "restriction": ("worker", lambda w: f"/people/{w.ids['person']}/restriction", {},
                    ["Confirm that only the users named will see it"]),
    "user": ("admin", lambda w: "/admin/users/new", {},
             ["Enter an email address", "Enter the user's name", "Select an agency"]),
    "agency": ("admin", lambda w: "/admin/agencies", {}, ["Enter the agency's name", "Select the kind of agency"]),
    "password": ("worker", lambda w: "/account/password", {},
                 ["Enter your current password", "Enter a new password", "Enter the new password again"]),
}


@pytest.mark.parametrize("name", FORMS)
def test_a_form_posted_empty_or_wrong_lists_every_error_at_once(world, name):
    who, url, posted, expected = FORMS[name]
    page = Page(world.clients[who].post(url(world), data=posted))
    assert page.status_code == 400
    assert errors_listed_at_once(page) == expected
    assert page.soup.title.get_text(strip=True).startswith("Error:")


# Forms sent with GET (searches and ranges): name: (who, the address with what is typed, the errors expected)
SEARCHES: dict[str, tuple[str, Callable[[World], str], list[str]]] = {
    "a person to add to an incident": (
        "worker", lambda w: f"/incidents/{w.ids['incident']}/people?date_of_birth-day=1&date_of_birth-year=1990",
        ["Date of birth must include a month"]),
    "the HRDA figures' dates": ("chair", lambda w: "/hrda/figures?first-day=40&first-month=1&first-year=2025"
                                                   "&last-day=1",
                                ["From must be a real date", "To must include a month and year"]),
}


@pytest.mark.parametrize("name", SEARCHES)
def test_a_search_with_wrong_values_lists_every_error_at_once(world, name):
    who, url, expected = SEARCHES[name]
    page = Page(world.clients[who].get(url(world)))
    assert page.status_code == 400
    assert errors_listed_at_once(page) == expected


def test_an_error_in_a_collapsed_section_opens_it(world):
    """Research is in a details section of the meeting page, closed until opened: an error in it
    opens it, so the summary's link lands on a box that shows."""
    page = Page(world.clients["worker"].post(_meeting_case(world, "research"), data={}))
    box = page.select_one(f"#research-{world.ids['item_hex']}-facts")
    assert box.find_parent("details").has_attr("open")
    others = [d for d in page.select("details") if d is not box.find_parent("details")]
    assert not any(d.has_attr("open") for d in others)
