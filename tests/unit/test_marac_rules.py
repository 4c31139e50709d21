"""The MARAC return's pure rules (docs/marac-return.md) and the review's decision date (docs/dardr.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from casework.measures import marac
from casework.services.dardr import decision_due, decision_late

D = dt.date


@pytest.mark.parametrize(("text", "first", "last"), [
    ("2025-26-Q1", D(2025, 4, 1), D(2025, 6, 30)),
    ("2025-26-Q2", D(2025, 7, 1), D(2025, 9, 30)),
    ("2025-26-q3", D(2025, 10, 1), D(2025, 12, 31)),
    ("2025-26-Q4", D(2026, 1, 1), D(2026, 3, 31)),
    (" 2099-00-Q4 ", D(2100, 1, 1), D(2100, 3, 31)),
])
def test_a_quarter_is_three_months_of_the_financial_year(text, first, last):
    quarter = marac.parse_quarter(text)
    assert (quarter.first, quarter.last) == (first, last)
    assert marac.quarter_of(first) == marac.quarter_of(last) == quarter
    assert marac.quarter_of(first - dt.timedelta(days=1)) == quarter.previous
    assert marac.quarter_of(last + dt.timedelta(days=1)) == quarter.next


@pytest.mark.parametrize(("text", "message"), [
    ("", "Enter a quarter"),
    ("2025-Q2", "is not a quarter"),
    ("2025-26-Q5", "is not a quarter"),
    ("2025/26 Q2", "is not a quarter"),
    ("2025-27-Q2", "is not a financial year: 2025 is followed by 26"),
    ("1899-00-Q1", "the year must be from 2000"),
])
def test_a_bad_quarter_is_refused_saying_why(text, message):
    with pytest.raises(marac.QuarterError, match=message) as e:
        marac.parse_quarter(text)
    assert "2025-26-Q2" in str(e.value) or "year must be" in str(e.value)


@pytest.mark.parametrize(("born", "on", "age"), [
    (D(2009, 9, 30), D(2025, 9, 30), 16),  # 16th birthday on the hearing day: 16
    (D(2009, 10, 1), D(2025, 9, 30), 15),  # the day before it: 15
    (D(2007, 9, 30), D(2025, 9, 30), 18),  # 18th birthday on the day: no longer 16-17
    (D(2007, 10, 1), D(2025, 9, 30), 17),
    (D(2008, 2, 29), D(2025, 2, 28), 16),  # born on 29 February: a year older on 1 March
    (D(2008, 2, 29), D(2025, 3, 1), 17),
])
def test_age_on_the_hearing_day(born, on, age):
    assert marac.age_on(born, on) == age


@pytest.mark.parametrize(("code", "expected"), [
    ("white_british", False), ("white_irish", True), ("white_gypsy_traveller", True), ("black_african", True),
    ("mixed_other", True), ("other_arab", True), ("prefer_not_to_say", None), (None, None), ("nonsense", None),
])
def test_black_and_minoritised(code, expected):
    assert marac.black_and_minoritised(code) is expected


@pytest.mark.parametrize(("orientation", "identity", "expected"), [
    ("straight", "same", False), ("bisexual", None, True), ("straight", "different", True),
    ("straight", None, None), ("prefer_not_to_say", "same", None), (None, "different", True), (None, None, None),
])
def test_lgbt(orientation, identity, expected):
    assert marac.lgbt(orientation, identity) is expected


def test_the_benchmarks():
    assert marac.expected_cases(170_000) == 170  # 40 a year per 10,000 adult women, a quarter of it
    assert marac.expected_cases(None) is None
    assert marac.BENCHMARKS["repeats"].text() == "28% to 40%" and marac.BENCHMARKS["lgbt"].text() == "2.5%"
    assert len(marac.KNOWN_ETHNICITIES) == 19


@pytest.mark.parametrize(("notified", "due"), [
    (D(2026, 1, 15), D(2026, 2, 15)),
    (D(2026, 1, 31), D(2026, 2, 28)),  # no 31 February: the month's last day
    (D(2028, 1, 31), D(2028, 2, 29)),  # a leap year
    (D(2026, 3, 31), D(2026, 4, 30)),
    (D(2026, 12, 20), D(2027, 1, 20)),
])
def test_the_decision_is_due_one_calendar_month_after_notification(notified, due):
    assert decision_due(notified) == due
    assert not decision_late(notified, decided_on=due, today=due)
    assert decision_late(notified, decided_on=due + dt.timedelta(days=1), today=due)
    assert decision_late(notified, decided_on=None, today=due + dt.timedelta(days=1))
