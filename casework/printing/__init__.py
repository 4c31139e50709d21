"""Printable forms: a `Document` (what a form says, in sections) rendered as a tagged PDF with its
fonts embedded (WeasyPrint, `pdf.render`) or as an editable ODT (odfpy, `odt.render`), both from the
same `Document`, so the two say the same thing.

Every page of either carries the marking "OFFICIAL-SENSITIVE" at its top and bottom and says who
printed it and when (London time). This package only renders: what goes into a document, who may
print it and the audit trail are `casework.services.printing`'s. WeasyPrint needs Pango (a system
library); without it the PDF is refused with `PdfUnavailable` and `casework printing check` names
what to install (docs/printing.md).
"""

from __future__ import annotations

from .document import MARKING, Chart, Document, Facts, Section, Table, Text
from .pdf import PdfUnavailable, missing, pdf_available

__all__ = ["MARKING", "Chart", "Document", "Facts", "PdfUnavailable", "Section", "Table", "Text", "missing",
           "pdf_available"]
