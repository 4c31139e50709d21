"""The accessibility statement and the privacy notice: public pages, linked from every page's footer,
that anyone may read before signing in (the Public Sector Bodies Accessibility Regulations 2018 and
UK GDPR articles 13 and 14 require both)."""

from __future__ import annotations

from flask import current_app, render_template
from flask.typing import ResponseReturnValue

from ...auth.guard import public
from ...services import agencies
from . import bp


@bp.get("/accessibility")
@public
def accessibility() -> ResponseReturnValue:
    return render_template("about/accessibility.html", contact=current_app.config["CONTACT_EMAIL"])


@bp.get("/privacy")
@public
def privacy() -> ResponseReturnValue:
    config = current_app.config
    return render_template("about/privacy.html", contact=config["CONTACT_EMAIL"], partners=agencies.partners(),
                           retention=config["RETENTION"], session_hours=config["SESSION_ABSOLUTE_HOURS"],
                           sessions_kept_days=config["ENDED_SESSIONS_KEEP_DAYS"])
