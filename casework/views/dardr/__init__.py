"""The dardr journey: its blueprint; the routes are in its modules (pages)."""

from flask import Blueprint

bp = Blueprint("dardr", __name__, url_prefix="/reviews-after-a-death")

from . import pages  # noqa: F401  (registers the routes on bp)
