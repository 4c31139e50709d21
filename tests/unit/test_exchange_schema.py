"""The exchange format's cell types and row rules (casework.exchange.schema)."""

from __future__ import annotations

import datetime as dt

import pytest

from casework.exchange import schema
from casework.exchange.schema import Invalid
from casework.models import Category, Gender, ReferralType


def test_a_date_is_read_from_iso_text():
    assert schema.date("2024-02-29") == dt.date(2024, 2, 29)


@pytest.mark.parametrize("text", ["2024-2-29", "29/02/2024", "20240229", "2024-02-2x", "２０２４-02-29"])
def test_a_date_in_another_shape_is_refused(text):
    with pytest.raises(Invalid, match="use YYYY-MM-DD"):
        schema.date(text)


@pytest.mark.parametrize("text", ["2023-02-29", "2024-13-01", "2024-04-31", "0000-01-01"])
def test_an_impossible_date_is_refused(text):
    with pytest.raises(Invalid, match="is not a real date"):
        schema.date(text)


@pytest.mark.parametrize(("text", "value"), [("y", True), ("Y", True), ("yes", True), ("TRUE", True), ("1", True),
                                             ("n", False), ("No", False), ("false", False), ("0", False)])
def test_flags_accept_the_documented_spellings(text, value):
    assert schema.flag(text) is value


def test_a_flag_that_is_not_yes_or_no_is_refused():
    with pytest.raises(Invalid, match="use y or n"):
        schema.flag("maybe")


@pytest.mark.parametrize(("text", "pence"), [("0", 0), ("12", 1200), ("12.5", 1250), ("3198.89", 319889),
                                             ("0.01", 1), ("1000000.00", 100000000)])
def test_money_is_whole_pence(text, pence):
    assert schema.money_pence(text) == pence


@pytest.mark.parametrize(("text", "message"), [("1.234", "more than two decimal places"), ("-5", "negative"),
                                               ("-0.50", "negative"), ("£5", "not an amount"),
                                               ("1,000", "not an amount"), ("1e3", "not an amount"),
                                               ("NaN", "not an amount")])
def test_money_that_is_not_pounds_and_pence_is_refused(text, message):
    with pytest.raises(Invalid, match=message):
        schema.money_pence(text)


@pytest.mark.parametrize(("text", "normal"), [("dt11xj", "DT1 1XJ"), ("dt1 1xj", "DT1 1XJ"), ("SP7  7ZE", "SP7 7ZE")])
def test_postcodes_are_normalised(text, normal):
    assert schema.postcode(text) == normal


def test_a_postcode_that_is_not_one_is_refused():
    with pytest.raises(Invalid, match="not a UK postcode"):
        schema.postcode("Dorchester")


def test_refs_are_printable_and_at_most_64_characters():
    assert schema.ref("P0000001") == "P0000001"
    with pytest.raises(Invalid, match="at most 64"):
        schema.ref("P" * 65)
    with pytest.raises(Invalid, match="printable"):
        schema.ref("P1\x07")


def test_an_unknown_category_names_the_categories():
    parse = schema.INCIDENTS.by_name["category"].parse
    assert parse("asb") is Category.ASB
    with pytest.raises(Invalid, match="'assault' is not a category; use one of: homicide, "):
        parse("assault")


def test_gender_blank_reads_as_not_known():
    column = schema.PEOPLE.by_name["gender"]
    assert column.blank is None
    assert column.parse("non_binary") is Gender.NON_BINARY


def test_dash_score_is_a_whole_number_up_to_24():
    parse = schema.REFERRALS.by_name["dash_score"].parse
    assert parse("24") == 24
    for text in ("25", "-1", "3.5", "ten"):
        with pytest.raises(Invalid):
            parse(text)


def _referral(**values):
    row = {name: None for name in schema.REFERRALS.header}
    row.update(values)
    return list(schema.REFERRALS.check(row))


def test_a_column_of_another_referral_type_is_a_problem():
    assert _referral(type=ReferralType.MAPPA, dash_score=12, mappa_level=2) == [
        ("dash_score", "does not belong to a mappa referral; leave it blank")]
    assert _referral(type=ReferralType.HRDA, started_on=dt.date(2024, 1, 1)) == [
        ("started_on", "does not belong to a hrda referral; leave it blank")]
    assert _referral(type=ReferralType.IDVA) == []


def test_a_programme_cannot_end_before_it_starts():
    problems = _referral(type=ReferralType.PERPETRATOR_PROGRAMME, started_on=dt.date(2024, 5, 1),
                         ended_on=dt.date(2024, 4, 1))
    assert problems == [("ended_on", "2024-04-01 is before started_on 2024-05-01")]


def test_asb_type_is_required_for_asb_and_only_for_asb():
    check = schema.INCIDENTS.check
    assert list(check({"category": Category.ASB, "asb_type": None})) == [
        ("asb_type", "required when the category is asb")]
    assert list(check({"category": Category.THEFT, "asb_type": "x"})) == [
        ("asb_type", "only for asb incidents, not theft")]
