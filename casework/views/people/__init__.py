"""The people journey: its blueprint; the routes are in its modules (pages, search, merge)."""

from flask import Blueprint

bp = Blueprint("people", __name__, url_prefix="/people")

from . import merge, pages, search  # noqa: F401  (registers the routes on bp)
