"""Addresses handed to people (set-up links; later, links in emails), built from the configured public
address, `PUBLIC_URL` (`CASEWORK_PUBLIC_URL`, or its other name `CASEWORK_BASE_URL`), never from the request's Host header: a request sent
with a Host of the sender's choosing must not make a link to another site.

Unset, development uses http://127.0.0.1:5000 (where `make run` serves); production refuses to make
a link, naming the setting.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app

DEVELOPMENT_URL = "http://127.0.0.1:5000"


class LinkError(Exception):
    """No link can be made: the message names the setting to give."""


def public_base() -> str:
    # CASEWORK_BASE_URL is accepted as another name for it (issue 16 names it so).
    configured = (current_app.config.get("PUBLIC_URL") or current_app.config.get("BASE_URL") or "").strip()
    if not configured:
        if current_app.config["ENV"] == "production":
            raise LinkError("The service's public address is not configured: set CASEWORK_PUBLIC_URL "
                            "(for example https://casework.example.gov.uk), then make the link again")
        return DEVELOPMENT_URL
    parts = urlsplit(configured)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise LinkError(f"CASEWORK_PUBLIC_URL must be an address like https://casework.example.gov.uk, "
                        f"not {configured!r}")
    return configured.rstrip("/")


def public_url_for(endpoint: str, **values: Any) -> str:
    """The full address of `endpoint`, at the configured public address (whatever request, host or
    SERVER_NAME is current)."""
    base = urlsplit(public_base())
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)
