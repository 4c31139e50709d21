"""Merging two records of the same person."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ... import policy
from ...auth.guard import require, visible_or_404
from ...forms import Form
from ...models import Person
from ...policy import Permission
from ...services import audit, merge, people, versioning
from ..shared.person_page import add_section
from ..shared.person_search import run_search
from ..shared.record_pages import FIELD_LABELS, display, stale_record_page
from . import bp


def _mergeable(person_id: uuid.UUID) -> Person:
    person: Person = visible_or_404(Person, person_id)
    if person.merged_into_id is not None or not policy.can_edit(current_user, person):
        abort(404)
    return person


@bp.get("/<uuid:person_id>/merge")
@require(Permission.EDIT_RECORDS)
def merge_choose(person_id: uuid.UUID) -> ResponseReturnValue:
    """Choose the other record: this person's likely duplicates, or a search."""
    person = _mergeable(person_id)
    audit.record_view(person, part="merge")
    duplicates = [m for m in people.likely_duplicates(details=people.PersonDetails.of(person), viewer=current_user,
                                                      exclude=person.id, notices=False)
                  if isinstance(m, policy.IdentityMatch) and m.visible]
    found = run_search()
    return render_template("people/merge_choose.html", person=person, duplicates=duplicates, form=found.form,
                           results=found.results, errors=found.errors), found.status


class MergeForm(Form):
    pass


def _pair(person_id: uuid.UUID, other_id: uuid.UUID) -> tuple[Person, Person, Person, Person]:
    """(this, other, survivor, merged) as the page's `keep` asks."""
    this, other = _mergeable(person_id), _mergeable(other_id)
    keep = (request.form.get("keep") if request.method == "POST" else request.args.get("keep")) or "this"
    survivor, merged = (other, this) if keep == "other" else (this, other)
    return this, other, survivor, merged


def _rows(survivor: Person, merged: Person, chosen: dict[str, str]) -> list[dict[str, object]]:
    labels = FIELD_LABELS["person"]
    rows = []
    for name in merge.CHOSEN_FIELDS:
        a, b = getattr(survivor, name), getattr(merged, name)
        rows.append({"name": name, "label": labels[name], "survivor": display(a), "other": display(b),
                     "same": a == b, "chosen": chosen.get(name, "survivor")})
    return rows


@bp.route("/<uuid:person_id>/merge/<uuid:other_id>", methods=["GET", "POST"])
@require(Permission.EDIT_RECORDS)
def merge_records(person_id: uuid.UUID, other_id: uuid.UUID) -> ResponseReturnValue:
    if person_id == other_id:
        visible_or_404(Person, person_id)
        abort(400)
    this, other, survivor, merged = _pair(person_id, other_id)
    form = MergeForm()
    complete = all(request.form.get(k) for k in ("keep", "survivor_version", "merged_version"))
    if request.method == "POST" and complete and form.validate():
        chosen = {name: request.form.get(f"field-{name}", "survivor") for name in merge.CHOSEN_FIELDS}
        try:
            merge.merge(survivor=survivor, merged=merged, choices=chosen,
                        survivor_version=_int(request.form.get("survivor_version")),
                        merged_version=_int(request.form.get("merged_version")), by=current_user)
        except versioning.StaleEdit as e:
            return stale_record_page(e, kind="person"), 409
        except merge.MergeRefused as e:
            audit.record("access.refused", record=merged, details={"reason": "merge refused",
                                                                   "survivor": str(survivor.id)})
            return render_template("people/merge.html", this=this, other=other, survivor=survivor, merged=merged,
                                   rows=_rows(survivor, merged, chosen), form=form, refused=str(e),
                                   errors=[{"text": str(e), "href": "#merge"}]), 403
        except (merge.MergeError, people.PersonError) as e:
            return render_template("people/merge.html", this=this, other=other, survivor=survivor, merged=merged,
                                   rows=_rows(survivor, merged, chosen), form=form,
                                   errors=[{"text": str(e), "href": "#merge"}]), 400
        flash("The records were merged")
        return redirect(url_for("people.show", person_id=survivor.id))
    if request.method == "POST":
        abort(400)
    audit.record_view(survivor, part="merge")
    audit.record_view(merged, part="merge")
    # Refused before anything is chosen: the page says why and whom to ask, and offers no merge.
    refused = merge.refusal(survivor=survivor, merged=merged, by=current_user)
    return render_template("people/merge.html", this=this, other=other, survivor=survivor, merged=merged,
                           rows=_rows(survivor, merged, merge.proposed_values(survivor, merged)), form=form,
                           errors=[], refused=refused)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


# --- on a person's page: the records merged into it, as their agency recorded them -------------------


def _merged_section(person: Person, viewer: object) -> dict[str, object]:
    labels = FIELD_LABELS["person"]
    records = []
    for stub in merge.merged_records(person, viewer=viewer):
        audit.record_view(stub, part="merged details")
        rows = []
        for name in merge.CHOSEN_FIELDS:
            value = getattr(stub, name)
            if name == "address" and stub.do_not_disclose_address and value:
                shown = "Withheld: do not disclose the address"
            else:
                shown = display(value)
            rows.append({"label": labels[name], "value": shown})
        records.append({"stub": stub, "rows": rows})
    return {"records": records}


add_section("people/_merged_section.html", _merged_section, order=90)
