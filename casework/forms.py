"""The base of every form: CSRF-protected (Flask-WTF), filled from what the user had entered when
their session timed out (see `casework.auth.stash`), and holding every text field to the rules of
`casework.values`, the rules an import applies too: a length limit (`MAX_LINE` characters on one
line, `MAX_PARAGRAPHS` in a text area) and no text a spreadsheet would run as a formula (passwords
aside: they are never stored or shown). A form gets them by being a `Form`; no field declares them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, PasswordField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from . import values


class Form(FlaskForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "formdata" not in kwargs:
            from .auth.stash import restored_form

            restored = restored_form()
            if restored is not None:
                kwargs["formdata"] = restored
        super().__init__(*args, **kwargs)

    def validate(self, extra_validators: dict[str, list[Any]] | None = None) -> bool:
        """Every field's own validators, and for every text field the rules of `casework.values`."""
        extra = {name: list(checks) for name, checks in (extra_validators or {}).items()}
        for field in self:
            rules = text_rules(field)
            if rules:
                extra[field.name] = [*extra.get(field.name, []), *rules]
        return bool(super().validate(extra_validators=extra))

    def error_list(self) -> list[dict[str, str]]:
        """The error summary's items: each message linking to its field."""
        items = []
        for field in self:
            for message in field.errors:
                items.append({"text": message, "href": f"#{field.id}"})
        return items


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
    return (choice.value, choice.label) if isinstance(choice, SelectChoice) else tuple(choice)  # type: ignore[return-value]


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
