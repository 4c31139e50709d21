"""`casework keys`: what is sealed under which key, rotation of the data and blind-index keys,
retiring old data keys."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import crypto
from ..db import db


def _keyring_file() -> str:
    return str(current_app.config["KEYRING_FILE"])


def _progress(*, length: int, label: str) -> Any:
    return click.progressbar(length=length, label=label, file=sys.stderr)


@contextmanager
def _failures() -> Iterator[None]:
    """Turn a refused or failed key operation into a clear error; roll back the batch in hand."""
    from ..services import keys

    try:
        yield
    except (keys.KeyManagementError, crypto.CryptoError) as e:
        db.session.rollback()
        raise click.ClickException(str(e)) from None


@click.group("keys")
def keys_group() -> None:
    """Encryption keys: status, rotation, retiring old keys."""


@keys_group.command("status")
@with_appcontext
def keys_status() -> None:
    """Count the encrypted values under each data key, column by column."""
    from ..services import keys

    with _failures():
        st = keys.status(ring=crypto.current())
    db.session.rollback()
    click.echo(f"Active data key: {st.active}")
    click.echo(f"Keys in the keyring: {', '.join(str(k) for k in st.keys)}")
    for key_id in sorted({k for _, k in st.counts if k is not None} | set(st.keys)):
        state = "active" if key_id == st.active else ("in keyring" if key_id in st.keys else "NOT IN KEYRING")
        click.echo(f"  key {key_id} ({state}): {st.total_under(key_id)} values")
        for (column, k), n in sorted(st.counts.items(), key=lambda kv: kv[0][0]):
            if k == key_id:
                click.echo(f"    {column}: {n}")
    unreadable = st.total_under(None)
    if unreadable:
        click.echo(f"  {unreadable} values have a header of no known format and cannot be read")
    if st.remaining:
        click.echo(f"Warning: {st.remaining} values are not under the active key: a rotation is unfinished; "
                   "run `casework keys rotate` to resume it.")
    else:
        click.echo("Every value is under the active key.")
    if st.index_rotation_pending:
        click.echo("Warning: a blind-index key rotation is pending (it was interrupted): searches may miss "
                   "people until `casework keys rotate --index` is run again to finish it.")


@keys_group.command("rotate")
@click.option("--index", "index", is_flag=True,
              help="Replace the blind-index keys and recompute every index (instead of the data key).")
@click.option("--resume", "resume_only", is_flag=True,
              help="Only finish an interrupted rotation; never make a new key.")
@click.option("--batch-size", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Rows re-encrypted per transaction.")
@with_appcontext
def keys_rotate(index: bool, resume_only: bool, batch_size: int) -> None:
    """Make a new data key and re-encrypt every value under it (in batches; safe to kill and
    rerun: a rerun resumes an unfinished rotation rather than making another key)."""
    from ..services import keys

    ring = crypto.current()
    if index:
        if resume_only:
            raise click.UsageError("--resume applies to the data key; `--index` always resumes a pending rotation")
        with _failures():
            result = keys.rotate_index_keys(ring=ring, keyring_file=_keyring_file(), batch_size=batch_size,
                                            progress=_progress)
        verb = "Finished the interrupted" if result.resumed else "Completed a"
        click.echo(f"{verb} blind-index key rotation: indexes of {result.people} people recomputed.")
        click.echo(f"Back up the keyring ({_keyring_file()}) now: older copies cannot search this database.")
        return
    with _failures():
        rotated = keys.rotate_data_key(ring=ring, keyring_file=_keyring_file(), batch_size=batch_size,
                                       resume_only=resume_only, progress=_progress)
    if rotated.new_key:
        click.echo(f"Made data key {rotated.key_id} the active key and saved it to the keyring.")
    elif rotated.resealed or rotated.remaining:
        click.echo(f"Resumed the rotation to data key {rotated.key_id}.")
    else:
        click.echo(f"Nothing to do: every value is already under the active key {rotated.key_id}.")
    click.echo(f"Re-encrypted {rotated.resealed} values.")
    if rotated.remaining:
        click.echo(f"Warning: {rotated.remaining} values were written under an older key while this ran; "
                   "run `casework keys rotate` again.")
    else:
        click.echo(f"Every value is under key {rotated.key_id}. Older keys can be retired with "
                   "`casework keys retire KEY_ID` once no database backup still needs them.")
    if rotated.new_key:
        click.echo(f"Back up the keyring ({_keyring_file()}) now: older copies cannot read this database.")


@keys_group.command("retire")
@click.argument("key_id", type=int)
@with_appcontext
def keys_retire(key_id: int) -> None:
    """Remove data key KEY_ID from the keyring (refused while any value is under it)."""
    from ..services import keys

    with _failures():
        keys.retire_data_key(ring=crypto.current(), keyring_file=_keyring_file(), key_id=key_id)
    db.session.rollback()
    click.echo(f"Retired data key {key_id}. Database backups taken before its values were re-encrypted "
               "need a keyring copy that still holds it.")


COMMANDS = [keys_group]
