"""The date input's checks, part by part, with the GOV.UK Design System's messages, and the box an
error summary link focuses (the first part in error)."""

from __future__ import annotations

import datetime as dt

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form

from casework.views.shared.fields import DateInputField


class _Form(Form):
    born = DateInputField("Date of birth", required="Enter the date of birth", past_only=True)


def _check(day: str, month: str, year: str) -> _Form:
    form = _Form(MultiDict({"born-day": day, "born-month": month, "born-year": year}))
    form.validate()
    return form


@pytest.mark.parametrize(("day", "month", "year", "message", "parts", "focus"), [
    ("", "", "", "Enter the date of birth", set(), "day"),
    ("12", "", "1990", "Date of birth must include a month", {"month"}, "month"),
    ("", "", "1990", "Date of birth must include a day and month", {"day", "month"}, "day"),
    ("32", "13", "25", "Date of birth must be a real date", {"day", "month"}, "day"),
    ("12", "13", "25", "Date of birth must be a real date", {"month"}, "month"),
    ("x", "y", "z", "Date of birth must be a real date", set(), "day"),
    ("30", "2", "1990", "Date of birth must be a real date", {"day"}, "day"),
    ("12", "3", "90", "Date of birth must include a year with 4 numbers", {"year"}, "year"),
    ("1", "1", str(dt.date.today().year + 1), "Date of birth must be today or in the past", set(), "day"),
])
def test_each_part_is_checked_with_the_design_systems_messages(day, month, year, message, parts, focus):
    form = _check(day, month, year)
    assert form.born.errors == [message]
    assert form.born.bad_parts == parts
    assert form.born.first_input_id() == f"born-{focus}"
    marked = {item["name"] for item in form.born.items() if "govuk-input--error" in item["classes"]}
    assert marked == (parts or {"day", "month", "year"})


def test_a_real_date_in_the_past_is_kept():
    form = _check("29", "2", "2024")
    assert form.born.errors == [] and form.born.data == dt.date(2024, 2, 29)
