"""orders.csv of the data exchange format (issue 17 §2): imported with its people and incidents,
refused whole with every problem listed, exported and imported back unchanged."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from casework.db import db
from casework.exchange import ImportFailed, export_dataset, import_dataset
from casework.models import AgencyKind, Order, OrderIncident, OrderKind, OrderStatus, Person, SourceRef
from tests.factories import AgencyFactory
from tests.integration.test_import_export import INCIDENT_HEADER, PEOPLE_HEADER, dataset

ORDER_HEADER = "order_ref,person_ref,kind,status,applied_on,issued_on,served_on,expires_on,review_on,incident_refs"
PEOPLE = f"{PEOPLE_HEADER}\nP1,Harding,Alex,1980-02-03,,,n,n,n\nP2,Stone,Jo,,,,n,n,n"
INCIDENTS = f"{INCIDENT_HEADER}\nI1,2025-01-02,asb,n,council,,,n,n,n,n,personal\nI2,2025-01-05,asb,n,council,,,n,n,n,n,nuisance"


@pytest.fixture()
def council(session):  # type: ignore[no-untyped-def]
    return AgencyFactory(name="Dorset Council", kind=AgencyKind.COUNCIL)


def test_orders_import_with_their_people_and_incidents_and_export_back_unchanged(council, tmp_path: Path):
    orders = (f"{ORDER_HEADER}\nO1,P1,cpw,in_force,,2025-01-10,2025-01-10,2026-01-09,2025-07-10,I2; I1\n"
              f"O2,P2,CBO,expired,2024-11-01,2024-12-01,,2025-01-31,,")
    report = import_dataset(dataset(tmp_path, people=PEOPLE, incidents=INCIDENTS, orders=orders), agency=council)
    assert (report.files["orders.csv"].created, report.files["orders.csv"].updated) == (2, 0)
    first = db.session.get(Order, db.session.scalar(select(SourceRef.record_id).where(SourceRef.ref == "O1")))
    assert (first.kind, first.status, first.issued_on, first.owner_agency_id) == (
        OrderKind.CPW, OrderStatus.IN_FORCE, dt.date(2025, 1, 10), council.id)
    assert first.person.surname == "Harding" and len(first.incidents) == 2
    second = db.session.scalar(select(Order).where(Order.kind == OrderKind.CBO))
    assert second.status is OrderStatus.EXPIRED and second.incidents == []

    out = tmp_path / "out"
    export_dataset(out, agency=council)
    lines = (out / "orders.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == ORDER_HEADER
    assert lines[1:] == ["O1,P1,cpw,in_force,,2025-01-10,2025-01-10,2026-01-09,2025-07-10,I1;I2",
                         "O2,P2,cbo,expired,2024-11-01,2024-12-01,,2025-01-31,,"]
    again = import_dataset(out, agency=council)
    assert (again.files["orders.csv"].created, again.files["orders.csv"].updated,
            again.files["orders.csv"].unchanged) == (0, 0, 2)


def test_a_bad_orders_file_writes_nothing_and_lists_every_problem(council, tmp_path: Path):
    orders = (f"{ORDER_HEADER}\nO1,P1,cpw,in_force,,2025-01-10,2025-01-09,,,I1;I9\n"
              f"O1,P8,warning,in_force,,2025-01-10,,,,\n"
              f"O3,P2,spo,expired,,2025-01-10,,2099-01-01,,\n"
              f"O4,P2,spo,in_force,,,,,,")
    with pytest.raises(ImportFailed) as failed:
        import_dataset(dataset(tmp_path, people=PEOPLE, incidents=INCIDENTS, orders=orders), agency=council)
    problems = failed.value.problems
    assert "orders.csv:2: served_on: The date it was served must be on or after the date it was made or issued" in problems
    assert any(p.startswith("orders.csv:2: incident_refs: no incident I9") for p in problems)
    assert "orders.csv:3: order_ref: O1 is given more than once in orders.csv" in problems
    assert any(p.startswith("orders.csv:3: kind: 'warning' is not a kind of order or power") for p in problems)
    assert any(p.startswith("orders.csv:3: person_ref: no person P8") for p in problems)
    assert "orders.csv:4: expires_on: Enter an expiry date of today or before for an expired order" in problems
    assert ("orders.csv:5: issued_on: Enter the date it was made or issued, or the date it was applied for"
            in problems)
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0
    assert db.session.scalar(select(func.count()).select_from(OrderIncident)) == 0
