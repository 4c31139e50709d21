"""The rules of `casework.values`, which forms and imports share (issue 20)."""

from __future__ import annotations

import datetime as dt

import pytest

from casework import values

REAL = ["O'Brien", "Smith-Jones", "de la Mare", "Ní Bhriain", "N'Diaye", "St. John", "Mary-Ann", "Åsa", "D'Arcy",
        "Sturminster Newton", "Weymouth Town Centre", "DT1 1XJ", "BH15 1AA", "+44 (0)1202 123456",
        "+441202123456", "-", "+", "01202 123456", "name@example.com", "1 High Street\n- ground floor",
        "Smith = Jones", "A+B Lettings", ""]
FORMULAS = ["=1+1", "@SUM(1)", "-2+3", "+2-3", "+cmd|' /C calc'!A0", "-HYPERLINK(\"http://x\")", " =1+1",
            "\t=1+1", "\r=1+1", "\n@A1", "\uff1d1+1", "\uff20SUM(1)", "\uff0b1+1", "\uff0d2+3", "=", "@",
            "-A1", "+44 1202 123456 ext 2", "- first item"]


@pytest.mark.parametrize("text", REAL)
def test_real_names_places_postcodes_and_phone_numbers_are_not_formulas(text):
    assert values.formula_problem(text) is None


@pytest.mark.parametrize("text", FORMULAS)
def test_text_a_spreadsheet_would_run_is_a_formula(text):
    assert values.formula_problem(text) == values.FORMULA_MESSAGE


def test_a_length_problem_names_the_limit_and_the_length():
    assert values.length_problem("x" * 200, 200) is None
    assert values.length_problem("x" * 12_345, 10_000) == "must be 10,000 characters or fewer (this has 12,345)"


def test_a_date_of_birth_is_today_or_in_the_past():
    today = dt.date(2026, 12, 7)
    assert values.date_of_birth_problem(today, today=today) is None
    assert values.date_of_birth_problem(dt.date(9999, 12, 31), today=today) == "must be today or in the past"


@pytest.mark.parametrize("text", REAL + FORMULAS)
def test_the_quick_test_lets_through_nothing_the_rule_refuses(text):
    if values.formula_problem(text):
        assert values.may_be_formula(text)
