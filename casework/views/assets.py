"""GOV.UK Frontend's fonts and images, where its stylesheet expects them (/assets/...)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, send_from_directory

from ..auth.guard import public

ASSETS = Path(__file__).resolve().parent.parent / "static" / "govuk" / "assets"

bp = Blueprint("assets", __name__)


@bp.get("/assets/<path:filename>")
@public
def govuk_asset(filename: str):  # type: ignore[no-untyped-def]
    return send_from_directory(ASSETS, filename, max_age=86400)
