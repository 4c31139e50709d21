"""`casework measures`: the partnership's measures for a period, as JSON or CSV."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..db import begin_mode, db
from ..measures.periods import PeriodError, parse_date, parse_period, today_in_london
from ..measures.report import measures_document, to_csv, to_json

FORMATS = ("json", "csv")


@click.command("measures")
@click.option("--period", "period_text", metavar="YYYY/YY", help="the financial year, e.g. 2024/25")
@click.option("--as-of", "as_of_text", metavar="DATE", help="YYYY-MM-DD (default: today in Europe/London)")
@click.option("--format", "output_format", default="json", metavar="json|csv", help="output format (json)")
@click.option("--suppress", is_flag=True, help="hide small numbers (1 to 4) for publication")
@with_appcontext
def measures_command(period_text: str | None, as_of_text: str | None, output_format: str, suppress: bool) -> None:
    """Print the measures of a period, with the previous period's and the trend."""
    # Arguments are checked here, not by click, so that every mistake gets one line.
    if not period_text:
        raise click.ClickException("--period is required, e.g. --period 2024/25")
    if output_format not in FORMATS:
        raise click.ClickException(f"--format {output_format!r} is not one of json, csv")
    try:
        period = parse_period(period_text)
        as_of = parse_date(as_of_text, what="--as-of") if as_of_text is not None else today_in_london()
    except PeriodError as e:
        raise click.ClickException(str(e)) from None
    # A read: on SQLite it must not take the write lock; one transaction gives all five queries
    # the same snapshot, so the figures agree with each other.
    with begin_mode("DEFERRED"):
        document = measures_document(db.session, period, as_of=as_of, suppress=suppress)
    click.echo(to_json(document) if output_format == "json" else to_csv(document), nl=output_format == "json")


COMMANDS = [measures_command]
