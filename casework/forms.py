"""The base of every form: CSRF-protected (Flask-WTF), and filled from what the user had entered
when their session timed out (see `casework.auth.stash`)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice


class Form(FlaskForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "formdata" not in kwargs:
            from .auth.stash import restored_form

            restored = restored_form()
            if restored is not None:
                kwargs["formdata"] = restored
        super().__init__(*args, **kwargs)

    def error_list(self) -> list[dict[str, str]]:
        """The error summary's items: each message linking to its field."""
        items = []
        for field in self:
            for message in field.errors:
                items.append({"text": message, "href": f"#{field.id}"})
        return items


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
