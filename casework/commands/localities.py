"""`casework localities ...`: the partnership's list of localities (`casework.services.localities`)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..db import db


@click.group("localities")
def localities_group() -> None:
    """The partnership's localities: the only ones incidents may name and the measures show."""


def _named(name: str):  # type: ignore[no-untyped-def]
    from ..services import localities

    locality = localities.by_name(name)
    if locality is None:
        raise click.ClickException(f"No locality called {name!r} in the list: see `casework localities list`")
    return locality


def _records(n: int) -> str:
    return f"{n} record{'s' if n != 1 else ''}"


@localities_group.command("list")
@with_appcontext
def list_localities() -> None:
    """List the localities, with how many incidents name each."""
    from ..services import localities

    for locality, incidents in localities.listing():
        click.echo(f"{locality.name}\t{incidents}")


@localities_group.command("add")
@click.argument("name")
@with_appcontext
def add(name: str) -> None:
    """Add the locality NAME; records holding it spelt another way (case, spacing) are given it."""
    from ..services import localities

    try:
        locality, moved = localities.add(name=name)
    except localities.LocalityError as e:
        raise click.ClickException(str(e)) from None
    db.session.commit()
    click.echo(f"Added {locality.name}" + (f"; {_records(moved)} given it" if moved else ""))


@localities_group.command("rename")
@click.argument("name")
@click.argument("new_name")
@with_appcontext
def rename(name: str, new_name: str) -> None:
    """Rename the locality NAME to NEW_NAME; its records (and the measures) follow."""
    from ..services import localities

    locality = _named(name)
    try:
        moved = localities.rename(locality=locality, name=new_name)
    except localities.LocalityError as e:
        raise click.ClickException(str(e)) from None
    db.session.commit()
    click.echo(f"Renamed to {locality.name}; {_records(moved)} changed")


@localities_group.command("remove")
@click.argument("name")
@with_appcontext
def remove(name: str) -> None:
    """Take the locality NAME off the list (refused while a record names it)."""
    from ..services import localities

    locality = _named(name)
    try:
        localities.remove(locality=locality)
    except localities.LocalityError as e:
        raise click.ClickException(str(e)) from None
    db.session.commit()
    click.echo(f"Removed {name}")


@localities_group.command("unrecognised")
@with_appcontext
def unrecognised() -> None:
    """List the values records hold from before the list that match none of it (the measures count
    them as "Unrecognised locality"), with how many records hold each."""
    from ..services import localities

    found = localities.unrecognised()
    for value, count in found:
        click.echo(f"{value!r}\t{count}")
    if not found:
        click.echo("Every record's locality is in the list.")


@localities_group.command("map")
@click.argument("value")
@click.option("--to", "to", required=True, help="The locality of the list the records are given")
@with_appcontext
def map_value(value: str, to: str) -> None:
    """Give the records holding VALUE (as `unrecognised` shows it) the locality --to."""
    from ..services import localities

    locality = _named(to)
    try:
        moved = localities.map_value(value=value, to=locality)
    except localities.LocalityError as e:
        raise click.ClickException(str(e)) from None
    db.session.commit()
    click.echo(f"{_records(moved)} given the locality {locality.name}")


COMMANDS = [localities_group]
