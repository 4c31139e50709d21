"""`casework asb-reviews figures`: the ASB case reviews' yearly publication (spec: Yearly publication),
as the spec's JSON or as CSV (a header row of the same keys, then one row)."""

from __future__ import annotations

import csv
import io
import json

import click
from flask.cli import with_appcontext

from ..db import begin_mode
from ..measures.periods import PeriodError, parse_date, today_in_london
from ..risk import asb_review as rule

FORMATS = ("json", "csv")


@click.group("asb-reviews")
def asb_reviews_group() -> None:
    """ASB case reviews (the community trigger)."""


def render(published: dict[str, object], output_format: str) -> str:
    if output_format == "json":
        return json.dumps(published)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(published))
    writer.writerow(list(published.values()))
    return out.getvalue().rstrip("\n")


@asb_reviews_group.command("figures")
@click.option("--year", "year", metavar="YYYY/YY", help="the financial year, e.g. 2025/26")
@click.option("--as-of", "as_of_text", metavar="DATE", help="YYYY-MM-DD (default: today in Europe/London)")
@click.option("--format", "output_format", default="json", metavar="json|csv", help="output format (json)")
@click.option("--suppress", is_flag=True, help='show each count from 1 to 4 as "<5"')
@with_appcontext
def figures_command(year: str | None, as_of_text: str | None, output_format: str, suppress: bool) -> None:
    """Print the yearly figures: applications, threshold not met, undecided, reviews held, reviews
    with recommendations, decided late, appeals and appeals upheld."""
    from ..services import asb_reviews

    if not year:
        raise click.ClickException("--year is required, e.g. --year 2025/26")
    if output_format not in FORMATS:
        raise click.ClickException(f"--format {output_format!r} is not one of json, csv")
    try:
        rule.financial_year(year)
        as_of = parse_date(as_of_text, what="--as-of") if as_of_text is not None else today_in_london()
    except (rule.BadYear, PeriodError) as e:
        raise click.ClickException(str(e)) from None
    with begin_mode("DEFERRED"):
        published = asb_reviews.figures(year=year, as_of=as_of)
    click.echo(render(rule.suppressed(published) if suppress else published, output_format))


COMMANDS = [asb_reviews_group]
