"""The people search page: a record's reference goes to the record; anything else is a search
(`shared.person_search`)."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ... import policy
from ...auth.guard import require
from ...policy import Permission
from ...services import references
from ..shared.person_search import SearchForm, run_search
from . import bp

RECORD_PAGES = {"person": ("people.show", "person_id"), "incident": ("incidents.show", "incident_id"),
                "case": ("cases.show", "case_id"), "referral": ("referrals.show", "referral_id")}


def record_page(kind: str, record: Any) -> str:
    endpoint, argument = RECORD_PAGES[kind]
    return url_for(endpoint, **{argument: record.id})


@bp.get("")
@require(Permission.SEARCH_PEOPLE)
def search() -> ResponseReturnValue:
    # A record's reference typed into the surname or the reference box goes to the record, when the
    # user may see it; a surname box holding one that does not lead anywhere says so.
    for box, in_a_name_box in (("reference", False), ("surname", True)):
        text = request.args.get(box)
        if references.is_reference(text, in_a_name_box=in_a_name_box):
            found_record = references.find(text, viewer=current_user, in_a_name_box=in_a_name_box)
            if found_record is not None:
                return redirect(record_page(*found_record))
            if in_a_name_box:
                form = SearchForm(formdata=request.args)
                form.surname.errors = [f"No record you can see has the reference {(text or '').strip()}"]
                return render_template("people/search.html", form=form, results=None, errors=form.error_list(),
                                       can_create=policy.can(current_user, Permission.EDIT_RECORDS)), 404
    found = run_search()
    return render_template("people/search.html", form=found.form, results=found.results, errors=found.errors,
                           can_create=policy.can(current_user, Permission.EDIT_RECORDS)), found.status
