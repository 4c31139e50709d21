"""The restricted journey: its blueprint; the routes are in its modules (pages)."""

from flask import Blueprint

bp = Blueprint("restricted", __name__)

from . import pages  # noqa: F401  (registers the routes on bp)
