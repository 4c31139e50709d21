"""The boundaries of the orders and powers measures (docs/orders.md) and of an order's dates, as
pure functions: a further notice on day 365 after a warning escalates, on day 366 or the warning's
own day not; a breach counts from the order's issue day to the period's last day."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from casework.measures.orders import breached, escalation, follow_up_complete
from casework.measures.periods import Period
from casework.models import OrderStatus
from casework.services.orders import date_problems

D = dt.date
WARNED = D(2024, 6, 1)


@pytest.mark.parametrize(("days_after", "escalated"), [(0, 0), (1, 1), (365, 1), (366, 0), (-1, 0)])
def test_a_further_notice_escalates_from_the_day_after_a_warning_to_day_365(days_after, escalated):
    further = [("p", WARNED + dt.timedelta(days=days_after))]
    assert escalation([("p", WARNED)], further) == (escalated, 1)


def test_escalation_counts_people_once_whatever_their_warnings_and_ignores_others():
    warnings = [("a", D(2024, 4, 1)), ("a", D(2025, 3, 31)), ("b", D(2024, 5, 1))]
    further = [("a", D(2026, 3, 31)), ("a", D(2026, 4, 1)), ("c", D(2024, 6, 1))]
    assert escalation(warnings, further) == (1, 2)  # a: 365 days after the second warning; b: none


@pytest.mark.parametrize(("breach_on", "counted"), [
    (D(2024, 4, 30), 0),  # before the order was issued
    (D(2024, 5, 1), 1),  # its issue day
    (D(2025, 3, 31), 1),  # the period's last day
    (D(2025, 4, 1), 0),  # after the period
])
def test_a_breach_counts_from_the_issue_day_to_the_period_end(breach_on, counted):
    assert breached([("o", D(2024, 5, 1))], [("o", breach_on), ("other", D(2024, 6, 1))],
                    last_day=D(2025, 3, 31)) == (counted, 1)


def test_the_escalation_follow_up_is_complete_365_days_after_the_period():
    period = Period(2024)
    assert not follow_up_complete(period, D(2026, 3, 30))
    assert follow_up_complete(period, D(2026, 3, 31))


TODAY = D(2026, 1, 10)


def _dates(**given):  # type: ignore[no-untyped-def]
    base = dict.fromkeys(("applied_on", "issued_on", "served_on", "expires_on", "review_on"))
    return SimpleNamespace(status=given.pop("status", OrderStatus.IN_FORCE), **(base | given))


@pytest.mark.parametrize(("given", "fields"), [
    ({"issued_on": TODAY}, []),
    ({"applied_on": TODAY}, []),  # awaited: applied for only
    ({}, ["issued_on"]),
    ({"issued_on": TODAY + dt.timedelta(days=1)}, ["issued_on"]),
    ({"applied_on": D(2026, 1, 2), "issued_on": D(2026, 1, 1)}, ["issued_on"]),
    ({"issued_on": D(2026, 1, 2), "served_on": D(2026, 1, 1)}, ["served_on"]),
    ({"issued_on": D(2026, 1, 2), "expires_on": D(2026, 1, 1)}, ["expires_on"]),
    ({"issued_on": D(2026, 1, 2), "expires_on": D(2026, 1, 2), "review_on": D(2030, 1, 1)}, []),
    ({"issued_on": D(2025, 1, 2), "expires_on": TODAY, "status": OrderStatus.EXPIRED}, []),
    ({"issued_on": D(2025, 1, 2), "expires_on": TODAY + dt.timedelta(days=1), "status": OrderStatus.EXPIRED},
     ["expires_on"]),
])
def test_an_order_dates_follow_their_order(given, fields):
    assert [f for f, _ in date_problems(_dates(**given), today=TODAY)] == fields
