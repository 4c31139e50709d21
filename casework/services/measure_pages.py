"""What the measures pages show: the dashboard, a measure's months and localities, the records
behind a figure (only those the viewer may see, saying how many are left out), and exports.

The figures are partnership figures: every agency's records count, whoever asks.
Only the lists of records follow the viewer's access (`policy.visible_filter`), and, with small
numbers suppressed, the localities: a locality whose figures are suppressed is left out of the
breakdown (its name beside a small number could point at someone), unless the viewer may see every
record behind it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, not_, select

from .. import policy, words
from ..db import db
from ..measures import engine
from ..measures.definitions import MEASURES, Measure, MeasureType, Priority
from ..measures.export import MEDIA_TYPES, WRITERS, Table
from ..measures.periods import Period, today_in_london
from ..measures.report import build_document, figure_fields, trend
from ..measures.tables import locality_table, measures_table, monthly_table
from ..models import Incident, PreventionActivity, Referral
from ..policy import Permission
from . import audit

CHART_MONTHS = 36
RECORD_KINDS: dict[str, type[Incident | Referral]] = {"incident": Incident, "referral": Referral}


# --- periods --------------------------------------------------------------------------------


def current_period(today: dt.date | None = None) -> Period:
    today = today or today_in_london()
    return Period(today.year if today.month >= 4 else today.year - 1)


def periods_available(shown: Period, today: dt.date | None = None) -> list[Period]:
    """Every financial year from the first with any record the measures count (an incident, a
    referral, a prevention activity) to the later of the current year and the last with one,
    newest first; five years back when there are none. The year `shown` is always among them, so
    the select keeps it rather than silently offering another."""
    now = current_period(today)
    # Each bound a query of its own (one statement): SQLite reads a lone min() or max() from the end of
    # the column's index, but both in one SELECT from the whole index (a million entries at the 1M demo).
    bounds = db.session.execute(select(*(select(bound(column)).scalar_subquery()
                                         for column in (Incident.occurred_on, Referral.referred_on,
                                                        PreventionActivity.occurred_on)
                                         for bound in (func.min, func.max)))).one()
    days = [dt.date.fromisoformat(d) if isinstance(d, str) else d for d in bounds if d is not None]
    first = current_period(min(days)).start_year if days else now.start_year - 4
    last = max(now.start_year, current_period(max(days)).start_year) if days else now.start_year
    years = set(range(first, last + 1)) | {shown.start_year}
    return [Period(year) for year in sorted(years, reverse=True)]


# --- the dashboard ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """One period's figures of a measure, as the page shows them."""

    value: str
    numerator: str | None = None
    denominator: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)  # the spec's fields (suppressed as asked)


@dataclass(frozen=True)
class Row:
    measure: Measure
    now: Shown
    before: Shown
    change: str
    trend: str  # improving, worsening, no_change, n/a


def _count(value: Any) -> str:
    return value if isinstance(value, str) else f"{value:,}"


def show_value(measure: Measure, value: Any) -> str:
    if value is None:
        return "Not available"  # a proportion of nothing
    if isinstance(value, str) and not measure.money:
        return value  # "<5"
    if measure.money:
        return f"£{Decimal(value):,.2f}"
    if measure.type is MeasureType.PROPORTION:
        return words.percent(value)
    return f"{value:,}"


def shown(measure: Measure, fields: dict[str, Any]) -> Shown:
    value = fields["value"]
    suppressed = measure.type is MeasureType.PROPORTION and value is None and "<5" in (
        fields.get("numerator"), fields.get("denominator"))
    text = "Suppressed" if suppressed else show_value(measure, value)
    if measure.type is MeasureType.PROPORTION:
        return Shown(text, _count(fields["numerator"]), _count(fields["denominator"]), fields)
    return Shown(text, raw=fields)


def change_text(measure: Measure, now: dict[str, Any], before: dict[str, Any]) -> str:
    """The change from the previous period in words; a dash when either side is not known or is
    suppressed (a difference would give the hidden number away)."""
    a, b = now["value"], before["value"]
    if a is None or b is None or isinstance(a, str) and not measure.money or isinstance(b, str) and not measure.money:
        return "—"
    if measure.type is MeasureType.PROPORTION:
        points = words.percentage_points(b, a)  # to the place shown: a change that rounds to 0.0 is none
        if points == 0:
            return "No change"
        return f"{'Up' if points > 0 else 'Down'} {abs(points)} percentage points"
    diff = Decimal(str(a)) - Decimal(str(b))
    if diff == 0:
        return "No change"
    amount = f"£{abs(diff):,.2f}" if measure.money else f"{abs(int(diff)):,}"
    return f"{'Up' if diff > 0 else 'Down'} {amount}"


