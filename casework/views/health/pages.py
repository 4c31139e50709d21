"""GET /healthz: is the database reachable, and at which migration."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ...auth.guard import public
from ...db import db
from ...migrate import head_revision
from . import bp


@bp.get("/healthz")
@public
def healthz() -> ResponseReturnValue:
    current = None
    try:
        with db.engine.connect() as conn:  # connecting (the pool pings PostgreSQL first) proves it answers
            try:
                current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except SQLAlchemyError:
                current = None
        reachable = True
    except SQLAlchemyError:
        reachable = False
    head = head_revision()
    ok = reachable and current == head
    body = {"status": "ok" if ok else "unavailable", "database": "reachable" if reachable else "unreachable",
            "migration": current, "migration_head": head}
    return jsonify(body), 200 if ok else 503
