"""The base of every form: CSRF-protected (Flask-WTF), filled from what the user had entered when
their session timed out (see `casework.auth.stash`), and holding every text field to the rules of
`casework.values`, the rules an import applies too: a length limit (`MAX_LINE` characters on one
line, `MAX_PARAGRAPHS` in a text area) and no text a spreadsheet would run as a formula (passwords
aside: they are never stored or shown). A form gets them by being a `Form`; no field declares them."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from wtforms import Field, PasswordField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation, ValidationError

from . import values


class Form(FlaskForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "formdata" not in kwargs:
            from .auth.stash import restored_form

            restored = restored_form()
            if restored is not None:
                kwargs["formdata"] = restored
        super().__init__(*args, **kwargs)
        if "formdata" not in kwargs and self.is_submitted() and self.meta.wrap_formdata(self, _Auto) is None:
            # A post with no fields at all (Flask-WTF then gives no form data): a field that tells
            # "not posted" from "posted empty" (a date) is posted empty, so what it requires is checked.
            for field in self:
                if hasattr(field, "posted_empty"):
                    field.posted_empty()

    def validate(self, extra_validators: dict[str, list[Any]] | None = None) -> bool:
        """Every field's own validators, and for every text field the rules of `casework.values`."""
        extra = {name: list(checks) for name, checks in (extra_validators or {}).items()}
        for field in self:
            rules = text_rules(field)
            if rules:
                extra[field.name] = [*extra.get(field.name, []), *rules]
        return bool(super().validate(extra_validators=extra))

    def error_list(self) -> list[dict[str, str]]:
        """The error summary's items, every error at once in the fields' order (the page's order),
        each linking to its field's first input (see `error_href`)."""
        return [{"text": message, "href": error_href(field)} for field in self for message in field.errors]


# --- error display and fields that depend on an answer ---------------------------------------------


def error_href(field: Any) -> str:
    """Where an error summary link goes: the field's first input, whose id the GOV.UK macros give
    as the field's id (radios and checkboxes: the first item's); a date input's first part in
    error (its day when the whole date is)."""
    first_input = getattr(field, "first_input_id", None)
    return f"#{first_input() if callable(first_input) else field.id}"


class Required:
    """The field must be answered: text not blank, a choice made, a list not empty."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        data = field.data
        if data is None or (isinstance(data, str) and not data.strip()) or (isinstance(data, list | tuple)
                                                                            and not data):
            raise StopValidation(self.message)


class OnlyWhen:
    """A field asked only for some answers to another question (a GOV.UK conditional reveal): for
    any other answer what was posted is ignored (emptied) and nothing is required of it, as the
    page hid it. Put first among the field's validators."""

    def __init__(self, question: str, answers: Collection[Any]) -> None:
        self.question = question
        self.answers = set(answers)

    def applies(self, form: Any) -> bool:
        return (form[self.question].data or "") in self.answers

    def __call__(self, form: Any, field: Any) -> None:
        if not self.applies(form):
            field.data = [] if isinstance(field.data, list) else None
            field.errors = []
            raise StopValidation()


Check = Callable[[Any, Field], None]


def text_rules(field: Field) -> list[Check]:
    """The checks `casework.values` gives a field: a length limit for every text field (a text area's
    is `MAX_PARAGRAPHS`, any other's `MAX_LINE`) and, but for a password, the formula rule. Each
    message starts with the field's label, as the GOV.UK error messages do."""
    if not isinstance(field, StringField):
        return []
    limit = values.MAX_PARAGRAPHS if isinstance(field, TextAreaField) else values.MAX_LINE

    def length(form: Any, field: Field) -> None:
        if isinstance(field.data, str) and (problem := values.length_problem(field.data, limit)):
            raise ValidationError(f"{field.label.text} {problem}")

    def formula(form: Any, field: Field) -> None:
        if isinstance(field.data, str) and (problem := values.formula_problem(field.data)):
            raise ValidationError(f"{field.label.text} {problem}")

    return [length] if isinstance(field, PasswordField) else [length, formula]


def choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def _pair(choice: Any) -> tuple[str, str]:
    return (choice.value, choice.label) if isinstance(choice, SelectChoice) else tuple(choice)


def _checkbox_item(choice: Any, selected: list[str]) -> dict[str, object]:
    value, label = _pair(choice)
    return {"value": value, "text": label, "checked": value in selected}


def _select_item(choice: Any, selected: str | None) -> dict[str, object]:
    value, label = _pair(choice)
    return {"value": value, "text": label, "selected": value == (selected or "")}


def init_app(app: Any) -> None:
    """Jinja filters turning WTForms choices into GOV.UK macro items (templates/_forms.html)."""
    app.jinja_env.filters["casework_checkbox_item"] = _checkbox_item
    app.jinja_env.filters["casework_select_item"] = _select_item
