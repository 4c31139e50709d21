"""`casework demo`: load a realistic Dorset data set; `casework demo generate DIR`: only write it as CSV."""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from flask.cli import with_appcontext

DEFAULT_INCIDENTS = 20_000
DEFAULT_SEED = 1


Command = TypeVar("Command", bound=Callable[..., Any])


def _incidents_option(command: Command) -> Command:
    return click.option("--incidents", type=click.IntRange(min=0), default=DEFAULT_INCIDENTS, show_default=True,
                        help="How many incidents to make (people, referrals and the rest follow from them).")(command)


def _seed_option(command: Command) -> Command:
    command = click.option("--end", type=click.DateTime(["%Y-%m-%d"]), default=None,
                           help="The last day of the data (default today); with --seed, fixes the data exactly.")(command)
    return click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True,
                        help="The same seed and end give the same data.")(command)


@click.group("demo", invoke_without_command=True)
@_incidents_option
@_seed_option
@click.option("--if-empty", is_flag=True,
              help="Do nothing when the database already holds any incident (for `make run`).")
@with_appcontext
@click.pass_context
def demo(ctx: click.Context, incidents: int, seed: int, end: dt.datetime | None, if_empty: bool) -> None:
    """Load demo data: the Dorset partner agencies and their records, over five financial years."""
    if ctx.invoked_subcommand is not None:
        return
    from ..db import db
    from ..demo.loader import DemoFailed, has_incidents, load_demo

    if if_empty and has_incidents():
        click.echo("The database already holds incidents: demo data not loaded.")
        return
    started = time.monotonic()
    try:
        summary = load_demo(incidents=incidents, seed=seed, end=end.date() if end else None,
                            progress=sys.stderr.isatty())
    except DemoFailed as e:
        db.session.rollback()
        shown = "\n".join(f"  {p}" for p in e.problems[:20])
        more = f"\n  ... and {len(e.problems) - 20} more" if len(e.problems) > 20 else ""
        raise click.ClickException(f"{e}; nothing was loaded:\n{shown}{more}") from None
    db.session.commit()
    for name in summary.added_agencies:
        click.echo(f"Added agency {name}")
    for loaded in summary.loaded:
        extras = "".join(f", {n} {what}" for n, what in ((loaded.referrals, "referrals"),
                                                          (loaded.prevention, "prevention activities")) if n)
        click.echo(f"{loaded.agency}: {loaded.incidents} incidents, {loaded.people} people{extras}")
    kinds = ", ".join(f"{n} {kind.label.lower()}" for kind, n in sorted(summary.cases.items(), key=lambda kv: -kv[1]))
    click.echo(f"Cases: {summary.cases.total()} opened in {summary.cases_seconds:.1f}s" + (f" ({kinds})" if kinds else ""))
    click.echo(f"Demo data loaded ({incidents} incidents, seed {seed}) in {time.monotonic() - started:.1f}s")


@demo.command("generate")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@_incidents_option
@_seed_option
def generate(directory: Path, incidents: int, seed: int, end: dt.datetime | None) -> None:
    """Only write the demo data sets as CSV under DIRECTORY (one folder per partner), for benchmarks."""
    from ..demo import write_dataset

    if directory.exists() and any(directory.iterdir()):
        raise click.ClickException(f"{directory} is not empty: give a new or empty directory")
    started = time.monotonic()
    for dataset in write_dataset(directory, incidents=incidents, seed=seed, end=end.date() if end else None):
        click.echo(f"{dataset.directory}\t{dataset.agency}\t{dataset.kind}")
    click.echo(f"Wrote {incidents} incidents (seed {seed}) in {time.monotonic() - started:.1f}s", err=True)


COMMANDS = [demo]
