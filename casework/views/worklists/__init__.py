"""The worklists journey: its blueprint; the routes are in its modules (pages)."""

from flask import Blueprint

bp = Blueprint("worklists", __name__, url_prefix="/my-work")

from . import pages  # noqa: F401  (registers the routes on bp)
