"""The start page."""

from __future__ import annotations

from flask import Blueprint, render_template

from ..auth.guard import signed_in

bp = Blueprint("home", __name__)


@bp.get("/")
@signed_in
def index():  # type: ignore[no-untyped-def]
    return render_template("home/index.html")
