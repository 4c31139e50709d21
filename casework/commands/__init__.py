"""CLI commands beside `casework/cli.py`'s core ones; each module adds its own."""

from __future__ import annotations

import click


def register(main: click.Group) -> None:
    for command in _commands():
        main.add_command(command)


def _commands() -> list[click.Command]:
    return []
