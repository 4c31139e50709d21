"""The service navigation: each item shows only to users who may use it.

A feature adds its item with `add("People", "people.search", Permission.SEARCH_PEOPLE)`
where it registers its blueprint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, request, url_for
from flask_login import current_user
from markupsafe import Markup
from werkzeug.routing import BuildError

from .. import policy
from ..policy import Permission


@dataclass(frozen=True)
class Item:
    text: str
    endpoint: str
    permission: Permission | None  # None: any signed-in user
    order: int


ITEMS: list[Item] = []


def add(text: str, endpoint: str, permission: Permission | None = None, *, order: int = 50) -> None:
    if all(i.endpoint != endpoint for i in ITEMS):
        ITEMS.append(Item(text, endpoint, permission, order))
        ITEMS.sort(key=lambda i: i.order)


add("Home", "home.index", None, order=0)
add("Users", "admin.users_list", Permission.MANAGE_USERS, order=80)
add("Agencies", "admin.agencies_list", Permission.MANAGE_AGENCIES, order=81)
add("Referral routes", "admin.referral_routes_page", Permission.MANAGE_AGENCIES, order=82)
add("Audit trail", "audit.index", Permission.VIEW_AUDIT, order=85)
add("Your account", "account.index", None, order=90)
add("Sign out", "auth.sign_out_page", None, order=99)


def main_navigation() -> list[dict[str, object]]:
    if not current_user.is_authenticated:
        return []
    items = []
    for item in ITEMS:
        if item.permission is not None and not policy.can(current_user, item.permission):
            continue
        try:
            href = url_for(item.endpoint)
        except BuildError:  # an item whose blueprint this app does not register
            continue
        items.append({"href": href, "text": item.text, "active": request.endpoint == item.endpoint})
    return items


_MACRO = "govuk_frontend_jinja/components/service-navigation/macro.html"
_RENDERED = "casework.service_navigation"  # app.extensions: the rendered navigation, by its items
_KEPT = 512  # distinct navigations kept (a few for each set of roles); past it they are rendered again


def service_navigation(service_url: str, items: list[dict[str, Any]]) -> Markup:
    """The layout's service navigation: GOV.UK Frontend's govukServiceNavigation of the items, rendered
    once for each list of items and kept (every page shows one of a few, and the macro costs a tenth
    of a small page's time to render)."""
    try:  # each value with its type: a Markup text and the same words as plain text render apart
        key: Any = (service_url, tuple(tuple((k, type(v), v) for k, v in sorted(item.items())) for item in items))
        hash(key)
    except TypeError:  # an item holding something unhashable: rendered each time
        key = None
    rendered: dict[Any, Markup] = current_app.extensions.setdefault(_RENDERED, {})
    kept = rendered.get(key) if key is not None else None  # one look-up: another thread may clear it
    if kept is not None:
        return kept
    macro = current_app.jinja_env.get_template(_MACRO).module.govukServiceNavigation  # type: ignore[attr-defined]
    html = Markup(macro({"serviceName": "Casework", "serviceUrl": service_url, "navigation": items}))
    if key is not None:
        if len(rendered) >= _KEPT:
            rendered.clear()
        rendered[key] = html
    return html
