"""A `Document` as a tagged PDF (PDF/UA-1: headings, tables and reading order for screen readers),
drawn by WeasyPrint from templates/printing/document.html with DejaVu Sans embedded (subset).

WeasyPrint loads Pango (a system library) when it is imported: the import is done on first use, so
a server without Pango serves everything but the PDFs, which raise `PdfUnavailable` naming what is
missing (`missing()`, also run by `casework printing check` before `make run` serves).
"""

from __future__ import annotations

import base64
import ctypes.util
import shutil
import subprocess
from functools import cache
from typing import Any

from flask import render_template

from .document import Document

# What WeasyPrint needs from the system, as Debian and Ubuntu name it (README, .ci/run).
SYSTEM_PACKAGES = ("libpango-1.0-0", "libpangoft2-1.0-0", "fonts-dejavu-core")
FONT = "DejaVu Sans"  # full Latin coverage (Ł, ő, ễ, Þ...) and always embedded, never a system font's name only
INSTALL = f"apt-get install {' '.join(SYSTEM_PACKAGES)}"


class PdfUnavailable(Exception):
    """This server cannot make PDFs (the reason names what to install); ODT still works."""


def missing() -> list[str]:
    """What PDF printing lacks on this machine, as sentences (empty when it can print)."""
    problems = []
    if not (ctypes.util.find_library("pango-1.0") and ctypes.util.find_library("pangoft2-1.0")):
        problems.append(f"WeasyPrint needs Pango: {INSTALL}")
    else:
        try:
            _library()
        except PdfUnavailable as e:
            problems.append(str(e))
    if not _has_font():
        problems.append(f"The printed forms need the {FONT} font: apt-get install fonts-dejavu-core")
    return problems


def pdf_available() -> bool:
    try:
        _library()
    except PdfUnavailable:
        return False
    return True


def _has_font() -> bool:
    if shutil.which("fc-list") is None:
        return False
    found = subprocess.run(["fc-list", f":family={FONT}", "family"], capture_output=True, text=True, check=False)
    return bool(found.stdout.strip())


@cache
def _load() -> Any:
    try:
        import weasyprint
    except ImportError:
        return "WeasyPrint is not installed: pip install 'weasyprint>=60' (setup.cfg lists it)"
    except OSError:  # its system libraries (Pango, GObject) cannot be loaded
        return f"WeasyPrint needs Pango: {INSTALL}"
    return weasyprint


def _library() -> Any:
    loaded = _load()
    if isinstance(loaded, str):
        raise PdfUnavailable(loaded)
    return loaded


def _no_fetching(url: str, *args: Any, **kwargs: Any) -> Any:
    # A printed form is made of its own HTML and CSS only: nothing in it may make the server fetch a URL.
    # A data: URL is the form's own content (a chart's SVG), read from the URL itself.
    if url.startswith("data:image/svg+xml;base64,"):
        from weasyprint.urls import URLFetcherResponse

        return URLFetcherResponse(url, body=base64.b64decode(url.split(",", 1)[1]),
                                  headers={"Content-Type": "image/svg+xml"})
    raise ValueError(f"A printed form fetches nothing ({url[:40]})")


def render(document: Document) -> bytes:
    """The document as a PDF/UA-1 file (tagged; fonts embedded)."""
    weasyprint = _library()
    html = render_template("printing/document.html", document=document, font=FONT)
    page = weasyprint.HTML(string=html, url_fetcher=_no_fetching)
    # PDF/UA-1 (WeasyPrint 59 and later) tags the structure and needs the title and language set.
    return page.write_pdf(pdf_variant="pdf/ua-1")  # type: ignore[no-any-return]
