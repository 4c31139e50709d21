"""A `Document` as an editable OpenDocument text (odfpy), for those who must edit a form before
sharing it: the same sections as the PDF, as real headings (outline levels) and tables. Its one
master page ("Standard", used by every page) has the marking and who printed it, when, in its
header, and the marking and the page number in its footer."""

from __future__ import annotations

import io

from odf import teletype
from odf.dc import Title
from odf.draw import Frame, Image
from odf.opendocument import OpenDocumentText
from odf.style import (
    FontFace,
    Footer,
    FooterStyle,
    Header,
    HeaderFooterProperties,
    HeaderStyle,
    MasterPage,
    PageLayout,
    PageLayoutProperties,
    ParagraphProperties,
    Style,
    TableCellProperties,
    TableColumnProperties,
    TableProperties,
    TextProperties,
)
from odf.svg import Desc
from odf.svg import Title as SvgTitle
from odf.table import Table, TableCell, TableColumn, TableHeaderRows, TableRow
from odf.text import H, P, PageCount, PageNumber

from . import document as doc
from .pdf import FONT


class _Styles:
    """The document's styles, made once a document."""

    def __init__(self, odt: OpenDocumentText) -> None:
        odt.fontfacedecls.addElement(FontFace(name=FONT, fontfamily=FONT, fontfamilygeneric="swiss",
                                              fontpitch="variable"))
        default = Style(name="Standard", family="paragraph")
        default.addElement(TextProperties(fontname=FONT, fontsize="10.5pt"))
        default.addElement(ParagraphProperties(marginbottom="0.15cm"))
        odt.styles.addElement(default)

        def paragraph(name: str, *, size: str = "10.5pt", bold: bool = False, level: int | None = None,
                      above: str = "0cm", align: str | None = None, automatic: bool = False) -> Style:
            extra = {"defaultoutlinelevel": str(level)} if level else {}
            style = Style(name=name, family="paragraph", parentstylename="Standard", **extra)
            style.addElement(TextProperties(fontname=FONT, fontsize=size, fontweight="bold" if bold else "normal"))
            properties = {"margintop": above, "marginbottom": "0.2cm"}
            if align:
                properties["textalign"] = align
            if level:
                properties["keepwithnext"] = "always"
            style.addElement(ParagraphProperties(**properties))
            (odt.automaticstyles if automatic else odt.styles).addElement(style)
            return style

        self.title = paragraph("Title", size="20pt", bold=True, level=1)
        self.heading = paragraph("Heading 2", size="14pt", bold=True, level=2, above="0.5cm")
        self.subheading = paragraph("Heading 3", size="11pt", bold=True, level=3, above="0.3cm")
        self.caption = paragraph("Caption", size="12pt")
        self.small = paragraph("Printed", size="8.5pt")
        self.body = default
        self.label = paragraph("Table label", bold=True)
        self.marking = paragraph("Marking", size="9pt", bold=True, align="center")
        self.table = Style(name="Table", family="table")
        self.table.addElement(TableProperties(width="17.6cm", align="left"))
        odt.automaticstyles.addElement(self.table)
        self.cell = Style(name="Cell", family="table-cell")
        self.cell.addElement(TableCellProperties(padding="0.08cm", borderbottom="0.5pt solid #b1b4b6"))
        odt.automaticstyles.addElement(self.cell)
        self.column = Style(name="Column", family="table-column")
        self.column.addElement(TableColumnProperties(useoptimalcolumnwidth="true"))
        odt.automaticstyles.addElement(self.column)


