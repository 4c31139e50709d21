"""`casework subject-access PERSON_ID`, `casework erase PERSON_ID --reason TEXT` and
`casework retention sweep`."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..db import db


def _person_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a person id (a UUID, as on the person's page)") from None


@click.command("subject-access")
@click.argument("person_id")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: subject-access-PERSON_ID.json); never overwritten.")
@with_appcontext
def subject_access(person_id: str, output: Path | None) -> None:
    """Write everything held about a person (decrypted, with who saw it) to a JSON file readable by
    the owner only, for a subject access request."""
    from ..services import subject_access as service

    pid = _person_id(person_id)
    output = output or Path(f"subject-access-{pid}.json")
    try:
        doc = service.document(person_id=pid)
    except service.SubjectAccessError as e:
        raise click.ClickException(str(e)) from None
    try:
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        db.session.rollback()
        raise click.ClickException(f"{output} already exists: give another --output") from None
    except OSError as e:
        db.session.rollback()
        raise click.ClickException(f"cannot write {output}: {e.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(service.to_json(doc))
    db.session.commit()
    click.echo(f"Wrote {output} (readable by you only): {len(doc['incidents'])} incidents, "
               f"{len(doc['cases'])} cases, {len(doc['audit'])} audit entries. Review third parties' "
               "information before disclosing it; delete the file once it has been sent.")


@click.command("erase")
@click.argument("person_id")
@click.option("--reason", required=True, help="The lawful request this erasure answers (kept, encrypted, "
              "in the audit trail).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def erase(person_id: str, reason: str, yes: bool) -> None:
    """Erase a person's personal data on a lawful request (as the retention sweep does; cannot be undone)."""
    from ..services import retention

    pid = _person_id(person_id)
    if not reason.strip():
        raise click.BadParameter("give the reason for the erasure", param_hint="--reason")
    if not yes:
        click.confirm(f"Erase person {pid}'s personal data? This cannot be undone", abort=True)
    try:
        removed = retention.erase(kind="person", record_id=pid, cause="request", reason=reason.strip())
    except retention.RetentionError as e:
        db.session.rollback()
        raise click.ClickException(str(e)) from None
    db.session.commit()
    fields = "; ".join(f"{table}: {', '.join(names)}" for table, names in sorted(removed.fields.items()))
    click.echo(f"Erased person {pid}: {fields or 'no personal values were held'}.")
    if removed.merged:
        click.echo(f"Also erased {len(removed.merged)} merged duplicate record(s).")


@click.group("retention")
def retention_group() -> None:
    """Retention of personal data."""


@retention_group.command("sweep")
@click.option("--dry-run", is_flag=True, help="Only count the records whose retention has run out.")
@with_appcontext
def sweep(dry_run: bool) -> None:
    """Erase the personal data of every record past its retention period (as the nightly job does)."""
    from flask import current_app

    from ..measures.periods import today_in_london
    from ..services import retention

    try:
        if dry_run:
            found = retention.sweep(today=today_in_london(), dry_run=True)
            db.session.rollback()
            click.echo(f"Expired, not yet erased: {', '.join(f'{n} {k}' for k, n in found.erased.items()) or 'none'}")
            return
        total = 0
        while True:
            swept = retention.sweep(today=today_in_london(), limit=int(current_app.config["RETENTION_BATCH"]))
            db.session.commit()
            total += swept.total
            click.echo(str(swept))
            if swept.total == 0:
                break
    except retention.RetentionError as e:
        db.session.rollback()
        raise click.ClickException(str(e)) from None
    click.echo(f"Erased {total} records in all.")


COMMANDS = [subject_access, erase, retention_group]
