"""The incidents journey: its blueprint; the routes are in its modules (pages)."""

from flask import Blueprint

bp = Blueprint("incidents", __name__, url_prefix="/incidents")

from . import pages  # noqa: F401  (registers the routes on bp)
