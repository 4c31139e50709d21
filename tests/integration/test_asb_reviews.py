"""ASB case reviews (issue 17 §1) through the pages: an application for a victim, the threshold by
rule with each complaint's reason, a decision departing from it only with a reason, a panel that
refuses whoever handled a complaint, recommendations on the owner agency's home page, the outcome,
an appeal, who may see the application, and the yearly figures from the page and the command."""

from __future__ import annotations

import datetime as dt
import json

from casework.db import db
from casework.models import AgencyKind, AsbReview, AsbType, Case, CaseKind, CasePerson, Category, PartyRole
from tests.conftest import Page
from tests.factories import AgencyFactory, IncidentFactory, PartyFactory, PersonFactory
from tests.fixtures_auth import make_user, sign_in

D = dt.date


def _date(prefix: str, day: dt.date) -> dict[str, str]:
    return {f"{prefix}-day": str(day.day), f"{prefix}-month": str(day.month), f"{prefix}-year": str(day.year)}


def _complaint(person, agency, occurred, reported=None, area=None):  # type: ignore[no-untyped-def]
    incident = IncidentFactory(occurred_on=occurred, reported_on=reported, category=Category.ASB,
                               asb_type=AsbType.PERSONAL, owner_agency_id=agency.id,
                               area_id=area.id if area else None,
                               recorded_by=AgencyKind.POLICE if agency.kind is AgencyKind.POLICE else AgencyKind.COUNCIL)
    PartyFactory(incident=incident, person_id=person.id, role=PartyRole.VICTIM)
    return incident


def _world(app):  # type: ignore[no-untyped-def]
    police = AgencyFactory(name="Dorset Police", kind=AgencyKind.POLICE)
    council = AgencyFactory(name="Dorset Council", kind=AgencyKind.COUNCIL)
    housing = AgencyFactory(name="Homes Housing", kind=AgencyKind.HOUSING)
    coordinator = make_user(roles=("asb_coordinator",), agency=council)
    handler = make_user(agency=police)
    handler.name = "Hal Handler"
    panellist = make_user(agency=housing)
    panellist.name = "Pat Panel"
    victim = PersonFactory(owner_agency_id=police.id, forenames="Vera", surname="Stone")
    case = Case(kind=CaseKind.ASB, owner_agency_id=police.id, caseworker_id=handler.id)
    db.session.add(case)
    db.session.flush()
    db.session.add(CasePerson(case_id=case.id, person_id=victim.id))
    _complaint(victim, police, D(2025, 7, 1))
    _complaint(victim, council, D(2025, 7, 1))                       # the same day, another agency
    _complaint(victim, police, D(2025, 7, 10), D(2025, 8, 20))       # reported more than a month after
    _complaint(victim, police, D(2025, 8, 5))
    _complaint(victim, police, D(2025, 2, 20), D(2025, 2, 27))       # reported before the window
    db.session.commit()
    return police, council, housing, coordinator, handler, panellist, victim


