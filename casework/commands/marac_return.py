"""`casework marac-return --quarter 2025-26-Q2`: the quarterly MARAC data return (docs/marac-return.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..db import begin_mode
from ..measures.marac import QuarterError, parse_quarter


@click.command("marac-return")
@click.option("--quarter", "quarter_text", metavar="YYYY-YY-QN", help="e.g. 2025-26-Q2 (July to September 2025)")
@click.option("--format", "output_format", default="json", metavar="json|csv|xlsx", help="output format (json)")
@click.option("--output", "output", metavar="FILE", help="write to FILE (default: standard output)")
@with_appcontext
def marac_return_command(quarter_text: str | None, output_format: str, output: str | None) -> None:
    """Print (or write) the MARAC data return SafeLives asks for, for a quarter of the financial year."""
    from ..services import marac_return

    if not quarter_text:
        raise click.ClickException("--quarter is required, e.g. --quarter 2025-26-Q2")
    if output_format not in marac_return.FORMATS:
        raise click.ClickException(f"--format {output_format!r} is not one of json, csv, xlsx")
    try:
        quarter = parse_quarter(quarter_text)
    except QuarterError as e:
        raise click.ClickException(str(e)) from None
    if output is None and output_format == "xlsx" and sys.stdout.isatty():
        raise click.ClickException("An xlsx file is not for a terminal: name a file with --output")
    with begin_mode("DEFERRED"):  # a read: one snapshot, no write lock
        data = marac_return.render(marac_return.figures(quarter), output_format)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        Path(output).write_bytes(data)
    except OSError as e:
        raise click.ClickException(f"Could not write {output}: {e.strerror}") from None
    click.echo(f"The MARAC return for {quarter.name} ({quarter.months}) is in {output}", err=True)


COMMANDS = [marac_return_command]
