"""The MARAC data return's page (docs/marac-return.md): a quarter's figures beside SafeLives'
benchmarks, and the same as a CSV, XLSX or JSON download."""

from __future__ import annotations

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue

from ...auth.guard import require
from ...db import begin_mode
from ...measures.marac import QuarterError, parse_quarter, quarter_of
from ...measures.periods import today_in_london
from ...policy import Permission
from ...services import marac_return
from . import bp

MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@bp.get("/marac-return")
@require(Permission.VIEW_MEASURES)
def show() -> ResponseReturnValue:
    """Counts only: anyone who sees the measures sees the return (no person is named)."""
    last = quarter_of(today_in_london()).previous
    text = request.args.get("quarter", "").strip()
    error = None
    try:
        quarter = parse_quarter(text) if text else last
    except QuarterError as e:
        error, quarter = str(e), last
    output_format = request.args.get("format", "")
    with begin_mode("DEFERRED"):
        result = marac_return.figures(quarter)
    if output_format in marac_return.FORMATS and error is None:
        name = f"marac-return-{quarter.name}.{output_format}"
        return Response(marac_return.render(result, output_format), mimetype=MEDIA[output_format],
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    recent = [last]
    for _ in range(7):
        recent.append(recent[-1].previous)
    return render_template("marac_return/show.html", result=result, error=error, text=text or quarter.name,
                           recent=recent), 400 if error else 200
