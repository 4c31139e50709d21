"""`casework measures`: the partnership's measures for a period, as JSON or CSV; `casework measures
check` / `rebuild`: compare the stored repeat marks with the rule, or remake them."""

from __future__ import annotations

import sys
import time

import click
from flask.cli import with_appcontext

from ..db import begin_mode, db
from ..measures.periods import PeriodError, parse_date, parse_period, today_in_london
from ..measures.report import measures_document, to_csv, to_json

FORMATS = ("json", "csv")
SHOWN = 20  # discrepancies listed by `check`


@click.group("measures", invoke_without_command=True)
@click.option("--period", "period_text", metavar="YYYY/YY", help="the financial year, e.g. 2024/25")
@click.option("--as-of", "as_of_text", metavar="DATE", help="YYYY-MM-DD (default: today in Europe/London)")
@click.option("--format", "output_format", default="json", metavar="json|csv", help="output format (json)")
@click.option("--suppress", is_flag=True, help="hide small numbers (1 to 4) for publication")
@click.option("--orders", "with_orders", is_flag=True,
              help="add the orders and powers measures ORD1 to ORD3 after the plan's (docs/orders.md)")
@with_appcontext
@click.pass_context
def measures_command(ctx: click.Context, period_text: str | None, as_of_text: str | None, output_format: str,
                     suppress: bool, with_orders: bool) -> None:
    """Print the measures of a period, with the previous period's and the trend."""
    if ctx.invoked_subcommand is not None:
        return
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
    # A read: on SQLite it must not take the write lock; one transaction gives all the queries
    # the same snapshot, so the figures agree with each other.
    with begin_mode("DEFERRED"):
        document = measures_document(db.session, period, as_of=as_of, suppress=suppress)
        if with_orders:
            from ..measures.orders import add_to_document

            add_to_document(document, db.session, period, as_of=as_of, suppress=suppress)
    click.echo(to_json(document) if output_format == "json" else to_csv(document), nl=output_format == "json")


@measures_command.command("check")
@with_appcontext
def check_command() -> None:
    """Compare the stored repeat marks with the repeat rule, and the monthly figures with the
    records; exit 1 when any differ."""
    from .. import figures

    started = time.monotonic()
    with begin_mode("DEFERRED"):
        findings = figures.check(db.session)
        found = [d.describe() for d in findings.marks]
        months = findings.months
    db.session.rollback()
    if not found and not months:
        click.echo("The stored repeat marks agree with the rule and the monthly figures with the records "
                   f"({time.monotonic() - started:.1f}s).")
        return
    for line in [*found, *months][:SHOWN]:
        click.echo(line, file=sys.stderr)
    more = f" (the first {SHOWN} listed)" if len(found) + len(months) > SHOWN else ""
    raise click.ClickException(f"{len(found)} stored repeat marks and {len(months)} monthly figures differ{more}; "
                               "`casework measures rebuild` remakes them")


@measures_command.command("rebuild")
@with_appcontext
def rebuild_command() -> None:
    """Remake every stored repeat mark from the repeat rule, and the monthly figures (in one
    transaction)."""
    from .. import figures

    started = time.monotonic()
    rows = figures.rebuild(db.session)
    db.session.commit()
    click.echo(f"Rebuilt {rows} repeat marks in {time.monotonic() - started:.1f}s.")


COMMANDS = [measures_command]
