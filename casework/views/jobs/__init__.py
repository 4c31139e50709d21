"""The jobs journey: its blueprint; the routes are in its modules (pages)."""

from flask import Blueprint

bp = Blueprint("jobs", __name__, url_prefix="/admin/jobs")

from . import pages  # noqa: F401  (registers the routes on bp)
