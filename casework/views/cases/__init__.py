"""The cases journey: its blueprint; the routes are in its modules (pages, links)."""

from flask import Blueprint

bp = Blueprint("cases", __name__)

from . import links, pages  # noqa: F401  (registers the routes on bp)
