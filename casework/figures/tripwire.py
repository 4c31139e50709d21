"""The trip-wire: a statement run through a Session that writes a column the stored figures are
made from, and that no writer announced (`casework.figures.changing` / `bulk`), is a mistake: the
figures would go stale until the next rebuild. Under test it raises; in production it logs an
error (`casework measures check` then finds the difference, and `rebuild` mends it).

It does no work of its own: the refresh happens in the announced call, in the open.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.sql import ClauseElement

from .upkeep import WATCHED, announced

log = logging.getLogger("casework.figures")


class NotAnnounced(RuntimeError):
    """A watched table was written by a statement no writer announced."""


def _table_name(statement: Any) -> str | None:
    table = getattr(statement, "table", None)
    name = getattr(table, "name", None)
    return name if isinstance(name, str) else None


def set_columns(sql: str) -> set[str]:
    """The columns an UPDATE's compiled SQL sets: the names before `=` in its SET list, split at
    the commas outside parentheses (an expression's own commas and comparisons stay inside)."""
    found = re.search(r"\bSET\b", sql)
    if found is None:
        return set()
    names: set[str] = set()
    depth, start, text = 0, found.end(), sql
    position = start
    while position <= len(text):
        char = text[position] if position < len(text) else ","
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and (char == "," or re.match(r"\s+(WHERE|RETURNING|FROM)\b", text[position:])):
            target = text[start:position].split("=", 1)[0].strip().strip('"`[]')
            if target:
                names.add(target.rsplit(".", 1)[-1])
            if char != ",":
                break
            start = position + 1
        position += 1
    return names


def written_columns(state: ORMExecuteState, dialect: Dialect) -> set[str] | None:
    """The columns an UPDATE run through the Session sets (None: every column, for an INSERT or a
    DELETE). Parameters given per row name their columns; a statement's own values are read from
    its SQL, compiled for the Session's database."""
    if not state.is_update:
        return None
    params = state.parameters
    rows: Iterable[Any] = params if isinstance(params, (list, tuple)) else [params or {}]
    names = {str(key) for row in rows for key in row}
    # No column keys: only the statement's own values (and the columns set on update) are compiled.
    statement = state.statement
    if isinstance(statement, ClauseElement):
        names |= set_columns(str(statement.compile(dialect=dialect, column_keys=[])))
    return names


def check(state: ORMExecuteState, *, strict: bool) -> None:
    """`do_orm_execute`: fail loudly on an unannounced write of a watched column."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = _table_name(state.statement)
    if table not in WATCHED or announced(state.session):
        return
    columns = written_columns(state, state.session.get_bind().dialect)
    if columns is not None and not columns & WATCHED[table]:
        return
    what = "all columns" if columns is None else ", ".join(sorted(columns & WATCHED[table]))
    message = (f"a statement wrote {table} ({what}), which the stored figures are made from, without "
               "announcing it: run it inside casework.figures.changing(...) or bulk(...)")
    if strict:
        raise NotAnnounced(message)
    log.error(message)
