"""Rounding, trends, suppression and the JSON and CSV documents (pure functions, no database)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from casework.measures.definitions import MEASURES, MeasureType, Priority, Target
from casework.measures.engine import Figure, follow_up_complete, pounds, proportion
from casework.measures.periods import Period
from casework.measures.report import CSV_COLUMNS, build_document, to_csv, to_json, trend


def figures(**overrides: Figure) -> dict[str, Figure]:
    """Every measure with zero figures, except those given."""
    base = {}
    for m in MEASURES:
        if m.type is MeasureType.PROPORTION:
            base[m.id] = Figure(None, 0, 0)
        elif m.money:
            base[m.id] = Figure(pounds(0))
        else:
            base[m.id] = Figure(0)
    base.update(overrides)
    return base


def p(num: int, den: int) -> Figure:
    return Figure(proportion(num, den), num, den)


def document(current: dict[str, Figure], previous: dict[str, Figure], *, suppress: bool = False,
             as_of: dt.date = dt.date(2026, 1, 1)) -> dict:
    return build_document(Period(2024), current, previous, as_of=as_of, suppress=suppress)


def test_halves_round_up():
    assert proportion(1, 32) == Decimal("0.0313")  # 0.03125
    assert proportion(1, 20_000) == Decimal("0.0001")  # 0.00005
    assert proportion(1, 20_001) == Decimal("0.0000")
    assert proportion(5, 8) == Decimal("0.625")
    assert proportion(2, 3) == Decimal("0.6667")
    assert proportion(1, 3) == Decimal("0.3333")
    assert proportion(0, 7) == Decimal(0)
    assert proportion(7, 7) == Decimal(1)
    assert proportion(0, 0) is None


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=1, max_value=10**9))
def test_rounding_matches_exact_decimal_half_up(numerator, denominator):
    scaled = Fraction(numerator, denominator) * 10_000
    floor = scaled.numerator // scaled.denominator
    expected = floor + (1 if scaled - floor >= Fraction(1, 2) else 0)
    assert proportion(numerator, denominator) == Decimal(expected).scaleb(-4)


def test_money_keeps_every_penny():
    assert f"{pounds(811_804):.2f}" == "8118.04"
    assert f"{pounds(0):.2f}" == "0.00"
    assert f"{pounds(1):.2f}" == "0.01"
    assert f"{pounds(10**15 + 7):.2f}" == "10000000000000.07"
    assert pounds(30) == Decimal("0.1") + Decimal("0.2")


def test_trend_follows_the_target():
    assert trend(Target.REDUCE, 3, 4) == "improving"
    assert trend(Target.REDUCE, 5, 4) == "worsening"
    assert trend(Target.INCREASE, Decimal("12.50"), Decimal("12.49")) == "improving"
    assert trend(Target.INCREASE, 1, 2) == "worsening"
    assert trend(Target.REDUCE, Decimal("0.3333"), Decimal("0.3333")) == "no_change"
    assert trend(Target.REDUCE, None, Decimal("0.5")) == "n/a"
    assert trend(Target.REDUCE, Decimal("0.5"), None) == "n/a"


def test_trend_compares_rounded_values():
    # 1/3 and 3333/10000 differ, but both round to 0.3333.
    doc = document(figures(DA1=p(1, 3)), figures(DA1=p(3333, 10_000)))
    assert doc["measures"]["DA1"]["trend"] == "no_change"


def test_document_has_the_spec_shape():
    doc = document(figures(DA1=p(31, 100), DA2=Figure(12), DA4=p(1, 3), FR1=Figure(87),
                           FR2=Figure(pounds(125_000))),
                   figures(DA1=p(28, 90), DA2=Figure(15), FR2=Figure(pounds(90_000))))
    assert (doc["period"], doc["from"], doc["to"], doc["as_of"]) == ("2024/25", "2024-04-01", "2025-03-31", "2026-01-01")
    assert list(doc["measures"]) == [m.id for m in MEASURES]
    m = doc["measures"]
    assert m["DA1"] == {"type": "proportion", "target": "reduce", "numerator": 31, "denominator": 100,
                        "value": 0.31, "previous": {"numerator": 28, "denominator": 90, "value": 0.3111},
                        "trend": "improving"}
    assert m["DA2"] == {"type": "count", "target": "reduce", "value": 12, "previous": {"value": 15},
                        "trend": "improving"}
    assert m["DA4"]["follow_up_complete"] is False and "follow_up_complete" not in m["DA4"]["previous"]
    assert m["FR1"]["value"] == 87 and isinstance(m["FR1"]["value"], int)
    assert m["FR2"] == {"type": "sum", "target": "increase", "value": "1250.00", "previous": {"value": "900.00"},
                        "trend": "improving"}
    assert m["SO2"]["value"] is None and m["SO2"]["trend"] == "n/a"
    assert json.loads(to_json(doc)) == doc


def test_follow_up_completes_a_year_after_the_period_ends():
    assert follow_up_complete(Period(2024), dt.date(2026, 3, 30)) is False
    assert follow_up_complete(Period(2024), dt.date(2026, 3, 31)) is True


def test_suppression_hides_one_to_four_in_both_periods():
    current = figures(DA2=Figure(4), SO1=Figure(5), RUR1=Figure(1), DA1=p(3, 10), DA3=p(0, 4), SV3=p(5, 9),
                      FR1=Figure(2), FR2=Figure(pounds(300)))
    previous = figures(DA2=Figure(3), SO1=Figure(0), DA1=p(10, 20))
    m = document(current, previous, suppress=True)["measures"]
    assert (m["DA2"]["value"], m["DA2"]["previous"]["value"]) == ("<5", "<5")
    assert m["DA2"]["trend"] == "worsening"  # from the unsuppressed 4 and 3
    assert (m["SO1"]["value"], m["SO1"]["previous"]["value"]) == (5, 0)
    assert m["RUR1"]["value"] == "<5"
    assert {k: m["DA1"][k] for k in ("numerator", "denominator", "value")} == {
        "numerator": "<5", "denominator": 10, "value": None}
    assert m["DA1"]["previous"] == {"numerator": 10, "denominator": 20, "value": 0.5}
    assert m["DA1"]["trend"] == "improving"  # 0.3 against 0.5, unsuppressed
    assert {k: m["DA3"][k] for k in ("numerator", "denominator", "value")} == {
        "numerator": 0, "denominator": "<5", "value": None}
    assert m["SV3"]["value"] == 0.5556
    assert (m["FR1"]["value"], m["FR2"]["value"]) == (2, "3.00")  # sums are never suppressed


def test_csv_has_the_spec_columns_in_the_spec_order():
    doc = document(figures(DA1=p(1, 32), DA4=p(2, 8), FR2=Figure(pounds(1050))), figures(DA2=Figure(2)),
                   suppress=True)
    rows = list(csv.reader(io.StringIO(to_csv(doc))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r[0] for r in rows[1:]] == [m.id for m in MEASURES]
    by_id = {r[0]: dict(zip(CSV_COLUMNS, r, strict=True)) for r in rows[1:]}
    assert by_id["DA1"] == {"id": "DA1", "type": "proportion", "target": "reduce", "numerator": "<5",
                            "denominator": "32", "value": "", "previous_numerator": "0",
                            "previous_denominator": "0", "previous_value": "", "trend": "n/a",
                            "follow_up_complete": ""}
    assert (by_id["DA2"]["value"], by_id["DA2"]["previous_value"], by_id["DA2"]["numerator"]) == ("0", "<5", "")
    assert (by_id["DA4"]["value"], by_id["DA4"]["follow_up_complete"]) == ("", "false")
    assert by_id["FR2"]["value"] == "10.50"


def test_every_measure_has_a_priority_for_the_dashboard():
    assert len(MEASURES) == 24
    assert {m.priority for m in MEASURES} == set(Priority)
    assert [m.id for m in MEASURES if m.type is MeasureType.SUM] == ["FR1", "FR2"]
