"""The service navigation: each item shows only to users who may use it.

A feature adds its item with `add("People", "people.search", Permission.SEARCH_PEOPLE)`
where it registers its blueprint.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for
from flask_login import current_user
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
