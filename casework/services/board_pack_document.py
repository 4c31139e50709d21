"""The board pack as a printed `Document` (casework/printing), rendered as a tagged PDF, an editable
ODT, or the same HTML the PDF is drawn from (a file that fetches nothing): docs/board-pack.md.

Marked OFFICIAL, not OFFICIAL-SENSITIVE like the printed records: the pack holds no personal data
(counts with small numbers suppressed, the plan's own words, recommendations without their review's
details) and is meant to be shared beyond the partnership.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from flask import render_template
from markupsafe import Markup

from .. import words
from ..measures.chart import describe, printed_chart
from ..printing import Chart, Document, Facts, Section, Table, Text, odt, pdf
from ..printing.document import Block
from ..printing.pdf import FONT
from .board_pack import BoardPack, Count, MeasureInPack, ProblemInPack

MARKING = "OFFICIAL"
FORMATS = {"html": "text/html; charset=utf-8", "pdf": "application/pdf",
           "odt": "application/vnd.oasis.opendocument.text"}
TRENDS = {"improving": "Improving", "worsening": "Worsening", "no_change": "No change", "n/a": "Not available"}
SMALL_NUMBERS = ("Counts from 1 to 4 are shown as <5 (and a share or change that would give one away is "
                 "left out), so that nobody can be identified: this pack may be shared beyond the partnership.")


def file_name(pack: BoardPack, fmt: str) -> str:
    return f"board-pack-{pack.meeting.isoformat()}.{fmt}"


def _count(value: Count | None) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else f"{value:,}"


def _years(table: Sequence[tuple[dt.date, str]]) -> Table | None:
    """A measure's months as a table of 12 rows, one column a year (the same month of each year side
    by side, as the measures pages suggest reading them)."""
    spans = [table[i:i + 12] for i in range(0, len(table), 12)]
    if not spans:
        return None
    headers = ["Month", *(f"{s[0][0]:%b %Y} to {s[-1][0]:%b %Y}" for s in spans)]
    rows = [[spans[0][n][0].strftime("%B"), *(s[n][1] if n < len(s) else "" for s in spans)]
            for n in range(len(spans[0]))]
    return Table("", headers, rows)


def measure_chart(m: MeasureInPack, chart_id: str, draw: Callable[..., Markup] = printed_chart) -> Chart:
    """A measure's months as a chart (`draw`: `printed_chart` for paper, `column_chart` for the page)."""
    what = m.measure.name.lower() + (" (%)" if m.measure.type.value == "proportion" else "")
    title = f"{m.measure.id} {m.measure.name}, month by month"
    description = describe(m.points, what=what, fmt=m.fmt)
    return Chart(title, description, draw(m.points, chart_id=chart_id, title=title, description=description,
                                          fmt=m.fmt))


def problem_chart(p: ProblemInPack, chart_id: str, draw: Callable[..., Markup] = printed_chart) -> Chart:
    """A local problem's incidents by month, a line at the month it started (a suppressed month
    draws no column)."""
    points = [(m, None if isinstance(n, str) else float(n)) for m, n in p.months]
    title = f"{p.row.problem.title}: incidents in {p.row.place} by month"
    description = (describe(points, what=f"incidents in {p.row.place}", fmt=_whole)
                   + " A red line marks the month the problem started.")
    return Chart(title, description, draw(points, chart_id=chart_id, title=title, description=description,
                                          fmt=_whole, marks=[(p.row.problem.started_on, "Started")], whole=True))


def _whole(v: float) -> str:
    return f"{v:,.0f}"


def problem_rows(p: ProblemInPack) -> list[tuple[dt.date, str]]:
    return [(m, _count(n)) for m, n in p.months]


def _measure_blocks(m: MeasureInPack, number: str) -> list[Chart | Table]:
    blocks: list[Chart | Table] = [measure_chart(m, f"chart-{number}")]
    table = _years(m.table)
    if table is not None:
        blocks.append(Table(f"{m.measure.id} {m.measure.name} by month", table.headers, table.rows))
    return blocks


def _problem_blocks(p: ProblemInPack, number: str) -> list[Chart | Table]:
    chart = problem_chart(p, f"problem-{number}")
    started = p.row.problem.started_on.replace(day=1)
    rows = [[f"{m:%b %Y}" + (" (started)" if m == started else ""), n] for m, n in problem_rows(p)]
    return [chart, Table(chart.title, ["Month", "Incidents"], rows)]


