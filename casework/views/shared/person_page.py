"""Sections other journeys add to a person's page with `add_section(...)`: a template (given
`person`, `viewer` and what the section's function returns as `section`) placed after the
incidents, in `order`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...models import Person


@dataclass(frozen=True)
class Section:
    template: str
    context: Callable[[Person, Any], Any]
    order: int


SECTIONS: list[Section] = []


def add_section(template: str, context: Callable[[Person, Any], Any], *, order: int = 50) -> None:
    """Add a section to every person's page (`context(person, viewer)` gives its `section`)."""
    if all(s.template != template for s in SECTIONS):
        SECTIONS.append(Section(template, context, order))
        SECTIONS.sort(key=lambda s: s.order)
