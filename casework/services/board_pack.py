"""The board pack (issue 18 §5, docs/board-pack.md): what goes to the partnership board's meeting,
gathered from the services that own each part, with every count of people, cases or incidents
suppressed by the measures' rule (1 to 4 shown as "<5", /work/shared/spec/measures.md "Small
numbers"), because the pack is shared beyond the partnership.

- each priority of the current plan: its measures (the last financial year before the meeting against
  the one before it: value, previous, change, trend; and the monthly figures of the three years to
  the month before the meeting) and its activities' latest updates
  (`plan.delivery_summary`);
- the open local problems with their incidents by month (`local_problems.open_problems`);
- the overdue recommendations of reviews after a death (`dardr.overdue_recommendations`: no personal
  detail of the review, only its reference);
- the ASB case reviews' yearly figures (`asb_reviews.figures`) for the same financial year;
- the MARAC return (`marac_return.figures`) for the last quarter that ended before the meeting day.

Everything is as of the day before the meeting, or today when the pack is made earlier (`as_of`).
This module only gathers; `board_pack_document` turns a pack into the printed `Document`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..db import db
from ..measures import engine
from ..measures.definitions import BY_ID, Measure, MeasureType
from ..measures.marac import Quarter, quarter_of
from ..measures.periods import Period
from ..measures.report import SUPPRESSED, figure_fields
from ..models import Plan
from ..risk import asb_review as asb_rule
from ..words import LONDON
from . import asb_reviews, dardr, local_problems, marac_return, measure_pages, plan

CHART_MONTHS = 36
Count = int | str  # a count, or "<5"


# --- the rules (pure) -----------------------------------------------------------------------------


def suppress(n: int | None) -> Count | None:
    """A count as the pack shows it: 1 to 4 as "<5" (the spec's rule); 0 and 5 or more as they are."""
    if n is None:
        return None
    return SUPPRESSED if 1 <= n <= 4 else n


def as_of_for(meeting: dt.date, today: dt.date) -> dt.date:
    """The day the pack's figures are as of: the day before the meeting, or today if that is sooner
    (a pack made a week ahead says what is known now, never what is not yet)."""
    return min(meeting - dt.timedelta(days=1), today)


def quarter_before(meeting: dt.date) -> Quarter:
    """The last quarter wholly before the meeting day: a meeting on 1 July 2025 takes April to
    June 2025; one on 30 June 2025 takes January to March 2025 (June's last day is not over)."""
    return quarter_of(meeting).previous


def year_before(meeting: dt.date) -> Period:
    """The last financial year wholly before the meeting day, as the measures pages show by default
    (a year just begun against a whole one would read as a fall): 2025/26 for a meeting on 1 April
    2026, 2024/25 for one on 31 March 2026."""
    return measure_pages.current_period(meeting).previous


def chart_span(meeting: dt.date) -> tuple[dt.date, dt.date]:
    """The monthly figures' first and last day: the `CHART_MONTHS` whole months before the
    meeting's month (a month not yet over would look like a fall)."""
    last = meeting.replace(day=1) - dt.timedelta(days=1)
    index = last.year * 12 + last.month - 1 - (CHART_MONTHS - 1)
    return dt.date(index // 12, index % 12 + 1, 1), last


def share_shown(count: int, of: int, share: Decimal | None) -> Decimal | None:
    """A share of cases, left out when the count or the cases are a small number (the share
    times the cases would give the hidden number back)."""
    if share is None or 1 <= count <= 4 or 1 <= of <= 4:
        return None
    return share


# --- what the pack holds --------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasureInPack:
    measure: Measure
    now: measure_pages.Shown
    before: measure_pages.Shown
    change: str
    trend: str
    points: list[tuple[dt.date, float | None]]  # the chart's columns (None: suppressed or not known)
    table: list[tuple[dt.date, str]]  # the same months as the table says them ("<5", "12.5%")
    fmt: Callable[[float], str]


@dataclass(frozen=True)
class PriorityInPack:
    name: str
    aim: str | None
    measures: list[MeasureInPack]
    delivery: plan.PriorityDelivery


@dataclass(frozen=True)
class ProblemInPack:
    row: local_problems.ProblemRow
    months: list[tuple[dt.date, Count]]


@dataclass(frozen=True)
class MaracLine:
    label: str
    count: Count
    share: Decimal | None
    unknown: Count | None
    benchmark: str
    meets: bool | None


@dataclass(frozen=True)
class BoardPack:
    meeting: dt.date
    as_of: dt.date
    plan: Plan | None
    period: Period
    priorities: list[PriorityInPack]
    problems: list[ProblemInPack]
    recommendations: list[dardr.RecommendationRow]
    asb_year: str
    asb: dict[str, Any]
    quarter: Quarter
    marac: list[MaracLine] = field(default_factory=list)

    @property
    def months_to(self) -> dt.date:
        """The last month of the monthly figures."""
        return chart_span(self.meeting)[1]


# --- gathering ------------------------------------------------------------------------------------


def _measures(ids: list[str], *, rows: dict[str, measure_pages.Row],
              first: dt.date, last: dt.date) -> list[MeasureInPack]:
    shown = []
    for measure_id in ids:
        measure = BY_ID.get(measure_id)
        if measure is None or measure_id not in rows:
            continue
        row = rows[measure_id]
        months = engine.monthly(db.session, measure, first=first, last=last)
        fmt = measure_pages.chart_format(measure)
        points = [(month, measure_pages.chart_value(measure, figure, True)) for month, figure in months]
        table = [(month, _month_text(measure, figure, value, fmt))
                 for (month, figure), (_, value) in zip(months, points, strict=True)]
        shown.append(MeasureInPack(measure, row.now, row.before, row.change, row.trend, points, table, fmt))
    return shown


def _month_text(measure: Measure, figure: engine.Figure, value: float | None, fmt: Callable[[float], str]) -> str:
    fields = figure_fields(measure, figure, True)
    if measure.type is MeasureType.PROPORTION:
        of = f" of {fields['denominator']}"
        return f"{fmt(value) if value is not None else '–'} ({fields['numerator']}{of})"
    if value is None:
        return SUPPRESSED if fields["value"] == SUPPRESSED else "–"
    return fmt(value)


def _marac(quarter: Quarter) -> list[MaracLine]:
    """The return's figures with small numbers suppressed: a suppressed count's share and whether
    it meets the benchmark are left out too, and every share when the cases heard are few."""
    start = dt.datetime.combine(quarter.next.first, dt.time(), LONDON).astimezone(dt.UTC)
    result = marac_return.figures(quarter, now=start)
    cases = result.figure("cases").count
    lines = []
    for f in [*result.figures, *result.by_agency_kind]:
        small = 1 <= f.count <= 4
        lines.append(MaracLine(f.label, suppress(f.count) or 0, share_shown(f.count, cases, f.share),
                               suppress(f.unknown), f.benchmark, None if small else f.within))
    return lines


def gather(*, meeting: dt.date, today: dt.date) -> BoardPack:
    """The board pack for the meeting on `meeting` (see the module's docstring)."""
    as_of = as_of_for(meeting, today)
    period = year_before(meeting)
    _, groups = measure_pages.dashboard(period=period, as_of=as_of, suppress=True)
    rows = {row.measure.id: row for group in groups.values() for row in group}
    first, last = chart_span(meeting)
    current = plan.current()
    priorities = []
    if current is not None:
        for delivery in plan.delivery_summary(current, as_of=as_of):
            priority = delivery.priority
            priorities.append(PriorityInPack(priority.name, priority.aim,
                                             _measures(priority.measures, rows=rows,
                                                       first=first, last=last), delivery))
    problems = [ProblemInPack(row, [(m, suppress(n) or 0) for m, n in
                                    local_problems.incidents_by_month(row.problem, today=as_of)])
                for row in local_problems.open_problems(today=as_of)]
    asb_year = period.name
    asb = asb_rule.suppressed(asb_reviews.figures(year=asb_year, as_of=as_of))
    quarter = quarter_before(meeting)
    return BoardPack(meeting=meeting, as_of=as_of, plan=current, period=period, priorities=priorities,
                     problems=problems, recommendations=dardr.overdue_recommendations(as_of), asb_year=asb_year,
                     asb=asb, quarter=quarter, marac=_marac(quarter))
