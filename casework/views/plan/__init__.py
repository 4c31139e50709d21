"""The plan journey: its blueprint; the routes are in its modules (pages)."""

from flask import Blueprint

bp = Blueprint("plan", __name__, url_prefix="/plan")

from . import pages  # noqa: F401  (registers the routes on bp)
