"""CLI commands beside `casework/cli.py`'s core ones.

Each module in this package that defines `COMMANDS` (a list of click commands
or groups) has them added to the `casework` group; a new feature adds a module
here and touches nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil

import click


def register(main: click.Group) -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for command in getattr(module, "COMMANDS", []):
            main.add_command(command)
