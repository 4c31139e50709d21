"""The order measures journey: its blueprint; the routes are in its modules (pages)."""

from flask import Blueprint

bp = Blueprint("order_measures", __name__, url_prefix="/measures/orders")

from . import pages  # noqa: F401  (registers the routes on bp)
