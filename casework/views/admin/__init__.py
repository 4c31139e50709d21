"""The admin journey: its blueprint; the routes are in its modules (pages)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import pages  # noqa: F401  (registers the routes on bp)
