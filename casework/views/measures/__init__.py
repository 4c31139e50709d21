"""The measures journey: its blueprint; the routes are in its modules (pages)."""

from flask import Blueprint

bp = Blueprint("measures", __name__, url_prefix="/measures")

from . import pages  # noqa: F401  (registers the routes on bp)
