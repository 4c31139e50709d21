"""The share requests journey: its blueprint; the routes are in its modules (pages)."""

from flask import Blueprint

bp = Blueprint("share_requests", __name__)

from . import pages  # noqa: F401  (registers the routes on bp)
