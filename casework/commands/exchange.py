"""`casework import` and `casework export`: the data exchange format (docs/data-exchange.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from ..db import db, unavailable


def _agency(name: str):  # type: ignore[no-untyped-def]
    from ..services import agencies

    agency = agencies.by_name(name)
    if agency is None:
        raise click.ClickException(
            f"No agency called {name!r}; add it with `casework agencies add NAME --kind KIND` "
            "(`casework agencies list` shows those there are)")
    return agency


@click.command("import")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--agency", "agency_name", required=True, help="The agency the data set comes from.")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar on stderr (default: when stderr is a terminal).")
@with_appcontext
def import_command(directory: Path, agency_name: str, progress: bool | None) -> None:
    """Import the data set (a folder of CSV files) in DIRECTORY as the records of an agency.

    Every row is checked first; if any is wrong nothing is imported and each
    problem is listed as file:line: column: message.
    """
    from ..exchange import ImportFailed, import_dataset

    if not directory.is_dir():
        raise click.ClickException(f"{directory} is not a folder")
    agency = _agency(agency_name)
    if progress is None:
        progress = sys.stderr.isatty()
    try:
        report = import_dataset(directory, agency=agency, progress=progress)
        db.session.commit()
    except ImportFailed as failed:
        db.session.rollback()
        for problem in failed.problems:
            click.echo(problem, err=True)
        click.echo(f"Nothing imported: {failed}", err=True)
        sys.exit(1)
    except SQLAlchemyError as e:
        _not_written(e)
    for line in report.lines():
        click.echo(line)
    click.echo(f"Imported into {agency.name}'s records")


def _not_written(error: SQLAlchemyError) -> None:
    """The database refused the writing (its disk full, or gone): say so plainly, and exit. The
    transaction is rolled back, so nothing of the data set is in the database."""
    if not unavailable(error):
        raise error
    db.session.rollback()
    reason = str(getattr(error, "orig", None) or type(error).__name__).splitlines()[0]
    click.echo(f"Nothing imported: the database could not be written ({reason}). Check that the database "
               "is running and its disk is not full, then import the data set again.", err=True)
    sys.exit(1)


@click.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--agency", "agency_name", help="Export this agency's records (default: every agency's).")
@click.option("--check", is_flag=True,
              help="Write nothing: list the stored values a spreadsheet would run as a formula, if any.")
@with_appcontext
def export_command(directory: Path, agency_name: str | None, check: bool) -> None:
    """Export records as a data set (a folder of CSV files) into DIRECTORY.

    With --agency, records go by that agency's refs; see casework.exchange.exporter
    for the refs of records it has none for, and of an export of every agency.
    A value stored before the formula rule that a spreadsheet would run stops the
    export (nothing is written) and is listed as file:line: column: message.
    """
    from ..exchange import ExportRefused, export_dataset

    if directory.exists() and not directory.is_dir():
        raise click.ClickException(f"{directory} is not a folder")
    agency = _agency(agency_name) if agency_name else None
    try:
        report = export_dataset(directory, agency=agency, check=check)
    except ExportRefused as refused:
        db.session.rollback()
        for problem in refused.problems:
            click.echo(problem, err=True)
        click.echo(f"Nothing exported: {refused}", err=True)
        sys.exit(1)
    if check:
        db.session.rollback()
        click.echo("No stored value would run as a formula in a spreadsheet")
        return
    db.session.commit()  # nothing to write but the audit trail's entry
    for line in report.lines():
        click.echo(line)
    click.echo(f"Exported {'the records of ' + agency.name if agency else 'every agency'} to {directory}")


COMMANDS = [import_command, export_command]