def document(pack: BoardPack, *, made_by: str, made_at: dt.datetime, asb_labels: dict[str, str]) -> Document:
    """The pack as sections: about the pack, each priority, then the partnership's other business
    (`asb_labels`: the ASB case reviews' figures in words, as their own page names them)."""
    period = pack.period
    about = Facts([
        ("Meeting", words.day(pack.meeting)),
        ("Figures as of", words.day(pack.as_of)),
        ("Plan", f"{pack.plan.title} {pack.plan.period}, the {pack.plan.year_name} version" if pack.plan
         else "No plan has been recorded"),
        ("Measures", (f"{period.name}, compared with {period.previous.name}; each month to "
                     f"{pack.months_to:%B %Y}")),
        ("MARAC return", f"{pack.quarter.name} ({pack.quarter.months})"),
        ("ASB case reviews", pack.asb_year),
    ])
    sections = [Section("About this pack", [about, Text("Small numbers", SMALL_NUMBERS)])]
    for n, priority in enumerate(pack.priorities, 1):
        blocks: list[Block] = []
        if priority.aim:
            blocks.append(Text("Aim", priority.aim))
        blocks.append(Table("Measures", ["Measure", period.name, period.previous.name, "Change", "Trend"],
                            [[f"{m.measure.id} {m.measure.name}", _shown(m.now), _shown(m.before), m.change,
                              TRENDS.get(m.trend, m.trend)] for m in priority.measures],
                            empty="No measures are linked to this priority"))
        for k, m in enumerate(priority.measures, 1):
            blocks.extend(_measure_blocks(m, f"{n}-{k}"))
        blocks.append(Table("Activities", ["Activity", "Lead", "Due", "Status", "Latest update"],
                            [[r.activity.title, r.lead, words.day(r.activity.due_on) if r.activity.due_on
                              else "Ongoing", r.status.label if r.status else "No update yet",
                              _update(r)] for r in priority.delivery.rows],
                            empty="No activities under this priority"))
        sections.append(Section(f"Priority: {priority.name}", blocks))
    problems: list[Block] = [Table("Open local problems", ["Problem", "Locality group", "Place", "Started", "Actions open",
                                                    "Actions overdue"],
                            [[p.row.problem.title, p.row.problem.group_name, p.row.place,
                              words.day(p.row.problem.started_on), str(p.row.open_actions),
                              str(p.row.overdue_actions)] for p in pack.problems], empty="No open local problems")]
    for n, p in enumerate(pack.problems, 1):
        problems.extend(_problem_blocks(p, str(n)))
    sections.append(Section("Local problem-solving", problems))
    sections.append(Section("Reviews after a death: overdue recommendations", [Table(
        "Recommendations not complete past their due date",
        ["Review", "Recommendation", "Learning themes", "Owner", "Due", "Status"],
        [[f"{r.review_reference} no. {r.number}", r.text, ", ".join(t.label for t in r.themes), r.agency,
          words.day(r.due_on), r.status.label] for r in pack.recommendations],
        empty="No recommendation is overdue")]))
    sections.append(Section(f"ASB case reviews, {pack.asb_year}", [Facts(
        [(label, _count(pack.asb[key])) for key, label in asb_labels.items()])]))
    sections.append(Section(f"MARAC return, {pack.quarter.name} ({pack.quarter.months})", [Table(
        "The quarter's figures beside SafeLives' benchmarks",
        ["Figure", "Count", "Share of cases heard", "Not known", "SafeLives benchmark", "Meets it"],
        [[line.label, _count(line.count), words.percent(line.share) if line.share is not None else "–",
          _count(line.unknown), line.benchmark or "–",
          "–" if line.meets is None else ("Yes" if line.meets else "No")] for line in pack.marac])]))
    return Document(title="Partnership board pack", about=f"Meeting of {words.day(pack.meeting)}",
                    printed_by=made_by, printed_at=made_at, sections=sections, marking=MARKING)


def _shown(shown: object) -> str:
    value = getattr(shown, "value", "")
    numerator, denominator = getattr(shown, "numerator", None), getattr(shown, "denominator", None)
    return f"{value} ({numerator} of {denominator})" if numerator is not None else str(value)


def _update(row: object) -> str:
    latest = getattr(row, "latest", None)
    if latest is None:
        return "None yet"
    return f"{words.day(latest.updated_on)} ({row.age_days} days before): {latest.narrative}"  # type: ignore[attr-defined]


def render(pack: BoardPack, fmt: str, *, made_by: str, made_at: dt.datetime, asb_labels: dict[str, str]) -> bytes:
    """The pack as an html, pdf or odt file (`pdf.PdfUnavailable` when this server cannot make PDFs)."""
    printed = document(pack, made_by=made_by, made_at=made_at, asb_labels=asb_labels)
    if fmt == "pdf":
        return pdf.render(printed)
    if fmt == "odt":
        return odt.render(printed)
    return render_template("printing/document.html", document=printed, font=FONT).encode("utf-8")
