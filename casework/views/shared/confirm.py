"""The confirmation step before what cannot be undone (removing a party, closing a referral, a case
or a meeting, starting a meeting): a page saying what will happen and its effects, whose button
posts `confirm=yes`. A post without it does nothing and shows that page, so no single click (nor
a stray form elsewhere) can skip the step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask import render_template, request


def confirmed() -> bool:
    """Whether the post came from a confirmation page's button."""
    return request.method == "POST" and request.form.get("confirm") == "yes"


def confirm_page(*, heading: str, caption: str, effects: Sequence[str], action: str, button: str, back: str,
                 hidden: Mapping[str, Any] | None = None, form: Any = None, fields: str | None = None,
                 status: int = 200) -> tuple[str, int]:
    """The confirmation page: `effects` are the sentences of what will happen; `form` (a WTForms
    form) and `fields` (a template of its fields) ask for more, such as a reason."""
    errors = form.error_list() if form is not None else []
    return render_template("confirm/page.html", heading=heading, caption=caption, effects=effects, action=action,
                           button=button, back=back, hidden=hidden or {}, form=form, fields=fields,
                           errors=errors), status
