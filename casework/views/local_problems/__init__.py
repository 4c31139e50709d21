"""The local problems journey: its blueprint; the routes are in its modules (pages)."""

from flask import Blueprint

bp = Blueprint("local_problems", __name__, url_prefix="/local-problems")

from . import pages  # noqa: F401  (registers the routes on bp)
