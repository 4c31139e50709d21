"""A monthly column chart drawn on the server as SVG: it shows without JavaScript, and a screen
reader gets its title, a description of what it shows, and the data table beside it.

Presentation attributes only (no `style`): the Content-Security-Policy forbids inline styles.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from decimal import Decimal

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 16, 44
BAR = "#1d70b8"      # GOV.UK blue
AXIS = "#0b0c0c"     # GOV.UK text colour
GRID = "#b1b4b6"     # GOV.UK mid grey


def _nice_top(top: float) -> tuple[float, float]:
    """An axis maximum at or above `top` and a step of a round number giving at most 5 gridlines."""
    if top <= 0:
        return 1.0, 0.25
    magnitude = 10.0 ** math.floor(math.log10(top))
    for factor in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if top / step <= 5:
            return step * math.ceil(top / step - 1e-9), step
    return top, top / 5


def column_chart(points: Sequence[tuple[dt.date, float | Decimal | None]], *, chart_id: str, title: str,
                 description: str, fmt: Callable[[float], str]) -> Markup:
    """Columns, one a month; a month with no value (a proportion of nothing) draws no column."""
    values = [float(v) for _, v in points if v is not None]
    top, step = _nice_top(max(values, default=0.0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(points), 1)
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
             f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" class="casework-chart" '
             f'focusable="false">'),
             f'<title id="{chart_id}-title">{escape(title)}</title>',
             f'<desc id="{chart_id}-desc">{escape(description)}</desc>']
    gridline, n = 0.0, 0
    while gridline <= top + step / 2 and n < 12:
        y = TOP + plot_h - gridline / top * plot_h
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}" '
                     f'stroke-width="1" aria-hidden="true"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" fill="{AXIS}" '
                     f'aria-hidden="true">{escape(fmt(gridline))}</text>')
        gridline, n = gridline + step, n + 1
    for index, (month, value) in enumerate(points):
        x = LEFT + index * slot
        if value is not None and float(value) > 0:
            h = float(value) / top * plot_h
            parts.append(f'<rect x="{x + slot * 0.15:.1f}" y="{TOP + plot_h - h:.1f}" width="{slot * 0.7:.1f}" '
                         f'height="{h:.1f}" fill="{BAR}"><title>{escape(month.strftime("%B %Y"))}: '
                         f'{escape(fmt(float(value)))}</title></rect>')
        if month.month in (1, 4, 7, 10):
            label = month.strftime("%b %Y") if month.month == 4 else month.strftime("%b")
            parts.append(f'<text x="{x + slot / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
                         f'font-size="12" fill="{AXIS}" aria-hidden="true">{escape(label)}</text>')
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
                 f'stroke="{AXIS}" stroke-width="1" aria-hidden="true"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


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
