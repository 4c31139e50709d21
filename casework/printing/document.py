"""What a printed form says, apart from how it is drawn: a title, the record it is about, and
sections of facts (label and value), tables, passages of free text and charts (each followed by the
table of its figures)."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field

from ..words import when

# The Government Security Classification marking such records carry, at the top and bottom of every page.
MARKING = "OFFICIAL-SENSITIVE"


@dataclass(frozen=True)
class Facts:
    """Labels and their values, as a summary list."""

    rows: list[tuple[str, str]]


@dataclass(frozen=True)
class Table:
    caption: str
    headers: list[str]
    rows: list[list[str]]
    empty: str = "None"  # said instead of an empty table


@dataclass(frozen=True)
class Text:
    """A passage of free text under a label (its lines kept as paragraphs)."""

    label: str
    text: str | None
    empty: str = "Not recorded"

    @property
    def paragraphs(self) -> list[str]:
        return [line for line in (self.text or "").splitlines() if line.strip()] or [self.empty]


@dataclass(frozen=True)
class Chart:
    """A chart drawn as SVG (`casework.measures.chart.printed_chart`), with its title and a
    description in words; the table of its figures always follows it as a `Table`."""

    title: str
    description: str
    svg: str  # the drawing's markup, made by Casework (never text a user typed)
    height_cm: float = 7.8  # on an ODT page 17.6 cm wide (the drawing is 720 by 320)

    @property
    def data_url(self) -> str:
        """The drawing as an image's source: WeasyPrint draws an image's SVG without styling each of
        its elements as part of the page, a third of the time of inline SVG."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode("utf-8")).decode("ascii")


Block = Facts | Table | Text | Chart


@dataclass(frozen=True)
class Section:
    heading: str
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class Document:
    title: str  # "DASH risk checklist"
    about: str  # what or whom it is about, shown above the title
    printed_by: str  # "Sam Jones, Northshire Police"
    printed_at: dt.datetime  # an instant (UTC); shown in London time
    sections: list[Section]
    marking: str = MARKING

    @property
    def printed(self) -> str:
        return f"Printed by {self.printed_by} on {when(self.printed_at)}"
