"""A person's and a case's chronology: everything about them the viewer may see, newest first,
filtered by kind (GET values, so a filtered page is a link), paged, and printable (`?view=print`
lists every item on one page for the print stylesheet). Viewing it is audited as a view of the
person or case (`part="chronology"`)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ... import policy
from ...auth.guard import require, visible_or_404
from ...models import Case, Person
from ...policy import Permission
from ...services import audit, chronology, lookups
from . import bp

LINKS = {"incident": ("incidents.show", "incident_id"), "case": ("cases.show", "case_id"),
         "referral": ("referrals.show", "referral_id"), "assessment": ("assessments.show", "assessment_id"),
         "person": ("people.show", "person_id"), "order": ("orders.show", "order_id")}
PRINT_LIMIT = 100_000  # the print-friendly view lists every item on one page
# The chronology as a printed form (casework.views.printing), with the same filter.
DOWNLOADS = {"chronology.person": "printing.person_chronology", "chronology.case": "printing.case_chronology"}


def item_url(item: chronology.Item) -> str | None:
    if item.link is None:
        return None
    endpoint, name = LINKS[item.link[0]]
    values: dict[str, Any] = {name: item.link[1]}
    return url_for(endpoint, **values)


def _page() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


def _render(record: Any, built: Any, *, about: str, back: str, endpoint: str, ids: dict[str, Any],
            printing: bool) -> str:
    filtered = built.kinds != frozenset(chronology.KINDS)
    chosen = [k for k in chronology.KINDS if k in built.kinds] if filtered else []

    def page_url(n: int, **extra: Any) -> str:
        return url_for(endpoint, **ids, kind=chosen, page=n if n > 1 else None, **extra)

    return render_template("chronology/show.html", record=record, about=about, back=back, chronology=built,
                           kinds=chronology.KINDS, chosen=chosen, filtered=filtered, page_url=page_url,
                           item_url=item_url, printing=printing,
                           clear_url=url_for(endpoint, **ids),
                           print_url=url_for(endpoint, **ids, kind=chosen, view="print"),
                           download=(DOWNLOADS[endpoint], {**ids, "kind": chosen}))


def _options() -> tuple[frozenset[str], int, int, bool]:
    printing = request.args.get("view") == "print"
    kinds = chronology.parse_kinds(request.args.getlist("kind"))
    return kinds, (1 if printing else _page()), (PRINT_LIMIT if printing else chronology.PAGE_SIZE), printing


@bp.get("/people/<uuid:person_id>/chronology")
@require(Permission.VIEW_RECORDS)
def person(person_id: uuid.UUID) -> ResponseReturnValue:
    record = visible_or_404(Person, person_id)
    if record.merged_into_id is not None:  # as the person's page: the kept record's story is the whole one
        survivor = lookups.record(Person, record.merged_into_id)
        if survivor is None or not policy.can_view(current_user, survivor):
            abort(404)
        query: dict[str, Any] = request.args.to_dict(flat=False)
        return redirect(url_for("chronology.person", person_id=survivor.id, **query))
    kinds, page, size, printing = _options()
    built = chronology.of_person(record, viewer=current_user, kinds=kinds, page=page, size=size)
    audit.record_view(record, part="chronology")
    return _render(record, built, about=record.display_name, back=url_for("people.show", person_id=record.id),
                   endpoint="chronology.person", ids={"person_id": record.id}, printing=printing)


@bp.get("/cases/<uuid:case_id>/chronology")
@require(Permission.VIEW_RECORDS)
def case(case_id: uuid.UUID) -> ResponseReturnValue:
    record = visible_or_404(Case, case_id)
    kinds, page, size, printing = _options()
    built = chronology.of_case(record, viewer=current_user, kinds=kinds, page=page, size=size)
    audit.record_view(record, part="chronology")
    return _render(record, built, about=f"{record.kind.label} case", back=url_for("cases.show", case_id=record.id),
                   endpoint="chronology.case", ids={"case_id": record.id}, printing=printing)
