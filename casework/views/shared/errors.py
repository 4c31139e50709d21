"""Error pages in the service's own layout.

When the database cannot be reached (stopped, restarting, its disk full), a request fails with 503
and a page that needs no database (no navigation, which would look up the user): the request's
transaction is rolled back, so nothing it did is half-written, and the engine's pool replaces the
broken connections (checked before use), so the app recovers by itself once the database is back.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import exc as sa
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from ...db import unavailable

log = logging.getLogger("casework.errors")


class DatabaseUnavailable(ServiceUnavailable):
    description = ("Sorry, the service is not working just now: it cannot reach its database. Nothing you "
                   "sent was saved. Try again in a few minutes.")


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(e: HTTPException) -> ResponseReturnValue:
        if isinstance(e, DatabaseUnavailable):
            # Flask-Login puts the user in every template's context: an anonymous one, not looked up.
            g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]
            return render_template("errors/error.html", error=e, navigation=[]), 503, {"Retry-After": "30"}
        return render_template("errors/error.html", error=e), e.code or 500

    @app.errorhandler(sa.SQLAlchemyError)
    def _database_error(e: sa.SQLAlchemyError) -> ResponseReturnValue:
        if not unavailable(e):
            raise e
        orig = getattr(e, "orig", None)
        log.warning("database unavailable: %s", type(orig if orig is not None else e).__name__)
        return _http_error(DatabaseUnavailable())
