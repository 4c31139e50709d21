"""A monthly column chart drawn on the server as SVG: it shows without JavaScript, and a screen
reader gets its title, a description of what it shows, and the data table beside it.

Presentation attributes only (no `style`): the Content-Security-Policy forbids inline styles.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

BAR = "#1d70b8"      # GOV.UK blue
AXIS = "#0b0c0c"     # GOV.UK text colour
GRID = "#b1b4b6"     # GOV.UK mid grey
MARK = "#d4351c"     # GOV.UK red: a date marked on the chart (a local problem's start)


@dataclass(frozen=True)
class Layout:
    """One drawing of the chart: its size in user units, margins and label size. The page shows the
    wide drawing only where it is drawn at 85% or more of its size (labels of 14 CSS pixels or more),
    the narrow one, never drawn smaller than its size, elsewhere (casework/styles/_reflow.scss)."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    font: int
    gridlines: int  # at most
    label_months: tuple[int, ...]  # months with a label under their column
    css_class: str
    year_labels: bool = False  # a financial year's label under its months, from its April


WIDE = Layout(720, 320, 72, 12, 16, 48, 17, 5, (1, 4, 7, 10), "app-chart app-chart--wide")
# 260 units: the width of a column of the page at 320 CSS pixels, so its labels are never under 14 px.
NARROW = Layout(260, 220, 52, 8, 12, 40, 14, 4, (4,), "app-chart app-chart--narrow", year_labels=True)


def _nice_top(top: float, gridlines: int = 5) -> tuple[float, float]:
    """An axis maximum at or above `top` and a step of a round number giving at most `gridlines` gridlines."""
    if top <= 0:
        return 1.0, 0.25
    magnitude = 10.0 ** math.floor(math.log10(top))
    for factor in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if top / step <= gridlines:
            return step * math.ceil(top / step - 1e-9), step
    return top, top / gridlines


def column_chart(points: Sequence[tuple[dt.date, float | Decimal | None]], *, chart_id: str, title: str,
                 description: str, fmt: Callable[[float], str],
                 marks: Sequence[tuple[dt.date, str]] = (), whole: bool = False) -> Markup:
    """Columns, one a month; a month with no value (a proportion of nothing) draws no column. Two
    drawings of the same chart, wide and narrow (one shows at a time; see `Layout`). `marks`: dates
    drawn as a labelled line at the start of their month (the description must say so in words);
    `whole`: the values are counts, so no gridline falls between two whole numbers."""
    return Markup(_drawing(points, WIDE, chart_id=chart_id, title=title, description=description, fmt=fmt,
                           marks=marks, whole=whole)
                  + _drawing(points, NARROW, chart_id=f"{chart_id}-narrow", title=title, description=description,
                             fmt=fmt, marks=marks, whole=whole))


def printed_chart(points: Sequence[tuple[dt.date, float | Decimal | None]], *, chart_id: str, title: str,
                  description: str, fmt: Callable[[float], str], marks: Sequence[tuple[dt.date, str]] = (),
                  whole: bool = False) -> Markup:
    """The wide drawing alone, for paper (a PDF, an ODT's picture, a saved HTML file): a page of
    paper does not reflow, so the narrow one would only be drawn twice."""
    return Markup(_drawing(points, WIDE, chart_id=chart_id, title=title, description=description, fmt=fmt,
                           marks=marks, whole=whole))


def _mark(index: int, label: str, at: Layout, slot: float, plot_h: float) -> str:
    x = at.left + index * slot
    return (f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{at.top}" y2="{at.top + plot_h}" stroke="{MARK}" '
            f'stroke-width="2" stroke-dasharray="6 3" aria-hidden="true"/>'
            f'<text x="{x + 4:.1f}" y="{at.top + at.font}" font-size="{at.font}" fill="{MARK}" '
            f'aria-hidden="true">{escape(label)}</text>')


