"""The period a measures page is asked for, as every measures page reads it."""

from __future__ import annotations

from flask import request

from ...measures.periods import Period, PeriodError, parse_period
from ...services import measure_pages


def requested_period() -> tuple[Period, list[dict[str, str]]]:
    """The period asked for (default: the last full financial year), and any error about it."""
    text = request.args.get("period")
    default = measure_pages.current_period().previous
    if not text:
        return default, []
    try:
        return parse_period(text), []
    except PeriodError as e:
        return default, [{"text": f"{e}. Showing {default.name} instead.", "href": "#period"}]
