"""The board pack's page (issue 18 §5, docs/board-pack.md): choose the meeting's date, read the pack,
download it as a PDF, an ODT or an HTML file. For managers and board officers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ... import policy
from ...auth.guard import require
from ...db import begin_mode
from ...forms import Form
from ...measures.chart import column_chart
from ...measures.periods import today_in_london
from ...models.base import utcnow
from ...policy import Permission
from ...printing import PdfUnavailable
from ...services import audit, board_pack, board_pack_document
from ..shared.fields import DateInputField
from ..shared.figure_labels import ASB_REVIEW_FIGURES as LABELS
from . import bp


@bp.app_template_global("home_shows_board_pack")
def home_shows_board_pack() -> bool:
    """For the home page's "The partnership" section (templates/plan/_home.html)."""
    return policy.can(current_user, Permission.VIEW_BOARD_PACK)


class MeetingForm(Form):
    meeting = DateInputField("Date of the board's meeting", required="Enter the date of the board's meeting")


def _meeting() -> tuple[MeetingForm, dt.date | None]:
    """The meeting asked for (`meeting-day`, `-month`, `-year`), or none yet (or none valid)."""
    asked = any(request.args.get(f"meeting-{part}") is not None for part in DateInputField.PARTS)
    form = MeetingForm(formdata=request.args if asked else None, meta={"csrf": False})
    if not asked or not form.validate():
        return form, None
    return form, form.meeting.data


@bp.get("/board-pack")
@require(Permission.VIEW_BOARD_PACK)
def show() -> ResponseReturnValue:
    form, meeting = _meeting()
    pack = None
    if meeting is not None:
        with begin_mode("DEFERRED"):
            pack = board_pack.gather(meeting=meeting, today=today_in_london())
    errors = form.error_list()
    return render_template("board_pack/show.html", form=form, pack=pack, labels=LABELS, errors=errors,
                           formats=list(board_pack_document.FORMATS), column_chart=column_chart,
                           measure_chart=board_pack_document.measure_chart,
                           problem_chart=board_pack_document.problem_chart,
                           problem_rows=board_pack_document.problem_rows), 400 if errors else 200


@bp.get("/board-pack/board-pack.<fmt>")
@require(Permission.VIEW_BOARD_PACK)
def download(fmt: str) -> ResponseReturnValue:
    if fmt not in board_pack_document.FORMATS:
        abort(404)
    _, meeting = _meeting()
    if meeting is None:
        abort(400)
    with begin_mode("DEFERRED"):
        pack = board_pack.gather(meeting=meeting, today=today_in_london())
        made_by = f"{current_user.name}, {current_user.agency.name}"
        try:
            data = board_pack_document.render(pack, fmt, made_by=made_by, made_at=utcnow(), asb_labels=LABELS)
        except PdfUnavailable as e:
            args: dict[str, Any] = request.args.to_dict()
            return render_template("printing/unavailable.html", reason=str(e), back=(
                url_for("board_pack.show", **args), "Back to the board pack"),
                odt_url=url_for("board_pack.download", fmt="odt", **args)), 503
    audit.record("board_pack.download", details={"meeting": meeting.isoformat(), "format": fmt})
    response = Response(data, mimetype=board_pack_document.FORMATS[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{board_pack_document.file_name(pack, fmt)}"'
    response.headers["Cache-Control"] = "no-store"
    return response
