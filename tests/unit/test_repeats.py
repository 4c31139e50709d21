"""The repeat rules' building blocks that need no database: month arithmetic and the SQL they make
on each dialect (the rules themselves are tested against the database in
tests/integration/test_measures_repeats.py and test_measures_flags.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from casework.models.vocab import PartyRole
from casework.risk.repeats import (
    RepeatKind,
    add_months,
    incident_table,
    repeat_events,
    shift_days,
    shift_months,
)


def sql(statement, dialect) -> str:  # type: ignore[no-untyped-def]
    return str(statement.compile(dialect=dialect))


def test_months_are_added_clamped_to_the_end_of_the_month():
    assert add_months(dt.date(2024, 8, 31), -6) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2023, 8, 31), -6) == dt.date(2023, 2, 28)
    assert add_months(dt.date(2024, 1, 15), -1) == dt.date(2023, 12, 15)
    assert add_months(dt.date(2024, 11, 30), 3) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2024, 5, 1), 0) == dt.date(2024, 5, 1)


def test_day_shifts_compile_for_each_database():
    statement = select(shift_days(incident_table.c.occurred_on, -365))
    assert "date(incident.occurred_on, '-365 days')" in sql(statement, sqlite.dialect())
    assert "(incident.occurred_on + -365)" in sql(statement, postgresql.dialect())


def test_month_shifts_compile_for_each_database():
    statement = select(shift_months(incident_table.c.occurred_on, -6))
    assert "'start of month', '-5 months', '-1 days'" in sql(statement, sqlite.dialect())
    assert "interval '-6 months'" in sql(statement, postgresql.dialect())


def test_shifts_of_different_lengths_are_not_confused_by_the_statement_cache():
    a = select(shift_days(incident_table.c.occurred_on, -365))
    b = select(shift_days(incident_table.c.occurred_on, -1))
    assert a._generate_cache_key() != b._generate_cache_key()


def test_same_day_incidents_are_excluded_by_the_window_frame():
    text = sql(repeat_events(RepeatKind.DA, PartyRole.VICTIM), sqlite.dialect())
    assert "RANGE BETWEEN 365 PRECEDING AND 1 PRECEDING" in text
