"""Orders and powers (issue 17 §2) through the pages: record one on a person's page with its
conditions encrypted, every error at once, a breach that shows in the chronology, visibility that
follows the person's, changes by the holding agency only, and the home page's 14-day reminders."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from casework.db import db
from casework.measures.periods import today_in_london
from casework.models import Order, OrderKind, OrderStatus, Party, PartyRole
from casework.services import orders, restricted, sharing
from tests.conftest import Page
from tests.factories import AgencyFactory, IncidentFactory, PersonFactory
from tests.fixtures_auth import make_user, sign_in

TODAY = today_in_london()


@pytest.fixture()
def council(app_ctx):  # type: ignore[no-untyped-def]
    return AgencyFactory(name="Dorset Council")


@pytest.fixture()
def worker(council):  # type: ignore[no-untyped-def]
    return make_user(roles=("caseworker",), agency=council)


@pytest.fixture()
def person(council):  # type: ignore[no-untyped-def]
    person = PersonFactory(owner_agency_id=council.id, surname="Harding", forenames="Alex")
    incident = IncidentFactory(owner_agency_id=council.id, occurred_on=TODAY - dt.timedelta(days=40))
    db.session.add(Party(incident_id=incident.id, person_id=person.id, role=PartyRole.PERPETRATOR))
    db.session.commit()
    return person


def _dates(name: str, day: dt.date | None) -> dict[str, str]:
    if day is None:
        return {f"{name}-day": "", f"{name}-month": "", f"{name}-year": ""}
    return {f"{name}-day": str(day.day), f"{name}-month": str(day.month), f"{name}-year": str(day.year)}


def _form(agency, *, kind="cpn", issued=TODAY - dt.timedelta(days=30), served=None, **extra):  # type: ignore[no-untyped-def]
    data = {"kind": kind, "agency": str(agency.id), "status": "in_force", "conditions": "Keep away from 4 Elm Road",
            **_dates("applied_on", None), **_dates("issued_on", issued), **_dates("served_on", served),
            **_dates("expires_on", TODAY + dt.timedelta(days=300)), **_dates("review_on", TODAY + dt.timedelta(days=14))}
    data.update(extra)
    return data


def test_an_order_recorded_on_the_person_page_keeps_its_conditions_encrypted(app_ctx, worker, person, council):
    client = sign_in(app_ctx, worker)
    page = Page(client.get(f"/people/{person.id}"))
    link = page.select_one("#orders a.govuk-button")
    assert link is not None and link["href"] == f"/people/{person.id}/orders/new"
    incident_id = db.session.scalar(select(Party.incident_id).where(Party.person_id == person.id))
    response = client.post(link["href"], data=_form(council, incidents=[str(incident_id)]))
    assert response.status_code == 302, response.get_data(as_text=True)
    order = db.session.scalar(select(Order).where(Order.person_id == person.id))
    assert order.kind is OrderKind.CPN and order.status is OrderStatus.IN_FORCE
    assert [link.incident_id for link in order.incidents] == [incident_id]
    raw = db.session.execute(text("SELECT conditions FROM order_power WHERE id = :id"), {"id": order.id.hex
                             if db.engine.dialect.name == "sqlite" else order.id}).scalar_one()
    assert b"Elm Road" not in bytes(raw)
    shown = Page(client.get(response.headers["Location"]))
    assert "Anti-social Behaviour, Crime and Policing Act 2014, s.43" in shown.text
    assert "Keep away from 4 Elm Road" in shown.text and "Dorset Council" in shown.text
    assert "Community protection notice" in Page(client.get(f"/people/{person.id}")).select_one("#orders").text


def test_a_bad_order_form_lists_every_error_and_writes_nothing(app_ctx, worker, person, council):
    client = sign_in(app_ctx, worker)
    response = client.post(f"/people/{person.id}/orders/new", data={
        "kind": "", "agency": str(council.id), "status": "in_force", **_dates("issued_on", None),
        **_dates("served_on", TODAY - dt.timedelta(days=3)), **_dates("expires_on", None), **_dates("review_on", None),
        **_dates("applied_on", TODAY + dt.timedelta(days=1))})
    assert response.status_code == 400
    summary = [a.get_text(strip=True) for a in Page(response).select(".govuk-error-summary a")]
    assert "Select the kind of order or power" in summary
    assert "The date it was applied for must be today or in the past" in summary
    assert "Enter the date it was made or issued: it was served" in summary
    assert db.session.scalar(select(Order).where(Order.person_id == person.id)) is None


def test_a_breach_shows_on_the_order_and_in_the_chronology_and_not_before_the_order(app_ctx, worker, person, council):
    client = sign_in(app_ctx, worker)
    client.post(f"/people/{person.id}/orders/new", data=_form(council, kind="cbo"))
    order = db.session.scalar(select(Order).where(Order.person_id == person.id))
    url = f"/orders/{order.id}/breaches/new"
    early = client.post(url, data={**_dates("breached_on", order.issued_on - dt.timedelta(days=1)), "details": "x"})
    assert early.status_code == 400 and "on or after the date the order was made" in Page(early).text
    ok = client.post(url, data={**_dates("breached_on", order.issued_on), "details": "Seen at Elm Road"})
    assert ok.status_code == 302
    assert "Seen at Elm Road" in Page(client.get(f"/orders/{order.id}")).select_one("#breaches").text
    story = Page(client.get(f"/people/{person.id}/chronology?kind=order")).text
    assert "Breach of the criminal behaviour order" in story and "Seen at Elm Road" in story
    assert "Criminal behaviour order made or issued" in story


def test_orders_follow_the_person_visibility_and_only_the_holder_changes_them(app_ctx, worker, person, council):
    order = orders.record(person, orders.OrderDetails(kind=OrderKind.CPW, agency_id=council.id,
                                                      status=OrderStatus.IN_FORCE, issued_on=TODAY),
                          by=worker, today=TODAY)
    db.session.commit()
    police = AgencyFactory(name="Dorset Police")
    other = sign_in(app_ctx, make_user(roles=("caseworker",), agency=police))
    assert other.get(f"/orders/{order.id}").status_code == 404
    sharing.share(record=person, agency=police, via="explicit", by=worker, reason="Joint work")
    db.session.commit()
    assert other.get(f"/orders/{order.id}").status_code == 200
    assert other.get(f"/orders/{order.id}/edit").status_code == 403
    assert other.get(f"/orders/{order.id}/breaches/new").status_code == 200  # the police may record a breach
    restricted.restrict(person, by=worker)
    db.session.commit()
    assert other.get(f"/orders/{order.id}").status_code == 404
    assert sign_in(app_ctx, worker).get(f"/orders/{order.id}").status_code == 200


def test_erasing_a_person_erases_their_orders_conditions_and_breaches_accounts(app_ctx, worker, person, council):
    from casework.services import retention

    order = orders.record(person, orders.OrderDetails(kind=OrderKind.CBO, agency_id=council.id, status=OrderStatus.IN_FORCE,
                                                      issued_on=TODAY - dt.timedelta(days=5), conditions="Curfew"),
                          by=worker, today=TODAY)
    breach = orders.record_breach(order, by=worker, breached_on=TODAY, incident_id=None, details="Out at 2am",
                                  today=TODAY)
    retention.erase(kind="person", record_id=person.id, cause="request", reason="test")
    db.session.expire_all()
    assert (db.session.get(Order, order.id).conditions, breach.details) == (None, None)


def test_a_review_or_expiry_within_14_days_is_on_the_holding_agency_home_page(app_ctx, worker, person, council):
    def record(kind: OrderKind, **dates: dt.date) -> None:
        orders.record(person, orders.OrderDetails(kind=kind, agency_id=council.id, status=OrderStatus.IN_FORCE,
                                                  issued_on=TODAY - dt.timedelta(days=100), **dates),
                      by=worker, today=TODAY)

    record(OrderKind.CBO, review_on=TODAY + dt.timedelta(days=14))
    record(OrderKind.SPO, expires_on=TODAY)
    record(OrderKind.DVPO, review_on=TODAY + dt.timedelta(days=15))
    record(OrderKind.CPN, review_on=TODAY - dt.timedelta(days=1))
    db.session.commit()
    section = Page(sign_in(app_ctx, worker).get("/")).select_one("#orders-due")
    assert section is not None
    items = [li.get_text(" ", strip=True) for li in section.select("li")]
    assert len(items) == 2
    assert items[0].startswith("Stalking protection order") and "(today)" in items[0]
    assert items[1].startswith("Criminal behaviour order") and "(in 14 days)" in items[1]
    elsewhere = sign_in(app_ctx, make_user(roles=("caseworker",), agency=AgencyFactory(name="Elsewhere")))
    assert Page(elsewhere.get("/")).select_one("#orders-due") is None


def test_the_orders_measures_count_the_period_first_and_last_days_in_the_command_and_on_the_page(
        app_ctx, runner, council):
    import json

    from casework.models import OrderBreach

    def order(person, kind: OrderKind, issued: dt.date) -> Order:
        made = Order(person_id=person.id, kind=kind, owner_agency_id=council.id, issued_on=issued)
        db.session.add(made)
        return made

    a, b, c = (PersonFactory(owner_agency_id=council.id) for _ in range(3))
    first = order(a, OrderKind.CPW, dt.date(2024, 4, 1))  # the period's first day
    order(a, OrderKind.CPN, dt.date(2025, 4, 1))  # 365 days later: an escalation, counted in 2025/26
    order(b, OrderKind.CPW, dt.date(2025, 3, 31))  # the last day; an ABC 10 days later is no escalation
    order(b, OrderKind.ABC, dt.date(2025, 4, 10))
    order(c, OrderKind.DVPN, dt.date(2024, 3, 31))  # the day before: 2023/24
    db.session.flush()
    db.session.add(OrderBreach(order_id=first.id, person_id=a.id, breached_on=dt.date(2025, 3, 31)))
    db.session.commit()

    result = runner.invoke(["measures", "--period", "2024/25", "--as-of", "2026-01-01", "--orders"])
    assert result.exit_code == 0, result.output
    m = json.loads(result.output)["measures"]
    assert m["ORD1"] == {"type": "count", "target": "increase", "value": 2, "previous": {"value": 1},
                         "trend": "improving"}
    assert (m["ORD2"]["numerator"], m["ORD2"]["denominator"], m["ORD2"]["value"]) == (1, 2, 0.5)
    assert m["ORD2"]["follow_up_complete"] is False
    assert (m["ORD3"]["numerator"], m["ORD3"]["denominator"]) == (1, 2)
    plain = json.loads(runner.invoke(["measures", "--period", "2024/25", "--as-of", "2026-01-01"]).output)
    assert "ORD1" not in plain["measures"]

    client = sign_in(app_ctx, make_user(roles=("manager",), agency=council))
    page = Page(client.get("/measures/orders?period=2024/25"))
    assert page.status_code == 200
    assert page.select_one('tr[data-measure="ORD2"]').get_text(" ", strip=True).startswith(
        "ORD2: Warnings escalated")
    cpw = next(r for r in page.select("#kind-table tbody tr") if "Community protection warning" in r.text)
    assert [td.text for td in cpw.select("td")] == ["2", "2"]
    assert page.select_one("#monthly-table").text.count("Apr 2024") == 1
    download = client.get("/measures/orders/export.csv?period=2024/25")
    assert "Community protection warning,2,2" in download.get_data(as_text=True)


def test_the_holding_agency_discharges_an_order_and_a_stale_form_is_refused(app_ctx, worker, person, council):
    client = sign_in(app_ctx, worker)
    client.post(f"/people/{person.id}/orders/new", data=_form(council, kind="spo"))
    order = db.session.scalar(select(Order).where(Order.person_id == person.id))
    form = Page(client.get(f"/orders/{order.id}/edit"))
    assert form.select_one("input[name=kind][value=spo]").has_attr("checked")
    assert form.select_one("#issued_on-day")["value"] == str(order.issued_on.day)
    changed = client.post(f"/orders/{order.id}/edit", data=_form(council, kind="spo", status="discharged",
                                                                 version=str(order.version)))
    assert changed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Order, order.id).status is OrderStatus.DISCHARGED
    stale = client.post(f"/orders/{order.id}/edit", data=_form(council, kind="spo", version="1"))
    assert stale.status_code == 409 and "Status" in Page(stale).text
