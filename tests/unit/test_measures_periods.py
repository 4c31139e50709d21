"""Periods, dates and the default as-of day."""

from __future__ import annotations

import datetime as dt

import pytest

from casework.measures.periods import (
    Period,
    PeriodError,
    parse_date,
    parse_period,
    today_in_london,
)


def test_a_period_is_april_to_march_both_included():
    period = parse_period("2024/25")
    assert (period.name, period.first_day, period.last_day) == ("2024/25", dt.date(2024, 4, 1), dt.date(2025, 3, 31))
    assert period.previous == parse_period("2023/24")
    assert dt.date(2024, 4, 1) in period and dt.date(2025, 3, 31) in period
    assert dt.date(2024, 3, 31) not in period and dt.date(2025, 4, 1) not in period


def test_the_century_turns_over():
    assert parse_period("1999/00") == Period(1999)
    assert Period(2000).previous.name == "1999/00"


@pytest.mark.parametrize("text", ["2024/26", "2024", "24/25", "2024-25", "2024/2025", "", "abcd/ef", " 2024/24"])
def test_a_period_that_is_not_a_financial_year_is_refused(text):
    with pytest.raises(PeriodError) as error:
        parse_period(text)
    message = str(error.value)
    assert "\n" not in message and repr(text) in message


def test_the_message_suggests_the_right_year():
    with pytest.raises(PeriodError, match="write 2024/25"):
        parse_period("2024/26")


@pytest.mark.parametrize("text", ["2025-02-30", "2025-13-01", "01/01/2026", "2026-1-1", "tomorrow", ""])
def test_a_date_that_is_not_one_is_refused(text):
    with pytest.raises(PeriodError, match="--as-of"):
        parse_date(text, what="--as-of")


def test_a_date_is_read():
    assert parse_date("2024-02-29") == dt.date(2024, 2, 29)


def test_today_is_the_day_in_london():
    # 23:30 UTC on 30 June is already 1 July in British Summer Time; in January London is on UTC.
    assert today_in_london(dt.datetime(2025, 6, 30, 23, 30, tzinfo=dt.UTC)) == dt.date(2025, 7, 1)
    assert today_in_london(dt.datetime(2025, 1, 31, 23, 30, tzinfo=dt.UTC)) == dt.date(2025, 1, 31)
