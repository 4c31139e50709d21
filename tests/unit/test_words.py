"""How pages write times and percentages: London time whatever the season, one decimal place."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from casework import words
from casework.models import ReferralType

UTC = dt.UTC


def test_a_summer_instant_is_shown_an_hour_ahead_of_utc():
    at = dt.datetime(2026, 7, 7, 8, 30, tzinfo=UTC)  # BST
    assert words.when(at) == "7 July 2026, 09:30"
    assert words.when(at, seconds=True) == "7 July 2026, 09:30:00"


def test_a_winter_instant_is_shown_as_it_is_in_utc():
    at = dt.datetime(2026, 1, 7, 8, 30, 5, tzinfo=UTC)  # GMT
    assert words.when(at) == "7 January 2026, 08:30"
    assert words.when(at, seconds=True) == "7 January 2026, 08:30:05"


def test_the_day_of_an_instant_is_its_london_day():
    assert words.day(dt.datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == "1 July 2026"  # after midnight in BST
    assert words.day(dt.datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "31 December 2026"
    assert words.day(dt.datetime(2026, 6, 30, 23, 30)) == "1 July 2026"  # naive, as SQLite stores: UTC
    assert words.day(dt.date(2026, 3, 29)) == "29 March 2026"
    assert words.when(None) == "" and words.day(None) == ""


def test_the_clocks_changing_is_followed():
    # 29 March 2026, 01:00 UTC: the clocks go forward; 25 October 2026, 01:00 UTC: back.
    assert words.when(dt.datetime(2026, 3, 29, 0, 59, tzinfo=UTC)) == "29 March 2026, 00:59"
    assert words.when(dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == "29 March 2026, 02:00"
    assert words.when(dt.datetime(2026, 10, 25, 0, 59, tzinfo=UTC)) == "25 October 2026, 01:59"
    assert words.when(dt.datetime(2026, 10, 25, 1, 0, tzinfo=UTC)) == "25 October 2026, 01:00"


def test_a_percentage_always_has_one_decimal_place():
    assert words.percent(0.26) == "26.0%"
    assert words.percent(Decimal("0.3333")) == "33.3%"
    assert words.percent(0.00049) == "0.0%"
    assert words.percent(0.0005) == "0.1%"  # a half rounds up, not to even
    assert words.percent(1) == "100.0%"
    assert words.percent(26, of_hundred=True) == "26.0%"
    assert words.percent(None) == ""


def test_a_change_in_percentage_points_is_counted_to_the_place_shown():
    assert words.percentage_points(0.3111, 0.3112) == 0
    assert words.percentage_points(0.30, 0.3112) == Decimal("1.1")
    assert words.percentage_points(0.31, 0.30) == Decimal("-1.0")


def test_a_referral_kind_in_a_sentence_takes_the_article_it_is_said_with():
    assert [t.with_article for t in ReferralType] == ["an HRDA", "an IDVA", "a MAPPA", "a perpetrator programme"]
