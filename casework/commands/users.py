"""`casework users ...`: create, list and deactivate users; the demo sign-ins."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from ..db import db
from ..models import Role


@click.group("users")
def users_group() -> None:
    """Users and their sign-in."""


def _setup_link(token: str) -> str:
    from ..links import LinkError, public_url_for

    try:
        return public_url_for("auth.set_up", token=token)
    except LinkError as e:
        raise click.ClickException(str(e)) from None


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--agency", "agency_name", required=True, help="The agency's name, as `casework agencies list` shows it")
@click.option("--role", "roles", required=True, multiple=True, type=click.Choice([r.value for r in Role]),
              help="Repeat for several roles")
@click.option("--name", default="", help="Full name (default: from the email address)")
@with_appcontext
def create(email: str, agency_name: str, roles: tuple[str, ...], name: str) -> None:
    """Create a user and print their one-time set-up link (valid for 72 hours)."""
    from ..services import agencies, users

    agency = agencies.by_name(agency_name)
    if agency is None:
        raise click.ClickException(f"No agency called {agency_name!r}: see `casework agencies list`")
    try:
        invitation = users.create(email=email, name=name, agency=agency, roles=list(roles))
    except users.UserError as e:
        raise click.ClickException(str(e)) from None
    db.session.commit()
    click.echo(f"Created {invitation.user.email} ({', '.join(sorted(roles))}) at {agency.name}.")
    click.echo("Give them this set-up link (it works once, for 72 hours):")
    click.echo(_setup_link(invitation.token))


@users_group.command("list")
@with_appcontext
def list_users() -> None:
    """List the users: email, agency, roles, status."""
    from ..services import users

    for user in users.listing():
        status = "active" if user.active else "deactivated"
        if user.active and not user.password_hash:
            status = "not set up"
        elif user.active and user.locked():
            status = "locked"
        roles = ",".join(sorted(r.value for r in user.roles))
        click.echo(f"{user.email}\t{user.agency.name}\t{roles}\t{status}")


@users_group.command("deactivate")
@click.argument("email")
@with_appcontext
def deactivate(email: str) -> None:
    """Deactivate a user: they cannot sign in, and their sessions end at once."""
    from ..services import users

    user = users.by_email(email)
    if user is None:
        raise click.ClickException(f"No user with the email address {email}")
    unkept = users.deactivate(user=user)
    db.session.commit()
    click.echo(f"Deactivated {user.email}; their sessions have ended.")
    if unkept:
        click.echo(f"{unkept} restricted record(s) they were named on now have nobody named who can manage them "
                   "for their agency: tell the agency, whose users who edit records can recover them.")


@users_group.command("demo")
@with_appcontext
def demo() -> None:
    """Create the demo users (one per role), if they do not exist yet."""
    from ..services import users

    made = users.create_demo_users()
    db.session.commit()
    click.echo(f"Created {len(made)} demo users." if made else "The demo users exist already.")


@users_group.command("demo-sign-ins")
@with_appcontext
def demo_sign_ins() -> None:
    """Print the demo users' sign-ins (development only)."""
    from ..services import users

    if current_app.config["ENV"] == "production":
        raise click.ClickException("There are no demo sign-ins in production.")
    people = users.demo_users()
    if not people:
        click.echo("No demo users: run `casework demo` (or `casework users demo`).")
        return
    click.echo(f"Demo sign-ins (password for all: {users.DEMO_PASSWORD}):")
    for user in people:
        roles = ", ".join(sorted(r.label for r in user.roles))
        click.echo(f"  {user.email:<34} {roles:<16} {user.agency.name}")
    click.echo("The first sign-in sets up an authenticator app (the page shows a QR code and the key);")
    click.echo("`casework users totp EMAIL` prints a demo user's current code instead.")


@users_group.command("totp")
@click.argument("email")
@with_appcontext
def totp(email: str) -> None:
    """Print a user's current authenticator code (development only)."""
    from .. import crypto
    from ..services import users

    if current_app.config["ENV"] == "production":
        raise click.ClickException("Refused: authenticator codes are never printed in production.")
    user = users.by_email(email)
    if user is None or not user.totp_secret:
        raise click.ClickException(f"{email} has no authenticator set up yet: sign in once to set it up.")
    click.echo(crypto.totp_now(user.totp_secret))


COMMANDS = [users_group]