def shown_trend(change: str, trend: str) -> str:
    """The trend a page tags: no change where the change shown is none (two proportions that differ
    beyond the place shown would otherwise read "No change" and "Worsening" side by side). The
    measures document keeps the spec's trend, from the values to four places."""
    return "no_change" if change == "No change" else trend


def dashboard(*, period: Period, as_of: dt.date, suppress: bool) -> tuple[dict[str, Any], dict[Priority, list[Row]]]:
    """The measures document of the period, and its rows grouped by priority."""
    figures = engine.compute(db.session, [period, period.previous])
    document = build_document(period, figures[period], figures[period.previous], as_of=as_of, suppress=suppress)
    groups: dict[Priority, list[Row]] = {p: [] for p in Priority}
    for measure in MEASURES:
        entry = document["measures"][measure.id]
        now = {k: entry.get(k) for k in ("value", "numerator", "denominator") if k in entry}
        change = change_text(measure, now, entry["previous"])
        groups[measure.priority].append(Row(measure, shown(measure, now), shown(measure, entry["previous"]),
                                            change, shown_trend(change, entry["trend"])))
    return document, groups


# --- a measure's page -----------------------------------------------------------------------


@dataclass(frozen=True)
class MeasurePage:
    measure: Measure
    period: Period
    now: Shown
    before: Shown
    change: str
    trend: str
    months: list[tuple[dt.date, engine.Figure]]
    localities: list[tuple[str | None, engine.Figure]] | None
    figures: dict[Period, engine.Figure]
    localities_left_out: int = 0  # suppressed: left out of the breakdown


def measure_page(*, measure: Measure, period: Period, suppress: bool, viewer: Any) -> MeasurePage:
    """A measure's figures for the period and the previous one, month by month over the three years
    to the period's end, and by locality where its records have one (`suppress`: those with small
    numbers left out, unless `viewer` may see their records)."""
    figures = engine.measure_figures(db.session, measure, [period, period.previous])
    first = dt.date(period.start_year - 2, 4, 1)
    months = engine.monthly(db.session, measure, first=first, last=period.last_day)
    localities = engine.by_locality(db.session, measure, period)
    left_out = 0
    if suppress and localities is not None and any(_suppressed(measure, fig) for _, fig in localities):
        unseen = _localities_not_wholly_seen(measure, period, viewer)
        kept = [(place, fig) for place, fig in localities
                if not _suppressed(measure, fig) or (unseen is not None and place not in unseen)]
        left_out, localities = len(localities) - len(kept), kept
    now = figure_fields(measure, figures[period], suppress)
    before = figure_fields(measure, figures[period.previous], suppress)
    change = change_text(measure, now, before)
    return MeasurePage(measure, period, shown(measure, now), shown(measure, before), change,
                       shown_trend(change, trend(measure.target, figures[period].value, figures[period.previous].value)),
                       months, localities, figures, left_out)


def _suppressed(measure: Measure, figure: engine.Figure) -> bool:
    fields = figure_fields(measure, figure, True)
    return "<5" in (fields.get("value"), fields.get("numerator"), fields.get("denominator"))


def _localities_not_wholly_seen(measure: Measure, period: Period, viewer: Any) -> set[str | None] | None:
    """The breakdown's localities with a record behind them that `viewer` may not see (None: every
    locality, for a viewer who sees no records). A row of the others tells them nothing they could
    not read."""
    if not policy.can(viewer, Permission.VIEW_RECORDS):
        return None
    unseen: set[str | None] = set()
    for raw in engine.parts_of(measure).values():
        kind, rows = engine.records_behind(raw, period, with_locality=True)
        model, behind = RECORD_KINDS[kind], rows.subquery("behind")
        query = (select(behind.c.locality).distinct().join(model, model.id == behind.c.record_id)
                 .where(not_(policy.visible_filter(viewer, model))))
        unseen.update(engine.locality_row(group) for group in db.session.scalars(query))
    return unseen


