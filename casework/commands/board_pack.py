"""`casework board-pack --meeting DATE --format html|pdf|odt --output FILE`: the partnership board's
pack for a meeting (docs/board-pack.md)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..db import begin_mode
from ..measures.periods import PeriodError, parse_date, today_in_london

MADE_BY = "the casework board-pack command"


@click.command("board-pack")
@click.option("--meeting", "meeting_text", metavar="YYYY-MM-DD", help="the day of the board's meeting")
@click.option("--format", "output_format", default="pdf", metavar="html|pdf|odt", help="file format (pdf)")
@click.option("--output", "output", metavar="FILE", help="the file to write")
@with_appcontext
def board_pack_command(meeting_text: str | None, output_format: str, output: str | None) -> None:
    """Write the board pack for a meeting: each priority's measures and activities, the open local
    problems, overdue recommendations of reviews after a death, the ASB case reviews' figures and
    the last quarter's MARAC return, small numbers suppressed."""
    from pathlib import Path

    from ..models.base import utcnow
    from ..printing import PdfUnavailable
    from ..services import board_pack, board_pack_document
    from ..views.shared.figure_labels import ASB_REVIEW_FIGURES as LABELS

    if not meeting_text:
        raise click.ClickException("--meeting is required, e.g. --meeting 2026-12-10")
    if output_format not in board_pack_document.FORMATS:
        raise click.ClickException(f"--format {output_format!r} is not one of html, pdf, odt")
    if not output:
        raise click.ClickException("--output is required: name the file to write, e.g. --output board-pack.pdf")
    try:
        meeting = parse_date(meeting_text, what="--meeting")
    except PeriodError as e:
        raise click.ClickException(str(e)) from None
    with begin_mode("DEFERRED"):  # a read: one snapshot, no write lock
        pack = board_pack.gather(meeting=meeting, today=today_in_london())
        try:
            data = board_pack_document.render(pack, output_format, made_by=MADE_BY, made_at=utcnow(),
                                              asb_labels=LABELS)
        except PdfUnavailable as e:
            raise click.ClickException(f"{e} (or take --format odt)") from None
    try:
        Path(output).write_bytes(data)
    except OSError as e:
        raise click.ClickException(f"Could not write {output}: {e.strerror}") from None
    click.echo(f"The board pack for the meeting of {meeting:%-d %B %Y} is in {output}", err=True)


COMMANDS = [board_pack_command]
