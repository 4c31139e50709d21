"""Spreadsheets of the measures: CSV, XLSX and ODS, from the same tables.

A spreadsheet runs a cell that begins with `=`, `+`, `-` or `@` (and, in some,
a tab or carriage return) as a formula, so every text cell that does is
neutralised with a leading apostrophe, the convention spreadsheets show as
plain text. Numbers are written as numbers: real numeric cells in XLSX and ODS,
plain digits in CSV, so they add up in a spreadsheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}
Cell = str | int | float | Decimal | bool | None


@dataclass(frozen=True)
class Table:
    """One sheet: a title (the sheet's name), a header row and rows of cells."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Cell]]


def safe_text(value: str) -> str:
    """Text that no spreadsheet will run: one beginning like a formula gets a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _cell(value: Cell) -> Cell:
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"  # as the JSON writes it; no spreadsheet boolean type
    return value


def to_csv(tables: Sequence[Table]) -> bytes:
    """The tables one after another (a blank line between), UTF-8 with a byte order mark so that
    spreadsheets read accented names right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for n, table in enumerate(tables):
        if n:
            writer.writerow([])
        if len(tables) > 1:
            writer.writerow([safe_text(table.title)])
        writer.writerow([safe_text(c) for c in table.columns])
        for row in table.rows:
            writer.writerow(["" if v is None else _cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(tables: Sequence[Table]) -> bytes:
    """An XLSX workbook, one sheet a table; numbers in numeric cells."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(_sheet_name(table.title))
        sheet.append([safe_text(c) for c in table.columns])
        for row in table.rows:
            sheet.append([_xlsx_cell(v) for v in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(value: Cell) -> Any:
    value = _cell(value)
    if isinstance(value, str):
        # openpyxl would store text starting with "=" as a formula; the apostrophe above prevents
        # that, and a string cell type makes sure of it.
        return value
    return float(value) if isinstance(value, Decimal) else value


def to_ods(tables: Sequence[Table]) -> bytes:
    """An OpenDocument spreadsheet, one sheet a table; numbers in float-typed cells."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table as OdfTable
    from odf.table import TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    for table in tables:
        sheet = OdfTable(name=_sheet_name(table.title))
        for n, row in enumerate([list(table.columns), *table.rows]):
            tr = TableRow()
            for value in row:
                value = _cell(value) if n else safe_text(str(value))
                if value is None:
                    tr.addElement(TableCell())
                elif isinstance(value, (int, float, Decimal)):
                    cell = TableCell(valuetype="float", value=str(value))
                    cell.addElement(P(text=str(value)))
                    tr.addElement(cell)
                else:
                    cell = TableCell(valuetype="string")
                    cell.addElement(P(text=value))
                    tr.addElement(cell)
            sheet.addElement(tr)
        document.spreadsheet.addElement(sheet)
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def _sheet_name(title: str) -> str:
    """A sheet name spreadsheets accept: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip("' ")
    return (cleaned or "Sheet")[:31]


WRITERS = {"csv": to_csv, "xlsx": to_xlsx, "ods": to_ods}