def test_an_application_from_the_victim_to_the_appeal(app_ctx, runner):
    police, _council, housing, coordinator, handler, panellist, victim = _world(app_ctx)
    recorder = make_user(agency=police)
    client = sign_in(app_ctx, recorder)
    person_page = Page(client.get(f"/people/{victim.id}"))
    link = person_page.select_one("#asb-reviews a[href$='/asb-review']")
    assert link is not None
    form = {**_date("received_on", D(2025, 8, 31)), "agency": str(police.id), "applicant": "behalf",
            "behalf_role": "councillor", "applicant_name": "Cllr Ada Blue", "victim_consent": "",
            "behaviour": "Shouting and stones at the windows"}
    refused = Page(client.post(link["href"], data=form))
    assert refused.status_code == 400
    assert "Select whether the victim consented" in refused.select_one(".govuk-error-summary").text
    assert db.session.query(AsbReview).count() == 0
    response = client.post(link["href"], data={**form, "victim_consent": "yes"})
    assert response.status_code == 302
    review = db.session.query(AsbReview).one()
    assert review.behaviour == "Shouting and stones at the windows" and review.victim_consent is True

    page = Page(client.get(response.headers["Location"]))
    threshold = page.select_one("#threshold")
    assert "Threshold by rule: not met" in threshold.text and "on 2 different days" in threshold.text
    reasons = [row.select("td")[-1].get_text(" ", strip=True) for row in threshold.select("tbody tr")]
    assert sorted(reasons) == sorted(["Yes", "No: the same day as another qualifying complaint",
                                      "No: reported more than a month after the behaviour", "Yes",
                                      "No: reported outside the 6 months before the application"])
    assert page.select_one("#decision form") is None  # the coordinator's to decide
    home = Page(client.get("/")).select_one("#asb-review-clocks")
    assert "Overdue" in home.text and "Threshold decision" in home.text
    client = sign_in(app_ctx, coordinator)
    assert "Threshold decision" in Page(client.get("/")).select_one("#asb-review-clocks").text
    handler_home = Page(sign_in(app_ctx, handler).get("/"))
    assert handler_home.select_one("#asb-review-clocks") is None  # not their application

    url = f"/asb-reviews/{review.id}"
    decision = {"decision-decision": "met", **_date("decision-decided_on", D(2025, 9, 10)), "decision-reason": ""}
    refused = Page(client.post(f"{url}/decision", data=decision))
    assert refused.status_code == 400 and "departing from the threshold by rule" in refused.text
    assert client.post(f"{url}/decision", data={**decision, "decision-reason": "She is vulnerable"}).status_code == 302

    page = Page(client.get(url))
    offered = [o.text for o in page.select("#panel-member option")]
    assert not any("Hal Handler" in o for o in offered) and any("Pat Panel" in o for o in offered)
    refused = Page(client.post(f"{url}/panel", data={"panel-member": f"user:{handler.id}"}))
    assert refused.status_code == 400
    assert "Hal Handler cannot sit on the panel" in refused.text
    assert client.post(f"{url}/panel", data={"panel-member": f"user:{panellist.id}"}).status_code == 302
    assert client.post(f"{url}/review", data=_date("held-held_on", D(2025, 9, 20))).status_code == 302
    assert client.post(f"{url}/recommendations", data={
        "recommendation-text": "Visit weekly", "recommendation-owner_agency": str(housing.id),
        **_date("recommendation-due_on", D(2025, 12, 1))}).status_code == 302
    assert client.post(f"{url}/outcome", data=_date("outcome-sent_on", D(2025, 9, 22))).status_code == 302
    assert client.post(f"{url}/appeal", data={**_date("appeal-received_on", D(2025, 10, 1)),
                                              **_date("appeal-decided_on", D(2025, 10, 8)),
                                              "appeal-upheld": "no"}).status_code == 302

    panel = sign_in(app_ctx, panellist)
    assert panel.get(url).status_code == 200
    mine = Page(panel.get("/")).select_one("#asb-recommendations")
    assert "Visit weekly" in mine.text and "Overdue" in mine.text
    assert sign_in(app_ctx, handler).get(url).status_code == 404
    manager = make_user(roles=("manager",), agency=police)
    assert sign_in(app_ctx, manager).get(url).status_code == 200
    assert sign_in(app_ctx, make_user(roles=("manager",), agency=housing)).get(url).status_code == 404
    assert sign_in(app_ctx, make_user(agency=police)).post(f"{url}/decision", data=decision).status_code == 403

    figures = Page(client.get("/asb-reviews/figures?year=2025/26"))
    assert figures.select_one("#figure-applications").text == "1"
    assert figures.select_one("#figure-reviews_with_recommendations").text == "1"
    download = client.get("/asb-reviews/figures?year=2025/26&download=csv")
    assert download.status_code == 200 and b"Reviews held,1" in download.data
    result = runner.invoke(args=["asb-reviews", "figures", "--year", "2025/26", "--as-of", "2026-05-01"])
    assert json.loads(result.output) == {
        "year": "2025/26", "from": "2025-04-01", "to": "2026-03-31", "as_of": "2026-05-01", "applications": 1,
        "threshold_not_met": 0, "undecided": 0, "reviews_held": 1, "reviews_with_recommendations": 1,
        "decided_late": 0, "appeals": 1, "appeals_upheld": 0}
    suppressed = runner.invoke(args=["asb-reviews", "figures", "--year", "2025/26", "--suppress", "--format", "csv"])
    assert suppressed.output.splitlines()[1].endswith('<5,0,0,<5,<5,0,<5,0')