def chart_value(measure: Measure, figure: engine.Figure, suppress: bool) -> float | None:
    """What a month's column shows: the count, the proportion as a percentage, the sum (None when
    suppressed or not known)."""
    fields = figure_fields(measure, figure, suppress)
    value = fields["value"]
    if value is None or isinstance(value, str) and not measure.money:
        return None
    if measure.type is MeasureType.PROPORTION:
        return float(value) * 100
    return float(value)


def chart_format(measure: Measure) -> Any:
    """How a chart's axis and columns write a month's value (`chart_value`)."""
    if measure.type is MeasureType.PROPORTION:
        return lambda v: words.percent(v, of_hundred=True)
    if measure.money:
        return lambda v: f"£{v:,.0f}"
    return lambda v: f"{v:,.0f}" if v == int(v) else f"{v:,.2f}"


# --- the records behind a figure ----------------------------------------------------------------


@dataclass(frozen=True)
class Records:
    kind: str  # "incident" or "referral"
    total: int  # records behind the figure
    visible: int  # of which the viewer may see
    shown: list[Any]  # this page of them

    @property
    def left_out(self) -> int:
        return self.total - self.visible


def parts_listed(measure: Measure) -> dict[str, str]:
    """The parts of a measure whose records can be listed ("value", or "numerator" and
    "denominator"), with the kind of record: not sums of prevention work."""
    return {part: raw.source for part, raw in engine.parts_of(measure).items() if raw.source != "activity"}


def records_behind(*, measure: Measure, part: str, period: Period, viewer: Any, page: int, size: int) -> Records:
    """The records behind a part of a measure in a period that `viewer` may see, a page of them,
    and how many are behind it in all. The listing is audited."""
    raw = engine.parts_of(measure)[part]
    kind, ids = engine.records_behind(raw, period)
    model = RECORD_KINDS[kind]
    behind = ids.subquery("behind")
    total = db.session.scalar(select(func.count()).select_from(behind)) or 0
    visible_rows = select(model).where(model.id.in_(select(behind.c.record_id)), policy.visible_filter(viewer, model))
    visible = db.session.scalar(select(func.count()).select_from(visible_rows.subquery())) or 0
    date = Incident.occurred_on if model is Incident else Referral.referred_on
    shown_rows = list(db.session.scalars(visible_rows.order_by(date.desc(), model.id)
                                         .limit(size).offset((page - 1) * size)))
    audit.record("measures.records", user=viewer, record_kind=kind, result_count=visible,
                 details={"measure": measure.id, "period": period.name, "part": part, "not_listed": total - visible})
    return Records(kind, total, visible, shown_rows)


def may_list_records(viewer: Any) -> bool:
    return policy.can(viewer, Permission.VIEW_RECORDS)


# --- exports --------------------------------------------------------------------------------------


def export_dashboard(*, period: Period, as_of: dt.date, suppress: bool, fmt: str, viewer: Any) -> tuple[bytes, str, str]:
    """The measures of a period (and the previous) as CSV, XLSX or ODS: content, media type, file name."""
    document, _ = dashboard(period=period, as_of=as_of, suppress=suppress)
    name = f"measures-{period.name.replace('/', '-')}{'-published' if suppress else ''}.{fmt}"
    return _export([measures_table(document)], fmt, name, viewer,
                   {"what": "measures", "period": period.name, "suppressed": suppress})


def export_measure(*, measure: Measure, period: Period, suppress: bool, fmt: str,
                   viewer: Any) -> tuple[bytes, str, str]:
    """A measure's months and localities as CSV, XLSX or ODS."""
    page = measure_page(measure=measure, period=period, suppress=suppress, viewer=viewer)
    tables = [monthly_table(measure, page.months, suppress=suppress)]
    if page.localities is not None:
        tables.append(locality_table(measure, page.localities, suppress=suppress))
    name = f"{measure.id.lower()}-{period.name.replace('/', '-')}{'-published' if suppress else ''}.{fmt}"
    return _export(tables, fmt, name, viewer,
                   {"what": measure.id, "period": period.name, "suppressed": suppress})


def _export(tables: list[Table], fmt: str, name: str, viewer: Any, details: dict[str, Any]) -> tuple[bytes, str, str]:
    content = WRITERS[fmt](tables)
    audit.record("measures.export", user=viewer, details={**details, "format": fmt, "file": name})
    return content, MEDIA_TYPES[fmt], name
