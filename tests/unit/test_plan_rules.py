"""The plan's pure rules: when an activity is flagged for no update, and a local problem's months."""

from __future__ import annotations

import datetime as dt

import pytest

from casework.models import ActivityStatus
from casework.services.local_problems import chart_months
from casework.services.plan import is_stale

TODAY = dt.date(2026, 6, 30)


@pytest.mark.parametrize(("days", "flagged"), [(89, False), (90, True), (91, True)])
def test_an_activity_is_flagged_from_90_days_without_an_update(days, flagged):
    last = TODAY - dt.timedelta(days=days)
    assert is_stale(last_update_on=last, added_on=dt.date(2023, 4, 1), status=ActivityStatus.ON_TRACK,
                    today=TODAY) is flagged


@pytest.mark.parametrize(("days", "flagged"), [(89, False), (90, True)])
def test_an_activity_never_updated_counts_from_the_day_it_was_added(days, flagged):
    assert is_stale(last_update_on=None, added_on=TODAY - dt.timedelta(days=days), status=None,
                    today=TODAY) is flagged


def test_a_completed_activity_is_never_flagged():
    assert not is_stale(last_update_on=dt.date(2024, 1, 1), added_on=dt.date(2023, 4, 1),
                        status=ActivityStatus.COMPLETE, today=TODAY)


def test_a_problems_chart_runs_from_a_year_before_it_started_to_this_month():
    months = chart_months(started_on=dt.date(2026, 2, 17), closed_on=None, today=TODAY)
    assert months[0] == dt.date(2025, 2, 1) and months[-1] == dt.date(2026, 6, 1) and len(months) == 17


def test_a_closed_problems_chart_stops_six_months_after_it_closed_and_keeps_the_latest_48_months():
    months = chart_months(started_on=dt.date(2020, 1, 5), closed_on=dt.date(2025, 10, 2), today=TODAY)
    assert months[-1] == dt.date(2026, 4, 1) and len(months) == 48
