"""`casework`: one command for everything (a Flask CLI group: run, routes and shell come with it)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click
from flask.cli import FlaskGroup, with_appcontext

from .db import db
from .models.vocab import AgencyKind


def _create_app():  # type: ignore[no-untyped-def]
    from . import create_app
    from .config import ConfigurationError

    try:
        return create_app()
    except ConfigurationError as e:
        click.echo(f"Error: {e}", err=True)
        sys.exit(2)


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False, load_dotenv=False)
def main() -> None:
    """Casework: multi-agency case coordination."""


# --- database ----------------------------------------------------------------


@main.group("db")
def db_group() -> None:
    """Database migrations."""


def _alembic(fn_name: str, *args: object) -> None:
    from alembic import command

    from .migrate import alembic_config

    getattr(command, fn_name)(alembic_config(), *args)


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: the latest); then, at the latest, build the
    stored figures a migration left empty (docs/figures.md)."""
    from .migrate import head_revision

    _alembic("upgrade", revision)
    current = _current_revision()
    click.echo(f"Database at {current}")
    if current == head_revision():
        _build_figures()


def _build_figures() -> None:
    """The stored figures are made by today's definitions, so after the last migration: a migration
    that adds a derived table leaves it empty (it must not import the code that fills it)."""
    import time

    from . import figures

    empty = figures.unbuilt(db.session)
    if not empty:
        db.session.rollback()
        return
    started = time.monotonic()
    rows = figures.rebuild(db.session)
    db.session.commit()
    click.echo(f"Built the stored figures ({', '.join(empty)} were empty): {rows} repeat marks, "
               f"{time.monotonic() - started:.1f}s")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION (for example -1, or base)."""
    _alembic("downgrade", revision)
    click.echo(f"Database at {_current_revision()}")


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Show the database's migration and the latest one."""
    from .migrate import head_revision

    click.echo(f"current: {_current_revision()}\nhead:    {head_revision()}")


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """(Developers) autogenerate a migration from the models."""
    _alembic("revision", message, True)


def _current_revision() -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


# --- agencies ----------------------------------------------------------------


@main.group("agencies")
def agencies_group() -> None:
    """Partner agencies."""


@agencies_group.command("add")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice([k.value for k in AgencyKind]))
@with_appcontext
def agencies_add(name: str, kind: str) -> None:
    """Add an agency NAME of KIND."""
    from .services import agencies

    try:
        agency = agencies.add(name=name, kind=kind)
    except agencies.AgencyError as e:
        raise click.ClickException(str(e)) from None
    db.session.commit()
    click.echo(f"Added {agency.name} ({agency.kind.value})")


@agencies_group.command("list")
@with_appcontext
def agencies_list() -> None:
    """List the agencies: name, kind, and "inactive" for one no longer offered."""
    from .services import agencies

    for agency in agencies.listing():
        click.echo(f"{agency.name}\t{agency.kind.value}" + ("" if agency.active else "\tinactive"))


def _agency_named(name: str):  # type: ignore[no-untyped-def]
    from .services import agencies

    agency = agencies.by_name(name)
    if agency is None:
        raise click.ClickException(f"No agency called {name!r}: see `casework agencies list`")
    return agency


@agencies_group.command("rename")
@click.argument("name")
@click.argument("new_name")
@click.option("--kind", type=click.Choice([k.value for k in AgencyKind]), help="Also change its kind")
@with_appcontext
def agencies_rename(name: str, new_name: str, kind: str | None) -> None:
    """Rename the agency NAME to NEW_NAME (and change its kind with --kind)."""
    from .services import agencies

    agency = _agency_named(name)
    try:
        changed = agencies.update(agency=agency, name=new_name, kind=kind or agency.kind, by=None)
    except agencies.AgencyError as e:
        raise click.ClickException(str(e)) from None
    db.session.commit()
    click.echo(f"{agency.name} ({agency.kind.value}): " + (", ".join(changed) + " changed" if changed else
                                                             "nothing changed"))


@agencies_group.command("deactivate")
@click.argument("name")
@with_appcontext
def agencies_deactivate(name: str) -> None:
    """Stop offering the agency NAME (refused while it has active users)."""
    from .services import agencies

    _set_active(name, agencies.deactivate, "inactive")


@agencies_group.command("reactivate")
@click.argument("name")
@with_appcontext
def agencies_reactivate(name: str) -> None:
    """Offer the inactive agency NAME again."""
    from .services import agencies

    _set_active(name, agencies.reactivate, "active")


def _set_active(name: str, step: Callable[..., Any], state: str) -> None:
    """Deactivate or reactivate the agency NAME; a refusal is the command's one-line error."""
    from .services import agencies

    agency = _agency_named(name)
    try:
        step(agency=agency, by=None)
    except agencies.AgencyError as e:
        raise click.ClickException(str(e)) from None
    db.session.commit()
    click.echo(f"{agency.name} is {state}")


def _register_commands() -> None:
    """Commands that live beside the services they drive."""
    from .commands import register

    register(main)


_register_commands()