def _drawing(points: Sequence[tuple[dt.date, float | Decimal | None]], at: Layout, *, chart_id: str, title: str,
             description: str, fmt: Callable[[float], str], marks: Sequence[tuple[dt.date, str]] = (),
             whole: bool = False) -> str:
    values = [float(v) for _, v in points if v is not None]
    top, step = _nice_top(max(values, default=0.0), at.gridlines)
    if whole and step < 1:
        top, step = float(max(1, math.ceil(top))), 1.0
    plot_w, plot_h = at.width - at.left - at.right, at.height - at.top - at.bottom
    slot = plot_w / max(len(points), 1)
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {at.width} {at.height}" width="100%" '
              f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" class="{at.css_class}" '
              f'focusable="false">'),
             f'<title id="{chart_id}-title">{escape(title)}</title>',
             f'<desc id="{chart_id}-desc">{escape(description)}</desc>']
    gridline, n = 0.0, 0
    while gridline <= top + step / 2 and n < 12:
        y = at.top + plot_h - gridline / top * plot_h
        parts.append(f'<line x1="{at.left}" x2="{at.width - at.right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}" '
                     f'stroke-width="1" aria-hidden="true"/>')
        parts.append(f'<text x="{at.left - 6}" y="{y + at.font / 3:.1f}" text-anchor="end" font-size="{at.font}" '
                     f'fill="{AXIS}" aria-hidden="true">{escape(fmt(gridline))}</text>')
        gridline, n = gridline + step, n + 1
    for index, (month, value) in enumerate(points):
        x = at.left + index * slot
        if value is not None and float(value) > 0:
            h = float(value) / top * plot_h
            parts.append(f'<rect x="{x + slot * 0.15:.1f}" y="{at.top + plot_h - h:.1f}" width="{slot * 0.7:.1f}" '
                         f'height="{h:.1f}" fill="{BAR}"><title>{escape(month.strftime("%B %Y"))}: '
                         f'{escape(fmt(float(value)))}</title></rect>')
        if month.month in at.label_months and at.year_labels:
            # One label a financial year ("2023/24"), centred under its months: a month's name at
            # 14 pixels is wider than three narrow columns.
            span = min(12, len(points) - index)
            parts.append(f'<text x="{x + span * slot / 2:.1f}" y="{at.height - at.bottom + at.font + 6}" '
                         f'text-anchor="middle" font-size="{at.font}" fill="{AXIS}" aria-hidden="true">'
                         f'{month.year}/{(month.year + 1) % 100:02d}</text>')
        elif month.month in at.label_months:
            label = month.strftime("%b %Y") if month.month == 4 else month.strftime("%b")
            parts.append(f'<text x="{x + slot / 2:.1f}" y="{at.height - at.bottom + at.font + 6}" '
                         f'text-anchor="middle" font-size="{at.font}" fill="{AXIS}" aria-hidden="true">'
                         f'{escape(label)}</text>')
    parts.append(f'<line x1="{at.left}" x2="{at.width - at.right}" y1="{at.top + plot_h}" y2="{at.top + plot_h}" '
                 f'stroke="{AXIS}" stroke-width="1" aria-hidden="true"/>')
    months = [month.replace(day=1) for month, _ in points]
    for day, label in marks:
        if day.replace(day=1) in months:
            parts.append(_mark(months.index(day.replace(day=1)), label, at, slot, plot_h))
    parts.append("</svg>")
    return "".join(parts)


def describe(points: Sequence[tuple[dt.date, float | Decimal | None]], *, what: str,
             fmt: Callable[[float], str]) -> str:
    """A sentence for the chart's description: the span, and the highest and lowest months."""
    known = [(m, float(v)) for m, v in points if v is not None]
    if not points:
        return f"No months to show for {what}."
    span = f"{points[0][0].strftime('%B %Y')} to {points[-1][0].strftime('%B %Y')}"
    if not known:
        return f"{what.capitalize()} each month from {span}: no figures in any month."
    high = max(known, key=lambda p: p[1])
    low = min(known, key=lambda p: p[1])
    return (f"{what.capitalize()} each month from {span}. Highest: {fmt(high[1])} in {high[0].strftime('%B %Y')}; "
            f"lowest: {fmt(low[1])} in {low[0].strftime('%B %Y')}. The table that follows gives every month.")
