"""Form fields for GOV.UK patterns that WTForms lacks: the date input (day, month and year boxes),
and checkboxes for a multiple choice.

Templates render it with the `date_input` macro of templates/people/_fields.html.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from wtforms import Field, SelectMultipleField
from wtforms.utils import unset_value
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget


class DateInputField(Field):  # type: ignore[misc]  # WTForms has no types here
    """A date typed in three boxes, named `<name>-day`, `<name>-month` and `<name>-year`.

    Errors follow the GOV.UK pattern ("Date of birth must include a month", "must be a real
    date"); `required` is the message when all three boxes are empty; `past_only` refuses a
    date after today.
    """

    PARTS = ("day", "month", "year")

    def __init__(self, label: str | None = None, validators: Any = None, *, required: str | None = None,
                 past_only: bool = False, **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.required = required
        self.past_only = past_only
        self.raw: dict[str, str] = {}
        self.submitted = False
        self.bad_parts: set[str] = set()

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        self.process_errors: list[Any] = []
        if data is unset_value:
            data = self.default() if callable(self.default) else self.default
        self.object_data = data
        self.data = data
        self.submitted = formdata is not None
        if self.submitted:
            self.raw = {part: (formdata.get(f"{self.name}-{part}") or "").strip() for part in self.PARTS}
        elif isinstance(data, dt.date):
            self.raw = {"day": str(data.day), "month": str(data.month), "year": str(data.year)}

    def posted_empty(self) -> None:
        """The form was posted without this field's boxes: as if posted with all three empty."""
        self.submitted = True
        self.raw = dict.fromkeys(self.PARTS, "")

    def pre_validate(self, form: Any) -> None:
        if not self.submitted:
            return
        self.data = None
        self.bad_parts = set()
        label = self.label.text
        if not any(self.raw.values()):
            if self.required:
                raise ValidationError(self.required)
            return
        missing = [p for p in self.PARTS if not self.raw.get(p)]
        if missing:
            self.bad_parts = set(missing)
            raise ValidationError(f"{label} must include a {' and '.join(missing)}")
        # A part that cannot be right (a day of 32, a month of 13, letters) makes the date not a
        # real one, whatever the year; only then is a year of the wrong length the fault.
        limits = {"day": 31, "month": 12, "year": 9999}
        impossible = {p for p in self.PARTS if not self.raw[p].isdigit() or not 1 <= int(self.raw[p]) <= limits[p]}
        if impossible:
            self.bad_parts = impossible if len(impossible) < 3 else set()
            raise ValidationError(f"{label} must be a real date")
        if len(self.raw["year"]) != 4:
            self.bad_parts = {"year"}
            raise ValidationError(f"{label} must include a year with 4 numbers")
        day, month, year = (int(self.raw[p]) for p in self.PARTS)
        try:
            value = dt.date(year, month, day)
        except ValueError as e:  # from dt.date: no such day in that month
            self.bad_parts = {"day"}
            raise ValidationError(f"{label} must be a real date") from e
        if self.past_only and value > dt.date.today():
            raise ValidationError(f"{label} must be today or in the past")
        self.data = value

    def first_input_id(self) -> str:
        """The box an error summary link focuses: the first part in error, else the day."""
        part = next((p for p in self.PARTS if p in self.bad_parts), "day")
        return f"{self.id}-{part}"

    def items(self) -> list[dict[str, Any]]:
        """The GOV.UK date input's items, refilled with what was typed; the boxes at fault marked."""
        widths = {"day": 2, "month": 2, "year": 4}
        items = []
        for part in self.PARTS:
            at_fault = self.errors and (part in self.bad_parts or not self.bad_parts)
            items.append({"name": part, "label": part.capitalize(), "value": self.raw.get(part, ""),
                          "classes": f"govuk-input--width-{widths[part]}" + (" govuk-input--error" if at_fault else "")})
        return items


class MultiCheckbox(SelectMultipleField):  # type: ignore[misc]  # WTForms has no types here
    """Checkboxes, one an option (GOV.UK's checkboxes rendered from a multiple select)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