def _page(odt: OpenDocumentText, styles: _Styles, document: doc.Document) -> None:
    layout = PageLayout(name="A4")
    layout.addElement(PageLayoutProperties(pagewidth="21cm", pageheight="29.7cm", margintop="1.2cm",
                                           marginbottom="1.2cm", marginleft="1.6cm", marginright="1.6cm",
                                           printorientation="portrait"))
    for part in (HeaderStyle(), FooterStyle()):
        part.addElement(HeaderFooterProperties(minheight="1cm", marginbottom="0.4cm", margintop="0.4cm"))
        layout.addElement(part)
    odt.automaticstyles.addElement(layout)
    master = MasterPage(name="Standard", pagelayoutname=layout)
    header = Header()
    header.addElement(P(stylename=styles.marking, text=document.marking))
    header.addElement(P(stylename=styles.small, text=document.printed))
    master.addElement(header)
    footer = Footer()
    footer.addElement(P(stylename=styles.marking, text=document.marking))
    page = P(stylename=styles.small, text="Page ")
    page.addElement(PageNumber(selectpage="current"))
    page.addText(" of ")
    page.addElement(PageCount())
    footer.addElement(page)
    master.addElement(footer)
    odt.masterstyles.addElement(master)


def _paragraph(style: Style, text: str) -> P:
    paragraph = P(stylename=style)
    teletype.addTextToElement(paragraph, text)  # keeps runs of spaces and tabs
    return paragraph


def _table(styles: _Styles, name: str, columns: int, header: list[str] | None,
           rows: list[list[str]], *, label_first: bool = False) -> Table:
    table = Table(name=name, stylename=styles.table)
    table.addElement(TableColumn(numbercolumnsrepeated=columns, stylename=styles.column))

    def row_of(cells: list[str], *, bold: bool) -> TableRow:
        row = TableRow()
        for n, value in enumerate(cells):
            cell = TableCell(stylename=styles.cell, valuetype="string")
            lines = str(value).splitlines() or [""]
            for line in lines:
                cell.addElement(_paragraph(styles.label if bold or (label_first and n == 0) else styles.body, line))
            row.addElement(cell)
        return row

    if header:
        head = TableHeaderRows()
        head.addElement(row_of(header, bold=True))
        table.addElement(head)
    for cells in rows:
        table.addElement(row_of(cells, bold=False))
    return table


def _chart(odt: OpenDocumentText, chart: doc.Chart, number: int) -> P:
    """A chart as an SVG picture in its own paragraph, its title and description as the picture's
    alternative text (the table of its figures follows it)."""
    href = odt.addPicture(f"Pictures/chart{number}.svg", "image/svg+xml", chart.svg.encode("utf-8"))
    frame = Frame(name=f"Chart{number}", anchortype="as-char", width="17.6cm", height=f"{chart.height_cm}cm")
    frame.addElement(Image(href=href))
    frame.addElement(SvgTitle(text=chart.title))
    frame.addElement(Desc(text=chart.description))
    paragraph = P()
    paragraph.addElement(frame)
    return paragraph


def render(document: doc.Document) -> bytes:
    """The document as an .odt file."""
    odt = OpenDocumentText()
    styles = _Styles(odt)
    _page(odt, styles, document)
    odt.text.addElement(_paragraph(styles.small, document.printed))
    odt.text.addElement(_paragraph(styles.caption, document.about))
    odt.text.addElement(H(outlinelevel=1, stylename=styles.title, text=document.title))
    tables = 0
    for section in document.sections:
        odt.text.addElement(H(outlinelevel=2, stylename=styles.heading, text=section.heading))
        for block in section.blocks:
            tables += 1
            if isinstance(block, doc.Facts):
                odt.text.addElement(_table(styles, f"Table{tables}", 2, None, [list(r) for r in block.rows],
                                           label_first=True))
            elif isinstance(block, doc.Table):
                odt.text.addElement(H(outlinelevel=3, stylename=styles.subheading, text=block.caption))
                if block.rows:
                    odt.text.addElement(_table(styles, f"Table{tables}", len(block.headers), block.headers,
                                               block.rows))
                else:
                    odt.text.addElement(_paragraph(styles.body, block.empty))
            elif isinstance(block, doc.Chart):
                odt.text.addElement(_chart(odt, block, tables))
            else:
                odt.text.addElement(H(outlinelevel=3, stylename=styles.subheading, text=block.label))
                for text in block.paragraphs:
                    odt.text.addElement(_paragraph(styles.body, text))
    odt.meta.addElement(Title(text=f"{document.title}: {document.about}"))
    out = io.BytesIO()
    odt.write(out)
    return out.getvalue()
