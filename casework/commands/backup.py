"""`casework backup FILE` and `casework restore FILE`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from ..services import backup as service


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup(file: Path) -> None:
    """Write an encrypted backup of the database to FILE (a new file), while the app runs.

    The backup is encrypted with a key derived from the keyring: keep the
    keyring safe and apart from the backups; without it a backup cannot be read.
    """
    try:
        manifest = service.create_backup(target=file)
    except service.BackupError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"Backed up the {service.describe(manifest)}")
    click.echo(f"to {file} ({file.stat().st_size:,} bytes, encrypted).")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def restore(file: Path) -> None:
    """Restore the backup FILE into the configured database, which must be empty, and verify it."""
    try:
        report = service.restore_backup(source=file)
    except service.BackupError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"Restored the {service.describe(report.manifest)}.")
    for check in report.checks:
        click.echo(f"  {'ok    ' if check.ok else 'FAILED'}  {check.name}: {check.detail}")
    if not report.ok:
        raise click.ClickException("the restored database failed verification (above): do not use it; "
                                   "drop it and restore again with the right keyring and Casework version")
    click.echo("Verified.")


COMMANDS = [backup, restore]
