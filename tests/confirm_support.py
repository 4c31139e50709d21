"""Walking a confirmation step (casework/views/shared/confirm.py) as a browser would: the page's form,
its hidden fields and whatever else is filled in, posted to its action."""

from __future__ import annotations

from typing import Any

from tests.conftest import Page


def confirm(client: Any, page: Page, **fields: str) -> Any:
    """Press the confirmation page's button (with `fields` typed in); returns the response."""
    form = page.select_one("main form[method=post]")
    data = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
    data.update(fields)
    return client.post(form["action"], data=data)
