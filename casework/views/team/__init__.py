"""The team journey: its blueprint; the routes are in its modules (pages)."""

from flask import Blueprint

bp = Blueprint("team", __name__, url_prefix="/team")

from . import pages  # noqa: F401  (registers the routes on bp)
