"""Finding people (routes on the people blueprint): the search page, and the search as every page
that finds a person runs it (adding one to an incident, choosing a record to merge, linking one to a
case): the GET form filled from the query, the terms cleaned and one page of results, which
`services.people_search` audits. A bad term is an error on its field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user

from .. import policy
from ..auth.guard import require
from ..policy import Permission
from ..services import people_search, references
from .people import SearchForm, bp, page_number

# The query values that mean a search was asked for (the date of birth comes in three boxes).
SEARCH_ARGS = ("surname", "forenames", "postcode", "reference",
               "date_of_birth-day", "date_of_birth-month", "date_of_birth-year")


@dataclass
class PersonSearch:
    form: SearchForm
    results: people_search.SearchResults | None  # None until a search is asked for, or when it is refused
    errors: list[dict[str, str]]

    @property
    def status(self) -> int:
        return 400 if self.errors else 200


def run_search() -> PersonSearch:
    """The search the request's query asks for, as the signed-in user may see it."""
    # An empty search (the form sent with nothing in it) is one too: it is told what to enter.
    searched = any(k in request.args for k in SEARCH_ARGS)
    form = SearchForm(formdata=request.args if searched else None)
    results = None
    if searched and form.validate():
        try:
            terms = people_search.clean_terms(
                surname=form.surname.data, forenames=form.forenames.data, date_of_birth=form.date_of_birth.data,
                postcode=form.postcode.data, reference=form.reference.data)
            results = people_search.search(viewer=current_user, terms=terms, page=page_number(),
                                           size=current_app.config["PAGE_SIZE"])
        except people_search.SearchError as e:
            getattr(form, e.field or "surname").errors = [str(e)]
    return PersonSearch(form=form, results=results, errors=form.error_list())



RECORD_PAGES = {"person": ("people.show", "person_id"), "incident": ("incidents.show", "incident_id"),
                "case": ("cases.show", "case_id"), "referral": ("referrals.show", "referral_id")}


def record_page(kind: str, record: Any) -> str:
    endpoint, argument = RECORD_PAGES[kind]
    return url_for(endpoint, **{argument: record.id})


@bp.get("")
@require(Permission.SEARCH_PEOPLE)
def search():  # type: ignore[no-untyped-def]
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
                form.surname.errors = [f"No record you can see has the reference {text.strip()}"]
                return render_template("people/search.html", form=form, results=None, errors=form.error_list(),
                                       can_create=policy.can(current_user, Permission.EDIT_RECORDS)), 404
    found = run_search()
    return render_template("people/search.html", form=found.form, results=found.results, errors=found.errors,
                           can_create=policy.can(current_user, Permission.EDIT_RECORDS)), found.status
