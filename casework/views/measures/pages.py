"""The measures for managers: the dashboard, a page per measure (monthly chart, localities), the
records behind a figure, and exports (CSV, XLSX, ODS; small numbers suppressed on request)."""

from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ...auth import navigation
from ...auth.guard import require
from ...measures.chart import column_chart, describe
from ...measures.definitions import Measure, MeasureType
from ...measures.export import WRITERS
from ...measures.periods import today_in_london
from ...measures.report import figure_fields
from ...measures.tables import measure_by_id
from ...policy import Permission
from ...services import measure_pages as pages
from ..shared.downloads import download
from ..shared.periods import requested_period
from . import bp

navigation.add("Measures", "measures.index", Permission.VIEW_MEASURES, order=60)

PART_WORDS = {"value": "counted", "numerator": "in the numerator", "denominator": "in the denominator"}


def _suppress() -> bool:
    return request.args.get("suppress") in ("1", "y", "on", "true")


def _measure(measure_id: str) -> Measure:
    measure = measure_by_id(measure_id)
    if measure is None:
        abort(404)
    return measure


@bp.get("")
@require(Permission.VIEW_MEASURES)
def index() -> ResponseReturnValue:
    period, errors = requested_period()
    suppress = _suppress()
    document, groups = pages.dashboard(period=period, as_of=today_in_london(), suppress=suppress)
    return render_template("measures/index.html", period=period, periods=pages.periods_available(period),
                           suppress=suppress, groups=groups, document=document, errors=errors,
                           can_list=pages.may_list_records(current_user), listable=pages.parts_listed,
                           formats=list(WRITERS)), 400 if errors else 200


@bp.get("/export.<fmt>")
@require(Permission.VIEW_MEASURES)
def export(fmt: str) -> ResponseReturnValue:
    if fmt not in WRITERS:
        abort(404)
    period, errors = requested_period()
    if errors:
        abort(400)
    content, media_type, name = pages.export_dashboard(period=period, as_of=today_in_london(),
                                                       suppress=_suppress(), fmt=fmt, viewer=current_user)
    return download(content, media_type, name)


@bp.get("/<measure_id>")
@require(Permission.VIEW_MEASURES)
def show(measure_id: str) -> ResponseReturnValue:
    measure = _measure(measure_id)
    period, errors = requested_period()
    suppress = _suppress()
    page = pages.measure_page(measure=measure, period=period, suppress=suppress, viewer=current_user)
    fmt = pages.chart_format(measure)
    points = [(month, pages.chart_value(measure, figure, suppress)) for month, figure in page.months]
    what = measure.name.lower() if measure.type is not MeasureType.PROPORTION else f"{measure.name.lower()} (%)"
    chart = column_chart(points, chart_id="monthly-chart", title=f"{measure.name}, month by month",
                         description=describe(points, what=what, fmt=fmt), fmt=fmt)
    return render_template("measures/show.html", measure=measure, period=period, periods=pages.periods_available(period),
                           suppress=suppress, page=page, chart=chart, points=points, fmt=fmt, errors=errors,
                           can_list=pages.may_list_records(current_user), listable=pages.parts_listed(measure),
                           fields=figure_fields, formats=list(WRITERS)), 400 if errors else 200


@bp.get("/<measure_id>/export.<fmt>")
@require(Permission.VIEW_MEASURES)
def export_measure(measure_id: str, fmt: str) -> ResponseReturnValue:
    measure = _measure(measure_id)
    if fmt not in WRITERS:
        abort(404)
    period, errors = requested_period()
    if errors:
        abort(400)
    content, media_type, name = pages.export_measure(measure=measure, period=period, suppress=_suppress(),
                                                     fmt=fmt, viewer=current_user)
    return download(content, media_type, name)


@bp.get("/<measure_id>/records")
@require(Permission.VIEW_MEASURES, Permission.VIEW_RECORDS)
def records(measure_id: str) -> ResponseReturnValue:
    measure = _measure(measure_id)
    part = request.args.get("part", "value")
    if part not in pages.parts_listed(measure):
        abort(404)
    period, errors = requested_period()
    if errors:
        abort(400)
    size = current_app.config["PAGE_SIZE"]
    try:
        number = max(1, int(request.args.get("page", 1)))
    except ValueError:
        number = 1
    found = pages.records_behind(measure=measure, part=part, period=period, viewer=current_user,
                                 page=number, size=size)
    last = max(1, -(-found.visible // size))
    return render_template("measures/records.html", measure=measure, period=period, part=part,
                           part_words=PART_WORDS[part], found=found, page=number, pages=last)
