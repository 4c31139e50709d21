"""The measures and their breakdowns as tables, for the pages and the exports (CSV, XLSX, ODS).

Cells hold numbers as numbers (money as Decimal pounds), `<5` where a small
number is suppressed, and words for the rest.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from .definitions import BY_ID, MEASURES, Measure, MeasureType
from .engine import Figure
from .export import Cell, Table
from .report import figure_fields

TREND_WORDS = {"improving": "Improving", "worsening": "Worsening", "no_change": "No change", "n/a": "Not available"}


def _number(measure: Measure, value: Any) -> Cell:
    """A value of the document as a spreadsheet cell (money strings become Decimal pounds)."""
    if measure.money and isinstance(value, str):
        return Decimal(value)
    cell: Cell = value
    return cell


def measures_table(document: dict[str, Any]) -> Table:
    """Every measure of a measures document (suppressed or not, as it was made): one row each."""
    rows = []
    for measure in MEASURES:
        entry = document["measures"][measure.id]
        previous = entry["previous"]
        rows.append([
            measure.id, measure.name, measure.priority.value, measure.type.value, measure.target.value,
            entry.get("numerator"), entry.get("denominator"), _number(measure, entry["value"]),
            previous.get("numerator"), previous.get("denominator"), _number(measure, previous["value"]),
            TREND_WORDS[entry["trend"]],
            {True: "yes", False: "no"}.get(entry.get("follow_up_complete")),
        ])
    return Table(f"Measures {document['period'].replace('/', '-')}", [
        "Measure", "Name", "Priority", "Type", "Target", "Numerator", "Denominator", "Value",
        "Previous numerator", "Previous denominator", "Previous value", "Trend", "Follow-up complete",
    ], rows)


def _row(measure: Measure, figure: Figure, suppress: bool) -> list[Cell]:
    fields = figure_fields(measure, figure, suppress)
    value = _number(measure, fields["value"])
    if measure.type is MeasureType.PROPORTION:
        return [fields["numerator"], fields["denominator"], value]
    return [value]


def _columns(measure: Measure) -> list[str]:
    return ["Numerator", "Denominator", "Value"] if measure.type is MeasureType.PROPORTION else ["Value"]


def monthly_table(measure: Measure, months: list[tuple[dt.date, Figure]], *, suppress: bool) -> Table:
    return Table(f"{measure.id} by month", ["Month", *_columns(measure)],
                 [[month.strftime("%Y-%m"), *_row(measure, fig, suppress)] for month, fig in months])


def locality_table(measure: Measure, localities: list[tuple[str | None, Figure]], *, suppress: bool) -> Table:
    return Table(f"{measure.id} by locality", ["Locality", *_columns(measure)],
                 [[place or "No locality recorded", *_row(measure, fig, suppress)] for place, fig in localities])


def measure_by_id(measure_id: str) -> Measure | None:
    return BY_ID.get(measure_id.upper())
