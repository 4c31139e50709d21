"""`casework printing check`: whether this machine can make the printed forms' PDFs (run by `make run`
before it serves, so a missing system package is named at once; the app serves all the same)."""

from __future__ import annotations

import sys

import click


@click.group("printing")
def printing_group() -> None:
    """Printed forms (PDF and ODT)."""


@printing_group.command("check")
def check() -> None:
    """Say what PDF printing lacks on this machine (exit 1), or that it is ready."""
    from ..printing import missing

    problems = missing()
    if not problems:
        import weasyprint

        click.echo(f"Printed forms: PDF and ODT ready (WeasyPrint {weasyprint.__version__}).")
        return
    for problem in problems:
        click.echo(problem, err=True)
    click.echo("Casework serves everything else; its PDF links answer with a page saying PDFs cannot be made "
               "(ODT downloads still work).", err=True)
    sys.exit(1)


COMMANDS = [printing_group]
