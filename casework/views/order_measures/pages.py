"""The board's page of orders and powers (issue 17 §2): for a financial year, ORD1 to ORD3 against
the year before, orders issued month by month (chart and table), and by kind and holding agency,
with a CSV download. Definitions: casework.measures.orders, docs/orders.md."""

from __future__ import annotations

import csv
import io

from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue

from ... import words
from ...auth.guard import require
from ...db import db
from ...measures.chart import column_chart, describe
from ...measures.orders import (
    ORDER_MEASURES,
    compute_orders,
    follow_up_complete,
    issued_by_kind_and_agency,
    issued_by_month,
)
from ...measures.periods import Period, today_in_london
from ...measures.report import figure_fields, trend
from ...models import OrderKind
from ...policy import Permission
from ...services import measure_pages
from ..shared.periods import requested_period as _period
from ..shared.record_pages import agency_names
from . import bp


def _table(period: Period, suppress: bool) -> tuple[list[str], list[tuple[str, list[int | str], int | str]]]:
    """Orders issued by kind (rows) and holding agency (columns), with each kind's total; small
    numbers hidden when `suppress`."""
    counts = issued_by_kind_and_agency(db.session, period)
    names = agency_names()
    agency_ids = sorted({a for _, a in counts}, key=lambda a: names.get(a, ""))

    def shown(n: int) -> int | str:
        return "<5" if suppress and 1 <= n <= 4 else n

    rows = [(kind.label, [shown(counts[(kind, a)]) for a in agency_ids], shown(sum(counts[(kind, a)] for a in agency_ids)))
            for kind in OrderKind]
    return [names.get(a, "") for a in agency_ids], rows


@bp.get("")
@require(Permission.VIEW_MEASURES)
def index() -> ResponseReturnValue:
    period, errors = _period()
    suppress = request.args.get("suppress") in ("1", "y", "on", "true")
    now, before = compute_orders(db.session, period), compute_orders(db.session, period.previous)
    figures = [{"measure": m, "now": figure_fields(m, now[m.id], suppress),
                "before": figure_fields(m, before[m.id], suppress),
                "trend": trend(m.target, now[m.id].value, before[m.id].value)} for m in ORDER_MEASURES]
    months = issued_by_month(db.session, period)
    points = [(month, None if suppress and 1 <= n <= 4 else n) for month, n in months]
    def fmt(v: float) -> str:  # as the measures pages write a count (an empty chart's axis steps are fractions)
        return f"{v:,.0f}" if v == int(v) else f"{v:,.2f}"

    chart = column_chart(points, chart_id="orders-chart", title=f"Orders and powers issued in {period.name}, month by month",
                         description=describe(points, what="orders and powers issued", fmt=fmt), fmt=fmt)
    agencies, rows = _table(period, suppress)
    return render_template("orders/measures.html", period=period, errors=errors, suppress=suppress,
                           periods=measure_pages.periods_available(period), figures=figures, chart=chart,
                           points=points, agencies=agencies, rows=rows, formats=["csv"],
                           follow_up=follow_up_complete(period, today_in_london()) or not now["ORD2"].denominator,
                           percent=words.percent), 400 if errors else 200


@bp.get("/export.<fmt>")
@require(Permission.VIEW_MEASURES)
def export(fmt: str) -> ResponseReturnValue:
    if fmt != "csv":
        abort(404)
    period, errors = _period()
    if errors:
        abort(400)
    agencies, rows = _table(period, request.args.get("suppress") in ("1", "y", "on", "true"))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["kind", *agencies, "total"])
    for label, cells, total in rows:
        writer.writerow([label, *cells, total])
    response = Response(out.getvalue().encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="orders-{period.name.replace("/", "-")}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
