"""Spreadsheet exports (formula-like text neutralised, numbers numeric) and the SVG chart."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup
from openpyxl import load_workbook

from casework.measures.chart import column_chart, describe
from casework.measures.export import Table, safe_text, to_csv, to_ods, to_xlsx

TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
TABLE = Table("Breakdown", ["Locality", "Value", "Share"], [
    ["=1+2", 3, Decimal("0.3125")],
    ["+44 7700", 4, None],
    ["-minus", 0, 0.5],
    ["@SUM(A1)", 12, Decimal("1250.00")],
    ["\tTabbed", 1, None],
    ["\rReturn", 1, None],
    ["Weymouth", 7, None],
])


@pytest.mark.parametrize("text", ["=1+2", "+1", "-1", "@A1", "\tx", "\rx"])
def test_text_that_looks_like_a_formula_is_neutralised(text):
    assert safe_text(text) == "'" + text


def test_ordinary_text_is_left_as_it_is():
    assert safe_text("Weymouth") == "Weymouth"
    assert safe_text("<5") == "<5"


def test_csv_neutralises_text_and_writes_numbers_plainly():
    lines = to_csv([TABLE]).decode("utf-8-sig").split("\r\n")
    assert lines[0] == "Locality,Value,Share"
    assert lines[1] == "'=1+2,3,0.3125"
    assert lines[3] == "'-minus,0,0.5"
    assert lines[7] == "Weymouth,7,"


def test_xlsx_cells_hold_numbers_as_numbers_and_never_a_formula():
    sheet = load_workbook(io.BytesIO(to_xlsx([TABLE])))["Breakdown"]
    rows = list(sheet.iter_rows(min_row=2))
    assert [r[0].value for r in rows][:4] == ["'=1+2", "'+44 7700", "'-minus", "'@SUM(A1)"]
    assert all(r[0].data_type == "s" for r in rows)
    assert (rows[0][1].value, rows[0][1].data_type) == (3, "n")
    assert (rows[0][2].value, rows[0][2].data_type) == (0.3125, "n")
    assert rows[3][2].value == 1250


def test_ods_cells_hold_numbers_as_floats_and_text_as_strings():
    content = zipfile.ZipFile(io.BytesIO(to_ods([TABLE]))).read("content.xml")
    cells = list(ElementTree.fromstring(content).iter(f"{{{TABLE_NS}}}table-cell"))
    kind, value = f"{{{OFFICE_NS}}}value-type", f"{{{OFFICE_NS}}}value"
    numbers = [c for c in cells if c.get(kind) == "float"]
    assert {c.get(value) for c in numbers} >= {"3", "0.3125", "12", "1250.00"}
    texts = ["".join(c.itertext()) for c in cells if c.get(kind) == "string"]
    assert "'=1+2" in texts and "=1+2" not in texts


def test_the_chart_is_an_image_with_a_title_a_description_and_one_column_a_month_with_a_value():
    months = [dt.date(2024, m, 1) for m in range(4, 13)]
    points = list(zip(months, [3, 0, None, 7, 1, 2, 2, 9, 4], strict=True))
    description = describe(points, what="incidents", fmt=lambda v: f"{v:.0f}")
    svg = BeautifulSoup(str(column_chart(points, chart_id="c", title="Incidents <by month>",
                                         description=description, fmt=lambda v: f"{v:.0f}")), "html.parser")
    wide, narrow = svg.select("svg")  # one shows at a time, by the width of the screen
    for root, chart_id in ((wide, "c"), (narrow, "c-narrow")):
        assert root["role"] == "img" and root["aria-labelledby"] == f"{chart_id}-title {chart_id}-desc"
        assert root.select_one(f"#{chart_id}-title").get_text() == "Incidents <by month>"
        assert "Highest: 9 in November 2024; lowest: 0 in May 2024" in root.select_one(f"#{chart_id}-desc").get_text()
        assert len(root.select("rect")) == 7  # no column for zero or for a month with no value
    assert not svg.select("[style]")  # the Content-Security-Policy forbids inline styles


def test_the_narrow_chart_is_drawn_for_a_column_of_a_320_pixel_screen_with_14_pixel_labels():
    """At 320 CSS pixels a page's column is 260 wide: the narrow drawing is 260 units wide, so its
    labels (14 units) are never under 14 pixels; one label a financial year, so they do not overlap."""
    months = [dt.date(2022 + (m + 3) // 12, (m + 3) % 12 + 1, 1) for m in range(36)]
    svg = BeautifulSoup(str(column_chart([(m, 5) for m in months], chart_id="c", title="t", description="d",
                                         fmt=lambda v: f"{v:.0f}")), "html.parser")
    wide, narrow = svg.select("svg")
    assert narrow["viewbox"] == "0 0 260 220" and "app-chart--narrow" in narrow["class"]
    assert {t["font-size"] for t in narrow.select("text")} == {"14"}
    years = narrow.select("text")[-3:]  # under the columns, after the axis's labels
    assert [t.get_text() for t in years] == ["2022/23", "2023/24", "2024/25"]
    # each centred under its twelve columns: 200 units of plot from x=52, 36 columns
    assert [round(float(t["x"])) for t in years] == [85, 152, 219]
    # the wide drawing shows from 1020px, in a column of 610px: 17 units are 14.4 pixels there
    assert {t["font-size"] for t in wide.select("text")} == {"17"} and wide["viewbox"] == "0 0 720 320"


def test_a_chart_without_any_figure_says_so():
    points = [(dt.date(2024, 4, 1), None)]
    assert "no figures in any month" in describe(points, what="repeat victims", fmt=str)
