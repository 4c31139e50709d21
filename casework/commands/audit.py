"""`casework audit checkpoint` and `casework audit verify`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit trail."""


@audit_group.command("checkpoint")
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Checkpoint file (default: AUDIT_CHECKPOINT_FILE, or instance/audit-checkpoints)")
@with_appcontext
def checkpoint(path: Path | None) -> None:
    """Append the chain's head (position and hash, signed) to the checkpoint file."""
    from ..services import audit_chain

    cp = audit_chain.checkpoint(path=path)
    click.echo(f"Checkpoint: position {cp.position}, hash {cp.hash.hex()[:16]}… "
               f"appended to {path or audit_chain.checkpoint_file()}")


@audit_group.command("verify")
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Checkpoint file (default: AUDIT_CHECKPOINT_FILE, or instance/audit-checkpoints)")
@click.option("--anchors", "logs", multiple=True, type=click.File("r", encoding="utf-8", errors="replace"),
              help="A log holding the app's \"audit head\" lines (JSON or text; - for standard input, e.g. "
                   "journalctl -u casework-web -o cat | casework audit verify --anchors -). Repeat for several.")
@with_appcontext
def verify(path: Path | None, logs: tuple) -> None:  # type: ignore[type-arg]
    """Check every entry's HMAC and link, the checkpoints and the heads logged; exit 1 naming the first
    bad position."""
    from ..services import audit_chain

    try:
        anchors = [a for log in logs for a in audit_chain.read_anchors(log, source=log.name)]
        verdict = audit_chain.verify(path=path, anchors=anchors)
    except audit_chain.CheckpointFileError as e:
        click.echo(f"Error: {e}", err=True)
        raise SystemExit(2) from None
    if not verdict.ok:
        click.echo(str(verdict), err=True)
        raise SystemExit(1)
    click.echo(str(verdict))


COMMANDS = [audit_group]
