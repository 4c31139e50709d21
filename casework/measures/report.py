"""The measures document: JSON exactly as the spec, the same as CSV, and small-number suppression."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from .definitions import MEASURES, Measure, MeasureType, Target
from .engine import Figure, compute, follow_up_complete
from .periods import Period

SUPPRESSED = "<5"
CSV_COLUMNS = ("id", "type", "target", "numerator", "denominator", "value", "previous_numerator",
               "previous_denominator", "previous_value", "trend", "follow_up_complete")


def measures_document(conn: Session | Connection, period: Period, *, as_of: dt.date,
                      suppress: bool = False) -> dict[str, Any]:
    """The measures of `period` with the previous period's and the trend, as the spec's JSON object."""
    figures = compute(conn, [period, period.previous])
    return build_document(period, figures[period], figures[period.previous], as_of=as_of, suppress=suppress)


def build_document(period: Period, current: dict[str, Figure], previous: dict[str, Figure], *,
                   as_of: dt.date, suppress: bool = False) -> dict[str, Any]:
    measures: dict[str, Any] = {}
    for measure in MEASURES:
        now, before = current[measure.id], previous[measure.id]
        entry: dict[str, Any] = {"type": measure.type.value, "target": measure.target.value}
        entry.update(figure_fields(measure, now, suppress))
        if measure.id == "DA4":
            entry["follow_up_complete"] = follow_up_complete(period, as_of)
        entry["previous"] = figure_fields(measure, before, suppress)
        entry["trend"] = trend(measure.target, now.value, before.value)  # from unsuppressed figures
        measures[measure.id] = entry
    return {
        "period": period.name,
        "from": period.first_day.isoformat(),
        "to": period.last_day.isoformat(),
        "as_of": as_of.isoformat(),
        "measures": measures,
    }


def trend(target: Target, value: int | Decimal | None, previous: int | Decimal | None) -> str:
    """`improving` when the value moved in the target's direction, `worsening` against it,
    `no_change` when equal, `n/a` when either is null."""
    if value is None or previous is None:
        return "n/a"
    if value == previous:
        return "no_change"
    went_up = value > previous
    return "improving" if went_up == (target is Target.INCREASE) else "worsening"


def _small(n: int) -> bool:
    return 1 <= n <= 4


def figure_fields(measure: Measure, figure: Figure, suppress: bool) -> dict[str, Any]:
    """A period's fields as the spec writes them: numerator, denominator and value, or value
    alone; with `suppress`, small numbers hidden as the spec says."""
    if measure.type is MeasureType.PROPORTION:
        assert figure.numerator is not None and figure.denominator is not None
        value = None if figure.value is None else float(figure.value)
        num: int | str = figure.numerator
        den: int | str = figure.denominator
        if suppress and (_small(figure.numerator) or _small(figure.denominator)):
            num = SUPPRESSED if _small(figure.numerator) else num
            den = SUPPRESSED if _small(figure.denominator) else den
            value = None
        return {"numerator": num, "denominator": den, "value": value}
    if measure.money:
        return {"value": f"{figure.value:.2f}"}
    if measure.type is MeasureType.COUNT and suppress and _small(int(figure.value or 0)):
        return {"value": SUPPRESSED}
    return {"value": figure.value}  # counts and FR1: sums are never suppressed


def to_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=1, ensure_ascii=False)


def to_csv(document: dict[str, Any]) -> str:
    """A header and one row per measure in the spec's order; empty where a measure has no such field."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for measure_id, entry in document["measures"].items():
        previous = entry.get("previous", {})
        writer.writerow([
            measure_id, entry["type"], entry["target"],
            _cell(entry.get("numerator")), _cell(entry.get("denominator")), _cell(entry.get("value")),
            _cell(previous.get("numerator")), _cell(previous.get("denominator")), _cell(previous.get("value")),
            entry["trend"], _cell(entry.get("follow_up_complete")),
        ])
    return out.getvalue()


def _cell(value: Any) -> str:
    """A CSV cell written as the JSON writes the value (0.225, true, <5), empty for none."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value)
