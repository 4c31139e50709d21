"""`casework referral-routes ...`: set and list where each type of referral goes (for set-up scripts;
administrators also have the admin page "Referral routes")."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..db import db
from ..models import ReferralType, Role


@click.group("referral-routes")
def routes_group() -> None:
    """Where each type of referral goes: the receiving services."""


@routes_group.command("set")
@click.argument("kind", metavar="TYPE", type=click.Choice([k.value for k in ReferralType]))
@click.option("--agency", "agency_name", required=True, help="The receiving agency, as `casework agencies list` names it")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=None,
              help="The role that decides these referrals (default: hrda_chair for hrda, caseworker for the others)")
@with_appcontext
def set_route(kind: str, agency_name: str, role: str | None) -> None:
    """Route referrals of TYPE to an agency (adds a service; run again to change its role)."""
    from ..services import agencies, referral_routes

    agency = agencies.by_name(agency_name)
    if agency is None:
        raise click.ClickException(f"No agency called {agency_name!r}: see `casework agencies list`")
    try:
        route = referral_routes.set_route(ReferralType(kind), agency=agency, role=Role(role) if role else None,
                                          by=None)
    except referral_routes.RouteError as e:
        db.session.rollback()
        raise click.ClickException(str(e)) from None
    db.session.commit()
    click.echo(f"Routed {referral_routes.describe(route)}.")


@routes_group.command("list")
@with_appcontext
def list_routes() -> None:
    """List the routes: type, agency, role, and how many active users can decide along each."""
    from ..services import referral_routes

    routes = referral_routes.listing()
    if not routes:
        click.echo("No referral routes: set them with `casework referral-routes set TYPE --agency NAME`.")
    for route in routes:
        count = len(referral_routes.deciders(route))
        click.echo(f"{route.type.value}\t{route.agency.name}\t{route.role.value}\t{count} active decider(s)")
    for kind in ReferralType:
        if not any(r.type is kind for r in routes):
            click.echo(f"{kind.value}\t(no route: {kind.label} referrals cannot be made)")


COMMANDS = [routes_group]
