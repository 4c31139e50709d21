"""Referrals through their pages: consent rules, the HRDA criteria, MAPPA, the receiving side's
decision (sharing on acceptance, a reason on decline), who may decide, duplicates, imported history."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from casework.db import db
from casework.measures.periods import today_in_london
from casework.models import (
    CaseKind,
    Consent,
    HrdaCriteria,
    ProgrammeOutcome,
    Referral,
    ReferralStatus,
    ReferralType,
    Share,
)
from casework.services import cases
from tests.confirm_support import confirm
from tests.conftest import Page
from tests.factories import AgencyFactory, PersonFactory, ReferralFactory, routed, victim
from tests.fixtures_auth import make_user, sign_in


@pytest.fixture()
def worker(app_ctx, home_agency):
    return make_user(agency=home_agency)


@pytest.fixture()
def client(app_ctx, worker):
    return sign_in(app_ctx, worker)


@pytest.fixture()
def person(app_ctx, home_agency):
    return victim(PersonFactory(owner_agency_id=home_agency.id))


@pytest.fixture()
def idva(app_ctx):
    return AgencyFactory(name="IDVA Service")


def _refer(client, person, kind: str, agency, **data):  # type: ignore[no-untyped-def]
    routed(kind, agency)
    db.session.commit()
    form = {"type": kind, "receiving_agency": str(agency.id), "consent": "given", **data}
    return client.post(f"/people/{person.id}/referrals/new", data=form)


def _made(response) -> Referral:  # type: ignore[no-untyped-def]
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return db.session.get(Referral, uuid.UUID(response.headers["Location"].rsplit("/", 1)[-1]))


def _count(person) -> int:  # type: ignore[no-untyped-def]
    return len(db.session.scalars(select(Referral.id).where(Referral.person_id == person.id)).all())


def test_an_idva_referral_names_the_receiving_agency_and_consent(client, person, idva, worker):
    referral = _made(_refer(client, person, "idva", idva, reason="Wants support through court"))
    assert (referral.type, referral.status, referral.receiving_agency_id) == (
        ReferralType.IDVA, ReferralStatus.SUBMITTED, idva.id)
    assert referral.consent is Consent.GIVEN and referral.lawful_basis is None
    assert referral.referred_by_id == worker.id and referral.referred_on == today_in_london()
    assert referral.reason == "Wants support through court" and not referral.imported


@pytest.mark.parametrize("consent", ["refused", "not_sought"])
def test_without_consent_a_lawful_basis_is_required(client, person, idva, consent):
    db.session.commit()
    page = Page(_refer(client, person, "idva", idva, consent=consent))
    assert page.status_code == 400
    assert page.select_one(".govuk-error-summary a")["href"] == f"#lawful_basis_{consent}"
    assert page.select_one(f"#lawful_basis_{consent}").name == "textarea"
    assert _count(person) == 0
    referral = _made(_refer(client, person, "idva", idva, consent=consent,
                            **{f"lawful_basis_{consent}": "Preventing serious harm: Crime and Disorder Act 1998 s115"}))
    assert referral.consent is Consent(consent) and referral.lawful_basis.startswith("Preventing serious harm")


def test_a_lawful_basis_hidden_because_consent_was_given_is_ignored(client, person, idva):
    """The lawful basis is revealed only under the answers without consent; what a browser without
    JavaScript still sends from the hidden boxes is neither required nor kept."""
    referral = _made(_refer(client, person, "idva", idva, consent="given", lawful_basis_refused="Typed, then",
                            lawful_basis_not_sought="changed my mind"))
    assert referral.consent is Consent.GIVEN and referral.lawful_basis is None


def test_the_lawful_basis_is_revealed_under_each_answer_without_consent(client, person, idva):
    page = Page(client.get(f"/people/{person.id}/referrals/new?type=idva"))
    for consent in ("refused", "not_sought"):
        radio = page.select_one(f"input[name=consent][value={consent}]")
        reveal = page.select_one(f"#{radio['data-aria-controls']}")
        assert "govuk-radios__conditional" in reveal["class"]
        assert reveal.select_one("textarea")["name"] == f"lawful_basis_{consent}"
    assert not page.select_one("input[name=consent][value=given]").get("data-aria-controls")


def test_consent_and_the_receiving_agency_are_required(client, person, idva):
    routed("idva", idva)
    routed("idva", AgencyFactory(name="Second IDVA Service"))
    db.session.commit()
    page = Page(client.post(f"/people/{person.id}/referrals/new", data={"type": "idva"}))
    assert page.status_code == 400 and "Select the service receiving the IDVA referral" in page.text
    assert _count(person) == 0


def test_an_hrda_referral_records_criteria_score_and_children(client, person, home_agency):
    db.session.commit()
    page = Page(_refer(client, person, "hrda", home_agency, criteria="dash", dash_score="12",
                       children_in_household="yes"))
    assert page.status_code == 400 and "Visible high risk needs a DASH score of 14 or more" in page.text
    referral = _made(_refer(client, person, "hrda", home_agency, criteria="dash", dash_score="16",
                            children_in_household="yes"))
    assert (referral.criteria, referral.criteria_held, referral.dash_score, referral.children_in_household) == (
        HrdaCriteria.DASH, "dash", 16, True)
    text_ = Page(client.get(f"/referrals/{referral.id}")).text
    assert "Visible high risk (DASH)" in text_ and "Children in the household Yes" in text_


def test_escalation_cannot_be_claimed_when_the_records_do_not_show_it(client, person, home_agency):
    db.session.commit()
    page = Page(_refer(client, person, "hrda", home_agency, criteria="escalation", children_in_household="no"))
    assert page.status_code == 400 and "Potential escalation does not hold" in page.text
    assert _count(person) == 0


def test_a_referral_within_a_year_of_the_last_is_marked_repeat_whatever_is_selected(client, person, home_agency):
    ReferralFactory(person_id=person.id, type=ReferralType.HRDA, owner_agency_id=home_agency.id, imported=True,
                    status=ReferralStatus.CLOSED, referred_on=today_in_london() - dt.timedelta(days=365))
    referral = _made(_refer(client, person, "hrda", home_agency, criteria="professional_judgement",
                            reason="Stalking has resumed", children_in_household="no"))
    assert referral.criteria_held == "professional_judgement,repeat"
    assert referral.criteria is HrdaCriteria.PROFESSIONAL_JUDGEMENT


def test_mappa_needs_a_category_and_a_level(client, home_agency, idva):
    offender = PersonFactory(owner_agency_id=home_agency.id)
    db.session.commit()
    page = Page(_refer(client, offender, "mappa", idva, mappa_category="2"))
    assert page.status_code == 400 and "Select the MAPPA level (1, 2 or 3)" in page.text
    referral = _made(_refer(client, offender, "mappa", idva, mappa_category="2", mappa_level="3"))
    assert (referral.mappa_category, referral.mappa_level) == (2, 3)


def test_a_second_open_referral_of_the_same_kind_is_refused(client, person, idva, home_agency):
    first = _made(_refer(client, person, "idva", idva))
    db.session.commit()
    page = Page(_refer(client, person, "idva", idva))
    assert page.status_code == 400
    assert "already has an open IDVA referral" in page.select_one(".govuk-error-summary").text
    assert page.select_one(".govuk-error-summary a")["href"] == "#existing"
    assert _count(person) == 1
    # Another kind is fine; so is the same kind once the first is declined.
    _made(_refer(client, person, "hrda", home_agency, criteria="professional_judgement", reason="Fear",
                 children_in_household="no"))
    first.status = ReferralStatus.DECLINED
    db.session.commit()
    _made(_refer(client, person, "idva", idva))


def test_accepting_shares_the_person_and_the_case_with_the_receiving_agency(app_ctx, client, person, idva, worker):
    case = cases.open_case(kind=CaseKind.DOMESTIC_ABUSE, by=worker, person=person, today=today_in_london())
    referral = _made(_refer(client, person, "idva", idva, case=str(case.id)))
    advocate = make_user(agency=idva)
    idva_client = sign_in(app_ctx, advocate)
    assert idva_client.get(f"/people/{person.id}").status_code == 404
    assert idva_client.get(f"/referrals/{referral.id}").status_code == 200
    home = Page(idva_client.get("/"))
    assert f"/referrals/{referral.id}" in [a["href"] for a in home.select("#awaiting a")]
    response = idva_client.post(f"/referrals/{referral.id}/decision",
                                data={"decision": "accept", "version": str(referral.version)})
    assert response.status_code == 302
    db.session.refresh(referral)
    assert referral.status is ReferralStatus.ACCEPTED and referral.decided_by_id == advocate.id
    shares = {(s.record_kind, s.record_id) for s in db.session.scalars(
        select(Share).where(Share.agency_id == idva.id, Share.via == "referral"))}
    assert shares == {("person", person.id), ("case", case.id)}
    assert idva_client.get(f"/people/{person.id}").status_code == 200
    assert idva_client.get(f"/cases/{case.id}").status_code == 200


def test_a_decline_needs_a_reason_which_the_referrer_sees(app_ctx, client, person, idva):
    referral = _made(_refer(client, person, "idva", idva))
    idva_client = sign_in(app_ctx, make_user(agency=idva))
    page = Page(idva_client.post(f"/referrals/{referral.id}/decision",
                                 data={"decision": "decline", "version": str(referral.version)}))
    assert page.status_code == 400 and page.select_one(".govuk-error-summary a")["href"] == "#reason"
    db.session.refresh(referral)
    assert referral.status is ReferralStatus.SUBMITTED
    assert idva_client.post(f"/referrals/{referral.id}/decision", data={
        "decision": "decline", "reason": "Already supported by another IDVA", "version": str(referral.version)},
    ).status_code == 302
    assert "Already supported by another IDVA" in Page(client.get(f"/referrals/{referral.id}")).text
    decisions = Page(client.get("/")).select_one("#decisions").text
    assert "Declined" in decisions and "Already supported by another IDVA" in decisions
    assert db.session.scalars(select(Share).where(Share.agency_id == idva.id)).all() == []


def test_only_the_receiving_agency_decides_and_a_refusal_changes_nothing(app_ctx, client, person, idva, home_agency):
    referral = _made(_refer(client, person, "idva", idva))
    db.session.commit()
    data = {"decision": "accept", "version": str(referral.version)}
    outsider = sign_in(app_ctx, make_user(agency=AgencyFactory()))
    assert outsider.post(f"/referrals/{referral.id}/decision", data=data).status_code == 404
    # The referrer's own agency sees the referral but is not the receiving side.
    assert client.post(f"/referrals/{referral.id}/decision", data=data).status_code == 403
    manager = sign_in(app_ctx, make_user(roles=("manager",), agency=idva))
    assert manager.post(f"/referrals/{referral.id}/decision", data=data).status_code == 403
    db.session.refresh(referral)
    assert referral.status is ReferralStatus.SUBMITTED and referral.decided_by_id is None
    assert db.session.scalars(select(Share).where(Share.record_id == person.id)).all() == []


def test_an_hrda_referral_is_decided_by_a_chair_of_the_receiving_agency(app_ctx, client, person):
    hrda_agency = AgencyFactory(name="HRDA coordination")
    referral = _made(_refer(client, person, "hrda", hrda_agency, criteria="professional_judgement",
                            reason="Escalating threats", children_in_household="no"))
    caseworker = sign_in(app_ctx, make_user(agency=hrda_agency))
    assert caseworker.post(f"/referrals/{referral.id}/decision",
                           data={"decision": "accept", "version": "1"}).status_code == 403
    chair = sign_in(app_ctx, make_user(roles=("hrda_chair",), agency=hrda_agency))
    assert f"/referrals/{referral.id}" in [a["href"] for a in Page(chair.get("/")).select("#awaiting a")]
    assert chair.post(f"/referrals/{referral.id}/decision", data={"decision": "accept", "version": "1"}).status_code == 302
    db.session.refresh(referral)
    assert referral.status is ReferralStatus.ACCEPTED


def test_imported_referrals_never_enter_a_queue_and_are_never_decided(app_ctx, person, idva):
    imported = ReferralFactory(person_id=person.id, type=ReferralType.IDVA, receiving_agency_id=idva.id,
                               status=ReferralStatus.SUBMITTED, imported=True, owner_agency_id=person.owner_agency_id)
    advocate = sign_in(app_ctx, make_user(agency=idva))
    assert f"/referrals/{imported.id}" not in [a["href"] for a in Page(advocate.get("/")).select("#awaiting a")]
    assert advocate.post(f"/referrals/{imported.id}/decision",
                         data={"decision": "accept", "version": "1"}).status_code == 403
    db.session.refresh(imported)
    assert imported.status is ReferralStatus.SUBMITTED


def test_a_perpetrator_programme_records_start_end_and_outcome_then_closes(app_ctx, client, home_agency):
    perpetrator = PersonFactory(owner_agency_id=home_agency.id)
    provider = AgencyFactory(name="Programme provider")
    referral = _made(_refer(client, perpetrator, "perpetrator_programme", provider))
    provider_client = sign_in(app_ctx, make_user(agency=provider))
    assert provider_client.post(f"/referrals/{referral.id}/decision",
                                data={"decision": "accept", "version": "1"}).status_code == 302
    db.session.refresh(referral)
    started, ended = dt.date(2025, 1, 6), dt.date(2025, 3, 31)
    dates = {"started_on-day": "6", "started_on-month": "1", "started_on-year": "2025",
             "ended_on-day": "31", "ended_on-month": "3", "ended_on-year": "2025"}
    db.session.commit()
    page = Page(provider_client.post(f"/referrals/{referral.id}/programme",
                                     data={**dates, "ended": "yes", "version": str(referral.version)}))
    assert page.status_code == 400 and "Select the programme's outcome" in page.text
    # The end date and outcome are revealed under "Yes": posted under "No, not yet" they are ignored.
    reveal = page.select_one(f"#{page.select_one('input[name=ended][value=yes]')['data-aria-controls']}")
    assert reveal.select("input[name=outcome]") and reveal.select("input[name=ended_on-day]")
    assert provider_client.post(f"/referrals/{referral.id}/programme", data={
        **dates, "ended": "no", "outcome": "left_early", "version": str(referral.version)}).status_code == 302
    db.session.refresh(referral)
    assert (referral.started_on, referral.ended_on, referral.outcome) == (started, None, None)
    assert provider_client.post(f"/referrals/{referral.id}/programme", data={
        **dates, "ended": "yes", "outcome": "left_early", "version": str(referral.version)}).status_code == 302
    db.session.refresh(referral)
    assert (referral.started_on, referral.ended_on, referral.outcome) == (started, ended, ProgrammeOutcome.LEFT_EARLY)
    # Closing is confirmed on a page of its own; a post without that step shows the page and does nothing.
    assert client.post(f"/referrals/{referral.id}/close", data={"version": str(referral.version)}).status_code == 200
    db.session.refresh(referral)
    assert referral.status is ReferralStatus.ACCEPTED
    link = Page(client.get(f"/referrals/{referral.id}")).select_one("a.govuk-button--warning")
    assert link.text.strip() == "Close the referral"
    page = Page(client.get(link["href"]))
    assert page.h1 == "Close the Perpetrator programme referral?"
    assert "Programme details can no longer be changed." in page.select_one("#effects").text
    assert confirm(client, page).status_code == 302
    db.session.refresh(referral)
    assert referral.status is ReferralStatus.CLOSED and referral.closed_at is not None


def test_a_stale_decision_is_refused(app_ctx, client, person, idva):
    referral = _made(_refer(client, person, "idva", idva))
    first, second = (sign_in(app_ctx, make_user(agency=idva)) for _ in range(2))
    assert first.post(f"/referrals/{referral.id}/decision", data={"decision": "accept", "version": "1"}).status_code == 302
    db.session.commit()
    page = Page(second.post(f"/referrals/{referral.id}/decision",
                            data={"decision": "decline", "reason": "No capacity", "version": "1"}))
    assert page.status_code == 409 and "Status" in page.text
    db.session.refresh(referral)
    assert referral.status is ReferralStatus.ACCEPTED and referral.decision_reason is None


def test_the_referral_list_opens_on_what_the_agency_received_where_a_route_leads_to_it(
        app_ctx, client, person, idva, home_agency):
    made = _made(_refer(client, person, "idva", idva))
    # The referrer's agency receives nothing: its list opens on the referrals it made.
    page = Page(client.get("/referrals"))
    assert [a["href"] for a in page.select("tbody a")] == [f"/referrals/{made.id}"]
    assert page.select_one("main nav strong").text == "Made by your agency"
    # The IDVA service is on a route: its list opens on what it received; either list is a link away.
    receiver = Page(sign_in(app_ctx, make_user(agency=idva)).get("/referrals"))
    assert receiver.select_one("main nav strong").text == "Received by your agency"
    assert [a["href"] for a in receiver.select("tbody a")] == [f"/referrals/{made.id}"]
    assert Page(client.get("/referrals?box=received")).select("tbody a") == []


def test_the_referral_lists_sort_and_leave_out_imported_history(client, person, idva, home_agency):
    _made(_refer(client, person, "idva", idva))
    ReferralFactory(person_id=person.id, type=ReferralType.HRDA, owner_agency_id=home_agency.id, imported=True,
                    status=ReferralStatus.CLOSED)
    page = Page(client.get("/referrals?box=sent&sort=-date"))
    kinds = [row.select("td")[1].text for row in page.select("tbody tr")]
    assert kinds == ["IDVA"]
